//! The organiser's page, `/admin/` (issue 16 item 8), through the real
//! `gen`: what `gen build` writes; what a failed cycle of `gen watch`
//! changes (that page and nothing else) and what it says, in the
//! organiser's words; Google's "share the sheet with …" in French; who may
//! read it through real nginx and through `gen serve`; and an admin in
//! real Chromium, in French and in English, seeing a failed cycle's
//! message while another player gets 403 and no session gets the login.

use std::path::Path;
use std::time::Duration;

use sheetgen_test_support::browser::{Browser, Tools, path_of, query_param};
use sheetgen_test_support::demo::{Front, Stack, demo_config, ui_string};
use sheetgen_test_support::fake_google::{CLIENT_EMAIL, FakeGoogle, SPREADSHEET_ID, row};
use sheetgen_test_support::http::{COOKIE, Response, get, post_form};
use sheetgen_test_support::process::poll;
use sheetgen_test_support::site::{Site, demo_logins, site_config};
use sheetgen_test_support::tree::{assert_absent, gunzip, stamps, tree_bytes};

/// The demo's organiser: the row marked admin (examples/demo/players.csv).
const ADMIN_NAME: &str = "Luca D'Angelo";
/// How long a cycle triggered by a file change may take to show.
const SHOWS: Duration = Duration::from_secs(15);

fn admin_pin() -> String {
    demo_logins()
        .into_iter()
        .find(|(_, name, _)| name == ADMIN_NAME)
        .map(|(_, _, pin)| pin)
        .expect("the demo's admin row")
}

/// A demo player who is not the admin.
fn player() -> (String, String) {
    let (_, name, pin) = demo_logins().into_iter().next().unwrap();
    assert_ne!(name, ADMIN_NAME);
    (name, pin)
}

/// `text` as minijinja's autoescape writes it in a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn page(out: &Path) -> String {
    std::fs::read_to_string(out.join("admin/index.html")).unwrap_or_default()
}

