//! Issue 14, item 6: capability URLs and passwords never reach a message or
//! a log line. A published-CSV URL lets whoever holds it read every PIN, and
//! a photo URL may carry `user:password@`. The real binary is run against a
//! local server that fails in every way a network can (5xx, a hang, a reset,
//! connection refused, HTML, a redirect loop, bytes that are not CSV), with
//! `gen build`, `gen check` and `gen watch`, and all its output (plus every
//! file under `out_dir`) is searched for the secret parts of those URLs.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use std::collections::BTreeMap;

use sheetgen_test_support::fake_google::{FakeGoogle, Fault, row};
use sheetgen_test_support::images;
use sheetgen_test_support::process::{self, Gen};
use sheetgen_test_support::site::{CSV_SOURCE, Run, Site, csv_text, repo, site_config, toml_str};
use sheetgen_test_support::tree::readable_contents;

/// In the path of every published-CSV URL (Google's `/d/e/2PACX-…` part).
const PATH_SECRET: &str = "CAPSECRETpath7Q";
/// In the query of every published-CSV URL.
const QUERY_SECRET: &str = "CAPSECRETquery9Z";
/// The password of every URL that carries a `user:password@`.
const PASSWORD: &str = "s3cretPASSw0rd";

/// A server on 127.0.0.1:0 that fails by the first segment of the path:
/// `/500/…`, `/hang/…` (no answer for 30 s), `/reset/…` (closed at once),
/// `/html/…` (a sign-in page), `/loop/…` (a redirect to itself), `/binary/…`
/// (200 with bytes that are not UTF-8 text), anything else 404.
fn failing_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Lives until the test process exits; it only ever serves loopback.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            std::thread::spawn(move || answer(stream));
        }
    });
    base
}

fn answer(mut stream: TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let fault = target.split('/').nth(1).unwrap_or_default();
    let reply = |status: &str, headers: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let bytes = match fault {
        "500" => reply(
            "500 Internal Server Error",
            "Content-Type: text/plain\r\n",
            b"boom",
        ),
        "hang" => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        "reset" => return,
        "html" => reply(
            "200 OK",
            "Content-Type: text/html; charset=utf-8\r\n",
            b"<!DOCTYPE html><html><body>Sign in</body></html>",
        ),
        "loop" => reply("302 Found", &format!("Location: {target}\r\n"), b""),
        "binary" => reply(
            "200 OK",
            "Content-Type: text/csv\r\n",
            b"id,name,pin\n1,\xff\xfe\xfd,\xc3\x28\n",
        ),
        _ => reply("404 Not Found", "Content-Type: text/plain\r\n", b"no"),
    };
    let _ = stream.write_all(&bytes);
}

/// A port nothing listens on (bound, then closed).
fn closed_port_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    base
}

/// A published-CSV URL shaped like Google's, failing with `fault`, with a
/// `user:password@` when `userinfo`.
fn published_url(base: &str, fault: &str, userinfo: bool) -> String {
    let base = if userinfo {
        base.replacen("http://", &format!("http://organiser:{PASSWORD}@"), 1)
    } else {
        base.to_string()
    };
    format!(
        "{base}/{fault}/spreadsheets/d/e/2PACX-{PATH_SECRET}/pub?gid=0&single=true&output=csv&t={QUERY_SECRET}"
    )
}

/// A site whose Players tab is the published CSV at `url`, refreshed every
/// second (so a cycle's retries stop within a second), API on port 0.
fn published_site(url: &str) -> Site {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Redact",
        Some(1),
        &format!("kind = \"csv\"\nurl = {}\n", toml_str(url)),
        "[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    site
}

/// Every secret part of the URLs under test.
fn secrets() -> [&'static str; 3] {
    [PATH_SECRET, QUERY_SECRET, PASSWORD]
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(secret),
            "{what}: {secret:?} was shown:\n{text}"
        );
    }
}

