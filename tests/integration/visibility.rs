#![allow(clippy::unwrap_used, clippy::expect_used)]

//! `[site] visibility = "players"` (issue 17, item 6): without a session,
//! nothing that names or shows a player is readable, through the real
//! nginx (the file `gen nginx` prints) and through `gen serve` alike.
//!
//! The site is the demo roster with a photo column: three players have a
//! photo served by a local image server (published as 64-px thumbnails and
//! 320-px photos), the others get initials avatars; one row is an admin.
//! Without a cookie, a crawler starts from `/`, follows every redirect and
//! every `href`/`src`/`action`, then asks for every file under `out_dir` by
//! name (each `.gz` twin too, with and without `Accept-Encoding: gzip`):
//! no answer may hold a player's name or a photo's bytes. With a session
//! the roster and photos are readable, another player's page still is not;
//! an admin reads everything. `public` (the default) keeps the roster open.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sheetgen_test_support::browser::{Browser, Tools, VIEWPORT, path_of, query_param};
use sheetgen_test_support::demo::{Front, Stack, demo_config};
use sheetgen_test_support::http::{COOKIE, Response, get, post_form};
use sheetgen_test_support::images::{ImageServer, jpeg_with_exif, png};
use sheetgen_test_support::process::poll;
use sheetgen_test_support::site::{DEMO, run_gen};
use sheetgen_test_support::tree::{contains, files};

/// The demo roster with `photo` and `admin` columns, written outside the
/// site folder (the config names it by its absolute path).
struct PhotoRoster {
    _dir: tempfile::TempDir,
    csv: PathBuf,
    _server: ImageServer,
    /// Every player's name, as the sheet has it.
    names: Vec<String>,
    /// (name, pin, slug) of the top player (with a photo), the slug and
    /// name of the second, (name, pin) of the admin.
    player: (String, String, String),
    other_slug: String,
    other_name: String,
    admin: (String, String),
}

fn photo_roster() -> PhotoRoster {
    let server = ImageServer::start("127.0.0.1:0");
    server.image("/a.jpg", jpeg_with_exif(400, 200, 1), "image/jpeg", "a-1");
    server.image("/b.png", png(300, 300, [10, 160, 10]), "image/png", "b-1");
    server.image("/c.jpg", jpeg_with_exif(90, 120, 1), "image/jpeg", "c-1");
    let photos = [
        server.url("/a.jpg"),
        server.url("/b.png"),
        server.url("/c.jpg"),
    ];

    let mut reader = csv::Reader::from_path(format!("{DEMO}/players.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (id, name, pin) = (col("id"), col("name"), col("pin"));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("players.csv");
    let mut writer = csv::Writer::from_path(&csv).unwrap();
    let mut head: Vec<String> = headers.iter().map(str::to_string).collect();
    head.extend(["photo".to_string(), "admin".to_string()]);
    writer.write_record(&head).unwrap();
    let points = col("points");
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    // The photos go to the top of the roster (its first page), the admin
    // is the last row.
    let mut ranked: Vec<usize> = (0..rows.len()).collect();
    ranked.sort_by_key(|&i| std::cmp::Reverse(rows[i][points].parse::<i64>().unwrap_or(0)));
    let last = rows.len() - 1;
    for (i, row) in rows.iter_mut().enumerate() {
        let photo = ranked[..photos.len()].iter().position(|&r| r == i);
        row.push(photo.map(|p| photos[p].clone()).unwrap_or_default());
        row.push(if i == last { "yes" } else { "" }.to_string());
    }
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
    let who = |i: usize| {
        (
            rows[i][name].clone(),
            rows[i][pin].clone(),
            rows[i][id].to_ascii_lowercase(),
        )
    };
    PhotoRoster {
        names: rows.iter().map(|r| r[name].clone()).collect(),
        player: who(ranked[0]),
        other_slug: who(ranked[1]).2,
        other_name: who(ranked[1]).0,
        admin: (who(last).0, who(last).1),
        _dir: dir,
        csv,
        _server: server,
    }
}

/// The config change: `visibility`, the photo and admin columns, photos
/// from the local image server, the roster above, 50 players a page.
fn with(visibility: &'static str, csv: &Path) -> impl Fn(&mut toml::Table) + use<> {
    let csv = csv.display().to_string();
    move |config: &mut toml::Table| {
        let site = config["site"].as_table_mut().unwrap();
        site.insert("visibility".into(), visibility.into());
        let players = config["players"].as_table_mut().unwrap();
        players.insert("photo".into(), "photo".into());
        players.insert("admin".into(), "admin".into());
        players.insert("photo_allow".into(), vec!["127.0.0.1"].into());
        // A roster of several pages.
        let index = config["index"].as_table_mut().unwrap();
        index.insert("per_page".into(), 50.into());
        let files = config["source"]["files"].as_table_mut().unwrap();
        files.insert("Players".into(), csv.clone().into());
    }
}

/// Where the test talks HTTP: nginx, or `gen serve`.
fn addr_of(stack: &Stack) -> String {
    stack
        .nginx
        .as_ref()
        .map_or(&stack.gen_.addr, |n| &n.addr)
        .clone()
}

/// The bytes of every published photo, thumbnail and avatar (and their
/// `.gz` twins), by path under `out_dir`.
fn photo_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    files(&out.join("assets/photos"))
        .into_iter()
        .map(|(name, path)| {
            (
                format!("assets/photos/{name}"),
                std::fs::read(path).unwrap(),
            )
        })
        .collect()
}

/// What a name may look like in a page: as typed, and HTML-escaped.
fn name_forms(names: &[String]) -> Vec<String> {
    let mut forms = BTreeSet::new();
    for n in names {
        forms.insert(n.clone());
        forms.insert(
            n.replace('&', "&amp;")
                .replace('\'', "&#x27;")
                .replace('"', "&quot;"),
        );
    }
    forms.into_iter().collect()
}

/// The local targets of `href`, `src` and `action` in an HTML page.
fn links(html: &str) -> Vec<String> {
    let html = html.replace("&#x2f;", "/").replace("&amp;", "&");
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\"", "srcset=\""] {
        for part in html.split(attr).skip(1) {
            let value = part.split('"').next().unwrap_or("");
            for url in value.split(',') {
                let url = url.split_whitespace().next().unwrap_or("");
                let url = url.split('#').next().unwrap_or("");
                if url.starts_with('/') && !url.starts_with("//") {
                    out.push(url.to_string());
                }
            }
        }
    }
    out
}

