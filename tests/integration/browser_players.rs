//! Issue 17 in real headless Chromium on a 390×844 phone viewport, in
//! French and English: the logged-in state on pages identical for everyone
//! (the header's "my page" / "log out", the own row marked in the roster,
//! /login/ going to the player's page, others' names no longer links), a
//! stale hint that must never loop between /login/ and the player's page,
//! the roster on a phone (name and sort column in view, the search box by
//! name and team), and every login answer themed in the site's language
//! (wrong PIN with the name kept, locked with the real wait, server
//! trouble, the forgotten-PIN contact).
//!
//! Through real nginx (`gen nginx`'s file) and through `gen serve`, which
//! must clear the hint the way nginx does. Screenshots land in
//! `target/screenshots/` (`roster-loggedin-fr.png`, `login-locked-en.png`…).

use std::time::Duration;

use serde_json::{Value, json};

use sheetgen_test_support::browser::{Browser, Tools, VIEWPORT, path_of, query_param};
use sheetgen_test_support::demo::{Front, Player, Stack, demo_player, ui_string};

const HINT: &str = "__Host-gen_player";
const CONTACT: &str = "coach@fc-demo.example";

/// The demo with `[index] filters` (team, shown; id, not shown) and a
/// contact, plus `api` settings.
fn start(lang: &str, front: Front, failures: Option<i64>) -> Stack {
    Stack::start_with(Some(lang), front, &move |cfg| {
        let index = cfg.get_mut("index").unwrap().as_table_mut().unwrap();
        index.insert(
            "filters".into(),
            toml::Value::Array(vec!["team".into(), "id".into()]),
        );
        let site = cfg.get_mut("site").unwrap().as_table_mut().unwrap();
        site.insert("contact".into(), CONTACT.into());
        if let Some(n) = failures {
            let api = cfg.get_mut("api").unwrap().as_table_mut().unwrap();
            api.insert("login_failures_per_address".into(), n.into());
        }
    })
}

fn browser(stack: &Stack, name: &str) -> Browser {
    Browser::start(&Tools::find(), &stack.site.root().join(name))
}

/// Polls `script` (returning a boolean) until true.
#[track_caller]
fn wait_true(b: &Browser, what: &str, script: &str) {
    for _ in 0..200 {
        if b.exec(script, json!([])) == Value::Bool(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what}: never true at {}: {script}\n{}",
        b.url(),
        b.body_text()
    );
}

/// `{left, right, top, bottom}` of the element `css` (first match).
fn rect(b: &Browser, css: &str) -> (f64, f64, f64, f64) {
    let r = b.exec(
        "var r = document.querySelector(arguments[0]).getBoundingClientRect();
         return [r.left, r.right, r.top, r.bottom];",
        json!([css]),
    );
    let n = |i: usize| r[i].as_f64().unwrap();
    (n(0), n(1), n(2), n(3))
}

#[track_caller]
fn assert_in_viewport(b: &Browser, css: &str) {
    let (left, right, top, bottom) = rect(b, css);
    let (w, h) = (f64::from(VIEWPORT.0), f64::from(VIEWPORT.1));
    assert!(
        left >= 0.0 && right <= w && top >= 0.0 && bottom <= h && right > left,
        "{css} is not within the {w}×{h} viewport: left {left}, right {right}, top {top}, bottom {bottom}"
    );
}