/// Nothing under `out_dir` (the organiser page lists problems) holds a
/// secret.
#[track_caller]
fn assert_out_dir_clean(site: &Site) {
    // A failed first build publishes nothing: then there is nothing to read.
    let published = if site.out().exists() {
        readable_contents(&site.out())
    } else {
        Vec::new()
    };
    for (name, bytes) in published {
        assert_no_secret(
            &format!("out_dir file {name}"),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// Runs `gen watch` until it has logged two failed cycles, then stops it;
/// its stderr and stdout.
fn watch_output(site: &Site, env: &[(&str, &str)]) -> String {
    let mut w = Gen::start_env(&site.config_path(), site.root(), &["watch"], env);
    w.wait_log_count("cycle failed", 2, Duration::from_secs(60));
    w.stop();
    format!("{}\n{}", w.log(), w.stdout.lock().unwrap().join("\n"))
}

/// Every log line of every crate, down to trace: an organiser debugging a
/// failing sheet turns the level up, and the URLs must stay hidden then too.
const LOG_ENV: &[(&str, &str)] = &[("RUST_LOG", "trace"), ("GEN_HTTP_TIMEOUT_MS", "300")];

/// gen's error when the published CSV at `base` fails with `fault`: how
/// its line starts (the URL as it is shown, cut after the host), and the
/// failure it names after that. (How many tries a failure took depends on
/// the clock: not asserted.)
fn failure_words(base: &str, fault: &str) -> (String, &'static str) {
    let answered = format!("tab \"Players\": the published CSV at {base}/… answered HTTP");
    let unreachable =
        format!("cannot reach the published CSV of tab \"Players\" at {base}/… (tried");
    let (start, failure) = match fault {
        "500" => (answered, "HTTP 500: Google is failing on its side"),
        "hang" => (unreachable, "no answer within 300 ms (timeout)"),
        "reset" => (unreachable, "connection failed: "),
        "html" => (answered, "HTTP 200: an HTML page"),
        "loop" => (unreachable, "too many redirects"),
        "binary" => (
            format!("published CSV at {base}/… (tab \"Players\"), line 2"),
            "not valid UTF-8",
        ),
        "missing" => (answered, "HTTP 404: is the sheet still published"),
        "refused" => (unreachable, "Connection refused"),
        other => panic!("no words for the fault {other:?}"),
    };
    (format!("error: {start}"), failure)
}

#[test]
fn published_csv_urls_never_reach_output_whatever_fails() {
    let base = failing_server();
    let refused = closed_port_base();
    let mut cases: Vec<(String, String, (String, &str))> =
        ["500", "hang", "reset", "html", "loop", "binary", "missing"]
            .iter()
            .flat_map(|fault| {
                [false, true].map(|userinfo| {
                    (
                        format!("{fault} (userinfo: {userinfo})"),
                        published_url(&base, fault, userinfo),
                        failure_words(&base, fault),
                    )
                })
            })
            .collect();
    cases.push((
        "connection refused".into(),
        published_url(&refused, "x", true),
        failure_words(&refused, "refused"),
    ));

    // The cases are independent and mostly wait on the network: in parallel.
    std::thread::scope(|scope| {
        for (name, url, (start, failure)) in &cases {
            scope.spawn(move || {
                let site = published_site(url);
                for command in ["build", "check"] {
                    let run = site.run_env(&[command], LOG_ENV);
                    let text = output(&run);
                    run.expect_code(1);
                    // What failed, with the URL cut after its host.
                    let error = run.error_line().unwrap_or_default();
                    assert!(
                        error.starts_with(start.as_str()) && error.contains(failure),
                        "{name}, gen {command}: not {start:?} … {failure:?}:\n{text}"
                    );
                    assert_no_secret(&format!("{name}, gen {command}"), &text);
                    // Still says which tab and which server failed.
                    assert!(
                        text.contains("Players") && text.contains("127.0.0.1"),
                        "{name}, gen {command}: the message must name the tab and host:\n{text}"
                    );
                }
                assert_out_dir_clean(&site);
            });
        }
    });

    // The retries are logged on the way: 500s, with `gen watch`.
    let site = published_site(&published_url(&base, "500", true));
    let log = watch_output(&site, LOG_ENV);
    assert!(log.contains("retrying"), "{log}");
    assert!(log.contains("http://127.0.0.1:"), "{log}");
    assert_no_secret("gen watch", &log);
    assert_out_dir_clean(&site);
}

#[test]
fn a_published_url_quoted_by_a_config_error_is_redacted() {
    // A missing closing quote: toml quotes the offending line back.
    let site = Site::new();
    let url = published_url("https://docs.google.com", "x", false);
    site.write_config(
        &site_config("FC Redact", None, "kind = \"csv\"\n", "").replace(
            "kind = \"csv\"\n",
            &format!("kind = \"csv\"\nurl = \"{url}\nencoding = \"utf-8\"\n"),
        ),
    );
    let run = site.run(&["check"]);
    run.expect_code(2);
    let text = output(&run);
    assert_no_secret("a config syntax error", &text);
    assert!(text.contains("https://docs.google.com/…"), "{text}");
}

#[test]
fn passwords_in_api_base_are_never_shown() {
    // A proxy in front of the Sheets API, reached with a password; it fails.
    let base = failing_server();
    let api_base = format!(
        "{}/500",
        base.replacen("http://", &format!("http://proxyuser:{PASSWORD}@"), 1)
    );
    let site = Site::new();
    site.write_config(&site_config(
        "FC Redact",
        Some(1),
        &format!(
            "kind = \"google\"\nspreadsheet_id = \"1SheetId\"\napi_base = {}\napi_key = \"AIzaKEY{QUERY_SECRET}\"\n",
            toml_str(&api_base)
        ),
        "[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    for command in ["build", "check"] {
        let run = site.run_env(&[command], LOG_ENV);
        let text = output(&run);
        assert_eq!(run.code, Some(1), "gen {command}:\n{text}");
        assert!(text.contains("HTTP 500"), "gen {command}:\n{text}");
        assert_no_secret(&format!("google, gen {command}"), &text);
    }
    let log = watch_output(&site, LOG_ENV);
    assert!(log.contains("retrying"), "{log}");
    assert!(log.contains("key=***"), "{log}");
    assert_no_secret("google, gen watch", &log);
}

/// A CSV site whose players have these photo cells, 127.0.0.1 allowed.
fn photo_site(cells: &[String]) -> Site {
    // p0 is an admin.
    let mut rows = images::photo_rows(cells);
    for (i, row) in rows.iter_mut().enumerate() {
        row.push(if i == 0 { "yes".into() } else { String::new() });
    }
    let mut header = images::PHOTO_HEADER.to_vec();
    header.push("admin");
    let site = Site::new();
    site.write("players.csv", csv_text(&header, &rows));
    site.write_config(&site_config(
        "FC Redact",
        Some(1),
        CSV_SOURCE,
        "photo = \"photo\"\nphoto_allow = [\"127.0.0.1\"]\nadmin = \"admin\"\n[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    site
}

fn with_password(base: &str, user: &str) -> String {
    base.replacen("http://", &format!("http://{user}:{PASSWORD}@"), 1)
}

#[test]
fn photo_passwords_never_reach_output_or_the_site() {
    let base = failing_server();
    let refused = closed_port_base();
    let cells = vec![
        format!("{}/500/a.jpg", with_password(&base, "alice")),
        format!("{}/html/b.jpg", with_password(&base, "bob")),
        format!("{}/reset/c.jpg", with_password(&base, "carol")),
        format!("{}/d.jpg", with_password(&refused, "dave")),
        // Not a URL at all (no scheme): quoted back, without the password.
        format!("erin:{PASSWORD}@photos.example/e.jpg"),
    ];
    let site = photo_site(&cells);
    let run = site.run_env(&["build"], LOG_ENV);
    let text = output(&run);
    run.expect_ok();
    let photo_warnings = run
        .warnings()
        .into_iter()
        .filter(|w| w.contains("photo"))
        .count();
    assert!(photo_warnings >= cells.len(), "{text}");
    assert!(text.contains("photo download failed"), "{text}");
    assert!(text.contains("photos.example/e.jpg"), "{text}");
    assert_no_secret("photos, gen build", &text);
    assert_out_dir_clean(&site);

    let run = site.run_env(&["check"], LOG_ENV);
    assert_no_secret("photos, gen check", &output(&run));

    let fresh = photo_site(&cells);
    let log = watch_output_ok(&fresh);
    assert!(log.contains("photo"), "{log}");
    assert_no_secret("photos, gen watch", &log);
    assert_out_dir_clean(&fresh);
}

/// `gen watch` of a site whose cycles succeed, until two have ended.
fn watch_output_ok(site: &Site) -> String {
    let mut w = Gen::start_env(&site.config_path(), site.root(), &["watch"], LOG_ENV);
    w.wait_log_count("cycle ok", 2, Duration::from_secs(60));
    w.stop();
    format!("{}\n{}", w.log(), w.stdout.lock().unwrap().join("\n"))
}

/// Issue 23, item 5: Google's error body echoes the request's URL, API key
/// included. Before the fix the key reached stderr and the watch log
/// through Google's own words ("Google said: …").
#[test]
fn a_key_echoed_by_google_reaches_no_output() {
    const KEY: &str = "AIzaEchoedKEY7Rq";
    let tabs = BTreeMap::from([(
        "Players".to_string(),
        vec![row(&["id", "name", "pin"]), row(&["p1", "Ann", "482913"])],
    )]);
    let fake = FakeGoogle::start(KEY, tabs);
    fake.fail_always(Some(Fault::Echo(403)));
    let site = Site::new();
    site.write_config(&site_config(
        "FC Redact",
        Some(1),
        &fake.api_key_source(KEY),
        "[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    for command in ["build", "check"] {
        let run = site.run_env(&[command], LOG_ENV);
        let text = output(&run);
        assert_eq!(run.code, Some(1), "gen {command}:\n{text}");
        // Google's words are still quoted, with the key hidden.
        assert!(text.contains("was refused"), "gen {command}:\n{text}");
        assert!(text.contains("key=***"), "gen {command}:\n{text}");
        assert!(!text.contains(KEY), "gen {command} showed the key:\n{text}");
        assert!(!text.contains("echoed"), "gen {command}:\n{text}");
    }
    let log = watch_output(&site, LOG_ENV);
    assert!(log.contains("was refused"), "{log}");
    assert!(!log.contains(KEY), "gen watch logged the key:\n{log}");
    // The organiser's page is not written without an admin row; every
    // file under out_dir is searched anyway.
    if site.out().exists() {
        for (name, bytes) in readable_contents(&site.out()) {
            assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "{name}");
        }
    }
}

/// Issue 23, item 5: a signed photo link (`sig=`, `X-Amz-Signature=`, any
/// other parameter) is shown without its query values in the log, in
/// `gen check` and on the organiser's page. Before the fix only `key`,
/// `token` and `access_token` were hidden.
#[test]
fn signed_photo_links_are_shown_without_their_query() {
    const SIG: &str = "SIGsecret4Kx";
    const AMZ: &str = "AMZsecret9Lp";
    const OTHER: &str = "OTHERsecret2Qw";
    let base = failing_server();
    let cells = vec![
        format!("{base}/500/a.jpg?sv=2024&sig={SIG}"),
        format!("{base}/html/b.jpg?X-Amz-Signature={AMZ}&X-Amz-Expires=300"),
        format!("{base}/c.jpg?grant={OTHER}#frag"),
    ];
    let site = photo_site(&cells);
    let run = site.run_env(&["build"], LOG_ENV);
    let text = output(&run);
    run.expect_ok();
    assert!(text.contains("photo download failed"), "{text}");
    assert!(text.contains("sig=***"), "{text}");
    let check = site.run_env(&["check"], LOG_ENV);
    let mut shown = vec![
        ("gen build".to_string(), text),
        ("gen check".to_string(), output(&check)),
    ];
    let admin = site.out().join("admin/index.html");
    let page = std::fs::read_to_string(&admin).unwrap();
    assert!(page.contains("X-Amz-Signature=***"), "{page}");
    shown.push(("the organiser's page".into(), page));
    for (name, bytes) in readable_contents(&site.out()) {
        shown.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    for (what, text) in &shown {
        for secret in [SIG, AMZ, OTHER] {
            assert!(!text.contains(secret), "{what} showed {secret}:\n{text}");
        }
    }
}

/// Issue 23, item 6: a club that edits the demo's files in place (or keeps
/// its roster at that path) gets no PIN printed by `gen serve`; the demo's
/// own data, byte for byte, still gets its fictional logins (see
/// login.rs's serve test).
#[test]
fn serve_prints_no_pin_for_a_roster_at_the_demo_path() {
    let site = Site::new();
    let demo = repo().join("examples/demo/players.csv");
    let original = std::fs::read_to_string(demo).unwrap();
    // One real club's edit: a name and a PIN changed, the rest as shipped.
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen(',', ",Real ", 1);
    let edited = format!("{}\n", lines.join("\n"));
    assert_ne!(edited, original);
    site.write("examples/demo/players.csv", &edited);
    let pins: Vec<String> = {
        let mut reader = csv::Reader::from_reader(edited.as_bytes());
        let pin = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "pin")
            .unwrap();
        reader
            .records()
            .map(|r| r.unwrap()[pin].to_string())
            .collect()
    };
    site.write(
        "examples/demo/matches.csv",
        std::fs::read(repo().join("examples/demo/matches.csv")).unwrap(),
    );
    // The repository's own config, paths relative to the site as there.
    let templates = repo().join("site-templates");
    let config = std::fs::read_to_string(repo().join("site.toml"))
        .unwrap()
        .replace(
            "templates = \"site-templates\"",
            &format!("templates = {}", toml_str(&templates.to_string_lossy())),
        );
    site.write_config(&config);
    let port = process::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut g = Gen::start_env(
        &site.config_path(),
        site.root(),
        &["serve", "--listen", &listen],
        &[],
    );
    g.wait_first_cycle();
    g.stop();
    let out = format!("{}\n{}", g.log(), g.stdout.lock().unwrap().join("\n"));
    assert!(!out.contains("demo login"), "{out}");
    for pin in &pins {
        assert!(
            !out.contains(&format!("PIN {pin}")),
            "a PIN was printed:\n{out}"
        );
    }
}
