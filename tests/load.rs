#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Issue 7's republish-under-load test (the short CI version of the soak in
//! `bench/load.sh`): real nginx with `gen nginx`'s output in front of a real
//! `gen watch` (`refresh_secs = 1`) whose CSV source alternates every second
//! between two rosters in which every page differs. For 60 s, keep-alive
//! connections hammer the index pages and the players' own pages (each with
//! its session cookie), half asking for gzip. The test fails on a single
//! torn body (every body must end with `</html>` and be byte-identical to
//! version A or B of that page, after gunzip for the gzip answers), any
//! status but 200, or any socket error; and if gen's RSS or thread count at
//! the end has grown beyond bounds from what it was after 10 s.

// Its own test crate, apart from tests/integration: cargo runs test
// binaries one after another, so these 60 s of 64 hammering connections
// share the machine with no other test (as when every file was a crate),
// and no timing-sensitive test runs beside them. It links the harness
// crate like the integration tests do.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sheetgen_test_support::http::{COOKIE, Conn, Response, post_form};
use sheetgen_test_support::nginx::{Nginx, NginxSetup, gen_nginx};
use sheetgen_test_support::process::{Gen, free_port};
use sheetgen_test_support::site::{Site, TEMPLATES, roster_pin, roster_with, run_gen, toml_str};
use sheetgen_test_support::tools::tail;
use sheetgen_test_support::tree::files;

const PLAYERS: usize = 240;
const PER_PAGE: usize = 100;
const RUN: Duration = Duration::from_secs(60);
const CONNECTIONS: usize = 64;

fn points_a(i: usize) -> i64 {
    ((i * 37) % 61) as i64
}

fn points_b(i: usize) -> i64 {
    points_a(i) + 1
}

fn config(out_dir: &str, state_dir: &str, players_csv: &str, api_port: u16) -> String {
    format!(
        r#"[site]
title = "FC Load"
lang = "en"
out_dir = {out_dir}
templates = {templates}
state_dir = {state_dir}
refresh_secs = 1

[source]
kind = "csv"
[source.files]
Players = {players_csv}

[players]
tab = "Players"
id = "id"
login = "name"
secret = "pin"

[index]
columns = ["team", "points"]
sort_by = "points"
descending = true
per_page = {PER_PAGE}

[api]
listen = "127.0.0.1:{api_port}"
"#,
        out_dir = toml_str(out_dir),
        state_dir = toml_str(state_dir),
        players_csv = toml_str(players_csv),
        templates = toml_str(TEMPLATES),
    )
}

/// Builds version `name` of the site into `<root>/<name>/` with its own
/// config and state, and returns its pages by URL path.
fn build_known(site: &Site, name: &str, csv: &str) -> HashMap<String, Vec<u8>> {
    let csv_file = format!("{name}.csv");
    site.write(&csv_file, csv);
    let config_file = format!("{name}.toml");
    site.write(
        &config_file,
        config(name, &format!("{name}-state"), &csv_file, 1),
    );
    let run = run_gen(
        &site.root().join(&config_file),
        site.root(),
        &["build"],
        &[],
    );
    assert_eq!(
        run.code,
        Some(0),
        "gen build of version {name}: {}",
        run.stderr
    );
    let mut pages = HashMap::new();
    for (rel, path) in files(&site.root().join(name)) {
        if let Some(dir) = rel.strip_suffix("index.html") {
            pages.insert(
                format!("/{dir}"),
                without_as_of(&std::fs::read(path).unwrap()),
            );
        }
    }
    pages
}

