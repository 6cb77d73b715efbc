//! Google Sheets end to end: the real `gen` binary against a fake Sheets API
//! and OAuth endpoint ([`fake_google`]), through an API key, a service
//! account and a published CSV; one request per cycle; every way Google
//! fails leaves the published site byte for byte as it was, with a message
//! for the organiser, and no secret in any output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sheetgen::config::{Config, Env};
use sheetgen::source::Fetcher;
use sheetgen::source::http::HttpOptions;
use sheetgen_test_support::fake_google::{
    self, CLIENT_EMAIL, FakeGoogle, Fault, TOKEN_PREFIX, row,
};
use sheetgen_test_support::site::{Run, Site, site_config, toml_str};
use sheetgen_test_support::tree::tree_bytes;

/// Must never appear in any output.
const CANARY_KEY: &str = "AIzaCANARY-key-5e1f0c2b9a";

/// The sheet: 6 players (one row sparse, an empty row inside), matches and
/// notes joined by player id.
fn sheet() -> BTreeMap<String, Vec<Vec<String>>> {
    let mut players = vec![row(&["id", "name", "pin", "team", "points"])];
    for i in 1..=6 {
        players.push(row(&[
            &format!("p{i}"),
            &format!("Player {i}"),
            &format!("{}", 480_000 + i * 37),
            ["Red", "Blue"][i % 2],
            &format!("{}", i * 3),
        ]));
        if i == 3 {
            players.push(row(&["", "", "", "", ""]));
        }
    }
    // Trailing empty cells: Google omits them.
    players.push(row(&["p7", "Player 7", "480999", "", ""]));
    let matches = vec![
        row(&["player_id", "date", "goals"]),
        row(&["p1", "2024-03-01", "2"]),
        row(&["p2", "2024-03-01", ""]),
    ];
    let notes = vec![row(&["player_id", "note"]), row(&["p1", "captain"])];
    [
        ("Players", players),
        ("Matches", matches),
        ("Match Notes", notes),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A site folder with a config whose `[source]` is `source`.
fn google_site(source: &str, refresh_secs: u64) -> Site {
    let site = Site::new();
    configure(&site, source, refresh_secs);
    site
}

fn configure(site: &Site, source: &str, refresh_secs: u64) {
    site.write_config(&site_config(
        "FC Google",
        Some(refresh_secs),
        &format!("{source}\n"),
        "\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n\n\
         [[tables]]\ntab = \"Match Notes\"\nkey = \"player_id\"\n",
    ));
}

/// `gen <args…>` with `env`, logging at debug level (every log line, so the
/// canary check sees them all).
fn run_debug(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec![("RUST_LOG", "debug")];
    all.extend_from_slice(env);
    site.run_env(args, &all)
}

fn build(site: &Site, env: &[(&str, &str)]) -> Run {
    run_debug(site, &["build"], env)
}

fn write_key_file(site: &Site, json: &str) -> PathBuf {
    let path = site.root().join("service-account.json");
    std::fs::write(&path, json).unwrap();
    path
}

/// The check of this file's runs: the harness's `Run` plus this.
trait NoSecret {
    fn assert_no_secret(&self) -> &Run;
}

impl NoSecret for Run {
    /// No secret of the test in stdout or stderr.
    #[track_caller]
    fn assert_no_secret(&self) -> &Run {
        let key = &fake_google::test_key().private_pem;
        // A line of the PEM body, and the whole thing with either newline.
        let pem_line = key.lines().nth(3).unwrap();
        for (name, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            for needle in [CANARY_KEY, pem_line, "PRIVATE KEY", TOKEN_PREFIX] {
                assert!(
                    !text.contains(needle),
                    "{name} contains a secret ({needle:?}):\n{text}"
                );
            }
        }
        self
    }
}

fn api_key_source(fake: &FakeGoogle) -> String {
    fake.api_key_source(CANARY_KEY)
}

fn service_account_source(fake: &FakeGoogle) -> String {
    format!(
        "kind = \"google\"\nspreadsheet_id = {}\napi_base = {}\ncredentials = \"service-account.json\"\n",
        toml_str(fake_google::SPREADSHEET_ID),
        toml_str(&fake.base),
    )
}

fn player_pages(site: &Site) -> usize {
    std::fs::read_dir(site.out().join("p")).map_or(0, |d| d.count())
}

#[test]
fn api_key_one_batch_get_per_cycle_for_three_tabs() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&api_key_source(&fake), 30);

    let run = build(&site, &[]);
    run.expect_code(0)
        .assert_no_secret()
        .says("published 7 players");
    assert_eq!(fake.sheets(), 1, "one Sheets request for three tabs");
    assert_eq!(fake.tokens(), 0);
    assert_eq!(player_pages(&site), 7);
    let query = fake.last_sheets_query();
    assert!(
        query.starts_with(
            "ranges=Players&ranges=Matches&ranges=%27Match%20Notes%27&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE&key="
        ),
        "{query}"
    );
    assert!(
        fake.last_user_agent().starts_with("sheetgen/"),
        "{}",
        fake.last_user_agent()
    );

    // Unchanged data: the second cycle asks once more and writes nothing.
    let before = tree_bytes(&site.out());
    build(&site, &[])
        .expect_code(0)
        .assert_no_secret()
        .says("0 files written");
    assert_eq!(fake.sheets(), 2);
    assert_eq!(tree_bytes(&site.out()), before);

    // The key from the environment works the same.
    let env_source =
        api_key_source(&fake).replace(&format!("api_key = {}\n", toml_str(CANARY_KEY)), "");
    configure(&site, &env_source, 30);
    build(&site, &[("GEN_GOOGLE_API_KEY", CANARY_KEY)])
        .expect_code(0)
        .assert_no_secret();
    assert_eq!(fake.sheets(), 3);
}

