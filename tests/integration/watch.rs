//! `gen watch` end to end (issue 4): the real binary on real sockets and real
//! temp dirs. Local changes, push refresh, failures and recovery, kill -9
//! during publishing, restart from the persisted snapshot, graceful stop, the
//! API's framing guards and JSON logs.
//!
//! Timing: every wait polls against a deadline; the deadlines are the
//! contract (2 s for a local edit, 1 s for a push, 5 s for a stop) plus slack
//! only where the contract itself allows it.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde_json::Value;
use sheetgen_test_support::http::{Conn, get, login_succeeds, raw_request, request};
use sheetgen_test_support::process::{Gen, poll};
use sheetgen_test_support::site::{
    CSV_SOURCE, Site, TEMPLATES, demo_logins, roster_with, site_config, toml_str,
};
use sheetgen_test_support::tree::{self, file_contains, files, player_slugs, tree_bytes};

// ---------------------------------------------------------------- sites

/// A `site.toml` for a CSV site with the API on a free loopback port.
/// `demo`: the demo's columns (private email, the Matches tab).
fn watch_config(refresh_secs: u64, demo: bool) -> String {
    let (matches_file, players_extra) = if demo {
        (
            "Matches = \"matches.csv\"\n",
            "private = [\"email\"]\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n",
        )
    } else {
        ("", "")
    };
    site_config(
        "FC Watch",
        Some(refresh_secs),
        &format!("{CSV_SOURCE}{matches_file}"),
        &format!("{players_extra}[api]\nlisten = \"127.0.0.1:0\"\n"),
    )
}

/// The demo roster (120 players, with matches) in a temp site.
fn demo_site(refresh_secs: u64) -> Site {
    let site = Site::new();
    site.copy_demo_roster();
    site.write_config(&watch_config(refresh_secs, true));
    site
}

/// The demo's players as (id, pin), from its CSV.
fn demo_players() -> Vec<(String, String)> {
    demo_logins()
        .into_iter()
        .map(|(id, _, pin)| (id, pin))
        .collect()
}

/// A generated roster of `n` players whose points all carry `generation`
/// (`generation * 100_000 + i`), so a page tells which write it came from.
fn generated_roster(n: usize, generation: u64) -> String {
    roster_with(n, |i| (generation * 100_000 + i as u64) as i64)
}

