//! Issue 14, items 3 to 5: what the roster itself can do wrong, through the
//! real `gen` binary on temp CSV sites. An `admin` cell meant as "no", a stray
//! quote that swallows rows (and their PINs) into one cell, a login name
//! made of invisible characters, and the last gate before publish that
//! refuses any artifact holding a PIN. Every check reads what an organiser
//! or a player would see: exit code, messages, files, login answers.

use std::collections::BTreeSet;

use sheetgen_test_support::http::{COOKIE, Response, auth_status, post_form};
use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{
    CSV_SOURCE, Run, Site, check_not_publishable, csv_text, site_config,
};
use sheetgen_test_support::tree::{self, player_slugs};

/// A CSV site with `players.csv` as given, extra `[players]` keys, and the
/// API on a free loopback port (for `gen watch`).
fn site_with(players_csv: &str, players_extra: &str) -> Site {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Data",
        Some(3600),
        CSV_SOURCE,
        &format!("{players_extra}\n[api]\nlisten = \"127.0.0.1:0\"\n"),
    ));
    site.write("players.csv", players_csv);
    site
}

fn watch(site: &Site) -> Gen {
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_first_cycle();
    g
}

fn login(addr: &str, ip: &str, name: &str, pin: &str) -> Response {
    post_form(
        addr,
        "/api/login",
        &[("X-Real-IP", ip)],
        &[("name", name), ("pin", pin)],
    )
}

/// A login refused the way every refusal looks: back to the form, no cookie.
#[track_caller]
fn assert_refused(r: &Response, what: &str) {
    assert_refused_with(r, what, "1");
}

/// [`assert_refused`], the form saying `error` (`server` when gen has no
/// roster read yet: issue 17's themed answers).
#[track_caller]
fn assert_refused_with(r: &Response, what: &str, error: &str) {
    assert_eq!(r.status, 303, "{what}: {}", r.head);
    let location = r.header("Location").unwrap_or_default();
    assert!(
        location.starts_with(&format!("/login/?error={error}")),
        "{what}: {}",
        r.head
    );
    assert!(r.set_cookie(COOKIE).is_none(), "{what}: {}", r.head);
}

/// `GET /api/auth` for `slug` with the session of a login that must succeed.
#[track_caller]
fn auth_after_login(addr: &str, ip: &str, name: &str, pin: &str, slug: &str) -> u16 {
    let r = login(addr, ip, name, pin);
    assert_eq!(r.status, 303, "login {name:?} failed:\n{}", r.head);
    let token = r.cookie(COOKIE).expect("a session cookie");
    auth_status(addr, &token, slug)
}

/// Everything `gen` printed.
fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

#[track_caller]
fn assert_no_secret_in(text: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(!text.contains(s), "{what} shows the PIN {s}:\n{text}");
    }
}

// ---------------------------------------------------------------- item 3

/// (id, admin cell, grants admin)
const ADMIN_CELLS: &[(&str, &str, bool)] = &[
    ("y-yes", "Yes", true),
    ("y-oui", "OUI", true),
    ("y-x", "x", true),
    ("y-true", "TRUE", true),
    ("y-one", "1", true),
    ("y-admin", "Admin", true),
    ("y-tick", "✓", true),
    ("n-none", "none", false),
    ("n-dash", "-", false),
    ("n-na", "N/A", false),
    ("n-off", "off", false),
    ("n-nein", "nein", false),
    ("n-cross", "✗", false),
    ("n-empty", "", false),
    ("n-no", "no", false),
    ("n-false", "false", false),
];

fn admin_pin(i: usize) -> String {
    format!("{}", 610_007 + i * 13)
}