/// What the header offers, as (text, href) pairs of its links and buttons.
fn nav_items(b: &Browser) -> Vec<(String, String)> {
    let v = b.exec(
        "return Array.from(document.querySelectorAll('.site-header nav a, .site-header nav button'))
           .map(function (e) { return [e.textContent.trim(), e.getAttribute('href') || ''] });",
        json!([]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[track_caller]
fn assert_logged_out_header(b: &Browser, lang: &str) {
    let login = ui_string(lang, "login");
    assert_eq!(
        nav_items(b),
        vec![(login, "/login/".to_string())],
        "the header of a visitor at {}",
        b.url()
    );
    assert_eq!(
        b.exec(
            "return document.querySelectorAll('tr.me').length",
            json!([])
        ),
        json!(0)
    );
}

/// Waits for the login form to stay put: the URL at /login/ for half a
/// second (a loop would move it), the form there.
#[track_caller]
fn assert_form_stays(b: &Browser) {
    b.wait_url("the login form", |u| path_of(u) == "/login/");
    wait_true(
        b,
        "the login form",
        "return !!document.querySelector('form.login input[name=pin]')",
    );
    let first = b.url();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(b.url(), first, "the login page moved on: a loop?");
}

// ---------------------------------------------------------------- logged in

fn logged_in_state(lang: &str, front: Front) {
    let stack = start(lang, front, None);
    let player = demo_player();
    let own = format!("/p/{}/", player.slug);
    let mut b = browser(&stack, "chrome");
    let suffix = match front {
        Front::Nginx => lang.to_string(),
        Front::Serve => format!("{lang}-serve"),
    };

    // A visitor: "Log in", every name a link.
    b.goto(&stack.url("/"));
    b.wait_text("the roster", |t| t.contains(&player.name));
    wait_true(
        &b,
        "site.js ran",
        "return !document.getElementById('roster-search').hidden",
    );
    assert_logged_out_header(&b, lang);
    let links = b.exec(
        "return document.querySelectorAll('table.roster tbody a').length",
        json!([]),
    );
    assert_eq!(links, json!(120));

    // Log in, then back to the roster.
    b.goto(&stack.url("/login/"));
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page", |u| path_of(u) == own);
    // The page's own logout button stays; the header offers "my page".
    let my_page = ui_string(lang, "my_page");
    wait_true(
        &b,
        "my page in the header",
        "return !!document.querySelector('.site-header nav a[data-me]')",
    );
    let items = nav_items(&b);
    assert_eq!(
        items,
        vec![(my_page.clone(), own.clone())],
        "player page header"
    );
    assert_eq!(
        b.exec(
            "return document.querySelector('.site-header a[data-me]').getAttribute('aria-current')",
            json!([])
        ),
        json!("page")
    );

    roster_logged_in(&b, &stack, lang, &player, &suffix);
    // /login/ while logged in: the player's page.
    b.goto(&stack.url("/login/"));
    b.wait_url("/login/ goes to the player's page", |u| path_of(u) == own);

    another_players_page(&b, &stack, lang, &player);
    admin_hint(&b, &stack, lang, &player, front, &suffix);
    b.add_cookie(HINT, &player.slug, true);

    // Log out from the roster's header → the form, and "Log in" again.
    b.goto(&stack.url("/"));
    wait_true(
        &b,
        "the header's logout",
        "return !!document.querySelector('.site-header .nav-logout button')",
    );
    b.click(&b.find(".site-header .nav-logout button"));
    assert_form_stays(&b);
    assert_eq!(b.cookie(HINT), None, "the hint outlived the logout");
    b.goto(&stack.url("/"));
    b.wait_text("the roster", |t| t.contains(&player.name));
    assert_logged_out_header(&b, lang);

    // A stale hint (no session): /login/ tries the player's page once, the
    // server sends it back with the hint cleared, and the form stays.
    b.add_cookie(HINT, &player.slug, true);
    b.goto(&stack.url("/login/"));
    b.wait_url("back from the player's page", |u| {
        path_of(u) == "/login/" && query_param(u, "next").as_deref() == Some(own.as_str())
    });
    assert_form_stays(&b);
    assert_eq!(b.cookie(HINT), None, "the stale hint stays");
    b.goto(&stack.url("/"));
    b.wait_text("the roster", |t| t.contains(&player.name));
    assert_logged_out_header(&b, lang);
    // The same hint, straight to the player's page: the server's 303 to
    // the form clears it (player_hints.rs checks that header; login.js's
    // own safety net would too), and the form stays.
    b.add_cookie(HINT, &player.slug, true);
    b.goto(&stack.url(&own));
    assert_form_stays(&b);
    assert_eq!(b.cookie(HINT), None, "the server did not clear the hint");
    b.screenshot(&format!("login-after-stale-hint-{suffix}.png"));
    b.assert_no_console_errors(&["403"]);
}

#[test]
fn logged_in_state_through_nginx_fr() {
    logged_in_state("fr", Front::Nginx);
}

#[test]
fn logged_in_state_through_nginx_en() {
    logged_in_state("en", Front::Nginx);
}

#[test]
fn logged_in_state_through_gen_serve_fr() {
    logged_in_state("fr", Front::Serve);
}

// ---------------------------------------------------------------- the roster

fn roster_on_a_phone(lang: &str) {
    let stack = start(lang, Front::Nginx, None);
    let mut b = browser(&stack, "chrome");
    b.goto(&stack.url("/"));
    wait_true(
        &b,
        "the search box",
        "return !document.getElementById('roster-search').hidden",
    );
    // The name and the sort column (points, right after the name) of the
    // first rows are in view without scrolling sideways.
    for row in 1..=3 {
        for cell in [2, 3] {
            assert_in_viewport(
                &b,
                &format!("table.roster tbody tr:nth-child({row}) td:nth-child({cell})"),
            );
        }
    }
    assert_in_viewport(&b, "table.roster th[aria-sort]");
    assert_eq!(
        b.exec("return document.documentElement.scrollWidth", json!([])),
        json!(VIEWPORT.0),
        "the page itself scrolls sideways"
    );
    b.screenshot(&format!("roster-{lang}.png"));

    // The label names what the box looks in; the count is a live region.
    let label = b.text(&b.find("label[for=roster-q]"));
    assert!(
        label.contains(&ui_string(lang, "search_players")) && label.contains("team"),
        "{label}"
    );
    assert_eq!(b.prop(&b.find("#roster-count"), "ariaLive"), "polite");

    let player: Player = demo_player();
    let search = |q: &str| -> (usize, String) {
        let input = b.find("#roster-q");
        b.type_into(&input, q);
        let shown = b.exec(
            "return Array.from(document.querySelectorAll('table.roster tbody tr')).filter(function (r) { return !r.hidden }).length",
            json!([]),
        );
        let count = b.text(&b.find("#roster-count"));
        (shown.as_u64().unwrap() as usize, count)
    };
    // By name, accents and case folded.
    let first = player
        .name
        .split_whitespace()
        .next()
        .unwrap()
        .to_lowercase();
    let (shown, count) = search(&first);
    assert!(shown >= 1, "{first}: nothing");
    let many = ui_string(lang, "search_count_many").replace("{n}", &shown.to_string());
    let one = ui_string(lang, "search_count_one");
    assert_eq!(
        count,
        if shown == 1 { one.clone() } else { many },
        "{first}"
    );
    let (shown, count) = search(&player.name);
    assert_eq!((shown, count), (1, one.clone()), "the full name");
    // By team (a shown column marked data-filter): the 30 Red players.
    let (shown, count) = search("red");
    assert_eq!(shown, 30);
    assert_eq!(
        count,
        ui_string(lang, "search_count_many").replace("{n}", "30")
    );
    let teams = b.exec(
        "return Array.from(document.querySelectorAll('table.roster tbody tr')).filter(function (r) { return !r.hidden }).map(function (r) { return r.cells[3].textContent })",
        json!([]),
    );
    assert!(
        teams.as_array().unwrap().iter().all(|t| t == "Red"),
        "{teams}"
    );
    b.screenshot(&format!("roster-search-{lang}.png"));
    // By id (a filter column the roster does not show: data-f).
    assert_eq!(search("p001"), (1, one));
    // Not by a column that is no filter.
    let (shown, count) = search("Goalkeeper");
    assert_eq!((shown, count), (0, ui_string(lang, "search_count_none")));
    // Empty: every row again, nothing announced.
    let (shown, count) = search(" ");
    assert_eq!((shown, count.as_str()), (120, ""));
    b.assert_no_console_errors(&["403"]);
}

#[test]
fn roster_on_a_phone_fr() {
    roster_on_a_phone("fr");
}

#[test]
fn roster_on_a_phone_en() {
    roster_on_a_phone("en");
}

// ---------------------------------------------------------------- login answers

/// Submits the login form and waits for the next page to be loaded (the
/// URL alone cannot tell two wrong PINs apart).
fn submit(b: &Browser, name: &str, pin: &str) {
    b.exec("window.sheetgenOld = true", json!([]));
    b.login(name, pin);
    wait_true(
        b,
        "the next page",
        "return !window.sheetgenOld && document.readyState === 'complete'",
    );
}

fn login_answers(lang: &str) {
    // Two failures lock the address: the lockout comes quickly.
    let mut stack = start(lang, Front::Nginx, Some(2));
    let b = browser(&stack, "chrome");
    let player = demo_player();
    b.goto(&stack.url("/login/"));
    b.wait_text("the login form", |t| {
        t.contains(&ui_string(lang, "forgot_pin"))
    });
    let text = b.body_text();
    assert!(
        text.contains(&ui_string(lang, "forgot_pin_contact")) && text.contains(CONTACT),
        "{text}"
    );

    // A wrong PIN: the message, the name kept, the PIN not.
    submit(&b, &player.name, "000000");
    b.wait_url("the wrong-PIN answer", |u| {
        query_param(u, "error").as_deref() == Some("1")
    });
    b.wait_text("the wrong-PIN message", |t| {
        t.contains(&ui_string(lang, "login_error"))
    });
    assert_eq!(b.prop(&b.find("input[name=name]"), "value"), player.name);
    assert_eq!(b.prop(&b.find("input[name=pin]"), "value"), "");
    b.screenshot(&format!("login-wrong-{lang}.png"));

    // A second wrong PIN, then the lockout, with the real wait in minutes.
    submit(&b, &player.name, "000001");
    b.wait_url("the second wrong PIN", |u| {
        query_param(u, "error").as_deref() == Some("1")
    });
    submit(&b, &player.name, &player.pin);
    b.wait_url("the lockout", |u| {
        query_param(u, "error").as_deref() == Some("limited")
    });
    let wait: u64 = query_param(&b.url(), "wait").unwrap().parse().unwrap();
    let minutes = wait.div_ceil(60).max(1);
    let expected = if minutes == 1 {
        ui_string(lang, "login_wait_one")
    } else {
        ui_string(lang, "login_wait_many").replace("{n}", &minutes.to_string())
    };
    b.wait_text("the lockout message", |t| t.contains(&expected));
    let message = b.find("#login-limited");
    assert!(b.displayed(&message));
    assert_eq!(b.text(&message), expected);
    assert!(minutes >= 10, "the wait after two failures: {wait} s");
    assert_eq!(b.prop(&b.find("input[name=name]"), "value"), player.name);
    b.screenshot(&format!("login-locked-{lang}.png"));

    // gen stopped: nginx sends the form back, which says so.
    stack.gen_.stop();
    b.goto(&stack.url("/login/"));
    submit(&b, &player.name, &player.pin);
    b.wait_url("the server-trouble answer", |u| {
        query_param(u, "error").as_deref() == Some("server")
    });
    let expected = ui_string(lang, "login_server");
    b.wait_text("the server-trouble message", |t| t.contains(&expected));
    assert!(b.displayed(&b.find("#login-server")));
    assert_eq!(b.prop(&b.find("input[name=name]"), "value"), player.name);
    b.screenshot(&format!("login-server-{lang}.png"));
}

#[test]
fn login_answers_fr() {
    login_answers("fr");
}

#[test]
fn login_answers_en() {
    login_answers("en");
}

/// The roster, logged in: "my page" and "log out" in the header, the own
/// row marked and in view, and only the own name a link.
fn roster_logged_in(b: &Browser, stack: &Stack, lang: &str, player: &Player, suffix: &str) {
    let own = format!("/p/{}/", player.slug);
    let my_page = ui_string(lang, "my_page");
    let logout = ui_string(lang, "logout");
    b.goto(&stack.url("/"));
    wait_true(b, "the own row", "return !!document.querySelector('tr.me')");
    let items = nav_items(b);
    assert_eq!(
        items,
        vec![
            (my_page.clone(), own.clone()),
            (logout.clone(), String::new())
        ],
        "the roster's header, logged in"
    );
    assert!(
        !items
            .iter()
            .any(|(t, _)| *t == ui_string(lang, "organiser_page")),
        "a player is offered the organiser's page"
    );
    let me = b.exec(
        "var rows = document.querySelectorAll('tr.me');
         var r = rows[0];
         return [rows.length, r.getAttribute('aria-current'),
                 r.querySelector('a').getAttribute('href'), r.cells[1].textContent.trim()];",
        json!([]),
    );
    assert_eq!(me, json!([1, "true", own, player.name]), "the own row");
    // Others' pages are closed to a player: only their own name links.
    let links = b.exec(
        "return Array.from(document.querySelectorAll('table.roster tbody a')).map(function (a) { return a.getAttribute('href') })",
        json!([]),
    );
    assert_eq!(links, json!([own]));
    b.exec(
        "document.querySelector('tr.me').scrollIntoView({block: 'center'})",
        json!([]),
    );
    assert!(b.displayed(&b.find("tr.me")));
    assert_in_viewport(b, "tr.me td:nth-child(2)");
    b.screenshot(&format!("roster-loggedin-{suffix}.png"));
}

/// Another player's page: the 403 page offers "my page".
fn another_players_page(b: &Browser, stack: &Stack, lang: &str, player: &Player) {
    let own = format!("/p/{}/", player.slug);
    let other = if player.slug == "p001" {
        "p002"
    } else {
        "p001"
    };
    b.goto(&stack.url(&format!("/p/{other}/")));
    b.wait_text("the 403 page", |t| {
        t.contains(&ui_string(lang, "forbidden_title"))
    });
    wait_true(
        b,
        "my page on the 403 page",
        "var a = document.querySelector('main a[data-me]'); return !!a && !a.hidden",
    );
    assert_eq!(
        b.prop(&b.find("main a[data-me]"), "pathname"),
        own,
        "the 403 page's my-page button"
    );
    assert!(!b.displayed(&b.find("main a[data-signed-out]")));
}

/// An admin row's hint (as the login sets it for one): the header also
/// offers the organiser's page, and every name stays a link.
fn admin_hint(b: &Browser, stack: &Stack, lang: &str, player: &Player, front: Front, suffix: &str) {
    let own = format!("/p/{}/", player.slug);
    let my_page = ui_string(lang, "my_page");
    let logout = ui_string(lang, "logout");
    b.add_cookie(HINT, &format!("{}:admin", player.slug), true);
    b.goto(&stack.url("/"));
    wait_true(
        b,
        "the admin's header",
        "return !!document.querySelector('.site-header a[data-admin]')",
    );
    assert_eq!(
        nav_items(b),
        vec![
            (my_page.clone(), own.clone()),
            (ui_string(lang, "organiser_page"), "/admin/".to_string()),
            (logout.clone(), String::new()),
        ]
    );
    assert_eq!(
        b.exec(
            "return document.querySelectorAll('table.roster tbody a').length",
            json!([])
        ),
        json!(120)
    );
    if front == Front::Nginx {
        b.screenshot(&format!("roster-admin-{suffix}.png"));
    }
}