/// A site with a generated roster of `n` players.
fn roster_site(n: usize, refresh_secs: u64) -> Site {
    let site = Site::new();
    site.write("players.csv", generated_roster(n, 0));
    site.write_config(&watch_config(refresh_secs, false));
    site
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// The demo's `players.csv` with p002's points (7) set to `points`.
fn with_p002_points(csv: &str, points: u32) -> String {
    csv.replace(
        "p002,Jérôme Lefèvre,164767,Blue,Defender,7,",
        &format!("p002,Jérôme Lefèvre,164767,Blue,Defender,{points},"),
    )
}

/// A second hard link to the site's `players.csv`, in a folder nobody
/// watches: inotify reports a change on the path it was made through, so
/// gen's watcher never sees an edit made through this link.
fn unwatched_link(site: &Site) -> PathBuf {
    let hidden = site.root().join("elsewhere");
    std::fs::create_dir(&hidden).unwrap();
    let link = hidden.join("players.csv");
    std::fs::hard_link(site.root().join("players.csv"), &link).unwrap();
    link
}

/// Rewrites the file in place (same inode: every link to it changes).
fn write_in_place(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Files anywhere under `dir` whose name says they are a temp file.
fn temp_files(dir: &Path) -> Vec<String> {
    files(dir)
        .into_keys()
        .filter(|rel| {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            [".publish-", ".published-", ".last-good-", ".tmp-"]
                .iter()
                .any(|p| name.starts_with(p))
        })
        .collect()
}

fn gunzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

fn is_complete_html(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .trim_end()
        .ends_with("</html>")
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// The `points` value shown on a generated player's page.
fn shown_points(html: &str) -> Option<u64> {
    between(html, "<dt>points</dt><dd>", "</dd>")?.parse().ok()
}

// ---------------------------------------------------------------- HTTP

/// A connection that declared a 1 MB body and sent 3 bytes of it; its
/// reads wait 2 s at most.
fn hanging_body(addr: &str) -> Conn {
    let mut s = Conn::open(addr).unwrap();
    s.set_read_timeout(Duration::from_secs(2));
    s.send_raw(b"POST /api/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
        .unwrap();
    s
}

// ---------------------------------------------------------------- the process

/// `gen watch` for `site`, once it says where its API listens (≤ 15 s).
#[track_caller]
fn start(site: &Site) -> Gen {
    Gen::start(&site.config_path(), site.root(), &["watch"])
}

/// Waits (≤ 15 s) until `/healthz` says 200 ok: a first successful cycle.
#[track_caller]
fn wait_first_success(w: &Gen) -> Value {
    w.wait_health(Duration::from_secs(15), "a first success", |s, v| {
        s == 200 && v["status"] == "ok"
    })
}

/// Waits (≤ 15 s) until a cycle has ended (success or failure) since the start.
#[track_caller]
fn wait_cycle_ended(w: &Gen) -> Value {
    w.wait_health(Duration::from_secs(15), "a first cycle", |_, v| {
        v["cycles"].as_u64().unwrap() >= 1
    })
}

/// SIGKILL, then reap.
fn kill9(w: &mut Gen) {
    w.signal("KILL");
    let status = w.wait_exit(Duration::from_secs(5));
    assert!(status.is_some(), "gen watch survived kill -9");
}

/// Sends `sig` and asserts a 0 exit within 5 s; returns how long it took.
#[track_caller]
fn stop_with(w: &mut Gen, sig: &str) -> Duration {
    let t = Instant::now();
    w.signal(sig);
    let status = w.wait_exit(Duration::from_secs(5));
    let took = t.elapsed();
    match status {
        Some(s) => assert!(
            s.success(),
            "SIGTERM/SIGINT must exit 0, got {s:?}\n{}",
            w.log()
        ),
        None => panic!("no exit within 5 s of SIG{sig}\n{}", w.log()),
    }
    took
}

fn child_alive(w: &Gen) -> bool {
    // try_wait needs &mut; a signal 0 probe does not.
    let pid = w.pid().to_string();
    Command::new("kill")
        .arg("-0")
        .arg(&pid)
        .status()
        .is_ok_and(|s| s.success())
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}

// ---------------------------------------------------------------- 1. local changes

#[test]
fn csv_edit_changes_that_players_page_within_2s() {
    // refresh_secs = 3600: only the file watcher can explain a new page.
    let site = demo_site(3600);
    let w = start(&site);
    wait_first_success(&w);
    let page = site.out().join("p/p002/index.html");
    let other = site.out().join("p/p001/index.html");
    let other_before = std::fs::read(&other).unwrap();
    let before = std::fs::read_to_string(&page).unwrap();
    assert!(before.contains("Jérôme Lefèvre") && !before.contains("4242"));
    let stamps_before = tree::stamps(&site.out());

    let csv = std::fs::read_to_string(site.root().join("players.csv")).unwrap();
    let edited = with_p002_points(&csv, 4242);
    assert_ne!(csv, edited, "the demo row changed; update this test");
    let t = Instant::now();
    site.write("players.csv", &edited);

    let shown = poll(Duration::from_secs(2), || {
        file_contains(&page, "<dd>4242</dd>").then_some(())
    });
    let took = t.elapsed();
    assert!(
        shown.is_some(),
        "p002's page did not show the edit within 2 s\n{}",
        w.log()
    );
    eprintln!("csv edit visible after {took:?}");
    // Once that publish has ended: its twin matches and nothing else
    // changed for p001.
    w.wait_log_count("changed=true", 2, Duration::from_secs(2));
    let gz = tree::gunzip(&site.out().join("p/p002/index.html.gz"));
    assert_eq!(gz, std::fs::read(&page).unwrap());
    assert_eq!(std::fs::read(&other).unwrap(), other_before);
    let changed = tree::changed(&stamps_before, &tree::stamps(&site.out()));
    assert!(
        changed
            .iter()
            .all(|f| f.starts_with("p/p002/") || f.starts_with("index.html")),
        "only p002's page and the index may change: {changed:?}"
    );
}

#[test]
fn template_edit_rerenders_every_page_and_editor_temp_files_trigger_nothing() {
    let site = demo_site(3600);
    let theme = site.root().join("theme");
    copy_tree(Path::new(TEMPLATES), &theme);
    let config = watch_config(3600, true);
    let with_theme = config.replace(&toml_str(TEMPLATES), &toml_str(theme.to_str().unwrap()));
    assert_ne!(config, with_theme, "the config does not name the theme");
    site.write_config(&with_theme);
    let w = start(&site);
    w.wait_health(Duration::from_secs(15), "a first success", |s, v| {
        s == 200 && v["status"] == "ok" && v["cycles"] == 1
    });
    let slugs = player_slugs(&site.out());
    assert_eq!(slugs.len(), demo_players().len());
    let tree_before = tree_bytes(&site.out());

    // Editor droppings in the theme: no cycle, nothing written.
    std::fs::write(theme.join(".player.html.swp"), "swap").unwrap();
    std::fs::write(theme.join("player.html~"), "backup").unwrap();
    std::fs::write(theme.join("4913"), "").unwrap();
    std::fs::remove_file(theme.join("4913")).unwrap();
    std::fs::write(theme.join("#player.html#"), "emacs").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        w.cycles(),
        1,
        "an editor temp file triggered a cycle\n{}",
        w.log()
    );
    assert_eq!(w.count_log("local_change"), 0, "{}", w.log());
    assert!(tree_bytes(&site.out()) == tree_before);

    // A real edit of the player template: every player page, within 2 s.
    let tpl = theme.join("player.html");
    let text = std::fs::read_to_string(&tpl).unwrap();
    let edited = text.replace(
        "{% block content %}",
        "{% block content %}<!-- tpl-marker-1 -->",
    );
    assert_ne!(text, edited, "player.html changed; update this test");
    let t = Instant::now();
    std::fs::write(&tpl, edited).unwrap();
    let all = poll(Duration::from_secs(2), || {
        slugs
            .iter()
            .all(|s| {
                file_contains(
                    &site.out().join(format!("p/{s}/index.html")),
                    "tpl-marker-1",
                )
            })
            .then_some(())
    });
    assert!(
        all.is_some(),
        "not every player page was re-rendered within 2 s\n{}",
        w.log()
    );
    eprintln!(
        "template edit on all {} pages after {:?}",
        slugs.len(),
        t.elapsed()
    );
    // Once that publish has ended, every twin matches.
    w.wait_log_count("changed=true", 2, Duration::from_secs(2));
    tree::assert_gz_twins(&site.out());
    // The index does not use player.html: untouched.
    assert_eq!(
        std::fs::read(site.out().join("index.html")).unwrap(),
        tree_before["index.html"]
    );
}

#[test]
fn config_edit_rerenders_and_an_invalid_config_keeps_the_old_one() {
    let site = demo_site(3600);
    let w = start(&site);
    wait_first_success(&w);
    let index = site.out().join("index.html");
    assert!(site.page("index.html").contains("FC Watch"));

    let config = watch_config(3600, true);
    site.write_config(&config.replace("FC Watch", "FC Renamed"));
    let shown = poll(Duration::from_secs(2), || {
        file_contains(&index, "FC Renamed").then_some(())
    });
    assert!(
        shown.is_some(),
        "a new title not shown within 2 s\n{}",
        w.log()
    );
    w.wait_log_count("config_reloaded", 1, Duration::from_secs(2));

    // Broken TOML: reported, the old config keeps running.
    let tree_before = tree_bytes(&site.out());
    let cycles = w.cycles();
    site.write_config("[site\ntitle = \"FC Broken\"\n");
    w.wait_log_count("config_invalid", 1, Duration::from_secs(2));
    let (status, h) = w.health();
    assert_eq!(status, 200, "{h}");
    assert!(child_alive(&w));
    // A valid but wrong config (refresh_secs = 0) is refused the same way.
    site.write_config(&config.replace("refresh_secs = 3600", "refresh_secs = 0"));
    let two = poll(Duration::from_secs(2), || {
        (w.count_log("config_invalid") >= 2).then_some(())
    });
    assert!(two.is_some(), "refresh_secs = 0 not refused\n{}", w.log());
    assert!(w.cycles() > cycles);
    assert!(
        tree_bytes(&site.out()) == tree_before,
        "an invalid config changed the site"
    );
    assert_eq!(w.health().0, 200);

    // A good config again takes effect.
    site.write_config(&config.replace("FC Watch", "FC Third"));
    let shown = poll(Duration::from_secs(2), || {
        file_contains(&index, "FC Third").then_some(())
    });
    assert!(shown.is_some(), "recovered config not applied\n{}", w.log());
}

// ---------------------------------------------------------------- 2. push

#[test]
fn push_refresh_shows_data_within_1s_and_a_wrong_token_triggers_nothing() {
    const TOKEN: &str = "push-token-0123456789";
    let site = demo_site(3600);
    // The source is edited through a hard link in a folder nobody watches:
    // inotify reports a change on the path it was made through, so only the
    // push can make gen notice it.
    let link = unwatched_link(&site);

    let w = Gen::start_env(
        &site.config_path(),
        site.root(),
        &["watch"],
        &[("GEN_REFRESH_TOKEN", TOKEN)],
    );
    w.wait_health(Duration::from_secs(15), "a first success", |s, v| {
        s == 200 && v["status"] == "ok" && v["cycles"] == 1
    });
    let page = site.out().join("p/p002/index.html");

    let csv = std::fs::read_to_string(&link).unwrap();
    let edited = with_p002_points(&csv, 5151);
    assert_ne!(csv, edited);
    // In place, through the other link (same inode).
    write_in_place(&link, &edited);
    assert_eq!(
        std::fs::read_to_string(site.root().join("players.csv")).unwrap(),
        edited
    );

    // Wrong, missing and malformed tokens: 401, no cycle.
    let wrong = [
        vec![("Authorization", "Bearer nope")],
        vec![("Authorization", "Bearer push-token-012345678")],
        vec![("Authorization", "Basic cHVzaDp0b2tlbg==")],
        vec![("Authorization", TOKEN)],
        vec![],
    ];
    for headers in &wrong {
        let r = request(&w.addr, "POST", "/api/refresh", headers, b"");
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text());
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
        assert!(!r.text().contains(TOKEN));
    }
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        w.cycles(),
        1,
        "a refused push triggered a cycle\n{}",
        w.log()
    );
    assert!(!std::fs::read_to_string(&page).unwrap().contains("5151"));
    assert_eq!(
        w.count_log("local_change"),
        0,
        "the hard-link edit was seen: {}",
        w.log()
    );
    assert!(!w.log().contains(TOKEN), "the token reached the log");

    // The right token: 202, and the page within 1 s.
    let auth = format!("Bearer {TOKEN}");
    let t = Instant::now();
    let r = w.push(&auth);
    assert_eq!(r.status, 202, "{}", r.text());
    let shown = poll(Duration::from_secs(1), || {
        file_contains(&page, "<dd>5151</dd>").then_some(())
    });
    assert!(
        shown.is_some(),
        "a push did not show the data within 1 s\n{}",
        w.log()
    );
    eprintln!("push visible after {:?}", t.elapsed());
    w.wait_health(Duration::from_secs(1), "the push cycle counted", |_, v| {
        v["cycles"] == 2
    });

    // A burst of pushes collapses: far fewer cycles than pushes.
    let before = w.cycles();
    for _ in 0..20 {
        let r = w.push(&auth);
        assert_eq!(r.status, 202);
    }
    std::thread::sleep(Duration::from_millis(800));
    let after = w.cycles();
    assert!(
        after > before && after - before <= 10,
        "20 pushes gave {} cycles",
        after - before
    );
}

// ---------------------------------------------------------------- 3. failure

#[test]
fn a_failing_source_goes_stale_keeps_the_site_and_recovers() {
    let site = demo_site(1);
    let w = start(&site);
    wait_first_success(&w);
    let players = demo_players().len() as u64;
    let tree_before = tree_bytes(&site.out());
    let csv_path = site.root().join("players.csv");
    let csv = std::fs::read(&csv_path).unwrap();

    let t = Instant::now();
    std::fs::remove_file(&csv_path).unwrap();
    // Stale after 3 intervals without success: by 3–5 s.
    let stale = w.wait_health(Duration::from_secs(8), "503 stale", |s, v| {
        s == 503 && v["status"] == "stale"
    });
    let took = t.elapsed();
    eprintln!("stale after {took:?}: {stale}");
    assert!(
        stale["last_error"]
            .as_str()
            .unwrap()
            .contains("players.csv"),
        "last_error must name the file: {stale}"
    );
    assert!(stale["last_error_at"].is_string());
    assert!(stale["staleness_secs"].as_u64().unwrap() >= 3, "{stale}");
    assert!(stale["failures"].as_u64().unwrap() >= 1, "{stale}");
    assert_eq!(
        stale["players"], players,
        "the last good snapshot stays in force"
    );
    assert!(w.count_log("cycle_failed") >= 1);
    let metrics = get(&w.addr, "/metrics", &[]).text();
    assert!(
        metric(&metrics, "sheetgen_cycle_failures_total") >= 1.0,
        "{metrics}"
    );

    // Let it fail a little longer (backoff in force), then compare the site.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        tree_bytes(&site.out()) == tree_before,
        "a failed cycle changed files under out_dir"
    );

    // Recovery: the file comes back; 200 again within a few seconds even
    // with the backoff (the change itself triggers a cycle).
    let t = Instant::now();
    std::fs::write(&csv_path, &csv).unwrap();
    let ok = w.wait_health(Duration::from_secs(10), "200 after recovery", |s, v| {
        s == 200 && v["status"] == "ok"
    });
    eprintln!("recovered after {:?}: {ok}", t.elapsed());
    assert_eq!(ok["staleness_secs"].as_u64().unwrap(), 0, "{ok}");
    assert!(
        tree_bytes(&site.out()) == tree_before,
        "the same data must leave every file byte-identical"
    );
}