/// Fails if an answer holds a player's name or a photo's bytes.
#[track_caller]
fn assert_tells_nothing(what: &str, r: &Response, names: &[String], photos: &[(String, Vec<u8>)]) {
    let decoded = r.decoded();
    let head = r.head.as_bytes();
    for body in [&r.body[..], &decoded[..], head] {
        for name in names {
            assert!(
                !contains(body, name.as_bytes()),
                "{what}: the answer names {name:?}:\n{}\n{}",
                r.head,
                String::from_utf8_lossy(&decoded)
            );
        }
        for (path, bytes) in photos {
            // A window from the middle: headers and SVG preambles are
            // shared between files, the pixels are not.
            let mid = bytes.len() / 2;
            let window = &bytes[mid.saturating_sub(24)..(mid + 24).min(bytes.len())];
            assert!(
                !contains(body, window),
                "{what}: the answer holds the bytes of {path}:\n{}",
                r.head
            );
        }
    }
}

/// Starts the site with photos, waiting until the photos are published.
fn start(front: Front, lang: &str, visibility: &'static str) -> (Stack, PhotoRoster) {
    let roster = photo_roster();
    let tweak = with(visibility, &roster.csv);
    let stack = Stack::start_with(Some(lang), front, &tweak);
    let out = stack.site.out();
    let published = poll(Duration::from_secs(20), || {
        photo_bytes(&out)
            .iter()
            .any(|(p, _)| p.ends_with("-320.jpg"))
            .then_some(())
    });
    assert!(published.is_some(), "no photo published under {out:?}");
    (stack, roster)
}

// ---------------------------------------------------------------- no cookie

#[test]
fn players_only_without_a_session_nothing_names_or_shows_a_player_nginx() {
    without_a_session(Front::Nginx);
}

#[test]
fn players_only_without_a_session_nothing_names_or_shows_a_player_serve() {
    without_a_session(Front::Serve);
}

/// GET `path` from `addr`, asking for gzip or not.
fn ask_at(addr: &str, path: &str, gzip: bool) -> Response {
    let mut headers = vec![];
    if gzip {
        headers.push(("Accept-Encoding", "gzip"));
    }
    get(addr, path, &headers)
}

