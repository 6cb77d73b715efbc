//! The real thing, end to end (issue 6): headless Chromium, driven through
//! chromedriver, logs in through real nginx (the file `gen nginx` prints)
//! in front of the real `gen watch` on the demo roster.
//!
//! Roster → private page → login form → wrong PIN (the generic message, in
//! the configured language) → right PIN → the player's own page with their
//! matches → reload → log out → the private page asks for login again.
//! Screenshots of the login page and of the player's page on a 390×844
//! (phone) viewport land in `target/screenshots/`. Any console error, or any
//! request to anything but `http://localhost:<nginx port>/` or `data:`, fails
//! the test.
//!
//! Driver: fantoccini, a maintained W3C WebDriver client, speaking to
//! chromedriver (`sheetgen_test_support::browser`). chromedriver gives
//! console logs (`goog:loggingPrefs`) and the DevTools network events
//! (performance log) without a websocket.
//!
//! Needs the Debian packages `nginx`, `chromium` and `chromium-driver`
//! (`tests/run.sh` installs them as root). Without them the test FAILS and
//! names the package: it never skips.

use std::time::Instant;

use sheetgen_test_support::browser::{Browser, Tools, browser_internal, path_of, query_param};
use sheetgen_test_support::demo::{Player, Stack, demo_player, ui_string};
use sheetgen_test_support::tools::tool;

#[test]
fn browser_login_flow_en() {
    // The demo's own language.
    browser_login_flow(None);
}

#[test]
fn browser_login_flow_fr() {
    browser_login_flow(Some("fr"));
}

#[test]
fn a_missing_tool_fails_naming_its_package() {
    let err = std::panic::catch_unwind(|| tool("sheetgen-no-such-command", "some-package"))
        .expect_err("a missing tool must fail the test, never skip it");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("Debian package `some-package`"),
        "{message}"
    );
}
// ---------------------------------------------------------------- the flow

fn browser_login_flow(lang_override: Option<&str>) {
    let started = Instant::now();
    let tools = Tools::find();
    let stack = Stack::start(lang_override);
    let lang = stack.lang.clone();
    let login_error = ui_string(&lang, "login_error");
    let logout = ui_string(&lang, "logout");
    let player = demo_player();
    let base = stack.url("");
    let url = |path: &str| stack.url(path);
    let private = format!("/p/{}/", player.slug);

    let mut b = Browser::start(&tools, &stack.site.root().join("chrome"));

    // The public roster.
    b.goto(&url("/"));
    b.wait_text("the roster", |t| t.contains(&player.name));

    // A private page without a session → the login form, `next` set.
    b.goto(&url(&private));
    b.wait_url("the login form", |u| path_of(u) == "/login/");
    let landed = b.url();
    assert_eq!(
        query_param(&landed, "next").as_deref(),
        Some(private.as_str()),
        "the login redirect must carry next={private}: {landed}"
    );
    // login.js copied `next` into the form (proves the script ran under the CSP).
    assert_eq!(
        b.prop(&b.find(r#"input[name="next"]"#), "value"),
        private,
        "login.js must copy ?next= into the form"
    );
    assert!(
        !b.body_text().contains(&login_error),
        "the error message shows before any attempt"
    );
    b.screenshot(&format!("login-{lang}.png"));

    // A wrong PIN → the generic message, in the configured language.
    //
    // The inputs are located by their `name` attribute on purpose: those
    // names are what the browser posts and what `POST /api/login` reads
    // (`name`, `pin`, `next`). Renaming a field in login.html either makes
    // `find` fail here, or (if the test matched ids or labels instead) makes
    // the browser post a field the server ignores, so the right PIN below
    // would be refused. Either way, breaking the form breaks this test.
    let wrong_pin = format!("{}9", player.pin);
    b.login(&player.name, &wrong_pin);
    b.wait_url("the login form again after a wrong PIN", |u| {
        path_of(u) == "/login/" && query_param(u, "error").as_deref() == Some("1")
    });
    b.wait_text("the wrong-PIN message", |t| t.contains(&login_error));
    let error = b.find("#login-error");
    assert!(b.displayed(&error), "the error message must be visible");
    assert_eq!(b.text(&error).trim(), login_error);
    assert_eq!(
        query_param(&b.url(), "next").as_deref(),
        Some(private.as_str()),
        "next must survive a failed attempt"
    );
    b.screenshot(&format!("login-error-{lang}.png"));

    // The right PIN → the player's own page, with their matches.
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page after login", |u| path_of(u) == private);
    let check_player_page = |b: &Browser, when: &str| check_player_page(b, when, &player, &logout);
    check_player_page(&b, "logged in");
    b.screenshot(&format!("player-{lang}.png"));

    // A reload keeps the session.
    b.refresh();
    b.wait_url("the player's page after a reload", |u| {
        path_of(u) == private
    });
    check_player_page(&b, "after a reload");

    // Log out → the private page asks for login again.
    b.click(&b.find(r#"form[action="/api/logout"] [type="submit"]"#));
    b.wait_url("the login form after logout", |u| path_of(u) == "/login/");
    b.goto(&url(&private));
    b.wait_url("the login form for the private page after logout", |u| {
        path_of(u) == "/login/"
    });
    assert!(
        !b.body_text().contains(&player.opponent),
        "after logout the private page must not show"
    );

    // No console error, no request off the loopback site.
    b.assert_no_console_errors(&[]);
    assert_stays_on_site(&b, &base);
    eprintln!(
        "browser flow ({lang}) ok in {:.1}s: {} requests, {} console lines",
        started.elapsed().as_secs_f64(),
        b.requests.len(),
        b.console.len()
    );
}

/// The player's own page, `when` (logged in, after a reload): their name
/// and matches, the logout button, and never their PIN.
fn check_player_page(b: &Browser, when: &str, player: &Player, logout: &str) {
    let text = b.wait_text(when, |t| t.contains(&player.name));
    assert!(
        text.contains(&player.opponent),
        "{when}: the player's matches (opponent {:?}) must show:\n{text}",
        player.opponent
    );
    assert!(
        text.contains(logout),
        "{when}: the logout button ({:?}) must show:\n{text}",
        logout
    );
    assert!(
        !b.source().contains(&player.pin),
        "{when}: the PIN must never be in the page"
    );
}

/// Every request the browser made went to the site at `base` or to
/// `data:`, and the login POST was among them.
fn assert_stays_on_site(b: &Browser, base: &str) {
    // The performance log also shows the browser's own targets loading
    // chrome:// resources (the Debian launcher adds extensions): those never
    // leave the machine. Any other URL must be the site or data:.
    let allowed = format!("{base}/");
    let offsite: Vec<&String> = b
        .requests
        .iter()
        .filter(|u| !u.starts_with(&allowed) && !u.starts_with("data:") && !browser_internal(u))
        .collect();
    assert!(
        offsite.is_empty(),
        "requests to something else than {allowed} or data: {offsite:#?}"
    );
    assert!(
        b.requests
            .iter()
            .any(|u| u.starts_with(&format!("{base}/api/login"))),
        "the performance log must have seen the login POST: {:#?}",
        b.requests
    );
}
