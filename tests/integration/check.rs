//! `gen check`: validates the config and the roster, prints every problem by
//! row and column (never a PIN), and writes nothing.

use sheetgen_test_support::site::{Site, TEMPLATES, csv_text, repo, roster};
use sheetgen_test_support::tree;

#[test]
fn the_demo_is_publishable() {
    let repo = repo();
    let site = Site::new();
    let text = std::fs::read_to_string(repo.join("site.toml")).unwrap();
    let mut config: toml::Table = toml::from_str(&text).unwrap();
    let abs = |p: std::path::PathBuf| toml::Value::String(p.to_string_lossy().into_owned());
    let s = config["site"].as_table_mut().unwrap();
    s.insert("out_dir".into(), abs(site.out()));
    s.insert("state_dir".into(), abs(site.state()));
    s.insert("templates".into(), abs(TEMPLATES.into()));
    for (_, v) in config["source"]["files"].as_table_mut().unwrap().iter_mut() {
        let rel = v.as_str().unwrap().to_string();
        *v = abs(repo.join(rel));
    }
    site.write_config(&toml::to_string(&config).unwrap());

    let run = site.run(&["check"]);
    run.expect_ok();
    assert!(run.stdout.contains("ok: publishable"), "{}", run.stdout);
    let players = csv::Reader::from_path(repo.join("examples/demo/players.csv"))
        .unwrap()
        .records()
        .count();
    assert!(
        run.stdout
            .contains(&format!("players: {players} ({players} can log in)")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("tab \"Matches\""), "{}", run.stdout);
    assert!(!site.out().exists(), "check created out_dir");
    assert!(!site.state().exists(), "check created state_dir");
}

/// Six-digit PINs, and on rows 3, 5, 6 and 7 a bad one.
fn weak_pins() -> String {
    let pins = [
        "482913", "1234", "730215", "12345", "123456", "abc", "905316", "318274",
    ];
    let rows: Vec<Vec<String>> = pins
        .iter()
        .enumerate()
        .map(|(i, pin)| vec![format!("w{i}"), format!("Weak Pin {i}"), pin.to_string()])
        .collect();
    csv_text(&["id", "name", "pin"], &rows)
}

#[test]
fn weak_common_and_truncated_pins_are_named_by_row() {
    let site = Site::csv(weak_pins());
    let run = site.run(&["check"]);
    run.expect_ok();
    let warnings: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    let at = |row: usize| {
        warnings
            .iter()
            .find(|w| w.contains(&format!("tab \"Players\", row {row}, column \"pin\"")))
            .copied()
            .unwrap_or_else(|| panic!("no PIN warning for row {row}:\n{}", run.stdout))
    };
    assert!(at(3).contains("leading zero"), "{}", at(3)); // 1234
    assert!(at(5).contains("leading zero"), "{}", at(5)); // 12345
    assert!(at(6).contains("common"), "{}", at(6)); // 123456
    assert!(at(7).contains("shorter than 6"), "{}", at(7)); // abc
    assert_eq!(warnings.len(), 4, "{}", run.stdout);
    for pin in ["482913", "1234", "730215", "123456", "abc", "905316"] {
        assert!(
            !run.stdout.contains(&format!("\"{pin}\""))
                && !run.stdout.contains(&format!(" {pin} ")),
            "check printed the PIN {pin}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("ok: publishable (4 warning(s))"),
        "{}",
        run.stdout
    );
    assert!(!site.out().exists(), "check created out_dir");
    assert!(!site.state().exists(), "check created state_dir");

    // build mentions them once, without the list.
    let build = site.build_ok();
    assert!(
        build.stderr.contains("4 weak or damaged PIN(s)"),
        "{}",
        build.stderr
    );
}

#[test]
fn row_problems_are_printed_to_stdout() {
    let csv = "id,name,pin\na1,Ann,482913\na1,Ann Again,730215\n,Nobody,905316\nb2,Ben,\n";
    let site = Site::csv(csv);
    let run = site.run(&["check"]);
    run.expect_ok();
    for needle in [
        "warning: tab \"Players\", row 3, column \"id\": duplicate id \"a1\"",
        "warning: tab \"Players\", row 4, column \"id\": empty id",
        "warning: tab \"Players\", row 5, column \"pin\": no PIN",
    ] {
        assert!(
            run.stdout.contains(needle),
            "no {needle:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("players: 2 (1 can log in)"),
        "{}",
        run.stdout
    );
    assert!(!site.out().exists());
}

#[test]
fn a_roster_without_players_is_not_publishable() {
    let site = Site::csv("id,name,pin\n");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(!run.stdout.contains("ok: publishable"), "{}", run.stdout);
    assert!(!site.out().exists());

    site.write("players.csv", "");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("Players") && run.stderr.contains("players.csv"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_emptied_sheet_keeps_the_last_good_site() {
    let site = Site::csv(roster(6));
    site.build_ok();
    let before = tree::stamps(&site.out());
    site.write("players.csv", "id,name,pin,team,points\n");
    let run = site.build();
    run.expect_error(
        1,
        "refusing to remove 6 of 6 player pages in one cycle (more than half); if the sheet \
         really lost those players, run again with --allow-mass-removal. Nothing was changed.",
    );
    assert_eq!(
        tree::stamps(&site.out()),
        before,
        "the emptied sheet changed the site"
    );
}