/// The crawl: every redirect and every link, from `/`, with and without
/// gzip; no answer names or shows a player, and the crawl reaches the
/// login form and its stylesheet.
fn crawl_tells_nothing(addr: &str, names: &[String], photos: &[(String, Vec<u8>)]) {
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_string()]);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut login_page = false;
    let mut stylesheet = false;
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 200 {
            continue;
        }
        for gzip in [false, true] {
            let r = ask_at(addr, &path, gzip);
            assert!(r.status < 500, "{path}: {}", r.head);
            assert_tells_nothing(&format!("GET {path} (crawl)"), &r, names, photos);
            if let Some(location) = r.header("Location") {
                if location.starts_with('/') {
                    queue.push_back(location.to_string());
                }
            }
            if r.status == 200 {
                let body = String::from_utf8_lossy(&r.decoded()).into_owned();
                login_page |= path_of(&path) == "/login/" && body.contains("/api/login");
                stylesheet |= path.ends_with(".css");
                if r.header("Content-Type")
                    .is_some_and(|t| t.starts_with("text/html"))
                {
                    queue.extend(links(&body));
                }
            }
        }
    }
    assert!(
        login_page,
        "the crawl never reached the login form: {seen:?}"
    );
    assert!(
        stylesheet,
        "the login page's CSS must stay public: {seen:?}"
    );
}

