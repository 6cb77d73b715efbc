//! A stray quote in a CSV source: a cell that opens with `"` and never
//! closes makes the CSV reader take every later line as part of that cell
//! (the demo's 120 players became 8). That must never publish: `gen check`
//! says NOT publishable, `gen build` writes nothing, `gen watch` keeps the
//! previous site and logins, and each names the file, tab, row and column
//! where the quote opens. A quoted cell on several lines that IS closed is
//! data, and the rows after it keep their numbers.

use std::time::Duration;

use sheetgen_test_support::http::login_succeeds;
use sheetgen_test_support::images::ImageServer;
use sheetgen_test_support::process::{Gen, poll};
use sheetgen_test_support::site::{
    CSV_SOURCE, DEMO, Run, Site, check_not_publishable, demo_logins, site_config, toml_str,
};
use sheetgen_test_support::tree::{self, player_slugs, tree_bytes};

/// The refusal for the demo with the quote typed at row 12: its 109 later
/// rows were swallowed.
const DEMO_REFUSAL: &str = "players.csv (tab \"Players\"), row 12, column \"name\": this cell \
     starts with a quote (\") that is never closed, so the 109 rows after it were read as part \
     of this cell. Remove the quote, or close it, then build again";

/// The demo roster (120 players, matches joined) in a temp site, the API
/// on a free loopback port, refreshed by file changes only.
fn demo_site() -> Site {
    let site = Site::new();
    site.copy_demo_roster();
    site.write_config(&site_config(
        "FC Quotes",
        Some(3600),
        &format!("{CSV_SOURCE}Matches = \"matches.csv\"\n"),
        "private = [\"email\"]\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n\
         [api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    site
}

/// The demo's `players.csv` with `edit` applied to the line of sheet row
/// `row` (the file has no cell on several lines: row n is line n).
fn demo_with_row(row: usize, edit: impl Fn(&str) -> String) -> String {
    let csv = std::fs::read_to_string(format!("{}/players.csv", DEMO)).unwrap();
    let lines: Vec<String> = csv
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i + 1 == row {
                edit(line)
            } else {
                line.to_string()
            }
        })
        .collect();
    lines.join("\n") + "\n"
}

/// The demo with the organiser's typo: row 12's name opens a quote
/// (`"Ivana Babić`) that nothing closes.
fn demo_with_stray_quote() -> String {
    let (id, name, _) = &demo_logins()[10];
    let typo = demo_with_row(12, |line| {
        assert!(line.starts_with(&format!("{id},{name},")), "{line}");
        line.replacen(&format!(",{name},"), &format!(",\"{name},"), 1)
    });
    assert!(typo.contains(&format!("{id},\"{name},")));
    typo
}

fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// No demo PIN in `text` (the swallowed cell holds 109 of them).
#[track_caller]
fn assert_no_demo_pin(text: &str, what: &str) {
    for (_, _, pin) in demo_logins() {
        assert!(!text.contains(&pin), "{what} shows the PIN {pin}:\n{text}");
    }
}

#[test]
fn an_unclosed_quote_is_not_publishable_and_build_writes_nothing() {
    let site = demo_site();
    site.write("players.csv", demo_with_stray_quote());

    let check = check_not_publishable(&site);
    assert!(!check.stdout.contains("publishable ("), "{}", check.stdout);
    assert!(check.stderr.contains(DEMO_REFUSAL), "{}", check.stderr);
    assert!(
        check.stderr.contains(&format!(
            "{} (tab",
            site.root().join("players.csv").display()
        )),
        "the file by its path: {}",
        check.stderr
    );
    assert_no_demo_pin(&output(&check), "gen check");

    let build = site.build();
    build.expect_code(2);
    assert!(build.stderr.contains(DEMO_REFUSAL), "{}", build.stderr);
    assert_no_demo_pin(&output(&build), "gen build");
    assert!(player_slugs(&site.out()).is_empty());
    assert!(!site.out().join("index.html").exists());
}

#[test]
fn after_a_good_build_the_typo_fails_the_build_and_leaves_every_page() {
    let site = demo_site();
    let good = site.build_ok();
    assert!(
        good.stdout.contains("published 120 players"),
        "{}",
        good.stdout
    );
    let bytes = tree_bytes(&site.out());
    let stamps = tree::stamps(&site.out());
    assert_eq!(player_slugs(&site.out()).len(), 120);

    site.write("players.csv", demo_with_stray_quote());
    let run = site.build();
    run.expect_code(2);
    assert!(run.stderr.contains(DEMO_REFUSAL), "{}", run.stderr);
    assert_no_demo_pin(&output(&run), "gen build");
    assert!(
        tree_bytes(&site.out()) == bytes,
        "a refused build changed out_dir"
    );
    assert_eq!(
        tree::changed(&stamps, &tree::stamps(&site.out())),
        Default::default(),
        "a refused build rewrote files"
    );
}