#[test]
fn backoff_spaces_out_failures_and_stays_responsive() {
    let site = demo_site(1);
    let w = start(&site);
    wait_first_success(&w);
    std::fs::remove_file(site.root().join("players.csv")).unwrap();
    let t = Instant::now();
    w.wait_health(Duration::from_secs(3), "a first failure", |_, v| {
        v["failures"].as_u64().unwrap() >= 1
    });
    // Over 6 s at refresh_secs = 1, an unbounded retry would fail ~6 times;
    // with backoff 1, 2, 4 s (±20%) at most 4 attempts fit. Meanwhile the API
    // answers every 250 ms, each within 1 s.
    while t.elapsed() < Duration::from_secs(6) {
        let asked = Instant::now();
        let (status, _) = w.health();
        assert!(status == 200 || status == 503);
        assert!(asked.elapsed() < Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(250));
    }
    let (_, h) = w.health();
    let failures = h["failures"].as_u64().unwrap();
    assert!(
        (2..=4).contains(&failures),
        "expected 2–4 failures in 6 s with backoff, got {failures}\n{}",
        w.log()
    );
}

/// The value of an unlabelled Prometheus sample.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
}

// ---------------------------------------------------------------- 4. kill -9

/// Asserts what publish.rs guarantees after a crash at any moment:
/// - exactly `expected` files (nothing missing, no temp file, nothing else);
/// - every `.html` is a complete page;
/// - every `.gz` gunzips to a complete page of the same player: its
///   `.html`'s bytes, or, where a kill fell between the two renames of a
///   pair, the other version (old or new) of that page. Each file is whole;
///   the twins are renamed independently (in parallel within a kind), and
///   the next complete publish brings every pair back in step.
///
/// Returns the generations (see [`generated_roster`]) the player pages show
/// and the pairs whose `.gz` holds the other version.
#[track_caller]
fn assert_intact(
    out: &Path,
    expected: &BTreeSet<String>,
    context: &str,
) -> (BTreeSet<u64>, BTreeSet<String>) {
    let all = files(out);
    let names: BTreeSet<String> = all.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&names).collect();
    let extra: Vec<_> = names.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: missing {missing:?}, unexpected {extra:?}"
    );
    // 4,000 files to read and gunzip: on every core.
    let pages: Vec<(&String, &PathBuf)> = all
        .iter()
        .filter(|(rel, _)| rel.ends_with(".html"))
        .collect();
    let checked: Vec<Result<PageCheck, String>> = pages
        .par_iter()
        .map(|(rel, path)| check_page(out, rel, path))
        .collect();
    let mut mismatched = BTreeSet::new();
    let mut generations = BTreeSet::new();
    for c in checked {
        let (generation, mismatch) = c.unwrap_or_else(|e| panic!("{context}: {e}"));
        generations.extend(generation);
        mismatched.extend(mismatch);
    }
    (generations, mismatched)
}