fn without_a_session(front: Front) {
    let (stack, roster) = start(front, "en", "players");
    let addr = addr_of(&stack);
    let out = stack.site.out();
    let names = name_forms(&roster.names);
    let photos = photo_bytes(&out);

    // The files do hold what must not leak: the check below can fail.
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains(&roster.player.0), "{index}");
    assert!(
        photos.iter().any(|(p, _)| p.contains("avatar-")),
        "no initials avatar: {photos:?}"
    );
    assert!(photos.iter().any(|(p, _)| p.ends_with("-64.jpg")));

    let ask = |path: &str, gzip: bool| ask_at(&addr, path, gzip);

    // `/` leads to the login page, and back to `/` after it.
    let root = ask("/", false);
    assert_eq!(root.status, 303, "{}", root.head);
    assert_eq!(root.header("Location"), Some("/login/?next=/"));

    crawl_tells_nothing(&addr, &names, &photos);

    // Every file under out_dir by name, its `.gz` twin being a file too.
    let mut asked = 0;
    for (rel, _) in files(&out) {
        let mut paths = vec![format!("/{rel}")];
        if let Some(dir) = rel.strip_suffix("index.html") {
            paths.push(format!("/{dir}"));
        }
        for path in paths {
            for gzip in [false, true] {
                let r = ask(&path, gzip);
                assert!(r.status < 500, "{path}: {}", r.head);
                assert_tells_nothing(&format!("GET {path}"), &r, &names, &photos);
                asked += 1;
            }
        }
    }
    assert!(asked > 200, "only {asked} requests");

    // What stays public: the login page, the error pages, CSS and JS.
    let login = ask("/login/", true);
    assert_eq!(login.status, 200, "{}", login.head);
    for page in ["/404.html", "/403.html"] {
        assert_eq!(ask(page, false).status, 200, "{page}");
    }
    let css = files(&out.join("assets"))
        .into_keys()
        .find(|n| n.ends_with(".css"))
        .unwrap();
    let r = ask(&format!("/assets/{css}"), true);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(
        r.header("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    // A photo, a page of the roster, a player's page: the login page.
    let (photo, _) = photos
        .iter()
        .find(|(p, _)| p.ends_with("-320.jpg"))
        .unwrap();
    for (path, next) in [
        (format!("/{photo}"), format!("/{photo}")),
        ("/page/2/".to_string(), "/page/2/".to_string()),
        ("/index.html.gz".to_string(), "/index.html.gz".to_string()),
        ("/no/such/page".to_string(), "/no/such/page".to_string()),
    ] {
        let r = ask(&path, false);
        assert_eq!(r.status, 303, "{path}: {}", r.head);
        assert_eq!(
            r.header("Location"),
            Some(format!("/login/?next={next}").as_str()),
            "{path}"
        );
    }
    let r = ask(&format!("/p/{}/", roster.player.2), false);
    assert_eq!(r.status, 303, "{}", r.head);
    // A path that isn't plain goes back to the roster: nothing of it
    // reaches the Location header.
    let r = ask("/x%0D%0ASet-Cookie:%20a=b/", false);
    assert_eq!(r.status, 303, "{}", r.head);
    assert_eq!(r.header("Location"), Some("/login/?next=/"));
    assert!(r.header("Set-Cookie").is_none(), "{}", r.head);
}

// ---------------------------------------------------------------- sessions

fn login(addr: &str, name: &str, pin: &str, next: Option<&str>) -> (String, Response) {
    let mut fields = vec![("name", name), ("pin", pin)];
    if let Some(next) = next {
        fields.push(("next", next));
    }
    let r = post_form(addr, "/api/login", &[], &fields);
    assert_eq!(r.status, 303, "login of {name}: {}\n{}", r.head, r.text());
    let token = r
        .cookie(COOKIE)
        .unwrap_or_else(|| panic!("no session cookie: {}", r.head));
    (format!("{COOKIE}={token}"), r)
}

#[test]
fn players_only_a_session_reads_the_roster_and_photos_nginx() {
    with_a_session(Front::Nginx);
}

#[test]
fn players_only_a_session_reads_the_roster_and_photos_serve() {
    with_a_session(Front::Serve);
}

fn with_a_session(front: Front) {
    let (stack, roster) = start(front, "fr", "players");
    let addr = addr_of(&stack);
    let out = stack.site.out();
    let (name, pin, slug) = &roster.player;

    // Back to `/` after the login the redirect asked for.
    let (cookie, r) = login(&addr, name, pin, Some("/"));
    assert_eq!(r.header("Location"), Some("/"));
    let as_player = |path: &str| {
        get(
            &addr,
            path,
            &[("Cookie", &cookie), ("Accept-Encoding", "gzip")],
        )
    };

    let r = as_player("/");
    assert_eq!(r.status, 200, "{}", r.head);
    let roster_page = String::from_utf8(r.decoded()).unwrap();
    assert!(roster_page.contains(name.as_str()), "{roster_page}");
    assert_eq!(r.header("Cache-Control"), Some("private, no-cache"));
    let r = as_player("/page/2/");
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Cache-Control"), Some("private, no-cache"));

    // Everyone's photos and avatars, byte for byte.
    for (path, bytes) in photo_bytes(&out) {
        if path.ends_with(".gz") {
            continue;
        }
        let r = as_player(&format!("/{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert_eq!(r.decoded(), bytes, "{path}");
        assert_eq!(
            r.header("Cache-Control"),
            Some("private, max-age=31536000, immutable"),
            "{path}"
        );
    }

    // Their own page; not another player's.
    assert_eq!(as_player(&format!("/p/{slug}/")).status, 200);
    let r = as_player(&format!("/p/{}/", roster.other_slug));
    assert_eq!(r.status, 403, "{}", r.head);
    assert!(!contains(&r.decoded(), roster.other_name.as_bytes()));

    // gen's answers, as nginx asks them: the players' question is "any
    // valid session?", whatever slug a client slips in; the page question
    // keeps its meaning (no slug: admins only).
    let api = &stack.gen_.addr;
    let auth = |route: &str, cookie: &str, slug: Option<&str>| {
        let mut headers = vec![("Cookie", cookie)];
        headers.extend(slug.map(|s| ("X-Player-Slug", s)));
        get(api, route, &headers).status
    };
    let other = roster.other_slug.as_str();
    assert_eq!(auth("/api/auth/players", &cookie, None), 204);
    assert_eq!(auth("/api/auth/players", &cookie, Some(other)), 204);
    assert_eq!(auth("/api/auth/players", "gen_session=forged", None), 401);
    assert_eq!(auth("/api/auth/players", "", None), 401);
    assert_eq!(auth("/api/auth", &cookie, Some(slug)), 204);
    assert_eq!(auth("/api/auth", &cookie, Some(other)), 403);
    assert_eq!(auth("/api/auth", &cookie, None), 403);

    // A missing page with a session: the 404 page.
    let r = as_player("/no/such/page");
    assert_eq!(r.status, 404, "{}", r.head);

    // An admin reads every page.
    let (admin_cookie, _) = login(&addr, &roster.admin.0, &roster.admin.1, None);
    let as_admin = |path: &str| get(&addr, path, &[("Cookie", &admin_cookie)]);
    for path in [
        "/".to_string(),
        format!("/p/{}/", roster.other_slug),
        format!("/p/{slug}/"),
    ] {
        let r = as_admin(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.head);
    }

    // A forged or ended session is no session.
    let r = get(&addr, "/", &[("Cookie", &format!("{COOKIE}=forged"))]);
    assert_eq!(r.status, 303, "{}", r.head);
    let logout = sheetgen_test_support::http::request(
        &addr,
        "POST",
        "/api/logout",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(logout.status, 303, "{}", logout.head);
    // nginx may keep a cached "yes" for this cookie up to 30 s; gen serve
    // asks every time.
    if front == Front::Serve {
        assert_eq!(as_player("/").status, 303);
    }
}

// ---------------------------------------------------------------- public

#[test]
fn public_keeps_the_roster_and_photos_open_nginx() {
    public_roster(Front::Nginx);
}

#[test]
fn public_keeps_the_roster_and_photos_open_then_serve_follows_a_reload() {
    let stack = public_roster(Front::Serve);
    let addr = addr_of(&stack);
    // The organiser switches to "players": gen serve applies the reloaded
    // config at once, and the log says that nginx needs `gen nginx` again.
    let roster = photo_roster();
    let (config, _) = demo_config(Some("en"), "127.0.0.1:0", &with("players", &roster.csv));
    stack.site.write_config(&config);
    let switched = poll(Duration::from_secs(20), || {
        (get(&addr, "/", &[]).status == 303).then_some(())
    });
    assert!(switched.is_some(), "gen serve still serves the roster");
    let warned = poll(Duration::from_secs(10), || {
        stack
            .gen_
            .log()
            .contains("site.visibility changed from \"public\" to \"players\"")
            .then_some(())
    });
    assert!(warned.is_some(), "{}", stack.gen_.log());
    assert!(
        stack.gen_.log().contains("gen nginx"),
        "{}",
        stack.gen_.log()
    );
}

fn public_roster(front: Front) -> Stack {
    let (stack, roster) = start(front, "en", "public");
    let addr = addr_of(&stack);
    let r = get(&addr, "/", &[]);
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(contains(&r.decoded(), roster.player.0.as_bytes()));
    assert_eq!(
        r.header("Cache-Control"),
        Some("public, max-age=0, s-maxage=10")
    );
    let (photo, bytes) = photo_bytes(&stack.site.out())
        .into_iter()
        .find(|(p, _)| p.ends_with("-64.jpg"))
        .unwrap();
    let r = get(&addr, &format!("/{photo}"), &[]);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, bytes);
    assert_eq!(
        r.header("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    // Player pages stay private.
    let r = get(&addr, &format!("/p/{}/", roster.player.2), &[]);
    assert_eq!(r.status, 303, "{}", r.head);
    stack
}

// ---------------------------------------------------------------- config

#[test]
fn a_bad_visibility_is_refused_naming_the_key_and_the_choices() {
    let site = sheetgen_test_support::site::Site::new();
    site.write("players.csv", "id,name,pin\na,Ann,123456\n");
    let config = sheetgen_test_support::site::csv_config("", "").replacen(
        "[site]\n",
        "[site]\nvisibility = \"private\"\n",
        1,
    );
    assert!(config.contains("visibility = \"private\""), "{config}");
    site.write_config(&config);
    let run = run_gen(&site.config_path(), site.root(), &["check"], &[]);
    run.expect_code(2);
    for says in [
        "site.visibility",
        "\"public\"",
        "\"players\"",
        "\"private\"",
    ] {
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
}

// ---------------------------------------------------------------- browser

#[test]
fn players_only_browser_root_logs_in_and_comes_back_fr() {
    browser_flow("fr", Front::Nginx);
}

#[test]
fn players_only_browser_root_logs_in_and_comes_back_en() {
    browser_flow("en", Front::Serve);
}

fn browser_flow(lang: &str, front: Front) {
    let tools = Tools::find();
    let (stack, roster) = start(front, lang, "players");
    let (name, pin, _) = &roster.player;
    let mut b = Browser::start(&tools, &stack.site.root().join("chrome"));
    assert_eq!(VIEWPORT, (390, 844));

    b.goto(&stack.url("/"));
    b.wait_url("the login page", |u| path_of(u) == "/login/");
    assert_eq!(query_param(&b.url(), "next").as_deref(), Some("/"));
    let text = b.body_text();
    for n in &roster.names {
        assert!(!text.contains(n.as_str()), "{n} on the login page:\n{text}");
    }
    assert_eq!(b.prop(&b.find(r#"input[name="next"]"#), "value"), "/");

    b.login(name, pin);
    b.wait_url("back on the roster", |u| path_of(u) == "/");
    b.wait_text("the roster", |t| {
        t.contains(name.as_str()) && t.contains(roster.other_name.as_str())
    });
    // The first thumbnails show (the others load lazily, off screen).
    let loaded = poll(Duration::from_secs(10), || {
        let v = b.cmd(
            "POST",
            "/execute/sync",
            Some(serde_json::json!({
                "script": "var i = document.images[0]; return !!i && i.complete && i.naturalWidth > 0",
                "args": []
            })),
        );
        (v == serde_json::Value::Bool(true)).then_some(())
    });
    assert!(
        loaded.is_some(),
        "the roster's first thumbnail did not load"
    );
    b.screenshot(&format!("visibility-login-{lang}.png"));
    b.assert_no_console_errors(&[]);
}