#[test]
fn watch_keeps_the_site_and_logins_through_the_typo_and_picks_up_the_fix() {
    let site = demo_site();
    let w = Gen::start(&site.config_path(), site.root(), &["watch"]);
    w.wait_first_cycle();
    let before = tree_bytes(&site.out());
    // A player the typo would have swallowed (row 51).
    let (_, late_name, late_pin) = &demo_logins()[49];
    assert!(login_succeeds(&w.addr, late_name, late_pin));

    site.write("players.csv", demo_with_stray_quote());
    let h = w.wait_health(Duration::from_secs(10), "a failed cycle", |_, v| {
        v["failures"].as_u64().unwrap() >= 1
    });
    let error = h["last_error"].as_str().unwrap();
    assert!(error.contains(DEMO_REFUSAL), "{h}");
    assert_eq!(h["players"], 120, "the previous logins stay in force: {h}");
    assert!(w.log().contains("cycle failed"), "{}", w.log());
    assert!(
        w.log().contains("row 12, column") && w.log().contains("never closed"),
        "{}",
        w.log()
    );
    assert_no_demo_pin(&w.log(), "gen watch's log");
    assert!(
        tree_bytes(&site.out()) == before,
        "a failed cycle changed out_dir"
    );
    assert!(
        login_succeeds(&w.addr, late_name, late_pin),
        "a swallowed player lost their login\n{}",
        w.log()
    );

    // The fix (and an edit, so the new cycle shows on a page).
    let fixed = demo_with_row(3, |line| {
        line.replace(
            "p002,Jérôme Lefèvre,164767,Blue,Defender,7,",
            "p002,Jérôme Lefèvre,164767,Blue,Defender,4242,",
        )
    });
    assert!(fixed.contains(",4242,"));
    site.write("players.csv", &fixed);
    let page = site.out().join("p/p002/index.html");
    let shown = poll(Duration::from_secs(10), || {
        tree::file_contains(&page, "4242").then_some(())
    });
    assert!(shown.is_some(), "the fix never published\n{}", w.log());
    assert_eq!(player_slugs(&site.out()).len(), 120);
    assert!(login_succeeds(&w.addr, late_name, late_pin));
    let p001 = "p/p001/index.html";
    assert_eq!(
        tree_bytes(&site.out()).get(p001),
        before.get(p001),
        "an unchanged player's page was rewritten"
    );
}

#[test]
fn a_closed_quoted_cell_on_several_lines_keeps_every_row_and_row_numbers() {
    let site = demo_site();
    // Row 5's position on two lines, quoted and closed (lines 5-6); row 30's
    // PIN with its digits in groups (a warning, on line 31).
    let csv = demo_with_row(5, |line| {
        line.replacen(",Forward,", ",\"Forward\nand captain\",", 1)
    });
    let (_, _, pin30) = &demo_logins()[28];
    let grouped = format!("{} {}", &pin30[..3], &pin30[3..]);
    let csv = csv
        .lines()
        .map(|line| {
            if line.contains(&format!(",{pin30},")) {
                line.replacen(pin30.as_str(), &grouped, 1)
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert!(
        csv.contains("\"Forward\nand captain\""),
        "row 5 is not a forward"
    );
    site.write("players.csv", &csv);

    let check = site.run(&["check"]);
    check.expect_ok();
    assert!(
        check.stdout.contains("verdict: publishable"),
        "{}",
        check.stdout
    );
    let run = site.build_ok();
    assert!(
        run.stdout.contains("published 120 players"),
        "{}",
        run.stdout
    );
    assert_eq!(player_slugs(&site.out()).len(), 120);
    assert!(site.page("p/p004/index.html").contains("and captain"));
    let warned: Vec<&str> = run
        .warnings()
        .into_iter()
        .filter(|w| w.contains("digits in groups"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(
        warned[0].contains("tab \"Players\", row 30, column \"pin\""),
        "{}",
        warned[0]
    );
}

/// A sheet published to the web as CSV goes through the same reader.
#[test]
fn a_published_csv_with_an_unclosed_quote_is_refused_too() {
    let server = ImageServer::start("127.0.0.1:0");
    let path = "/spreadsheets/d/e/2PACX-quotes/pub?output=csv";
    server.image(
        path,
        b"id,name,pin\na1,Alice,482913\na2,\"Bob,551204\na3,Carol,660127\n".to_vec(),
        "text/csv",
        "v1",
    );
    let site = Site::new();
    site.write_config(&site_config(
        "FC Published",
        None,
        &format!("kind = \"csv\"\nurl = {}\n", toml_str(&server.url(path))),
        "",
    ));
    let run = site.build();
    run.expect_code(2);
    assert!(
        run.stderr
            .contains(&format!(
                "error: published CSV at {} (tab \"Players\"), row 3, column \"name\": this cell starts with a quote",
                server.url("/…")
            )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the 1 row after it was read"),
        "{}",
        run.stderr
    );
    for pin in ["482913", "551204", "660127"] {
        assert!(!output(&run).contains(pin), "{pin}:\n{}", output(&run));
    }
    assert!(player_slugs(&site.out()).is_empty());
}
