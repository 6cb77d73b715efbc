// A failed unwrap here is a failed measurement with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Bytes per player view before (the original phone photo, hot-linked) and
//! after (page + photo, gzipped where nginx serves gzip), and the weight of
//! thumbnails on a 500-row index page (issue 8). A measurement, not a test:
//! it prints the figures of BENCHMARKS.md's "Photos" section.
//!
//!     cargo bench --bench photo_bytes

use sheetgen_test_support::images::{self, ImageServer, img_src, photo_site, png};
use sheetgen_test_support::site::Site;

fn main() {
    bytes_per_player_view();
}

fn bytes_per_player_view() {
    // A 12 MP phone-like JPEG: smooth gradients plus sensor-like noise,
    // with EXIF (orientation 6, GPS) as phones write it.
    let (w, h) = (4032u32, 3024u32);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 13) as i32 - 6;
        let c = |v: u32, m: u32| (((v * 255) / m) as i32 + n).clamp(0, 255) as u8;
        image::Rgb([c(x, w), c(y, h), c((x + y) / 2, (w + h) / 2)])
    });
    let original = images::jpeg_of(&img, 6);

    let server = ImageServer::start("127.0.0.1:0");
    server.image("/phone.jpg", original.clone(), "image/jpeg", "p");
    let mut cells = vec![server.url("/phone.jpg")];
    for i in 1..500u32 {
        let path = format!("/t{i}.png");
        let rgb = [
            (i * 7 % 256) as u8,
            (i * 13 % 256) as u8,
            (i * 29 % 256) as u8,
        ];
        server.image(
            Box::leak(path.clone().into_boxed_str()),
            png(96, 96, rgb),
            "image/png",
            &format!("t{i}"),
        );
        cells.push(server.url(&path));
    }
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    let site = photo_site(&refs, "");
    let started = std::time::Instant::now();
    site.build_ok();
    let cold = started.elapsed();
    let gz = |rel: &str| {
        std::fs::metadata(site.out().join(format!("{rel}.gz")))
            .unwrap()
            .len()
    };
    let size = |rel: &str| std::fs::metadata(site.out().join(rel)).unwrap().len();
    let page_html = gz("p/p0/index.html");
    let src = img_src(&site.html("p/p0/index.html"), "-320.jpg");
    let photo = size(src.trim_start_matches('/'));
    let thumb = size(&src.trim_start_matches('/').replace("-320", "-64"));
    let index_with = gz("index.html");

    // The same roster without the photo column.
    let plain_site = Site::new();
    plain_site.write(
        "players.csv",
        std::fs::read(site.root().join("players.csv")).unwrap(),
    );
    let config = std::fs::read_to_string(site.config_path()).unwrap();
    let config: Vec<&str> = config.lines().filter(|l| !l.starts_with("photo")).collect();
    plain_site.write_config(&format!("{}\n[index]\ncolumns = []\n", config.join("\n")));
    plain_site.build_ok();
    let index_without = std::fs::metadata(plain_site.out().join("index.html.gz"))
        .unwrap()
        .len();
    println!(
        "original photo: {} bytes ({w}x{h} JPEG q90 + EXIF)",
        original.len()
    );
    println!(
        "player page (gz): {page_html} bytes; page photo 320 px: {photo} bytes; thumbnail 64 px: {thumb} bytes"
    );
    println!(
        "per player view: before {} bytes (page + original), after {} bytes (page + photo)",
        page_html + original.len() as u64,
        page_html + photo
    );
    println!(
        "index page of 500 rows (gz): {index_with} bytes with thumbnails, {index_without} bytes without a photo column"
    );
    println!(
        "cold build with 500 photos (incl. 500 downloads): {} ms",
        cold.as_millis()
    );
}
