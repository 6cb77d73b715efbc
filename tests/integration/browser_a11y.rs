//! Issue 27 item 4 and issue 26 item 2 in real headless Chromium: axe-core
//! (vendored, `tests/support/assets/`) finds no WCAG 2.1 A/AA violation, of
//! any impact, in the light and the dark colour scheme, on every page a
//! visitor, a player and the organiser meet: the roster (logged out,
//! logged in, searching, a search that finds nothing), a player's page,
//! the login page (as it opens and after a wrong PIN), 403, 404 and the
//! organiser's page. One browser session, one stack (French, a club name
//! too long for the header's line), to keep CI time down; the organiser's
//! page with problems and the members-only login are in
//! `browser_layout.rs`.
//!
//! On the way: every link and button in the header, the back link and the
//! player page's logout button are 44 px tall tap targets; the club's
//! name wraps instead of being cut; an empty search shows its message
//! alone, no empty table header.

use serde_json::json;

use sheetgen_test_support::browser::{Browser, Tools, path_of};
use sheetgen_test_support::demo::{Front, Stack, demo_player, ui_string};
use sheetgen_test_support::site::demo_logins;

/// A club name wider than a phone's header line beside "Se connecter".
const LONG_TITLE: &str = "US Exemple Football Club de la Vallée";
/// The demo's organiser (examples/demo/players.csv): name and PIN.
pub(crate) fn admin() -> (String, String) {
    demo_logins()
        .into_iter()
        .find(|(_, name, _)| name == "Luca D'Angelo")
        .map(|(_, name, pin)| (name, pin))
        .expect("the demo's admin row")
}

/// The header's links and buttons, the back link, the page's own logout.
pub(crate) const TAP_TARGETS: &str =
    ".site-header a, .site-header button, .crumb a, main form.logout button";

#[track_caller]
pub(crate) fn wait_true(b: &Browser, what: &str, script: &str) {
    let ok = sheetgen_test_support::process::poll(sheetgen_test_support::browser::STEP, || {
        (b.exec(script, json!([])) == json!(true)).then_some(())
    });
    assert!(ok.is_some(), "{what}: never true at {}: {script}", b.url());
}

/// Types `q` in the roster's search box.
fn search(b: &Browser, q: &str) {
    b.type_into(&b.find("#roster-q"), q);
}

/// The club's name is whole: not cut, inside the viewport, on more than
/// one line when it must.
#[track_caller]
fn assert_title_whole(b: &Browser) {
    let brand = b.exec(
        "var a = document.querySelector('.site-header .brand');
         var r = a.getBoundingClientRect();
         return [a.scrollWidth <= a.clientWidth, r.left >= 0 && r.right <= innerWidth,
                 a.getClientRects().length, a.textContent, getComputedStyle(a).textOverflow];",
        json!([]),
    );
    assert_eq!(brand[3], json!(LONG_TITLE), "{brand}");
    assert_eq!(
        brand[0],
        json!(true),
        "the title overflows its box: {brand}"
    );
    assert_eq!(
        brand[1],
        json!(true),
        "the title leaves the viewport: {brand}"
    );
    assert_ne!(brand[4], json!("ellipsis"), "{brand}");
    b.screenshot("header-long-title-fr.png");
}

