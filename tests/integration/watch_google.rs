//! `gen watch` (the real binary) against the fake Sheets API (issue 4):
//! a change in the sheet shows within one interval with one Sheets request
//! per cycle; Google failing turns /healthz to 503 while the site and logins
//! stay as they were, and recovering turns it back; a restart with Google
//! down logs players in from the persisted snapshot; a push shows new data
//! within 1 s even at `refresh_secs = 3600`.
//!
//! Every wait polls against a deadline: the contract plus slack for a
//! loaded machine, never a bare sleep standing in for a condition.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use sheetgen_test_support::fake_google::{FakeGoogle, Fault, row};
use sheetgen_test_support::http::{self, COOKIE, Response};
use sheetgen_test_support::process::{Gen, poll};
use sheetgen_test_support::site::{Site, site_config};
use sheetgen_test_support::tree::{file_contains, tree_bytes};

/// The API key gen sends; must never show in a log line or in /healthz.
const KEY: &str = "AIzaCANARY-watch-google-3f8a61d2";
const TOKEN: &str = "push-token-watch-google-9c41";
const PLAYERS: usize = 5;

fn pin(i: usize) -> String {
    format!("{}", 530_000 + i * 41)
}

/// The Players tab: `p1`…`p5`; `p2`'s team is `team_of_p2`.
fn players_tab(team_of_p2: &str) -> Vec<Vec<String>> {
    let mut rows = vec![row(&["id", "name", "pin", "team", "points"])];
    for i in 1..=PLAYERS {
        let team = if i == 2 { team_of_p2 } else { "Red" };
        rows.push(row(&[
            &format!("p{i}"),
            &format!("Player {i}"),
            &pin(i),
            team,
            &format!("{}", i * 3),
        ]));
    }
    rows
}

fn sheet(team_of_p2: &str, notes: bool) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut tabs = BTreeMap::new();
    tabs.insert("Players".to_string(), players_tab(team_of_p2));
    tabs.insert(
        "Matches".to_string(),
        vec![
            row(&["player_id", "date", "goals"]),
            row(&["p1", "2024-03-01", "2"]),
            row(&["p2", "2024-03-01", "1"]),
        ],
    );
    if notes {
        tabs.insert(
            "Match Notes".to_string(),
            vec![row(&["player_id", "note"]), row(&["p2", "captain"])],
        );
    }
    tabs
}

/// A site reading the fake through an API key; `notes`: a third tab.
fn google_site(fake: &FakeGoogle, refresh_secs: u64, notes: bool) -> Site {
    let notes_table = if notes {
        "[[tables]]\ntab = \"Match Notes\"\nkey = \"player_id\"\n"
    } else {
        ""
    };
    let config = site_config(
        "FC Watch Google",
        Some(refresh_secs),
        &fake.api_key_source(KEY),
        &format!(
            "\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n{notes_table}\n[api]\nlisten = \"127.0.0.1:0\"\n"
        ),
    );
    let site = Site::new();
    site.write_config(&config);
    site
}

#[track_caller]
fn start(site: &Site, env: &[(&str, &str)]) -> Gen {
    Gen::start_env(&site.config_path(), site.root(), &["watch"], env)
}

#[track_caller]
fn wait_first_success(g: &Gen) -> Value {
    g.wait_health(Duration::from_secs(15), "a first success", |s, v| {
        s == 200 && v["status"] == "ok" && v["players"] == PLAYERS
    })
}

fn login(g: &Gen, name: &str, pin: &str) -> Response {
    http::post_form(
        &g.addr,
        "/api/login",
        &[("X-Real-IP", "127.0.0.1"), ("X-Forwarded-Proto", "https")],
        &[("name", name), ("pin", pin)],
    )
}

#[track_caller]
fn assert_login_ok(g: &Gen, i: usize, context: &str) {
    let r = login(g, &format!("Player {i}"), &pin(i));
    assert!(
        r.status == 303 && r.cookie(COOKIE).is_some_and(|c| !c.is_empty()),
        "{context}: login of Player {i} gave {}\n{}\n--- log\n{}",
        r.head,
        r.text(),
        g.log()
    );
}

/// Whether `p2`'s page (as published) shows `text`.
fn page_shows(site: &Site, text: &str) -> bool {
    file_contains(&site.out().join("p/p2/index.html"), text)
}

#[track_caller]
fn assert_no_key(g: &Gen) {
    assert!(!g.log().contains(KEY), "the API key reached the log");
}

// ---------------------------------------------------------------- tests