/// The generation a page shows (player pages) and its name if its `.gz`
/// holds another version.
type PageCheck = (Option<u64>, Option<String>);

/// One page and its twin (see [`assert_intact`]).
fn check_page(out: &Path, rel: &str, path: &Path) -> Result<PageCheck, String> {
    let html = std::fs::read(path).map_err(|e| format!("{rel}: {e}"))?;
    if !is_complete_html(&html) {
        return Err(format!("{rel} is torn"));
    }
    let gz = std::fs::read(out.join(format!("{rel}.gz"))).map_err(|e| format!("{rel}.gz: {e}"))?;
    let unzipped = gunzip_bytes(&gz).map_err(|e| format!("{rel}.gz is torn: {e}"))?;
    if !is_complete_html(&unzipped) {
        return Err(format!("{rel}.gz is a torn page"));
    }
    let text = String::from_utf8_lossy(&html);
    let generation = if rel.starts_with("p/") {
        let points = shown_points(&text).ok_or_else(|| format!("{rel}: no points"))?;
        Some(points / 100_000)
    } else {
        None
    };
    let mut mismatch = None;
    if unzipped != html {
        let zipped_text = String::from_utf8_lossy(&unzipped);
        let h1 = |t: &str| between(t, "<h1>", "</h1>").map(str::to_string);
        if h1(&text) != h1(&zipped_text) {
            return Err(format!("{rel}.gz is another page"));
        }
        mismatch = Some(rel.to_string());
    }
    Ok((generation, mismatch))
}