#[test]
fn gen_check_names_the_auth_path_and_warns_about_public_pins() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&api_key_source(&fake), 30);
    let run = run_debug(&site, &["check"], &[]);
    run.expect_code(0)
        .assert_no_secret()
        .says("auth: API key (anyone with the link can read the sheet)")
        .says("anyone with the link can read the PINs; use a service account and restrict sharing");
    assert!(!site.out().exists(), "check writes nothing");

    write_key_file(&site, &fake.key_file_json(false));
    configure(&site, &service_account_source(&fake), 30);
    let run = run_debug(&site, &["check"], &[]);
    run.expect_code(0)
        .assert_no_secret()
        .says(&format!("auth: service account {CLIENT_EMAIL}"));
    assert!(
        !run.stdout.contains("anyone with the link"),
        "{}",
        run.stdout
    );
}

#[test]
fn service_account_jwt_is_verified_and_pasted_newlines_are_accepted() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&service_account_source(&fake), 30);
    write_key_file(&site, &fake.key_file_json(true));

    let run = build(&site, &[]);
    assert!(
        fake.token_rejections().is_empty(),
        "{:?}",
        fake.token_rejections()
    );
    run.expect_code(0)
        .assert_no_secret()
        .says("published 7 players");
    assert_eq!((fake.tokens(), fake.sheets()), (1, 1));
    assert!(!fake.last_sheets_query().contains("key="));

    // The key named by GOOGLE_APPLICATION_CREDENTIALS, sheet not shared
    // with the account: the message names the e-mail to share it with.
    let key = write_key_file(&site, &fake.key_file_json(false));
    let env_source =
        service_account_source(&fake).replace("credentials = \"service-account.json\"\n", "");
    configure(&site, &env_source, 30);
    let before = tree_bytes(&site.out());
    fake.unshare();
    build(
        &site,
        &[("GOOGLE_APPLICATION_CREDENTIALS", key.to_str().unwrap())],
    )
    .expect_code(1)
    .assert_no_secret()
    .says(&format!("share the sheet with {CLIENT_EMAIL}"));
    assert_eq!(tree_bytes(&site.out()), before);
}