#[test]
fn a_sheet_change_shows_within_one_interval_with_one_request_per_cycle() {
    let fake = FakeGoogle::start(KEY, sheet("Team-Alpha", true));
    let site = google_site(&fake, 1, true);
    let g = start(&site, &[]);
    wait_first_success(&g);
    assert!(page_shows(&site, "Team-Alpha"), "{}", g.log());

    let t = Instant::now();
    fake.set_tab("Players", players_tab("Team-Omega-731"));
    let shown = poll(Duration::from_secs(3), || {
        page_shows(&site, "Team-Omega-731").then_some(())
    });
    let took = t.elapsed();
    assert!(
        shown.is_some(),
        "the sheet change did not show within 3 s (refresh_secs = 1)\n{}",
        g.log()
    );
    eprintln!("sheet change visible after {took:?}");

    // A few more (unchanged) cycles, then: one batchGet per cycle, three
    // tabs or not. The counter is read on both sides of /healthz so a cycle
    // in flight can only make it one ahead.
    g.wait_health(Duration::from_secs(6), "4 cycles", |_, v| {
        v["cycles"].as_u64().unwrap() >= 4
    });
    let before = fake.sheets() as i64;
    let (status, h) = g.health();
    let after = fake.sheets() as i64;
    assert_eq!(status, 200, "{h}");
    let cycles = h["cycles"].as_i64().unwrap();
    assert_eq!(h["failures"], 0, "{h}");
    assert!(
        before >= cycles - 1 && after <= cycles + 1,
        "{before}..{after} Sheets requests for {cycles} cycles\n{}",
        g.log()
    );
    let query = fake.last_sheets_query();
    assert!(
        query.starts_with("ranges=Players&ranges=Matches&ranges=%27Match%20Notes%27&"),
        "one request carries all three tabs: {query}"
    );
    assert_eq!(fake.tokens(), 0);
    assert_eq!(fake.csvs(), 0);
    assert_no_key(&g);
}

#[test]
fn google_failing_goes_stale_keeps_site_and_logins_then_recovers() {
    let fake = FakeGoogle::start(KEY, sheet("Team-Alpha", false));
    let site = google_site(&fake, 1, false);
    let g = start(&site, &[]);
    wait_first_success(&g);
    let tree_before = tree_bytes(&site.out());
    assert!(tree_before.contains_key("p/p2/index.html"));

    let t = Instant::now();
    fake.fail_always(Some(Fault::Status(500)));
    // Stale once the last success is older than 3 intervals: ~3 s.
    let stale = g.wait_health(Duration::from_secs(7), "503 stale", |s, v| {
        s == 503 && v["status"] == "stale"
    });
    let took = t.elapsed();
    eprintln!("stale after {took:?}: {stale}");
    assert!(took >= Duration::from_secs(1), "stale too soon: {took:?}");
    let error = stale["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("500"), "last_error: {stale}");
    assert!(!error.contains(KEY), "the API key in last_error: {error}");
    assert!(stale["staleness_secs"].as_u64().unwrap() >= 3, "{stale}");
    assert!(stale["failures"].as_u64().unwrap() >= 1, "{stale}");
    assert_eq!(stale["players"], PLAYERS, "{stale}");

    assert!(
        tree_bytes(&site.out()) == tree_before,
        "a failed cycle changed files under out_dir"
    );
    assert_login_ok(&g, 2, "while Google fails");

    // Recover while gen sits in its backoff (not in the middle of a cycle
    // whose next retry would succeed anyway): once one more cycle failed.
    let failures = stale["failures"].as_u64().unwrap();
    let h = g.wait_health(Duration::from_secs(6), "one more failure", |_, v| {
        v["failures"].as_u64().unwrap() > failures
    });
    assert_eq!(h["players"], PLAYERS, "{h}");
    assert!(
        tree_bytes(&site.out()) == tree_before,
        "a failed cycle changed files under out_dir"
    );
    assert_login_ok(&g, 3, "after more failures");
    let t = Instant::now();
    fake.fail_always(None);
    let ok = g.wait_health(Duration::from_secs(9), "200 after recovery", |s, v| {
        s == 200 && v["status"] == "ok"
    });
    let took = t.elapsed();
    eprintln!("recovered after {took:?}: {ok}");
    assert!(took <= Duration::from_secs(8), "recovery took {took:?}");
    assert_eq!(ok["players"], PLAYERS);
    assert!(
        tree_bytes(&site.out()) == tree_before,
        "the same data must leave every file byte-identical"
    );
    assert_no_key(&g);
}

#[test]
fn a_restart_with_google_down_logs_in_from_the_persisted_snapshot() {
    let fake = FakeGoogle::start(KEY, sheet("Team-Alpha", false));
    let site = google_site(&fake, 1, false);
    {
        let mut g = start(&site, &[]);
        wait_first_success(&g);
        let last_good = site.state().join("last-good.json");
        let saved = poll(Duration::from_secs(3), || last_good.exists().then_some(()));
        assert!(saved.is_some(), "no last-good.json\n{}", g.log());
        let status = g.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "SIGTERM: {status:?}\n{}",
            g.log()
        );
        assert_no_key(&g);
    }
    let tree_before = tree_bytes(&site.out());

    // Google answers 500 to everything: no fetch can succeed.
    fake.fail_always(Some(Fault::Status(500)));
    let sheets_before = fake.sheets();
    {
        let mut g = start(&site, &[]);
        // At once, before any fetch could succeed.
        assert_login_ok(&g, 3, "right after a restart with Google failing");
        let (_, h) = g.health();
        assert_eq!(h["players"], PLAYERS, "{h}");
        assert!(h["last_success"].is_string(), "{h}");
        // Once a cycle failed: still the persisted roster, still logins.
        let h = g.wait_health(Duration::from_secs(6), "a failed cycle", |_, v| {
            v["failures"].as_u64().unwrap() >= 1
        });
        assert_eq!(h["players"], PLAYERS, "{h}");
        assert_eq!(h["cycles"], h["failures"], "no cycle succeeded: {h}");
        assert!(fake.sheets() > sheets_before, "gen did ask Google");
        assert_login_ok(&g, 4, "after a failed cycle");
        assert!(tree_bytes(&site.out()) == tree_before);
        assert_no_key(&g);
        let status = g.stop();
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
    }

    // Google gone entirely (connection refused).
    drop(fake);
    let g = start(&site, &[]);
    assert_login_ok(&g, 5, "right after a restart with Google gone");
    let (_, h) = g.health();
    assert_eq!(h["players"], PLAYERS, "{h}");
    assert_no_key(&g);
}