#[test]
fn admin_is_granted_only_by_yes_values_and_other_values_are_reported() {
    let mut rows: Vec<Vec<String>> = ADMIN_CELLS
        .iter()
        .enumerate()
        .map(|(i, (id, cell, _))| {
            vec![
                id.to_string(),
                format!("Player {id}"),
                admin_pin(i),
                cell.to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "target".into(),
        "Target Player".into(),
        "598143".into(),
        String::new(),
    ]);
    let csv = csv_text(&["id", "name", "pin", "admin"], &rows);
    let site = site_with(&csv, "admin = \"admin\"");

    let run = site.build_ok();
    let warnings = run.warnings();
    let yes_list = "yes, oui, x, true, 1, admin, ✓";
    for (i, (id, cell, grants)) in ADMIN_CELLS.iter().enumerate() {
        let row = i + 2;
        let tag = format!("tab \"Players\", row {row}, column \"admin\"");
        let warned: Vec<&&str> = warnings.iter().filter(|w| w.contains(&tag)).collect();
        // Empty and the usual "no" words say no without a warning; any
        // other value is a no that the organiser is told about.
        let silent_no = ["", "no", "false"].contains(cell);
        if *grants || silent_no {
            assert!(warned.is_empty(), "{id}: unexpected {warned:?}");
        } else {
            assert_eq!(warned.len(), 1, "{id}: no warning in:\n{}", run.stderr);
            let w = warned[0];
            assert!(w.contains(&format!("\"{cell}\"")), "{w}");
            assert!(w.contains("not an admin"), "{w}");
            assert!(w.contains(yes_list), "{w}");
        }
    }
    assert_no_secret_in(&output(&run), &["598143", &admin_pin(0)], "gen build");

    let g = watch(&site);
    for (i, (id, _, grants)) in ADMIN_CELLS.iter().enumerate() {
        let ip = format!("198.51.100.{}", i + 1);
        let status = auth_after_login(
            &g.addr,
            &ip,
            &format!("Player {id}"),
            &admin_pin(i),
            "target",
        );
        let want = if *grants { 204 } else { 403 };
        assert_eq!(status, want, "{id} reading another player's page");
    }
}

// ---------------------------------------------------------------- item 4

/// A name cell opens a quote that is closed only on line 5: rows a3 and a4
/// end up inside row a2's name, and a4's PIN becomes a2's.
const STRAY_IN_NAME: &str = "id,name,pin,team\n\
    a1,Alice,482913,Red\n\
    a2,\"Bob Stray,551204,Blue\n\
    a3,Carol,660127,Red\n\
    a4,\"Dave\",771938,Blue\n\
    a5,Eve,880246,Red\n";

const SWALLOWED: [&str; 3] = ["551204", "660127", "771938"];

/// A build refused by a quote that swallowed rows: exit 2, nothing under
/// `out_dir`, the error names where the quote opens (`file (tab "T"), row N,
/// column "c"`), never the cell's text nor a PIN.
#[track_caller]
fn assert_refused_by_quote(site: &Site, at: &str, secrets: &[&str], hidden: &[&str]) -> Run {
    let run = site.build();
    run.expect_code(2);
    assert!(!site.out().join("index.html").exists(), "{}", run.stdout);
    assert!(player_slugs(&site.out()).is_empty(), "{}", run.stdout);
    let err = output(&run);
    assert!(err.contains(at), "no {at:?} in:\n{err}");
    assert!(
        err.contains("starts with a quote") && err.contains("never closed"),
        "{err}"
    );
    assert_no_secret_in(&err, secrets, "gen build");
    for piece in hidden {
        assert!(!err.contains(piece), "{piece} quoted:\n{err}");
    }
    run
}

// Issue "stray quote": these rows were once skipped with a warning while the
// rest published; a quote that swallows rows now refuses the whole cycle.
#[test]
fn a_stray_quote_in_a_name_refuses_the_cycle_shows_no_pin_and_names_the_row() {
    let site = site_with(STRAY_IN_NAME, "");
    let mut all_pins = SWALLOWED.to_vec();
    all_pins.extend(["482913", "880246"]);
    // The cell is never quoted: it holds other rows.
    assert_refused_by_quote(
        &site,
        "players.csv (tab \"Players\"), row 3, column \"name\"",
        &all_pins,
        &["Bob Stray", "Carol", "Dave"],
    );

    // `gen check` says the same, without a PIN.
    let check = check_not_publishable(&site);
    assert!(
        check.stderr.contains("row 3, column \"name\""),
        "{}",
        check.stderr
    );
    assert_no_secret_in(&output(&check), &all_pins, "gen check");

    // And so does `gen watch`'s log; nobody logs in from data it refused,
    // not even a row after the closing quote: with no roster read yet, the
    // form says logging in is unavailable for the moment.
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_log_count("cycle_failed", 1, std::time::Duration::from_secs(15));
    assert!(g.log().contains("row 3, column"), "{}", g.log());
    assert_no_secret_in(&g.log(), &all_pins, "gen watch's log");
    let r = login(&g.addr, "198.51.100.7", "Bob Stray", "771938");
    assert_refused_with(&r, "the row that swallowed rows", "server");
    let r = login(&g.addr, "198.51.100.8", "Eve", "880246");
    assert_refused_with(&r, "a row after the closing quote", "server");
    assert!(!site.out().join("index.html").exists());
}

/// The quote opens in the team column, after the PIN: the row's own id,
/// login and PIN look fine, but its team cell holds rows a2 and a3 whole,
/// Bob's PIN included.
const STRAY_IN_TEAM: &str = "id,name,pin,team\n\
    a1,Alice,482913,\"Red\n\
    a2,Bob,551204,Blue\n\
    a3,Carol,660127,\"Green\"\n\
    a4,Dave,771938,Blue\n";

#[test]
fn a_stray_quote_in_another_column_refuses_the_cycle() {
    let site = site_with(STRAY_IN_TEAM, "");
    assert_refused_by_quote(
        &site,
        "players.csv (tab \"Players\"), row 2, column \"team\"",
        &["482913", "551204", "660127", "771938"],
        &["Bob", "Green"],
    );
}

/// In a joined tab the same stray quote swallows match rows: the cycle is
/// refused, the error names the tab and the row.
#[test]
fn a_stray_quote_in_a_joined_tab_refuses_the_cycle() {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Data",
        None,
        "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\nMatches = \"matches.csv\"\n",
        "\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n",
    ));
    site.write(
        "players.csv",
        "id,name,pin\na1,Alice,482913\na2,Bob,551204\n",
    );
    site.write(
        "matches.csv",
        "player_id,date,opponent\n\
         a1,2026-01-01,\"Rovers\n\
         a1,2026-01-08,Town\n\
         a2,2026-01-15,\"City\"\n\
         a2,2026-01-22,United\n",
    );
    assert_refused_by_quote(
        &site,
        "matches.csv (tab \"Matches\"), row 2, column \"opponent\"",
        &["482913", "551204"],
        &["Town", "City"],
    );
}

