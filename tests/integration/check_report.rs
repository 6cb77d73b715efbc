//! Issue 16, item 3: `gen check` reports every problem in one run: every
//! missing column at once; a summary first (what would be published,
//! whether `gen build` would refuse, who cannot log in and why, how many
//! warnings and errors); then each problem once, grouped by tab.

use sheetgen_test_support::site::{Run, Site, csv_config, csv_text, roster};
use sheetgen_test_support::tree;

/// `players.csv` and `matches.csv` under `[source.files]`, the Matches tab
/// joined by `key`, and `extra` appended.
fn site_with_matches(players: &str, matches: &str, key: &str, extra: &str) -> Site {
    let site = Site::new();
    site.write("players.csv", players);
    site.write("matches.csv", matches);
    site.write_config(
        &csv_config(
            "",
            &format!("{extra}\n[[tables]]\ntab = \"Matches\"\nkey = \"{key}\"\n"),
        )
        .replace(
            "Players = \"players.csv\"",
            "Players = \"players.csv\"\nMatches = \"matches.csv\"",
        ),
    );
    site
}

/// The index of the first line of `text` holding `needle`.
#[track_caller]
fn line_index(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// How many times `needle` occurs in both streams together.
fn occurrences(run: &Run, needle: &str) -> usize {
    run.stdout.matches(needle).count() + run.stderr.matches(needle).count()
}

#[test]
fn every_missing_column_is_named_in_one_run() {
    let site = site_with_matches(
        "id,name,pin,Points\na1,Alice,483920,3\n",
        "player_id,date\na1,2026-01-01\n",
        "player",
        "[index]\nsort_by = \"Pionts\"\n",
    );
    // A third one on the players tab: the PIN column.
    let config = std::fs::read_to_string(site.config_path()).unwrap();
    site.write_config(&config.replace("secret = \"pin\"", "secret = \"code\""));

    let run = site.run(&["check"]);
    run.expect_code(2);
    for needle in [
        "tab \"Players\" (",
        "no column \"code\" (named by `players.secret` in the config)",
        "no column \"Pionts\" (named by `index.sort_by` in the config)",
        "Did you mean \"Points\"?",
        "tab \"Matches\" (",
        "no column \"player\" (named by `tables.key` in the config)",
    ] {
        assert!(
            run.stderr.contains(needle),
            "stderr does not say {needle:?}:\n{}",
            run.stderr
        );
    }
    // Each once, each on its own `error:` line.
    for column in ["\"code\"", "\"Pionts\"", "\"player\""] {
        let needle = format!("no column {column}");
        assert_eq!(occurrences(&run, &needle), 1, "{needle}:\n{}", run.stderr);
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with("error: tab ") && l.contains(&needle)),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("error: 3 problem(s) stop this site from publishing"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("483920"), "{}", run.stderr);
    assert!(!site.out().exists(), "check created out_dir");
}

/// A roster with one of each problem, rows numbered as in the sheet.
fn troubled_roster() -> String {
    let rows: Vec<Vec<&str>> = vec![
        vec!["a1", "Ann", "482913"],              // 2
        vec!["a1", "Ann Again", "730215"],        // 3: duplicate id
        vec!["", "Nobody", "905316"],             // 4: empty id
        vec!["b2", "Ben", ""],                    // 5: no PIN
        vec!["c3", "Sam Martin", "318274"],       // 6: same name and PIN as 7
        vec!["c4", "sam martin", "318274"],       // 7
        vec!["d5", "\u{200b}", "602719"],         // 8: invisible name
        vec!["e6", "Cat Science", "1.23457E+11"], // 9: digits lost
        vec!["f7", "Dan Zero", "82730"],          // 10: leading zero lost
        vec!["g8", "Gil", "739164"],              // 11
        vec!["h9", "Hal", "615482"],              // 12
    ];
    csv_text(&["id", "name", "pin"], &rows)
}

/// Grouped by tab: the players' tab, then the joined table, each under
/// its heading (the first problem right under the first), rows in order.
#[track_caller]
fn assert_grouped_by_tab(out: &str, first_problem: usize) {
    let players = line_index(out, "== tab \"Players\": 8 warning(s), 0 error(s) ==");
    let matches = line_index(out, "== tab \"Matches\": 1 warning(s), 0 error(s) ==");
    assert!(first_problem == players + 1 && players < matches, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let player_rows: Vec<&str> = lines[players + 1..matches]
        .iter()
        .copied()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(player_rows.len(), 8, "{out}");
    assert!(
        player_rows
            .iter()
            .all(|l| l.starts_with("warning: tab \"Players\", row ")),
        "{out}"
    );
    let numbers: Vec<usize> = player_rows
        .iter()
        .filter_map(|l| l.split("row ").nth(1)?.split(',').next()?.parse().ok())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(numbers, sorted, "{out}");
    assert!(
        lines[matches + 1].starts_with(
            "warning: tab \"Matches\", row 3, column \"player_id\": \"zz\" matches no player"
        ),
        "{out}"
    );
}

#[test]
fn the_summary_comes_first_and_each_problem_is_printed_once_under_its_tab() {
    let site = site_with_matches(
        &troubled_roster(),
        "player_id,date\na1,2026-01-01\nzz,2026-01-02\n",
        "player_id",
        "",
    );
    let run = site.run(&["check"]);
    run.expect_ok();
    let out = &run.stdout;

    // The summary, before any problem.
    let summary = line_index(out, "== summary ==");
    let first_problem = out
        .lines()
        .position(|l| l.starts_with("warning:") || l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no problem listed:\n{out}"));
    for needle in [
        "players: 9 (4 can log in)",
        "would publish: 9 player page(s)",
        "build would remove no player page",
        "cannot log in: 5 player(s)",
        "problems: 0 error(s), 9 warning(s)",
        "verdict: publishable",
    ] {
        let at = line_index(out, needle);
        assert!(summary < at && at < first_problem, "{needle}:\n{out}");
    }
    // The important kinds come first in the counts.
    let kinds = out
        .lines()
        .find(|l| l.trim_start().starts_with("by kind:"))
        .unwrap_or_else(|| panic!("no counts by kind:\n{out}"));
    assert!(
        kinds.contains("5 player(s) who cannot log in, 1 PIN(s) that lost a leading zero, 2 row(s) skipped, 1 row(s) of other tabs ignored"),
        "{kinds}"
    );

    // Each problem once.
    let problems: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("warning:") || l.starts_with("error:"))
        .collect();
    assert_eq!(problems.len(), 9, "{out}");
    for p in &problems {
        assert_eq!(
            occurrences(&run, p),
            1,
            "printed more than once: {p}\n{out}"
        );
    }
    for (row, column, says) in [
        (3, "id", "duplicate id"),
        (4, "id", "empty id"),
        (5, "pin", "no PIN"),
        (6, "name", "its PIN are the same as on row 7"),
        (7, "name", "its PIN are the same as on row 6"),
        (8, "name", "no letter or digit"),
        (9, "pin", "scientific notation"),
        (10, "pin", "leading zero"),
    ] {
        let tag = format!("warning: tab \"Players\", row {row}, column \"{column}\": ");
        let found: Vec<&&str> = problems
            .iter()
            .filter(|l| l.starts_with(&tag) && l.contains(says))
            .collect();
        assert_eq!(found.len(), 1, "{tag}{says}:\n{out}");
    }

    assert_grouped_by_tab(out, first_problem);
    assert!(
        out.trim_end().ends_with("ok: publishable (9 warning(s))"),
        "{out}"
    );

    for pin in [
        "482913", "730215", "905316", "318274", "602719", "82730", "739164",
    ] {
        assert!(
            !out.contains(pin) && !run.stderr.contains(pin),
            "PIN {pin}:\n{out}"
        );
    }
    assert!(!site.out().exists(), "check created out_dir");
}

#[test]
fn who_cannot_log_in_is_counted_by_reason_with_the_rows() {
    let site = site_with_matches(&troubled_roster(), "player_id,date\n", "player_id", "");
    let run = site.run(&["check"]);
    run.expect_ok();
    let out = &run.stdout;
    for needle in [
        "cannot log in: 5 player(s)\n",
        "  1 no PIN: row 5\n",
        "  1 PIN digits lost (scientific notation): row 9\n",
        "  2 same name and same PIN as another row: rows 6, 7\n",
        "  1 login name nobody can type (no letter or digit): row 8\n",
        "probably cannot log in: 1 player(s) whose PIN looks like it lost a leading zero: row 10\n",
    ] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
    assert!(!out.contains("another reason"), "{out}");

    // A clean roster: nobody.
    site.write("players.csv", roster(3));
    let run = site.run(&["check"]);
    run.expect_ok();
    assert!(
        run.stdout.contains("cannot log in: nobody\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("probably cannot"), "{}", run.stdout);
}

#[test]
fn many_warnings_of_one_kind_are_all_listed_after_the_one_that_matters() {
    // 40 PINs shown as numbers (they log in), and one player without a PIN.
    let mut rows: Vec<Vec<String>> = (1..=40)
        .map(|i| {
            let pin = 700_001 + i * 7;
            vec![
                format!("p{i:02}"),
                format!("Player {i:02}"),
                format!("{} {:03}", pin / 1000, pin % 1000),
            ]
        })
        .collect();
    rows.push(vec!["z1".into(), "Zed".into(), String::new()]); // row 42
    let site = Site::csv(csv_text(&["id", "name", "pin"], &rows));
    let run = site.run(&["check"]);
    run.expect_ok();
    let out = &run.stdout;
    let first_problem = line_index(out, "warning: tab \"Players\", row 2,");
    let no_pin = line_index(out, "  1 no PIN: row 42");
    assert!(no_pin < first_problem, "{out}");
    let kinds = line_index(
        out,
        "by kind: 1 player(s) who cannot log in, 40 PIN(s) shown as a number (they log in)",
    );
    assert!(kinds < first_problem, "{out}");
    let listed = out
        .lines()
        .filter(|l| {
            l.starts_with("warning: tab \"Players\", row ") && l.contains("shown as a number")
        })
        .count();
    assert_eq!(listed, 40, "{out}");
    assert!(out.contains("ok: publishable (41 warning(s))"), "{out}");
}

#[test]
fn check_predicts_the_mass_removal_that_build_refuses() {
    let site = Site::csv(roster(6));
    site.build_ok();
    let before = tree::stamps(&site.out());
    // Four of the six players are gone from the sheet.
    site.write("players.csv", roster(2));

    let run = site.run(&["check"]);
    run.expect_code(2);
    let out = &run.stdout;
    let refuse = line_index(
        out,
        "build would REFUSE: it would remove 4 of the 6 player pages already published (more than half)",
    );
    assert!(
        out.lines()
            .nth(refuse)
            .is_some_and(|l| l.contains("run `gen build --allow-mass-removal`")),
        "{out}"
    );
    assert!(out.contains("problems: 1 error(s), 0 warning(s)"), "{out}");
    assert!(out.contains("verdict: NOT publishable"), "{out}");
    assert!(!out.contains("ok: publishable"), "{out}");
    assert!(
        run.stderr
            .contains("error: 1 problem(s) stop this site from publishing"),
        "{}",
        run.stderr
    );
    assert_eq!(tree::stamps(&site.out()), before, "check changed the site");

    // Build refuses exactly that.
    let build = site.build();
    build.expect_error(
        1,
        "refusing to remove 4 of 6 player pages in one cycle (more than half); if the sheet \
         really lost those players, run again with --allow-mass-removal. Nothing was changed.",
    );
    assert!(
        build
            .stderr
            .contains("refusing to remove 4 of 6 player pages"),
        "{}",
        build.stderr
    );

    // Two of six is not more than half: check says so and passes.
    site.write("players.csv", roster(4));
    let run = site.run(&["check"]);
    run.expect_ok();
    assert!(
        run.stdout
            .contains("build would remove 2 of the 6 player pages already published\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("REFUSE"), "{}", run.stdout);

    // Once allowed, nothing is left to remove.
    site.write("players.csv", roster(2));
    let allowed = site.run(&["build", "--allow-mass-removal"]);
    allowed.expect_ok();
    let run = site.run(&["check"]);
    run.expect_ok();
    assert!(
        run.stdout.contains("build would remove no player page\n"),
        "{}",
        run.stdout
    );
}