#[test]
fn one_token_across_several_fetches() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&service_account_source(&fake), 30);
    write_key_file(&site, &fake.key_file_json(false));
    let text = std::fs::read_to_string(site.config_path()).unwrap();
    let config = Config::parse(&text, &site.config_path(), &Env::default()).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fetcher = Fetcher::with_options(HttpOptions::default()).unwrap();
    for _ in 0..3 {
        let tables = runtime.block_on(fetcher.fetch(&config)).unwrap();
        let players = tables.get("Players").unwrap();
        assert_eq!(players.origin, "Google Sheets");
        assert_eq!(players.header, ["id", "name", "pin", "team", "points"]);
        // Row numbers are the sheet's: the empty row 5 stays counted.
        let p7 = players
            .rows
            .iter()
            .find(|r| r.cells.get(0) == Some("p7"))
            .unwrap();
        assert_eq!(p7.number, 9);
        assert_eq!(p7.cells, ["p7", "Player 7", "480999", "", ""]);
        let matches = tables.get("Matches").unwrap();
        assert_eq!(matches.rows[1].cells, ["p2", "2024-03-01", ""]);
        assert_eq!(tables.get("Match Notes").unwrap().rows.len(), 1);
    }
    assert_eq!(fake.tokens(), 1, "the token is cached in the Fetcher");
    assert_eq!(fake.sheets(), 3);
    assert!(format!("{fetcher:?}").find(TOKEN_PREFIX).is_none());
}

#[test]
fn published_csv_follows_redirects() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let source = format!(
        "kind = \"csv\"\n[source.urls]\nPlayers = {}\nMatches = {}\n\"Match Notes\" = {}\n",
        toml_str(&format!("{}/redirect/Players", fake.base)),
        toml_str(&format!("{}/pub/Matches.csv", fake.base)),
        toml_str(&format!("{}/pub/Match%20Notes.csv", fake.base)),
    );
    let site = google_site(&source, 30);
    build(&site, &[]).expect_code(0).says("published 7 players");
    assert_eq!(fake.csvs(), 4, "3 tabs + 1 redirect");
    assert_eq!(fake.sheets(), 0);
    run_debug(&site, &["check"], &[])
        .expect_code(0)
        .says("anyone with the link can read the PINs");

    // Unpublished: Google answers an HTML page.
    fake.rename_tab("Matches", "Results");
    let before = tree_bytes(&site.out());
    build(&site, &[])
        .expect_code(1)
        .says("tab \"Matches\"")
        .says("HTTP 404");
    assert_eq!(tree_bytes(&site.out()), before);
}

/// A good build, then `break_it`, then a build that must fail with exit
/// `code` and `message`, leaving out_dir byte for byte as it was.
fn fault(
    refresh_secs: u64,
    env: &[(&str, &str)],
    break_it: impl FnOnce(&FakeGoogle, &Site),
    code: i32,
    messages: &[&str],
) -> FakeGoogle {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&api_key_source(&fake), refresh_secs);
    build(&site, env).expect_code(0);
    let before = tree_bytes(&site.out());
    assert!(!before.is_empty());
    break_it(&fake, &site);
    let started = Instant::now();
    let run = build(&site, env);
    if std::env::var_os("SHOW_MESSAGES").is_some() {
        eprintln!("--- {messages:?}\n{}", run.stderr);
    }
    run.expect_code(code).assert_no_secret();
    for m in messages {
        run.says(m);
    }
    assert!(
        started.elapsed() < Duration::from_secs(refresh_secs + 3),
        "the failing cycle took {:?}",
        started.elapsed()
    );
    assert_eq!(tree_bytes(&site.out()), before, "out_dir changed");
    fake
}

#[test]
fn fault_500_is_retried_then_fails_within_refresh() {
    let fake = fault(
        1,
        &[],
        |f, _| f.fail_always(Some(Fault::Status(500))),
        1,
        &["Google Sheets answered HTTP 500", "failing on its side"],
    );
    assert!(fake.sheets() >= 3, "retried: {} requests", fake.sheets());
}

#[test]
fn fault_503_then_success_within_the_cycle() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&api_key_source(&fake), 30);
    fake.fail_next(Fault::Status(503));
    build(&site, &[])
        .expect_code(0)
        .assert_no_secret()
        .says("published 7 players");
    assert_eq!(fake.sheets(), 2);
}

#[test]
fn fault_429_explains_the_quota() {
    fault(
        1,
        &[],
        |f, _| f.fail_always(Some(Fault::Status(429))),
        1,
        &[
            "HTTP 429",
            "300 reads per minute per project",
            "60 per minute per user",
        ],
    );
}

#[test]
fn fault_hang_longer_than_the_timeout() {
    fault(
        1,
        &[("GEN_HTTP_TIMEOUT_MS", "300")],
        |f, _| f.fail_always(Some(Fault::Hang(Duration::from_secs(3)))),
        1,
        &["cannot reach", "timeout", "key=***"],
    );
}