/// A multi-line cell that does not look like rows (an address) is data.
#[test]
fn a_legit_multi_line_cell_still_publishes() {
    let csv = "id,name,pin,address\n\
        a1,Alice,482913,\"12 rue des Lilas\n75011 Paris\"\n\
        a2,Bob,551204,Nowhere\n";
    let site = site_with(csv, "");
    let run = site.build_ok();
    assert!(run.warnings().is_empty(), "{}", run.stderr);
    let slugs: BTreeSet<String> = ["a1", "a2"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), slugs);
    assert!(site.page("p/a1/index.html").contains("75011 Paris"));
}

#[test]
fn the_last_gate_refuses_a_cycle_whose_pages_hold_a_pin_and_keeps_the_site() {
    let good = "id,name,pin,team\n\
        a1,Alice,482913,Red\n\
        a2,Bob,551204,Blue\n\
        a3,Carol,660127,Green\n";
    let site = site_with(good, "");
    site.build_ok();
    let before = tree::tree_bytes(&site.out());

    // Not whole tokens: a longer digit run or a word that contains it.
    let near = good.replace("Blue", "4829130").replace("Green", "x482913");
    site.write("players.csv", &near);
    site.build_ok();
    assert!(site.page("p/a2/index.html").contains("4829130"));
    let before_leak = tree::tree_bytes(&site.out());
    assert_ne!(before, before_leak);

    // Alice's PIN as Bob's team: a cell, withheld from every page (issue
    // 23); the rest publishes.
    let in_a_cell = good.replace("Blue", "Team-482913!");
    site.write("players.csv", &in_a_cell);
    let run = site.build_ok();
    tree::assert_absent(&site.out(), &["482913".to_string()]);
    assert!(site.page("p/a2/index.html").contains("Bob"));
    let warning = run
        .warnings()
        .into_iter()
        .find(|w| w.starts_with("warning: tab \"Players\", row 3, column \"team\""))
        .unwrap_or_else(|| panic!("no warning for Bob's team:\n{}", run.stderr));
    assert!(warning.contains("PIN of row 2"), "{warning}");
    assert_no_secret_in(&output(&run), &["482913"], "gen build");
    let before_leak = tree::tree_bytes(&site.out());

    // In Bob's name, which every page shows and no cell holds: the last
    // gate refuses the cycle.
    let leaking = good.replace("Bob", "Bob-482913");
    site.write("players.csv", &leaking);
    let run = site.build();
    run.expect_code(1);
    let err = output(&run);
    assert_no_secret_in(&err, &["482913"], "the refusal");
    assert!(err.contains("index.html"), "{err}");
    assert!(err.contains("p/a2/index.html"), "{err}");
    assert!(err.contains("tab \"Players\", row 2"), "{err}");
    assert!(err.contains("column \"pin\""), "{err}");
    assert_eq!(
        tree::tree_bytes(&site.out()),
        before_leak,
        "a refused cycle changed the site"
    );

    // `gen check` finds it too, without writing or showing it.
    let check = site.run(&["check"]);
    check.expect_code(1);
    assert!(output(&check).contains("p/a2/index.html"), "{check:?}");
    assert_no_secret_in(&output(&check), &["482913"], "gen check");

    // An HTML-escaped PIN is the same PIN.
    let odd = "id,name,pin,team\n\
        a1,Alice,Bl<ue>&Red7,Red\n\
        a2,Bl<ue>&Red7,551204,Blue\n";
    site.write("players.csv", odd);
    let run = site.build();
    run.expect_code(1);
    assert!(output(&run).contains("tab \"Players\", row 2"), "{run:?}");
    assert!(!output(&run).contains("Bl<ue>"), "{run:?}");
}