/// The generation `p/p0001/index.html` shows, if readable.
fn first_page_generation(out: &Path) -> Option<u64> {
    let html = std::fs::read_to_string(out.join("p/p0001/index.html")).ok()?;
    Some(shown_points(&html)? / 100_000)
}

#[test]
fn kill_9_during_cycles_never_leaves_a_torn_or_missing_page_or_a_temp_file() {
    // Big enough that a publish takes a while (2,000 files renamed on every
    // core), small enough for 20 rounds in well under a minute on a loaded
    // 2-core machine in a debug build. The kills are aimed at the publish
    // itself (once its first page is in place), so the size does not decide
    // whether they land in it.
    const PLAYERS: usize = 1000;
    const ROUNDS: u64 = 20;
    let site = roster_site(PLAYERS, 1);
    site.build_ok();
    let expected: BTreeSet<String> = files(&site.out()).into_keys().collect();
    let slugs = player_slugs(&site.out());
    assert_eq!(slugs.len(), PLAYERS);
    let t0 = Instant::now();

    let mut mid_publish = 0;
    let mut outcomes = Vec::new();
    let mut max_out_of_step = 0;
    for round in 1..=ROUNDS {
        // New data before the start: the start-up cycle rewrites every page.
        let round_started = Instant::now();
        site.write("players.csv", generated_roster(PLAYERS, round * 2));
        let mut w = start(&site);
        let (phase, delay, target) = match round % 5 {
            0 => {
                // Early: fetch and render of the start-up cycle.
                (
                    "start-up",
                    Duration::from_millis(fastrand::u64(10..=300)),
                    round * 2,
                )
            }
            1..=3 => {
                // In the start-up cycle's publish (~2,000 renames): once the
                // first page of the new data is in place.
                let seen = poll(Duration::from_secs(15), || {
                    (first_page_generation(&site.out()) == Some(round * 2)).then_some(())
                });
                assert!(seen.is_some(), "round {round}: no publish\n{}", w.log());
                (
                    "start-up publish",
                    Duration::from_millis(fastrand::u64(0..=300)),
                    round * 2,
                )
            }
            _ => {
                // In a cycle the file watcher starts: after the start-up
                // cycle, edit again, and kill once that publish has begun.
                w.wait_log_count("event=\"cycle\"", 1, Duration::from_secs(15));
                site.write("players.csv", generated_roster(PLAYERS, round * 2 + 1));
                let seen = poll(Duration::from_secs(15), || {
                    (first_page_generation(&site.out()) == Some(round * 2 + 1)).then_some(())
                });
                assert!(seen.is_some(), "round {round}: no publish\n{}", w.log());
                (
                    "watcher publish",
                    Duration::from_millis(fastrand::u64(0..=300)),
                    round * 2 + 1,
                )
            }
        };
        std::thread::sleep(delay);
        kill9(&mut w);
        let context = format!("round {round} (kill {delay:?} into the {phase})");
        let (generations, mismatched) = assert_intact(&site.out(), &expected, &context);
        max_out_of_step = max_out_of_step.max(mismatched.len());
        // Some pages show this round's data, some older data: the kill
        // fell in the middle of this round's publish.
        if generations.contains(&target) && generations.len() > 1 {
            mid_publish += 1;
        }
        outcomes.push(format!(
            "{round} {phase} +{delay:?}: {generations:?} ({:?})",
            round_started.elapsed()
        ));
        assert!(
            temp_files(&site.out()).is_empty(),
            "{context}: temp files in out_dir"
        );
    }
    eprintln!(
        "{ROUNDS} kills in {:?}, {mid_publish} in the middle of a publish, \
         at most {max_out_of_step} .gz/.html pairs out of step: {outcomes:#?}",
        t0.elapsed()
    );
    // The kills must really have hit publishes, else this proved nothing.
    assert!(
        mid_publish >= 1,
        "no kill landed during a publish: {outcomes:?}"
    );

    // One clean run repairs everything: every twin matches, every page shows
    // the last data.
    let last = ROUNDS * 2 + 1;
    site.write("players.csv", generated_roster(PLAYERS, last));
    let mut w = start(&site);
    w.wait_log_count("event=\"cycle\"", 1, Duration::from_secs(20));
    stop_with(&mut w, "TERM");
    let (_, mismatched) = assert_intact(&site.out(), &expected, "after a clean run");
    assert!(mismatched.is_empty(), "not repaired: {mismatched:?}");
    tree::assert_gz_twins(&site.out());
    for slug in &slugs {
        let html = site.page(&format!("p/{slug}/index.html"));
        assert_eq!(shown_points(&html).unwrap() / 100_000, last, "{slug}");
    }
    assert!(
        temp_files(site.root()).is_empty(),
        "{:?}",
        temp_files(site.root())
    );
}

