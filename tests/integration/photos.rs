#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Player photos (issue 8) through the real binary: fetched from a local
//! server, resized, oriented, stripped of metadata, published under content
//! hashes; unchanged photos are not fetched again (or only conditionally);
//! bad input becomes a warning and an initials avatar, and a sheet cannot
//! make `gen` reach a loopback/private address that is not allow-listed.

use std::time::{Duration, SystemTime};

use sheetgen_test_support::fake_google;
use sheetgen_test_support::images::{
    GPS_BYTES, ImageServer, Route, img_src, jpeg_with_exif, photo_site, png, png_bomb,
};
use sheetgen_test_support::site::{Run, Site, TEMPLATES, csv_text, roster_pin, toml_str};
use sheetgen_test_support::tree::{changed, contains, files, stamps};

fn photo_warnings(run: &Run) -> Vec<&str> {
    run.warnings()
        .into_iter()
        .filter(|w| w.contains("photo"))
        .collect()
}

/// The published files under `assets/photos/` (no `.gz`).
fn photo_files(site: &Site) -> Vec<String> {
    files(&site.out().join("assets/photos"))
        .into_keys()
        .filter(|n| !n.ends_with(".gz"))
        .collect()
}

fn decode(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

fn assert_no_metadata(bytes: &[u8], what: &str) {
    assert!(!contains(bytes, b"Exif\0\0"), "{what} has EXIF");
    assert!(!contains(bytes, &GPS_BYTES), "{what} has the GPS data");
    assert!(
        !contains(bytes, &[0xff, 0xe1]),
        "{what} has an APP1 segment"
    );
}

fn good_server() -> ImageServer {
    let server = ImageServer::start("127.0.0.1:0");
    // 400×200 landscape, orientation 6 (rotate 90° clockwise to display).
    server.image("/a.jpg", jpeg_with_exif(400, 200, 6), "image/jpeg", "a-1");
    server.image("/b.png", png(300, 300, [10, 160, 10]), "image/png", "b-1");
    server
}

#[test]
fn photos_are_resized_oriented_stripped_and_not_fetched_again() {
    let server = good_server();
    let site = photo_site(&[&server.url("/a.jpg"), &server.url("/b.png"), ""], "");
    let run = site.build_ok();
    assert!(photo_warnings(&run).is_empty(), "{}", run.stderr);
    assert_eq!(server.hits().len(), 2);

    // The JPEG: turned upright (portrait), fit in 320 px, no metadata.
    let page = site.html("p/p0/index.html");
    let src = img_src(&page, "-320.jpg");
    assert!(page.contains("width=\"160\" height=\"320\""), "{page}");
    assert!(page.contains("alt=\"Player0 Name\""), "{page}");
    let published = std::fs::read(site.out().join(src.trim_start_matches('/'))).unwrap();
    assert_no_metadata(&published, "the page photo");
    let img = decode(&published);
    assert_eq!(img.dimensions(), (160, 320));
    // Rotated clockwise: the red left half is now on top.
    let top = img.get_pixel(80, 60).0;
    let bottom = img.get_pixel(80, 260).0;
    assert!(top[0] > 150 && top[2] < 100, "top {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "bottom {bottom:?}");
    let thumb_path = src.replace("-320.jpg", "-64.jpg");
    let thumb = std::fs::read(site.out().join(thumb_path.trim_start_matches('/'))).unwrap();
    assert_no_metadata(&thumb, "the thumbnail");
    assert_eq!(decode(&thumb).dimensions(), (64, 64));

    // The PNG: smaller than 320, kept at its size; transparency on white.
    let page = site.html("p/p1/index.html");
    let src = img_src(&page, "-320.jpg");
    let img = decode(&std::fs::read(site.out().join(src.trim_start_matches('/'))).unwrap());
    assert_eq!(img.dimensions(), (300, 300));
    let right = img.get_pixel(250, 150).0;
    assert!(
        right.iter().all(|c| *c > 240),
        "transparent → white: {right:?}"
    );

    // No photo: an initials avatar, escaped, with its gzip twin.
    let page = site.html("p/p2/index.html");
    let src = img_src(&page, "avatar-");
    let svg = site.page(src.trim_start_matches('/'));
    assert!(svg.contains(">PN</text>"), "{svg}");
    assert!(
        site.out()
            .join(format!("{}.gz", src.trim_start_matches('/')))
            .is_file()
    );

    // The index: lazy thumbnails with their size; the photo URL is no field.
    let index = site.html("index.html");
    assert_eq!(index.matches("loading=lazy").count(), 3, "{index}");
    assert!(index.contains("-64.jpg\" width=32 height=32"), "{index}");
    assert!(!site.html("p/p0/index.html").contains("/a.jpg"));
    assert_eq!(photo_files(&site).len(), 5, "{:?}", photo_files(&site));

    // Within the re-check interval: no request at all, no file written.
    let before = stamps(&site.out());
    server.clear_hits();
    let run = site.build_ok();
    assert!(photo_warnings(&run).is_empty(), "{}", run.stderr);
    assert!(server.hits().is_empty(), "{:?}", server.hits());
    assert!(changed(&before, &stamps(&site.out())).is_empty());
}

#[test]
fn a_due_recheck_is_conditional_and_writes_nothing() {
    let server = good_server();
    let site = photo_site(
        &[&server.url("/a.jpg"), &server.url("/b.png")],
        "photo_recheck_hours = 0",
    );
    site.build_ok();
    let before = stamps(&site.out());
    server.clear_hits();
    let run = site.build_ok();
    assert!(photo_warnings(&run).is_empty(), "{}", run.stderr);
    let hits = server.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    for h in &hits {
        assert!(h.if_none_match.is_some(), "{h:?}");
        assert_eq!(h.status, 304, "{h:?}");
    }
    assert!(changed(&before, &stamps(&site.out())).is_empty());
}

/// Sets the modification time of every file under `dir` `age` back.
fn backdate(dir: &std::path::Path, age: Duration) {
    for path in files(dir).into_values() {
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }
}

#[test]
fn a_changed_photo_gets_a_new_name_and_the_old_one_is_pruned() {
    let server = good_server();
    let site = photo_site(
        &[&server.url("/a.jpg"), &server.url("/b.png")],
        "photo_recheck_hours = 0",
    );
    site.build_ok();
    let old = img_src(&site.html("p/p1/index.html"), "-320.jpg");
    let kept = img_src(&site.html("p/p0/index.html"), "-320.jpg");

    // Change right away: the old files stay for pages loaded just before.
    server.image("/b.png", png(200, 100, [200, 0, 200]), "image/png", "b-2");
    site.build_ok();
    let new = img_src(&site.html("p/p1/index.html"), "-320.jpg");
    assert_ne!(new, old);
    assert!(site.out().join(old.trim_start_matches('/')).is_file());
    let img = decode(&std::fs::read(site.out().join(new.trim_start_matches('/'))).unwrap());
    assert_eq!(img.dimensions(), (200, 100));

    // Once past the grace time, the unreferenced ones go, the others stay.
    backdate(
        &site.out().join("assets/photos"),
        Duration::from_secs(2 * 3600),
    );
    server.image("/b.png", png(120, 100, [0, 0, 0]), "image/png", "b-3");
    site.build_ok();
    let newest = img_src(&site.html("p/p1/index.html"), "-320.jpg");
    let on_disk = photo_files(&site);
    let name = |src: &str| src.rsplit('/').next().unwrap().to_string();
    assert!(!on_disk.contains(&name(&old)), "{on_disk:?}");
    assert!(!on_disk.contains(&name(&old.replace("-320", "-64"))));
    assert!(!on_disk.contains(&name(&new)), "{on_disk:?}");
    assert!(on_disk.contains(&name(&newest)));
    assert!(on_disk.contains(&name(&kept)));
    assert!(on_disk.contains(&name(&kept.replace("-320", "-64"))));
    // The state cache keeps only what the sheet names.
    let cached: Vec<String> = files(&site.state().join("photos")).into_keys().collect();
    assert_eq!(cached.iter().filter(|n| n.ends_with(".json")).count(), 2);
    assert_eq!(cached.iter().filter(|n| n.ends_with(".jpg")).count(), 4);
}

/// Builds a site whose row 3 has `cell` (row 2 a good photo): exit 0, a
/// warning on row 3 that says `why`, an avatar for that player, and the
/// good photo still published.
#[track_caller]
fn bad_photo(good: &ImageServer, cell: &str, why: &str) {
    let site = photo_site(&[&good.url("/a.jpg"), cell], "");
    let run = site.build_ok();
    let warnings = run.warnings();
    let row3: Vec<&&str> = warnings.iter().filter(|w| w.contains("row 3")).collect();
    assert_eq!(row3.len(), 1, "{}", run.stderr);
    assert!(row3[0].contains("column \"photo\""), "{}", row3[0]);
    assert!(row3[0].contains(why), "expected {why:?} in {}", row3[0]);
    assert!(row3[0].contains("initials avatar"), "{}", row3[0]);
    assert_eq!(photo_warnings(&run).len(), 1, "{}", run.stderr);
    let src = img_src(&site.html("p/p1/index.html"), "avatar-");
    assert!(site.out().join(src.trim_start_matches('/')).is_file());
    img_src(&site.html("p/p0/index.html"), "-320.jpg");
}

#[test]
fn not_an_image() {
    let good = good_server();
    good.route(
        "/text.jpg",
        Route::Image {
            bytes: b"hello, I am text".to_vec(),
            content_type: "image/jpeg",
            etag: "\"t\"".into(),
        },
    );
    bad_photo(&good, &good.url("/text.jpg"), "not an image");
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    let good = good_server();
    good.image("/bomb.png", png_bomb(100_000, 100_000), "image/png", "x");
    bad_photo(
        &good,
        &good.url("/bomb.png"),
        "100000×100000 pixels is too large",
    );
}

#[test]
fn a_body_over_10_mb_is_abandoned() {
    let good = good_server();
    good.route(
        "/big.jpg",
        Route::Big {
            len: 11 * 1024 * 1024,
            chunked: false,
        },
    );
    // Without a Content-Length: reading stops at the cap.
    good.route(
        "/chunked.jpg",
        Route::Big {
            len: 50 * 1024 * 1024,
            chunked: true,
        },
    );
    bad_photo(&good, &good.url("/big.jpg"), "larger than 10 MB");
    bad_photo(&good, &good.url("/chunked.jpg"), "larger than 10 MB");
}

#[test]
fn a_redirect_loop_stops_after_5() {
    let good = good_server();
    good.route("/loop", Route::Redirect("/loop".into()));
    bad_photo(&good, &good.url("/loop"), "more than 5 redirects");
    let loops = good.hits().iter().filter(|h| h.path == "/loop").count();
    assert_eq!(loops, 6);
}

#[test]
fn a_drive_login_page_is_no_image() {
    let good = good_server();
    let login = "<!DOCTYPE html><html><head><title>Google Drive - Sign in</title></head></html>";
    good.route("/drive-login", Route::Html(login.into()));
    bad_photo(&good, &good.url("/drive-login"), "got a web page");
    // The same page labelled as a file is recognised by its body.
    good.route(
        "/drive-login-octet",
        Route::Image {
            bytes: login.as_bytes().to_vec(),
            content_type: "application/octet-stream",
            etag: "\"l\"".into(),
        },
    );
    bad_photo(&good, &good.url("/drive-login-octet"), "got a web page");
}

#[test]
fn non_web_schemes_are_never_fetched() {
    let good = good_server();
    bad_photo(&good, "file:///etc/passwd", "only http(s) links");
    bad_photo(&good, "ftp://127.0.0.1/x.jpg", "only http(s) links");
    bad_photo(&good, "not a url", "not a web address");
}

#[test]
fn loopback_and_private_hosts_are_never_reached() {
    let good = good_server();
    // A server the sheet must not reach: on loopback, not allow-listed
    // under the names used below.
    let secret = ImageServer::start("127.0.0.2:0");
    secret.image("/a.jpg", jpeg_with_exif(40, 20, 1), "image/jpeg", "s");
    let inner = ImageServer::start("127.0.0.1:0");
    inner.image("/a.jpg", jpeg_with_exif(40, 20, 1), "image/jpeg", "s");
    let port = inner.addr.port();

    bad_photo(&good, &secret.url("/a.jpg"), "loopback/private");
    // A name that resolves to loopback.
    bad_photo(
        &good,
        &format!("http://localhost:{port}/a.jpg"),
        "loopback/private",
    );
    bad_photo(
        &good,
        &format!("http://[::1]:{port}/a.jpg"),
        "loopback/private",
    );
    // An allow-listed host redirecting to a refused one.
    good.route("/to-secret", Route::Redirect(secret.url("/a.jpg")));
    bad_photo(&good, &good.url("/to-secret"), "loopback/private");
    good.route(
        "/to-localhost",
        Route::Redirect(format!("http://localhost:{port}/a.jpg")),
    );
    bad_photo(&good, &good.url("/to-localhost"), "loopback/private");
    good.route("/to-file", Route::Redirect("file:///etc/passwd".into()));
    bad_photo(&good, &good.url("/to-file"), "\"file:\"");

    assert!(secret.hits().is_empty(), "{:?}", secret.hits());
    assert!(inner.hits().is_empty(), "{:?}", inner.hits());
}

#[test]
fn without_a_photo_column_nothing_changes() {
    let site = Site::csv(csv_text(
        &["id", "name", "pin"],
        &[vec!["a", "Ann", "1234"]],
    ));
    site.build_ok();
    assert!(!site.out().join("assets/photos").exists());
    assert!(!site.html("index.html").contains("<img"));
}

/// With a service account, a Drive share link is read through the Drive
/// API with the Sheets source's bearer token, whose scope then includes
/// read access to Drive files shared with the account.
#[test]
fn drive_links_use_the_drive_api_with_the_service_account_token() {
    let google = ImageServer::start("127.0.0.1:0");
    let sheet = serde_json::json!({
        "spreadsheetId": fake_google::SPREADSHEET_ID,
        "valueRanges": [{
            "range": "Players!A1:Z3",
            "majorDimension": "ROWS",
            "values": [
                ["id", "name", "pin", "photo"],
                ["p0", "Ann Drive", roster_pin(0), "https://drive.google.com/file/d/1FileId_x-y/view?usp=sharing"],
                ["p1", "Bob Open", roster_pin(1), "https://drive.google.com/open?id=OtherId"],
            ]
        }]
    });
    let path = format!(
        "/v4/spreadsheets/{}/values:batchGet",
        fake_google::SPREADSHEET_ID
    );
    google.route(&path, Route::Json(sheet.to_string()));
    google.route(
        "/token",
        Route::Json(
            r#"{"access_token":"drive-tok","expires_in":3600,"token_type":"Bearer"}"#.into(),
        ),
    );
    google.route(
        "/drive/v3/files/1FileId_x-y",
        Route::Authorized {
            token: "drive-tok".into(),
            bytes: jpeg_with_exif(64, 32, 1),
        },
    );
    let key = serde_json::json!({
        "type": "service_account",
        "client_email": fake_google::CLIENT_EMAIL,
        "private_key": fake_google::test_key().private_pem,
        "token_uri": google.url("/token"),
    });
    let site = Site::new();
    site.write("key.json", key.to_string());
    site.write_config(&format!(
        r#"[site]
title = "FC Drive"
templates = {templates}

[source]
kind = "google"
spreadsheet_id = {id}
api_base = {base}
drive_api_base = {base}
credentials = "key.json"

[players]
photo = "photo"
photo_allow = ["127.0.0.1"]
"#,
        templates = toml_str(TEMPLATES),
        id = toml_str(fake_google::SPREADSHEET_ID),
        base = toml_str(&google.url("")),
    ));
    let run = site.build_ok();
    // p1's file is not shared with the account (the Drive API then says
    // 404): avatar and warning.
    let warnings = photo_warnings(&run);
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("row 3") && warnings[0].contains("HTTP 404"),
        "{}",
        warnings[0]
    );
    img_src(&site.html("p/p0/index.html"), "-320.jpg");
    img_src(&site.html("p/p1/index.html"), "avatar-");
    let hits = google.hits();
    let token = hits.iter().find(|h| h.path == "/token").unwrap();
    let assertion = token.body.split("assertion=").nth(1).unwrap();
    let claims = assertion.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    let scope = claims["scope"].as_str().unwrap();
    assert!(scope.contains("spreadsheets.readonly") && scope.contains("drive.readonly"));
    let drive = hits
        .iter()
        .find(|h| h.path == "/drive/v3/files/1FileId_x-y?alt=media")
        .unwrap();
    assert_eq!(drive.authorization.as_deref(), Some("Bearer drive-tok"));
    assert_eq!(hits.iter().filter(|h| h.path == "/token").count(), 1);
}