/// `page` with each "data as of" time (`<time datetime=…>…</time>`,
/// issue 17) blanked: it says when the live site saw its data change,
/// which no build made beforehand can know. Everything else must match
/// version A or B byte for byte.
fn without_as_of(page: &[u8]) -> Vec<u8> {
    const OPEN: &[u8] = b"<time datetime=\"";
    const CLOSE: &[u8] = b"</time>";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut out = Vec::with_capacity(page.len());
    let mut rest = page;
    while let Some(start) = find(rest, OPEN) {
        let Some(len) = find(&rest[start..], CLOSE) else {
            break;
        };
        out.extend_from_slice(&rest[..start]);
        out.extend_from_slice(b"<time></time>");
        rest = &rest[start + len + CLOSE.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// nginx with `gen nginx`'s output included verbatim inside `http { }`.
fn start_nginx(site: &Site) -> Nginx {
    Nginx::start(
        &gen_nginx(site),
        NginxSetup {
            workers: 2,
            access_log: false,
        },
    )
}

/// `VmRSS` in KiB and `Threads` of a process.
fn rss_and_threads(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("Threads:"))
}

/// What the load threads saw.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    gzip: AtomicU64,
    private: AtomicU64,
    failures: Mutex<Vec<String>>,
    failure_count: AtomicU64,
}

impl Tally {
    fn fail(&self, what: String) {
        self.failure_count.fetch_add(1, Ordering::Relaxed);
        let mut f = self.failures.lock().unwrap();
        if f.len() < 20 {
            f.push(what);
        }
    }
}

/// One request of the rotation: a path and the cookie to send (for a
/// player's own page).
#[derive(Clone)]
struct Target {
    path: String,
    cookie: Option<String>,
}

/// Checks one answer; `None` when it is a complete page of version A or B.
fn verdict(
    r: &Response,
    target: &Target,
    gzip: bool,
    known: &HashMap<String, [Vec<u8>; 2]>,
) -> Option<String> {
    if r.status != 200 {
        return Some(format!("{}: status {}\n{}", target.path, r.status, r.head));
    }
    let encoded = r
        .header("Content-Encoding")
        .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    if encoded != gzip {
        return Some(format!(
            "{}: asked gzip={gzip}, Content-Encoding gzip={encoded}",
            target.path
        ));
    }
    let body = if encoded {
        let mut out = Vec::new();
        if let Err(e) =
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut out)
        {
            return Some(format!(
                "{}: torn gzip body ({} bytes): {e}",
                target.path,
                r.body.len()
            ));
        }
        out
    } else {
        r.body.clone()
    };
    if !body.trim_ascii_end().ends_with(b"</html>") {
        return Some(format!(
            "{} (gzip={gzip}): torn body, {} bytes, no </html> at the end",
            target.path,
            body.len()
        ));
    }
    let versions = &known[&target.path];
    let body = without_as_of(&body);
    if !versions.contains(&body) {
        return Some(format!(
            "{} (gzip={gzip}): {} bytes, neither version A ({}) nor B ({})",
            target.path,
            body.len(),
            versions[0].len(),
            versions[1].len()
        ));
    }
    None
}

