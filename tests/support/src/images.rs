//! Photo fixtures made in the test (a JPEG with EXIF orientation and GPS
//! tags, a PNG, a decompression bomb), a tiny_http image server that
//! honours `If-None-Match` and counts every request it sees, and sites
//! whose players have photos.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

use crate::site::{Site, csv_config, csv_text, roster_pin, toml_str};

/// The GPS latitude written into the fixture's EXIF (48/1, 51/1, 2900/100),
/// as it sits in the file: it must not reach a published image.
pub const GPS_BYTES: [u8; 24] = [
    0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 11, 84, 0, 0, 0, 100,
];

/// An EXIF APP1 segment (big-endian TIFF): Orientation = `orientation` and a
/// GPS IFD with a latitude.
pub fn exif_app1(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    // IFD0 at 8: 2 entries, then the next-IFD offset.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    let gps_ifd: u32 = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]);
    tiff.extend_from_slice(&gps_ifd.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: LatitudeRef "N", Latitude (3 rationals, stored after it).
    let data = gps_ifd + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3]);
    tiff.extend_from_slice(&data.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&GPS_BYTES);
    let mut seg = vec![0xff, 0xe1];
    let len = (2 + 6 + tiff.len()) as u16;
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

/// A `w`×`h` JPEG, left half red and right half blue, with an EXIF
/// orientation and GPS data right after SOI.
pub fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    jpeg_of(&img, orientation)
}

/// `img` as a JPEG (quality 90) with an EXIF APP1 segment (`orientation`,
/// GPS) right after its start-of-image marker, as phones write it.
pub fn jpeg_of(img: &image::RgbImage, orientation: u16) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(img)
        .unwrap();
    assert_eq!(&plain[..2], &[0xff, 0xd8]);
    let mut out = plain[..2].to_vec();
    out.extend(exif_app1(orientation));
    out.extend_from_slice(&plain[2..]);
    out
}