// ---------------------------------------------------------------- 5. restart

#[test]
fn a_restart_with_the_source_down_serves_the_persisted_snapshot() {
    let site = demo_site(1);
    let players = demo_players();
    {
        let mut w = start(&site);
        wait_first_success(&w);
        let last_good = site.state().join("last-good.json");
        let saved = poll(Duration::from_secs(2), || last_good.exists().then_some(()));
        assert!(saved.is_some(), "no last-good.json after a success");
        stop_with(&mut w, "TERM");
    }
    let last_good = site.state().join("last-good.json");
    let mode = std::fs::metadata(&last_good).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "last-good.json is {mode:o}");
    let dir_mode = std::fs::metadata(site.state())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode & 0o077, 0, "state_dir is {dir_mode:o}");
    // It holds the logins (that is its point) and sits outside out_dir.
    let stored = std::fs::read_to_string(&last_good).unwrap();
    assert!(stored.contains(&players[0].1));
    assert!(!last_good.starts_with(site.out()));

    let tree_before = tree_bytes(&site.out());
    std::fs::remove_file(site.root().join("players.csv")).unwrap();
    let w = start(&site);
    w.wait_log_count("loaded the last good data", 1, Duration::from_secs(5));
    assert!(w.log().contains("event=\"restored\""), "{}", w.log());
    let h = w.wait_health(Duration::from_secs(5), "a failed cycle", |_, v| {
        v["failures"].as_u64().unwrap() >= 1
    });
    assert_eq!(h["players"], players.len(), "{h}");
    assert!(h["last_success"].is_string(), "{h}");
    let (_, name, pin) = &demo_logins()[0];
    assert!(
        login_succeeds(&w.addr, name, pin),
        "no login from the persisted snapshot\n{}",
        w.log()
    );
    assert!(
        h["last_error"].as_str().unwrap().contains("players.csv"),
        "{h}"
    );
    let metrics = get(&w.addr, "/metrics", &[]).text();
    assert_eq!(metric(&metrics, "sheetgen_players"), players.len() as f64);
    assert!(tree_bytes(&site.out()) == tree_before);
    // The persisted data is never rewritten by a failing cycle.
    assert_eq!(std::fs::read_to_string(&last_good).unwrap(), stored);
    // No PIN in the log.
    let log = w.log();
    for (_, pin) in &players {
        assert!(!log.contains(pin.as_str()), "a PIN in the log");
    }
}

#[test]
fn a_corrupt_last_good_file_is_ignored_and_replaced() {
    let site = demo_site(3600);
    std::fs::create_dir_all(site.state()).unwrap();
    std::fs::write(site.state().join("last-good.json"), "{not json").unwrap();
    let w = start(&site);
    wait_first_success(&w);
    assert!(
        w.log().contains("ignoring the last good data"),
        "{}",
        w.log()
    );
    let replaced = poll(Duration::from_secs(2), || {
        let text = std::fs::read_to_string(site.state().join("last-good.json")).ok()?;
        serde_json::from_str::<Value>(&text).ok()
    });
    assert!(replaced.is_some(), "the corrupt file was not replaced");
}

// ---------------------------------------------------------------- 6. stop

#[test]
fn sigterm_and_sigint_when_idle_exit_0_within_5s() {
    for sig in ["TERM", "INT"] {
        let site = demo_site(3600);
        let mut w = start(&site);
        wait_first_success(&w);
        let took = stop_with(&mut w, sig);
        eprintln!("idle SIG{sig}: exit 0 after {took:?}");
        assert!(temp_files(site.root()).is_empty());
    }
}