#[test]
fn fault_connection_reset() {
    let reset = fake_google::resetting_server();
    fault(
        1,
        &[],
        |f, site| configure(site, &api_key_source(f).replace(&f.base, &reset.base), 1),
        1,
        &["cannot reach", "key=***"],
    );
    assert!(reset.connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[test]
fn fault_html_page_with_200() {
    let html = "<!DOCTYPE html><html><body>Sign in to continue</body></html>".to_string();
    fault(
        30,
        &[],
        |f, _| f.fail_always(Some(Fault::Body("text/html; charset=utf-8", html))),
        1,
        &[
            "Google answered something that is not the Sheets API",
            "HTTP 200",
            "text/html",
        ],
    );
}

#[test]
fn fault_truncated_json() {
    let cut = r#"{"spreadsheetId": "x", "valueRanges": [{"range": "Players!A1:Z1000", "values": [["id", "na"#;
    fault(
        30,
        &[],
        |f, _| {
            f.fail_always(Some(Fault::Body(
                "application/json; charset=UTF-8",
                cut.into(),
            )))
        },
        1,
        &["not the Sheets API", "application/json", "not valid JSON"],
    );
}

#[test]
fn fault_values_of_the_wrong_type() {
    let wrong = r#"{"valueRanges": [{"range": "Players!A1:Z9", "values": {"id": "p1"}}, {"values": []}, {"values": []}]}"#;
    fault(
        30,
        &[],
        |f, _| {
            f.fail_always(Some(Fault::Body(
                "application/json; charset=UTF-8",
                wrong.into(),
            )))
        },
        1,
        &["not the Sheets API", "not an array of arrays"],
    );
}

#[test]
fn fault_zero_data_rows_hits_the_mass_removal_guard() {
    fault(
        30,
        &[],
        |f, _| {
            f.set_tab(
                "Players",
                vec![row(&["id", "name", "pin", "team", "points"])],
            )
        },
        1,
        &["refusing to remove"],
    );
}

#[test]
fn fault_renamed_tab_is_not_retried() {
    let fake = fault(
        30,
        &[],
        |f, _| f.rename_tab("Match Notes", "Notes"),
        1,
        &[
            "HTTP 400",
            "no tab named 'Match Notes'",
            "tabs are case-sensitive",
        ],
    );
    assert_eq!(fake.sheets(), 2, "a 400 is not retried");
}

#[test]
fn fault_unknown_spreadsheet_and_unshared_key() {
    let fake = fault(
        30,
        &[],
        |f, _| f.fail_always(Some(Fault::Status(404))),
        1,
        &["check spreadsheet_id"],
    );
    assert_eq!(fake.sheets(), 2, "a 404 is not retried");
    fault(
        30,
        &[],
        |f, _| f.fail_always(Some(Fault::Status(403))),
        1,
        &["the sheet is not link-readable, or the key is restricted"],
    );
}

#[test]
fn a_jwt_the_token_endpoint_refuses_fails_the_cycle_cleanly() {
    let fake = FakeGoogle::start(CANARY_KEY, sheet());
    let site = google_site(&service_account_source(&fake), 30);
    write_key_file(&site, &fake.key_file_json(false));
    build(&site, &[]).expect_code(0);
    let before = tree_bytes(&site.out());
    // Signed by the right key but claiming another account: the fake's
    // verification (iss) refuses it, as Google would.
    let other = fake
        .key_file_json(false)
        .replace(CLIENT_EMAIL, "intruder@evil.iam.gserviceaccount.com");
    write_key_file(&site, &other);
    build(&site, &[])
        .expect_code(1)
        .assert_no_secret()
        .says("cannot get an access token for intruder@evil.iam.gserviceaccount.com")
        .says("invalid_grant");
    assert_eq!(fake.token_rejections().len(), 1);
    assert_eq!(tree_bytes(&site.out()), before);
    // A key file that is not one: exit 2 (configuration), key not quoted.
    write_key_file(
        &site,
        r#"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAIzaCANARY-key-5e1f0c2b9a\n-----END PRIVATE KEY-----\n"}"#,
    );
    build(&site, &[])
        .expect_code(2)
        .assert_no_secret()
        .says("\"private_key\" is not an RSA private key");
}