/// A `w`×`h` PNG in one colour, half transparent on the right.
pub fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, _| {
        let a = if x < w / 2 { 255 } else { 0 };
        image::Rgba([rgb[0], rgb[1], rgb[2], a])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A PNG whose header claims `w`×`h` (a decompression bomb: the pixels
/// would be gigabytes); it has no pixel data at all.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, &ihdr);
    // The first rows of zeros, compressed: what a real bomb starts with.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &vec![0u8; 1 << 20]).unwrap();
    let mut idat = b"IDAT".to_vec();
    idat.extend(z.finish().unwrap());
    chunk(&mut out, &idat);
    chunk(&mut out, b"IEND");
    out
}

/// Appends a PNG chunk (`kind_and_data` starts with its 4-letter type).
fn chunk(out: &mut Vec<u8>, kind_and_data: &[u8]) {
    out.extend_from_slice(&((kind_and_data.len() - 4) as u32).to_be_bytes());
    out.extend_from_slice(kind_and_data);
    let mut crc = flate2::Crc::new();
    crc.update(kind_and_data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// What the server answers on one path.
#[derive(Clone)]
pub enum Route {
    Image {
        bytes: Vec<u8>,
        content_type: &'static str,
        etag: String,
    },
    Redirect(String),
    Html(String),
    /// `len` bytes; `chunked`: without a Content-Length.
    Big {
        len: usize,
        chunked: bool,
    },
    Json(String),
    /// An image only for `Authorization: Bearer <token>`, else 401.
    Authorized {
        token: String,
        bytes: Vec<u8>,
    },
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
    pub status: u16,
}

/// A local image server on `bind` (port 0), in a thread until dropped.
pub struct ImageServer {
    server: Arc<tiny_http::Server>,
    pub addr: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ImageServer {
    pub fn start(bind: &str) -> ImageServer {
        let server = Arc::new(tiny_http::Server::http(bind).unwrap());
        let addr = server.server_addr().to_ip().unwrap();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let thread = {
            let (server, routes, hits) = (server.clone(), routes.clone(), hits.clone());
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let route = {
                        let routes = routes.lock().unwrap();
                        let url = request.url();
                        routes
                            .get(url)
                            .or_else(|| routes.get(url.split('?').next().unwrap_or_default()))
                            .cloned()
                    };
                    let get = |name: &'static str| {
                        request
                            .headers()
                            .iter()
                            .find(|h| h.field.equiv(name))
                            .map(|h| h.value.to_string())
                    };
                    let inm = get("If-None-Match");
                    let authorization = get("Authorization");
                    let mut body = String::new();
                    let _ = request.as_reader().take(1 << 16).read_to_string(&mut body);
                    let path = request.url().to_string();
                    let header = |k: &str, v: &str| {
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
                    };
                    let (status, result) = match route {
                        None => (404, request.respond(tiny_http::Response::empty(404))),
                        Some(Route::Image {
                            bytes,
                            content_type,
                            etag,
                        }) => {
                            if inm.as_deref() == Some(etag.as_str()) {
                                (
                                    304,
                                    request.respond(
                                        tiny_http::Response::empty(304)
                                            .with_header(header("ETag", &etag)),
                                    ),
                                )
                            } else {
                                (
                                    200,
                                    request.respond(
                                        tiny_http::Response::from_data(bytes)
                                            .with_header(header("Content-Type", content_type))
                                            .with_header(header("ETag", &etag)),
                                    ),
                                )
                            }
                        }
                        Some(Route::Redirect(to)) => (
                            302,
                            request.respond(
                                tiny_http::Response::empty(302)
                                    .with_header(header("Location", &to)),
                            ),
                        ),
                        Some(Route::Html(body)) => (
                            200,
                            request.respond(
                                tiny_http::Response::from_string(body).with_header(header(
                                    "Content-Type",
                                    "text/html; charset=utf-8",
                                )),
                            ),
                        ),
                        Some(Route::Json(json)) => (
                            200,
                            request.respond(
                                tiny_http::Response::from_string(json)
                                    .with_header(header("Content-Type", "application/json")),
                            ),
                        ),
                        Some(Route::Authorized { token, bytes }) => {
                            if authorization.as_deref() == Some(&format!("Bearer {token}")) {
                                (
                                    200,
                                    request.respond(
                                        tiny_http::Response::from_data(bytes)
                                            .with_header(header("Content-Type", "image/jpeg")),
                                    ),
                                )
                            } else {
                                (401, request.respond(tiny_http::Response::empty(401)))
                            }
                        }
                        Some(Route::Big { len, chunked }) => {
                            let body = std::io::repeat(0xab).take(len as u64);
                            let response = tiny_http::Response::new(
                                tiny_http::StatusCode(200),
                                vec![header("Content-Type", "image/jpeg")],
                                body,
                                (!chunked).then_some(len),
                                None,
                            );
                            (200, request.respond(response))
                        }
                    };
                    let _ = result;
                    hits.lock().unwrap().push(Hit {
                        path,
                        if_none_match: inm,
                        authorization,
                        body,
                        status,
                    });
                }
            })
        };
        ImageServer {
            server,
            addr,
            routes,
            hits,
            thread: Some(thread),
        }
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    pub fn image(&self, path: &str, bytes: Vec<u8>, content_type: &'static str, etag: &str) {
        self.route(
            path,
            Route::Image {
                bytes,
                content_type,
                etag: format!("\"{etag}\""),
            },
        );
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    pub fn clear_hits(&self) {
        self.hits.lock().unwrap().clear();
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The columns of [`photo_rows`].
pub const PHOTO_HEADER: [&str; 4] = ["id", "name", "pin", "photo"];

/// Roster rows for players whose photo cells are `cells` (`p0` on row 2):
/// id, name, PIN, photo.
pub fn photo_rows<S: AsRef<str>>(cells: &[S]) -> Vec<Vec<String>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                format!("p{i}"),
                format!("Player{i} Name"),
                roster_pin(i),
                c.as_ref().to_string(),
            ]
        })
        .collect()
}

/// A site whose players have these photo cells (row 2 is the first player),
/// allow-listing the good server's host; `extra_players` is appended to the
/// `[players]` section.
pub fn photo_site(cells: &[&str], extra_players: &str) -> Site {
    let site = Site::new();
    site.write("players.csv", csv_text(&PHOTO_HEADER, &photo_rows(cells)));
    let config = csv_config("", "").replace(
        "secret = \"pin\"\n",
        &format!(
            "secret = \"pin\"\nphoto = \"photo\"\nphoto_allow = [{}]\n{extra_players}\n",
            toml_str("127.0.0.1")
        ),
    );
    site.write_config(&config);
    site
}

/// The `src` of the first `<img …>` of a page, which must contain `needle`.
pub fn img_src(html: &str, needle: &str) -> String {
    let start = html.find("<img").expect("no <img> in the page");
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    let src = tag
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(src.contains(needle), "{tag}");
    src.to_string()
}