#[test]
fn sigterm_during_a_cycle_exits_0_within_5s_without_temp_files() {
    const PLAYERS: usize = 1000;
    let site = roster_site(PLAYERS, 3600);
    site.build_ok();
    let expected: BTreeSet<String> = files(&site.out()).into_keys().collect();
    let mut timings = Vec::new();
    // A stop in the render, and one in the middle of the publish: either way
    // the cycle in progress finishes (it takes ~1 s here, within the 3 s
    // grace on an idle machine), so the site is whole and up to date; if a very
    // loaded machine makes it overrun the grace, the site is still whole.
    for (round, when) in ["100 ms", "publish"].into_iter().enumerate() {
        let generation = round as u64 + 1;
        site.write("players.csv", generated_roster(PLAYERS, generation));
        let mut w = start(&site);
        match when {
            "publish" => {
                let seen = poll(Duration::from_secs(15), || {
                    (first_page_generation(&site.out()) == Some(generation)).then_some(())
                });
                assert!(seen.is_some(), "no publish\n{}", w.log());
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
        let in_cycle = w.count_log("event=\"cycle\"") == 0;
        let took = stop_with(&mut w, "TERM");
        // Did the cycle in progress finish within the grace (3 s), or was it
        // abandoned (possible on a very loaded machine)?
        let finished = w.count_log("event=\"cycle\"") > 0;
        timings.push((when, in_cycle, finished, took));
        let context = format!("SIGTERM at {when}");
        let (generations, mismatched) = assert_intact(&site.out(), &expected, &context);
        let temps = temp_files(&site.out());
        assert!(
            temps.is_empty(),
            "{context}: temp files in out_dir: {temps:?}"
        );
        if finished {
            assert!(mismatched.is_empty(), "{context}: {mismatched:?}");
            assert_eq!(
                generations,
                BTreeSet::from([generation]),
                "{context}: the cycle finished but the site is not up to date\n{}",
                w.log()
            );
            let temps = temp_files(site.root());
            assert!(temps.is_empty(), "{context}: temp files left: {temps:?}");
        }
    }
    eprintln!("SIGTERM during cycles (when, in a cycle, cycle finished, exit after): {timings:?}");
}

#[test]
fn sigterm_right_after_the_api_announces_itself_exits_0() {
    // systemd may stop gen at any moment, including while it starts. Once it
    // says it listens, a SIGTERM must be a clean stop (exit 0), not death by
    // the default signal action.
    let site = demo_site(3600);
    for round in 0..10 {
        let mut w = Gen::start_then_term(&site.config_path(), site.root(), &["watch"]);
        let status = w.wait_exit(Duration::from_secs(5));
        match status {
            Some(s) => assert!(
                s.success(),
                "round {round}: SIGTERM just after 'API listening' gave {s:?}\n{}",
                w.log()
            ),
            None => panic!("round {round}: no exit within 5 s\n{}", w.log()),
        }
    }
}

#[test]
fn sigterm_while_a_local_read_hangs_exits_0_within_5s() {
    // A source file whose read blocks (here a FIFO nobody writes to; in real
    // life a CSV on a hung network or FUSE mount) must not make gen deaf to
    // SIGTERM: systemd would wait 90 s and then SIGKILL it.
    let site = demo_site(1);
    let mut w = start(&site);
    wait_first_success(&w);
    let csv = site.root().join("players.csv");
    std::fs::remove_file(&csv).unwrap();
    let made = Command::new("mkfifo").arg(&csv).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    // The change itself starts a cycle, which blocks opening the FIFO.
    w.wait_log_count("local_change", 1, Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(300));
    let cycles = w.cycles();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(w.cycles(), cycles, "the cycle did not block on the FIFO");
    // The API still answers (it runs on its own threads); stale by now.
    let status = get(&w.addr, "/healthz", &[]).status;
    assert!(status == 200 || status == 503, "{status}");
    let t = Instant::now();
    w.signal("TERM");
    let status = w.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM while reading a blocked source file: {status:?} after {:?} (none = \
         still running)\n{}",
        t.elapsed(),
        w.log()
    );
}

// ---------------------------------------------------------------- 7. API guards

#[test]
fn api_guards_methods_framing_sizes_and_unknown_paths() {
    let site = demo_site(3600);
    let w = start(&site);
    wait_cycle_ended(&w);
    let addr = w.addr.as_str();

    let r = get(addr, "/healthz", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let h = r.json();
    for key in [
        "status",
        "last_success",
        "last_error",
        "last_error_at",
        "staleness_secs",
        "players",
        "cycles",
        "failures",
    ] {
        assert!(h.get(key).is_some(), "/healthz lacks {key}: {h}");
    }

    let r = request(addr, "HEAD", "/healthz", &[], b"");
    assert_eq!(r.status, 200);

    // Methods.
    for (method, path, allow) in [
        ("DELETE", "/healthz", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("PUT", "/metrics", "GET, HEAD"),
        ("GET", "/api/refresh", "POST"),
    ] {
        let r = request(addr, method, path, &[], b"");
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
    }

    // Push refresh without GEN_REFRESH_TOKEN: disabled, 403, no cycle.
    let cycles = w.cycles();
    let r = w.push("Bearer anything");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("GEN_REFRESH_TOKEN"));

    // Unknown paths.
    for path in [
        "/",
        "/nope",
        "/api/refreshx",
        "/healthz/x",
        "/api/../healthz",
    ] {
        let r = get(addr, path, &[]);
        assert!(
            r.status == 404 || path == "/api/../healthz",
            "{path}: {}",
            r.status
        );
    }

    // Transfer-Encoding is refused.
    let r = raw_request(
        addr,
        b"POST /api/refresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
          Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());

    // A body declared at 1 MB: 413 at once, without reading it.
    let mut s = hanging_body(addr);
    let t = Instant::now();
    let r = s
        .read(false)
        .expect("no answer to an oversized body within 2 s");
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(t.elapsed() < Duration::from_secs(2));
    drop(s);

    // Just above the cap too, with the body sent in full.
    let body = vec![b'x'; 4 * 1024 + 1];
    let r = request(addr, "POST", "/api/refresh", &[], &body);
    assert_eq!(r.status, 413);

    // None of that ran a cycle, and the API still answers.
    assert_eq!(w.cycles(), cycles);
    assert_eq!(get(addr, "/healthz", &[]).status, 200);

    assert_prometheus_metrics(addr);
}

/// Metrics: Prometheus text, every family of ours, the players counted.
fn assert_prometheus_metrics(addr: &str) {
    let r = get(addr, "/metrics", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("Content-Type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text();
    for name in [
        "sheetgen_cycles_total",
        "sheetgen_cycle_failures_total",
        "sheetgen_pages_written_total",
        "sheetgen_pages_removed_total",
        "sheetgen_fetch_seconds_total",
        "sheetgen_render_seconds_total",
        "sheetgen_logins_total",
        "sheetgen_login_failures_total",
        "sheetgen_login_rate_limited_total",
        "sheetgen_players",
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "no {name}:\n{text}"
        );
        metric(&text, name);
    }
    assert_eq!(
        metric(&text, "sheetgen_players"),
        demo_players().len() as f64
    );
    assert!(metric(&text, "sheetgen_pages_written_total") > 0.0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once(' ').unwrap();
        assert!(name.starts_with("sheetgen_"), "{line}");
        value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
    }
}

#[test]
fn oversized_bodies_left_hanging_do_not_take_the_api_down() {
    // Clients that declare a big body and then send nothing (slowloris) get
    // their 413, but must not pin the handler threads: /healthz must still
    // answer. (tiny_http drains the rest of a declared body when a request
    // is dropped.)
    let site = demo_site(3600);
    let w = start(&site);
    wait_cycle_ended(&w);
    let mut hanging = Vec::new();
    for i in 0..12 {
        let mut s = hanging_body(&w.addr);
        let r = s.read(false).unwrap_or_else(|e| {
            panic!(
                "hanging client {i}: no 413 within 2 s ({e}): the {i} clients before it \
                 pin every API handler thread"
            )
        });
        assert_eq!(r.status, 413);
        hanging.push(s);
    }
    let t = Instant::now();
    let r = raw_request(
        &w.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let took = t.elapsed();
    drop(hanging);
    let r = r.unwrap_or_else(|e| {
        panic!("/healthz unanswered ({e}) while 12 clients hang on oversized bodies")
    });
    assert_eq!(r.status, 200);
    assert!(took < Duration::from_secs(2), "/healthz took {took:?}");
}

#[test]
fn the_api_survives_a_quiet_night() {
    // Nobody calls the API for a while (no player online, no probe): gen
    // must keep listening, not treat the quiet as a dead listener.
    let site = demo_site(3600);
    let mut w = start(&site);
    wait_cycle_ended(&w);
    std::thread::sleep(Duration::from_millis(7000));
    if let Some(status) = w.wait_exit(Duration::ZERO) {
        panic!(
            "gen watch exited ({status}) after 7 s without API requests\n{}",
            w.log()
        );
    }
    let (status, _) = w.health();
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------- 8. JSON logs

#[test]
fn json_logs_are_one_object_per_line_with_the_cycle_fields() {
    let site = demo_site(3600);
    let mut w = Gen::start(
        &site.config_path(),
        site.root(),
        &["--log-format", "json", "watch"],
    );
    w.wait_log_count("\"event\":\"cycle\"", 1, Duration::from_secs(15));
    // A failure line too, with its error.
    std::fs::remove_file(site.root().join("players.csv")).unwrap();
    w.wait_log_count("\"event\":\"cycle_failed\"", 1, Duration::from_secs(3));
    stop_with(&mut w, "TERM");

    let lines = w.lines();
    assert!(lines.len() >= 3, "{lines:?}");
    let players = demo_players();
    let mut events = Vec::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a stderr line is not JSON ({e}): {line}"));
        assert!(v.is_object(), "{line}");
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        for (_, pin) in &players {
            assert!(!line.contains(pin.as_str()), "a PIN in the log: {line}");
        }
        if let Some(e) = v["event"].as_str() {
            events.push(e.to_string());
        }
        if v["event"] == "cycle" {
            assert_eq!(v["players"], players.len(), "{line}");
            assert!(v["written"].as_u64().unwrap() > 0, "{line}");
            assert!(v["fetch_ms"].is_u64(), "{line}");
            for key in ["render_ms", "publish_ms", "removed", "unchanged", "source"] {
                assert!(v.get(key).is_some(), "cycle line lacks {key}: {line}");
            }
        }
        if v["event"] == "cycle_failed" {
            assert!(
                v["error"].as_str().unwrap().contains("players.csv"),
                "{line}"
            );
            assert_eq!(v["level"], "ERROR");
        }
        if v["event"] == "listening" {
            assert_eq!(v["addr"], w.addr.as_str());
        }
    }
    for e in ["listening", "cycle", "local_change", "cycle_failed"] {
        assert!(events.iter().any(|x| x == e), "no {e} event in {events:?}");
    }
}

// ---------------------------------------------------------------- misc

#[test]
fn the_timer_alone_picks_up_changes_every_refresh_secs() {
    // No watcher can see this edit (made through a hard link in an unwatched
    // folder): the 1 s poll must.
    let site = demo_site(1);
    let link = unwatched_link(&site);
    let w = start(&site);
    wait_first_success(&w);
    let csv = std::fs::read_to_string(&link).unwrap();
    let edited = with_p002_points(&csv, 6161);
    write_in_place(&link, &edited);
    let page = site.out().join("p/p002/index.html");
    let shown = poll(Duration::from_secs(3), || {
        file_contains(&page, "<dd>6161</dd>").then_some(())
    });
    assert!(
        shown.is_some(),
        "not shown within one interval (+slack)\n{}",
        w.log()
    );
    // Once that publish has ended, idle cycles with nothing changed write
    // nothing.
    w.wait_log_count("changed=true", 2, Duration::from_secs(3));
    let stamps = tree::stamps(&site.out());
    let cycles = w.cycles();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(w.cycles() > cycles, "the timer stopped");
    assert!(tree::changed(&stamps, &tree::stamps(&site.out())).is_empty());
}