#[test]
fn a_push_shows_the_new_sheet_data_within_1s_at_refresh_3600() {
    let fake = FakeGoogle::start(KEY, sheet("Team-Alpha", false));
    let site = google_site(&fake, 3600, false);
    let g = start(&site, &[("GEN_REFRESH_TOKEN", TOKEN)]);
    wait_first_success(&g);
    g.wait_health(Duration::from_secs(2), "one cycle", |_, v| v["cycles"] == 1);
    assert_eq!(fake.sheets(), 1);

    fake.set_tab("Players", players_tab("Team-Pushed-58"));
    // A wrong token: 401 and no request to Google.
    let r = g.push("Bearer not-the-token");
    assert_eq!(r.status, 401, "{}", r.text());

    let auth = format!("Bearer {TOKEN}");
    let t = Instant::now();
    let r = g.push(&auth);
    assert_eq!(r.status, 202, "{}", r.text());
    let shown = poll(Duration::from_secs(1), || {
        page_shows(&site, "Team-Pushed-58").then_some(())
    });
    let took = t.elapsed();
    assert!(
        shown.is_some(),
        "a push did not show the sheet's new data within 1 s ({took:?})\n{}",
        g.log()
    );
    eprintln!("push visible after {took:?}");
    g.wait_health(Duration::from_secs(2), "the push cycle", |_, v| {
        v["cycles"] == 2
    });
    assert_eq!(fake.sheets(), 2, "the wrong token triggered a fetch");
    assert!(!g.log().contains(TOKEN), "the push token reached the log");
    assert_no_key(&g);
}

#[test]
fn sigterm_while_a_sheets_request_hangs_exits_0_within_5s() {
    let fake = FakeGoogle::start(KEY, sheet("Team-Alpha", false));
    let site = google_site(&fake, 3600, false);
    let mut g = start(&site, &[("GEN_REFRESH_TOKEN", TOKEN)]);
    wait_first_success(&g);
    let tree_before = tree_bytes(&site.out());
    fake.fail_always(Some(Fault::Hang(Duration::from_secs(30))));
    let auth = format!("Bearer {TOKEN}");
    let r = g.push(&auth);
    assert_eq!(r.status, 202);
    let asked = poll(Duration::from_secs(2), || {
        (fake.sheets() >= 2).then_some(())
    });
    assert!(
        asked.is_some(),
        "the push did not reach Google\n{}",
        g.log()
    );
    // The API answers while the fetch hangs.
    let t = Instant::now();
    assert_eq!(g.health().0, 200);
    assert!(t.elapsed() < Duration::from_secs(1));
    let t = Instant::now();
    g.signal("TERM");
    let status = g.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM during a hanging fetch: {status:?} after {:?}\n{}",
        t.elapsed(),
        g.log()
    );
    eprintln!("stopped after {:?}", t.elapsed());
    assert!(tree_bytes(&site.out()) == tree_before);
    fake.fail_always(None);
}