/// One keep-alive connection's loop until `stop`.
fn hammer(
    addr: String,
    targets: Arc<Vec<Target>>,
    known: Arc<HashMap<String, [Vec<u8>; 2]>>,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    seed: usize,
) {
    let mut k = seed.wrapping_mul(7919);
    let mut conn: Option<Conn> = None;
    while !stop.load(Ordering::Relaxed) {
        k = k.wrapping_add(1);
        let target = &targets[k % targets.len()];
        let gzip = (k / targets.len() + seed) % 2 == 0;
        let cookie = target.cookie.as_ref().map(|c| format!("{COOKIE}={c}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if gzip {
            headers.push(("Accept-Encoding", "gzip"));
        }
        if let Some(c) = &cookie {
            headers.push(("Cookie", c));
        }
        let c = match &mut conn {
            Some(c) => c,
            None => match Conn::open(&addr) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tally.fail(format!("connect: {e}"));
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        match c.request("GET", &target.path, &headers, b"") {
            Ok(r) => {
                tally.requests.fetch_add(1, Ordering::Relaxed);
                if gzip {
                    tally.gzip.fetch_add(1, Ordering::Relaxed);
                }
                if target.cookie.is_some() {
                    tally.private.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(problem) = verdict(&r, target, gzip, &known) {
                    tally.fail(problem);
                }
                // nginx closes a keep-alive connection after
                // keepalive_requests (1000) and says so.
                if r.header("Connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                {
                    conn = None;
                }
            }
            Err(e) => {
                tally.fail(format!("{}: socket error: {e}", target.path));
                conn = None;
            }
        }
    }
}

/// Both versions of every page, as `gen build` makes them; and the index
/// pages among them. Every index page differs between the two versions.
fn known_pages(
    site: &Site,
    csv_a: &str,
    csv_b: &str,
) -> (HashMap<String, [Vec<u8>; 2]>, Vec<String>) {
    let pages_a = build_known(site, "known-a", csv_a);
    let pages_b = build_known(site, "known-b", csv_b);
    // Every page of the site differs between the two versions.
    let mut known: HashMap<String, [Vec<u8>; 2]> = HashMap::new();
    for (path, a) in &pages_a {
        let b = pages_b
            .get(path)
            .unwrap_or_else(|| panic!("{path} only in A"));
        known.insert(path.clone(), [a.clone(), b.clone()]);
    }
    let index_pages: Vec<String> = {
        let mut v: Vec<String> = known
            .keys()
            .filter(|p| *p == "/" || p.starts_with("/page/"))
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(index_pages.len(), PLAYERS.div_ceil(PER_PAGE));
    for p in &index_pages {
        assert_ne!(known[p][0], known[p][1], "{p} is the same in A and B");
    }
    (known, index_pages)
}

/// Every player logs in (directly to gen: nginx's per-address limit_req
/// on /api/login would refuse 240 logins from one address): their own
/// page with their session, and one public page for every four.
fn everyone_logged_in(
    gen_: &Gen,
    known: &HashMap<String, [Vec<u8>; 2]>,
    index_pages: &[String],
) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    for i in 1..=PLAYERS {
        let r = post_form(
            &gen_.addr,
            "/api/login",
            &[],
            &[("name", &format!("Player {i:04}")), ("pin", &roster_pin(i))],
        );
        assert_eq!(r.status, 303, "login of player {i}:\n{}", r.head);
        let slug = format!("p{i:04}");
        let path = format!("/p/{slug}/");
        assert!(known.contains_key(&path), "no page {path}");
        targets.push(Target {
            path,
            cookie: Some(r.cookie(COOKIE).expect("a session cookie")),
        });
        // One public page for every four private ones.
        if i % 4 == 0 {
            targets.push(Target {
                path: index_pages[(i / 4) % index_pages.len()].clone(),
                cookie: None,
            });
        }
    }
    targets
}

/// The sheet alternates between `a` and `b` every second until `stop`:
/// temp file + rename, as an editor's save or a sync tool would.
fn republish_every_second(
    site: &Site,
    a: &str,
    b: &str,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let stop = Arc::clone(stop);
    let root = site.root().to_path_buf();
    let (a, b) = (a.to_string(), b.to_string());
    std::thread::spawn(move || {
        let mut k = 0usize;
        while !stop.load(Ordering::Relaxed) {
            k += 1;
            let tmp = root.join(".players.csv.next");
            std::fs::write(&tmp, if k % 2 == 1 { &b } else { &a }).unwrap();
            std::fs::rename(&tmp, root.join("players.csv")).unwrap();
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn pages_stay_whole_under_load_while_gen_republishes_every_second() {
    let site = Site::for_nginx();
    let csv_a = roster_with(PLAYERS, points_a);
    let csv_b = roster_with(PLAYERS, points_b);
    let (known, index_pages) = known_pages(&site, &csv_a, &csv_b);

    // The live site: gen watch on version A, source alternating later.
    site.write("players.csv", &csv_a);
    let api_port = free_port();
    site.write_config(&config("public", ".sheetgen", "players.csv", api_port));
    let gen_ = Gen::start(&site.config_path(), site.root(), &["watch"]);
    gen_.wait_first_cycle();
    let nginx = start_nginx(&site);

    let targets = Arc::new(everyone_logged_in(&gen_, &known, &index_pages));
    let known = Arc::new(known);

    // The sheet changes every second: temp file + rename, as an editor's
    // save or a sync tool would.
    let stop = Arc::new(AtomicBool::new(false));
    let republisher = republish_every_second(&site, &csv_a, &csv_b, &stop);
    let changed_cycles = || {
        gen_.lines()
            .iter()
            .filter(|l| l.contains("cycle ok") && l.contains("changed=true"))
            .count()
    };
    let cycles_before = changed_cycles();

    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|seed| {
            let (addr, targets, known, tally, stop) = (
                nginx.addr.clone(),
                Arc::clone(&targets),
                Arc::clone(&known),
                Arc::clone(&tally),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || hammer(addr, targets, known, tally, stop, seed))
        })
        .collect();

    std::thread::sleep(Duration::from_secs(10));
    let at_10s = rss_and_threads(gen_.pid());
    let nginx_at_10s = rss_and_threads(nginx.pid());
    while start.elapsed() < RUN {
        std::thread::sleep(Duration::from_millis(200));
        if tally.failure_count.load(Ordering::Relaxed) > 0 {
            // One failure is enough; stop early with what it was.
            break;
        }
    }
    let at_end = rss_and_threads(gen_.pid());
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    republisher.join().unwrap();
    let elapsed = start.elapsed();
    let cycles = changed_cycles() - cycles_before;
    let requests = tally.requests.load(Ordering::Relaxed);
    let summary = format!(
        "{requests} requests in {:.1} s ({:.0}/s; {} gzip, {} private) over {CONNECTIONS} \
         connections; {cycles} republishing cycles; gen RSS {} → {} KiB, threads {} → {}; \
         nginx master RSS after 10 s {} KiB",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        tally.gzip.load(Ordering::Relaxed),
        tally.private.load(Ordering::Relaxed),
        at_10s.0,
        at_end.0,
        at_10s.1,
        at_end.1,
        nginx_at_10s.0,
    );
    eprintln!("load: {summary}");

    let failures = tally.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failed requests ({summary}); the first ones:\n{}\n--- nginx error.log (tail)\n{}\n--- gen log (tail)\n{}",
        tally.failure_count.load(Ordering::Relaxed),
        failures.join("\n"),
        tail(&nginx.error_log(), 20),
        tail(&gen_.log(), 20),
    );
    assert!(
        requests >= 5_000,
        "too few requests to mean anything: {summary}"
    );
    // The source changed every second for a minute: gen must have published
    // most of those versions (a cycle takes well under a second here).
    assert!(
        cycles >= 20,
        "gen republished only {cycles} times in {elapsed:?}: {summary}\n{}",
        tail(&gen_.log(), 20)
    );
    assert!(
        !gen_.lines().iter().any(|l| l.contains("cycle failed")),
        "a cycle failed:\n{}",
        gen_.log()
    );
    assert!(at_end.1 <= at_10s.1 + 16, "gen's threads grew: {summary}");
    assert!(
        at_end.0 as f64 <= at_10s.0 as f64 * 1.5 + 10.0 * 1024.0,
        "gen's RSS grew: {summary}"
    );
}