/// `gen watch`: a cycle refused by the gate leaves the site and the logins
/// as they were, and says why in the log and in /healthz, without the PIN.
#[test]
fn gen_watch_keeps_the_last_site_when_the_gate_refuses_a_cycle() {
    let good = "id,name,pin,team\n\
        a1,Alice,482913,Red\n\
        a2,Bob,551204,Blue\n";
    let site = site_with(good, "");
    let g = watch(&site);
    let before = tree::tree_bytes(&site.out());

    // In a name: no cell holds it, so nothing can withhold it (issue 23).
    site.write("players.csv", good.replace("Bob", "Bob-482913"));
    g.wait_log_count("cycle failed", 1, std::time::Duration::from_secs(15));
    let health = g.wait_health(std::time::Duration::from_secs(5), "the refusal", |_, v| {
        v["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("refusing to publish"))
    });
    let error = health["last_error"].as_str().unwrap();
    assert!(
        error.contains("p/a2/index.html") && error.contains("row 2"),
        "{error}"
    );
    assert_no_secret_in(&health.to_string(), &["482913"], "/healthz");
    assert_no_secret_in(&g.log(), &["482913", "551204"], "gen watch's log");
    assert_eq!(tree::tree_bytes(&site.out()), before, "the site changed");
    let r = login(&g.addr, "198.51.100.20", "Alice", "482913");
    assert!(r.set_cookie(COOKIE).is_some(), "{}", r.head);
}

// ---------------------------------------------------------------- item 5

#[test]
fn a_login_name_that_folds_to_nothing_cannot_log_in_and_is_reported() {
    let csv = "id,name,pin\n\
        zw,\u{200b},593817\n\
        ok,Olivia,728364\n";
    let site = site_with(csv, "");
    let run = site.build_ok();
    let w = run
        .warnings()
        .into_iter()
        .find(|w| w.contains("tab \"Players\", row 2, column \"name\""))
        .unwrap_or_else(|| panic!("no warning for row 2:\n{}", run.stderr));
    assert!(w.contains("cannot log in"), "{w}");
    assert!(w.contains("retype"), "{w}");
    assert_no_secret_in(&output(&run), &["593817"], "gen build");
    // The page still publishes.
    let slugs: BTreeSet<String> = ["zw", "ok"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), slugs);

    let g = watch(&site);
    for (i, name) in ["", " ", "\u{200b}", "\u{200b}\u{200b}"].iter().enumerate() {
        let r = login(&g.addr, &format!("198.51.100.{}", i + 1), name, "593817");
        assert_refused(&r, &format!("name {name:?}"));
    }
    let r = login(&g.addr, "198.51.100.9", "Olivia", "728364");
    assert!(r.set_cookie(COOKIE).is_some(), "{}", r.head);
}