/// The demo's players.csv with `edit` applied to its lines.
fn edit_players(site: &Site, edit: impl Fn(&str) -> String) {
    let path = site.root().join("players.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    site.write("players.csv", edit(&text));
}

// ---------------------------------------------------------------- gen build

#[test]
fn build_writes_counts_and_problems_most_important_first_in_french() {
    let site = Site::new();
    site.copy_demo_roster();
    let (config, _) = demo_config(Some("fr"), "127.0.0.1:0", &|_| {});
    site.write_config(&config);
    let pins: Vec<String> = demo_logins().into_iter().map(|(_, _, p)| p).collect();
    // Row 3 (p002) loses its PIN; row 5 (p004) gets a common one.
    edit_players(&site, |text| {
        text.lines()
            .map(|l| {
                let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
                match cells[0].as_str() {
                    "p002" => cells[2] = String::new(),
                    "p004" => cells[2] = "123456".into(),
                    _ => {}
                }
                cells.join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    site.build_ok();

    let html = page(&site.out());
    let t = |k: &str| escaped(&ui_string("fr", k));
    for k in [
        "admin.title",
        "admin.ok_title",
        "admin.players",
        "admin.can_log_in",
    ] {
        assert!(
            html.contains(&t(k)),
            "{k}: {:?} not on the page:\n{html}",
            t(k)
        );
    }
    assert!(html.contains("<dd>120</dd>"), "120 players:\n{html}");
    assert!(html.contains("<dd>119</dd>"), "119 can log in:\n{html}");
    let blocked = t("admin.cannot_log_in").replace("{reason}", &t("admin.blocked.no_pin"));
    assert!(
        html.contains(&blocked) && html.contains("(ligne 3)") && !html.contains("(row 3)"),
        "who cannot log in and why, with the row:\n{html}"
    );
    // Most important first: the row that cannot log in before the weak PIN.
    let cannot = html
        .find(&format!("<h3>{}</h3>", t("admin.kind.cannot_log_in")))
        .expect("the problem row of p002");
    let weak = html
        .find(&format!("<h3>{}</h3>", t("admin.kind.weak_pin")))
        .expect("the problem row of p004");
    assert!(cannot < weak, "the problems must be most important first");
    // Where: the tab, the row and the column, each named.
    let where_ = format!(
        "<dl class=\"where\"><div><dt>{}</dt><dd>Players</dd></div><div><dt>{}</dt><dd>5</dd></div><div><dt>{}</dt><dd>pin</dd></div></dl>",
        t("admin.tab"),
        t("admin.row"),
        t("admin.column")
    );
    assert!(html.contains(&where_), "{where_}\n{html}");
    // No PIN, and the twin is the page.
    let mut secrets: Vec<String> = pins.into_iter().filter(|p| p.len() >= 4).collect();
    secrets.push("123456".into());
    assert_absent(&site.out().join("admin"), &secrets);
    assert_eq!(
        gunzip(&site.out().join("admin/index.html.gz")),
        html.as_bytes()
    );
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
}

// ---------------------------------------------------------------- gen watch

#[test]
fn a_failed_cycle_changes_only_the_organisers_page_and_says_why() {
    let stack = Stack::start_with(None, Front::Serve, &|_| {});
    let (site, out) = (&stack.site, stack.site.out());
    let t = |k: &str| escaped(&ui_string(&stack.lang, k));
    let first = page(&out);
    assert!(first.contains(&t("admin.ok_title")), "{first}");
    let before = tree_bytes(&out);

    // The organiser renames the PIN column.
    edit_players(site, |text| text.replacen(",pin,", ",code,", 1));
    let failed = poll(SHOWS, || {
        let html = page(&out);
        html.contains(&t("admin.failed_title")).then_some(html)
    })
    .unwrap_or_else(|| panic!("no failure on the page:\n{}", stack.gen_.log()));
    let missing = t("admin.failure.missing_column")
        .replace("{column}", "pin")
        .replace("{tab}", "Players");
    assert!(failed.contains(&missing), "{missing:?} not in:\n{failed}");
    assert!(
        failed.contains("no column &quot;pin&quot;"),
        "the details name the column:\n{failed}"
    );
    let still = t("admin.still_shown");
    let still = still.split("{when}").next().unwrap();
    assert!(failed.contains(still), "{failed}");
    assert_eq!(
        tree_bytes(&out),
        before,
        "a failed cycle changed a player's file"
    );

    // The same failure again rewrites nothing, the organiser's page included.
    let admin_stamp = |out: &Path| {
        let m = std::fs::metadata(out.join("admin/index.html")).unwrap();
        (
            m.modified().unwrap(),
            std::os::unix::fs::MetadataExt::ino(&m),
        )
    };
    let (page_before, all_before) = (admin_stamp(&out), stamps(&out));
    let failures = stack.gen_.count_log("cycle failed");
    edit_players(site, |text| format!("{text}\n"));
    stack
        .gen_
        .wait_log_count("cycle failed", failures + 1, SHOWS);
    assert_eq!(
        admin_stamp(&out),
        page_before,
        "an equal failure rewrote the page"
    );
    assert_eq!(stamps(&out), all_before);

    // Fixed: the page says so, the players' files are as before.
    edit_players(site, |text| text.replacen(",code,", ",pin,", 1));
    poll(SHOWS, || {
        page(&out).contains(&t("admin.ok_title")).then_some(())
    })
    .unwrap_or_else(|| panic!("the page never recovered:\n{}", page(&out)));
    assert_eq!(tree_bytes(&out), before);
}

#[test]
fn an_unshared_google_sheet_names_the_e_mail_to_share_with_in_french() {
    let mut players = vec![row(&["id", "name", "pin", "admin"])];
    for i in 1..=4 {
        let admin = if i == 1 { "oui" } else { "" };
        players.push(row(&[
            &format!("p{i}"),
            &format!("Joueur {i}"),
            &format!("{}", 480_000 + i * 37),
            admin,
        ]));
    }
    let fake = FakeGoogle::start("unused-key", [("Players".to_string(), players)].into());
    let site = Site::new();
    site.write("service-account.json", fake.key_file_json(false));
    let source = format!(
        "kind = \"google\"\nspreadsheet_id = \"{SPREADSHEET_ID}\"\napi_base = \"{}\"\ncredentials = \"service-account.json\"\n",
        fake.base
    );
    site.write_config(
        &site_config("FC Google", Some(30), &source, "admin = \"admin\"\n")
            .replace("lang = \"en\"", "lang = \"fr\""),
    );
    site.build_ok();
    assert!(page(&site.out()).contains(&escaped(&ui_string("fr", "admin.ok_title"))));
    let before = tree_bytes(&site.out());

    fake.unshare();
    let run = site.build();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let html = page(&site.out());
    let share = ui_string("fr", "admin.failure.google_share").replace("{email}", CLIENT_EMAIL);
    assert!(
        html.contains(&escaped(&share)),
        "{share:?} not on the page:\n{html}"
    );
    assert_eq!(tree_bytes(&site.out()), before);
}

// ---------------------------------------------------------------- who reads it

/// Logs in through `addr`; the session cookie header.
#[track_caller]
fn session(addr: &str, name: &str, pin: &str) -> String {
    let r = post_form(addr, "/api/login", &[], &[("name", name), ("pin", pin)]);
    let token = r
        .cookie(COOKIE)
        .unwrap_or_else(|| panic!("login of {name} through {addr}:\n{}", r.head));
    format!("{COOKIE}={token}")
}

fn admin_page_as(addr: &str, cookie: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    get(addr, "/admin/", &headers)
}

fn only_admins_read_it(front: Front) {
    let stack = Stack::start_with(None, front, &|_| {});
    let addr = format!("127.0.0.1:{}", stack.port());
    let t = |k: &str| escaped(&ui_string(&stack.lang, k));

    let anonymous = admin_page_as(&addr, None);
    assert_eq!(anonymous.status, 303, "{}", anonymous.head);
    let location = anonymous.header("Location").unwrap_or_default().to_string();
    assert_eq!(path_of(&location), "/login/", "{location}");
    assert_eq!(query_param(&location, "next").as_deref(), Some("/admin/"));
    assert!(!anonymous.text().contains(&t("admin.ok_title")));

    let (name, pin) = player();
    let player_cookie = session(&addr, &name, &pin);
    let refused = admin_page_as(&addr, Some(&player_cookie));
    assert_eq!(refused.status, 403, "{}", refused.head);
    assert!(refused.text().contains(&t("forbidden_title")));
    for k in ["admin.ok_title", "admin.counts_title", "admin.help"] {
        assert!(!refused.text().contains(&t(k)), "{k} in a 403");
    }

    let admin_cookie = session(&addr, ADMIN_NAME, &admin_pin());
    let shown = admin_page_as(&addr, Some(&admin_cookie));
    assert_eq!(shown.status, 200, "{}", shown.head);
    assert!(shown.text().contains(&t("admin.title")), "{}", shown.text());
    assert!(
        shown.text().contains(&t("admin.ok_title")),
        "{}",
        shown.text()
    );
    assert_eq!(
        shown.header("Cache-Control"),
        Some("private, no-cache"),
        "no shared cache may keep the organiser's page"
    );
}

#[test]
fn only_admin_sessions_read_it_through_nginx() {
    only_admins_read_it(Front::Nginx);
}

#[test]
fn only_admin_sessions_read_it_through_gen_serve() {
    only_admins_read_it(Front::Serve);
}

// ---------------------------------------------------------------- the browser

fn admin_in_the_browser(lang: &str, front: Front) {
    let tools = Tools::find();
    let stack = Stack::start_with(Some(lang), front, &|_| {});
    let out = stack.site.out();
    let t = |k: &str| ui_string(lang, k);
    let failed_title = escaped(&t("admin.failed_title"));

    // A failed cycle: the organiser renamed the Matches tab's key column.
    let matches = stack.site.root().join("matches.csv");
    let text = std::fs::read_to_string(&matches).unwrap();
    stack
        .site
        .write("matches.csv", text.replacen("player_id", "joueur", 1));
    poll(SHOWS, || page(&out).contains(&failed_title).then_some(()))
        .unwrap_or_else(|| panic!("no failure on the page:\n{}", stack.gen_.log()));

    let mut b = Browser::start(&tools, &stack.site.root().join("chrome"));
    // No session: the login form, coming back to /admin/.
    b.goto(&stack.url("/admin/"));
    b.wait_url("the login form", |u| path_of(u) == "/login/");
    assert_eq!(query_param(&b.url(), "next").as_deref(), Some("/admin/"));

    // A player who is not an admin: 403.
    let (name, pin) = player();
    b.login(&name, &pin);
    b.wait_text("the 403 page", |text| text.contains(&t("forbidden_title")));
    b.screenshot(&format!("forbidden-{lang}-{}.png", front.name()));
    assert!(!b.body_text().contains(&t("admin.failed_title")));
    // The browser logs the 403 it was shown: expected here, and only here.
    b.collect_logs();
    b.console.clear();
    // They log out from the header, then the organiser logs in.
    b.click(&b.find(r#"form[action="/api/logout"] [type="submit"]"#));
    b.wait_url("the login form after logout", |u| path_of(u) == "/login/");
    b.goto(&stack.url("/login/?next=/admin/"));

    // The admin: the page, with the failure in the organiser's words.
    b.login(ADMIN_NAME, &admin_pin());
    b.wait_url("the organiser's page", |u| path_of(u) == "/admin/");
    let text = b.wait_text("the organiser's page", |text| {
        text.contains(&t("admin.title"))
    });
    let missing = t("admin.failure.missing_column")
        .replace("{column}", "player_id")
        .replace("{tab}", "Matches");
    for shown in [t("admin.failed_title"), missing, t("admin.counts_title")] {
        assert!(text.contains(&shown), "{shown:?} not shown:\n{text}");
    }
    assert!(!b.source().contains(&admin_pin()), "a PIN on the page");
    b.screenshot(&format!("admin-failed-{lang}-{}.png", front.name()));
    b.assert_no_console_errors(&[]);
}

#[test]
fn browser_admin_sees_a_failed_cycle_fr_through_nginx() {
    admin_in_the_browser("fr", Front::Nginx);
}

#[test]
fn browser_admin_sees_a_failed_cycle_en_through_nginx() {
    admin_in_the_browser("en", Front::Nginx);
}

#[test]
fn browser_admin_sees_a_failed_cycle_fr_through_gen_serve() {
    admin_in_the_browser("fr", Front::Serve);
}

#[test]
fn browser_admin_sees_a_failed_cycle_en_through_gen_serve() {
    admin_in_the_browser("en", Front::Serve);
}