#[test]
fn every_page_passes_axe_core_in_light_and_dark() {
    let lang = "fr";
    let stack = Stack::start_with(Some(lang), Front::Nginx, &|cfg| {
        let site = cfg.get_mut("site").unwrap().as_table_mut().unwrap();
        site.insert("title".into(), LONG_TITLE.into());
    });
    let mut b = Browser::start(&Tools::find(), &stack.site.root().join("chrome"));
    let player = demo_player();
    let t = |k: &str| ui_string(lang, k);

    // A visitor.
    b.goto(&stack.url("/"));
    wait_true(
        &b,
        "the search box",
        "return !document.getElementById('roster-search').hidden",
    );
    assert_title_whole(&b);
    b.assert_tap_targets(TAP_TARGETS);
    b.assert_accessible("the roster, logged out");
    b.goto(&stack.url("/login/"));
    b.wait_text("the login form", |text| text.contains(&t("pin_label")));
    b.assert_accessible("the login page");
    b.goto(&stack.url("/login/?error=1"));
    b.wait_text("the wrong-PIN message", |text| {
        text.contains(&t("login_error"))
    });
    b.assert_accessible("the login page after a wrong PIN");
    // Every other answer of the login page (issue 27: each answer passes).
    for (query, what) in [
        ("error=locked&wait=60", "the login page of a locked name"),
        (
            "error=limited&wait=840",
            "the login page of an address over its limit",
        ),
        ("error=server", "the login page when gen cannot answer"),
        ("error=https", "the login page that asks for HTTPS"),
        ("out=1", "the login page after logging out"),
    ] {
        b.goto(&stack.url(&format!("/login/?{query}")));
        b.wait_text(what, |text| text.contains(&t("pin_label")));
        b.assert_accessible(what);
    }
    b.goto(&stack.url("/no-such-page/"));
    b.wait_text("the 404 page", |text| text.contains(&t("not_found_title")));
    b.assert_accessible("the 404 page");

    // A player.
    b.goto(&stack.url("/login/"));
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page", |u| {
        path_of(u) == format!("/p/{}/", player.slug)
    });
    wait_true(
        &b,
        "my page in the header",
        "return !!document.querySelector('.site-header a[data-me]')",
    );
    b.assert_tap_targets(TAP_TARGETS);
    assert_eq!(b.rects(".crumb a, main form.logout button").len(), 2);
    b.assert_accessible("a player's page");
    b.goto(&stack.url("/"));
    wait_true(
        &b,
        "the own row",
        "return !!document.querySelector('tr.me')",
    );
    b.assert_tap_targets(TAP_TARGETS);
    b.assert_accessible("the roster, logged in");
    roster_searches(&b, lang);
    let other = if player.slug == "p002" {
        "p003"
    } else {
        "p002"
    };
    b.goto(&stack.url(&format!("/p/{other}/")));
    b.wait_text("the 403 page", |text| text.contains(&t("forbidden_title")));
    b.assert_accessible("the 403 page");

    // The organiser (the demo as it is).
    b.click(&b.find(".site-header .nav-logout button"));
    b.wait_url("the login form after logout", |u| path_of(u) == "/login/");
    b.goto(&stack.url("/login/?next=/admin/"));
    let (name, pin) = admin();
    b.login(&name, &pin);
    b.wait_url("the organiser's page", |u| path_of(u) == "/admin/");
    b.wait_text("the organiser's page", |text| {
        text.contains(&t("admin.ok_title"))
    });
    wait_true(
        &b,
        "the organiser's header",
        "return !!document.querySelector('.site-header a[data-admin]')",
    );
    b.assert_tap_targets(TAP_TARGETS);
    assert_eq!(
        b.rects(".site-header nav a, .site-header nav button").len(),
        3,
        "my page, the organiser's page, log out"
    );
    b.assert_accessible("the organiser's page, healthy");
    b.screenshot("admin-healthy-fr.png");
    b.assert_no_console_errors(&["403", "404"]);
}

/// The roster's search: while it finds rows, and when it finds none (the
/// message alone: no table, no empty header, no scroll hint).
fn roster_searches(b: &Browser, lang: &str) {
    search(b, "red");
    b.wait_text("the search count", |text| {
        text.contains(&ui_string(lang, "search_count_many").replace("{n}", "30"))
    });
    b.assert_accessible("the roster, searching");
    search(b, "zzzz");
    let none = ui_string(lang, "search_count_none");
    b.wait_text("no player found", |text| text.contains(&none));
    assert!(
        b.rects("table.roster thead th, #roster-hint").is_empty(),
        "an empty search still shows the table header or the hint"
    );
    assert!(!b.displayed(&b.find("#roster-wrap")));
    b.screenshot("roster-search-none-fr.png");
    b.assert_accessible("the roster, a search that finds nothing");
    // Cleared: the table again.
    search(b, " ");
    assert!(b.displayed(&b.find("table.roster thead")));
}
