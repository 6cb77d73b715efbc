//! A workbook as the source: numbers, accented text, dates, two sheets, a
//! table that does not start at A1; a missing sheet is a config error.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sheetgen_test_support::site::{Site, TEMPLATES, toml_str};
use sheetgen_test_support::tree::{self, player_slugs};

fn xlsx_config(tables: &str) -> String {
    format!(
        r#"[site]
title = "FC Workbook"
lang = "fr"
templates = {templates}

[source]
kind = "xlsx"
path = "roster.xlsx"

[players]
tab = "Players"

[index]
sort_by = "points"
descending = true

{tables}
"#,
        templates = toml_str(TEMPLATES),
    )
}

const MATCHES: &str = "[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n";

/// Players (from A1) and Matches (header on row 3, from column B).
fn write_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let players = wb.add_worksheet().set_name("Players").unwrap();
    for (c, h) in ["id", "name", "pin", "team", "points"].iter().enumerate() {
        players.write_string(0, c as u16, *h).unwrap();
    }
    let rows: [(&str, &str, f64, &str, f64); 3] = [
        ("Zoé Éloïse", "Zoé Éloïse", 583_104.0, "Équipe Rouge", 12.0),
        ("p2", "Jürgen Groß", 640_271.0, "Blau", 7.5),
        ("p3", "Çelik Şahin", 92_815.0, "Kırmızı", 3.0),
    ];
    for (r, (id, name, pin, team, points)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        players.write_string(r, 0, *id).unwrap();
        players.write_string(r, 1, *name).unwrap();
        // PINs typed into a number-formatted column: the usual mistake.
        players.write_number(r, 2, *pin).unwrap();
        players.write_string(r, 3, *team).unwrap();
        players.write_number(r, 4, *points).unwrap();
    }

    let date = Format::new().set_num_format("yyyy-mm-dd");
    let matches = wb.add_worksheet().set_name("Matches").unwrap();
    for (c, h) in ["player_id", "date", "opponent", "goals"]
        .iter()
        .enumerate()
    {
        matches.write_string(2, c as u16 + 1, *h).unwrap();
    }
    let games = [
        ("zoé éloïse wrong case", 1, "Nobody"),
        ("Zoé Éloïse", 6, "Union Saint-Rémy"),
        ("p2", 13, "Dynamo Lesná"),
        ("ghost", 20, "Nowhere"),
    ];
    for (i, (pid, day, opp)) in games.iter().enumerate() {
        let r = 3 + i as u32;
        matches.write_string(r, 1, *pid).unwrap();
        let d = ExcelDateTime::from_ymd(2026, 9, *day).unwrap();
        matches.write_datetime_with_format(r, 2, &d, &date).unwrap();
        matches.write_string(r, 3, *opp).unwrap();
        matches.write_number(r, 4, 2.0).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn a_workbook_builds_with_numbers_accents_and_dates() {
    let site = Site::new();
    site.write_config(&xlsx_config(MATCHES));
    write_workbook(&site.root().join("roster.xlsx"));
    let run = site.build_ok();

    let slugs: std::collections::BTreeSet<String> =
        ["zoe-eloise", "p2", "p3"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), slugs);
    tree::assert_gz_twins(&site.out());

    let zoe = site.page("p/zoe-eloise/index.html");
    assert!(
        zoe.contains("Zoé Éloïse") && zoe.contains("Équipe Rouge"),
        "{zoe}"
    );
    // Whole numbers without ".0", dates as the sheet shows them.
    assert!(zoe.contains(">12<"), "{zoe}");
    assert!(!zoe.contains("12.0"), "{zoe}");
    assert!(zoe.contains("Union Saint-Rémy"), "{zoe}");
    assert!(
        zoe.contains("2026-09-06"),
        "the date is not shown as a date:\n{zoe}"
    );
    let p2 = site.page("p/p2/index.html");
    assert!(p2.contains("Jürgen Groß") && p2.contains("7.5"), "{p2}");
    assert!(
        p2.contains("2026-09-13") && p2.contains("Dynamo Lesná"),
        "{p2}"
    );
    assert!(site.page("p/p3/index.html").contains("Çelik Şahin"));
    // lang = "fr": the French strings.
    assert!(site.page("index.html").contains("lang=\"fr\""));

    // Numeric PINs are secrets too, in the form the sheet shows them.
    tree::assert_absent(
        &site.out(),
        &["583104".into(), "640271".into(), "92815".into()],
    );
    // Matches rows are numbered as in the sheet: header on row 3.
    // lang = "fr": gen build's warnings are French (issue 26).
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("avertissement : "))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("onglet « Matches », ligne 7") && w.contains("« ghost »")),
        "{}",
        run.stderr
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("onglet « Matches », ligne 4") && w.contains("wrong case")),
        "{}",
        run.stderr
    );
    // The PIN that lost its leading zero is flagged by row, not by value.
    let check = site.run(&["check"]);
    check.expect_ok();
    assert!(
        // lang = "fr": the check speaks French (issue 26).
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("avertissement :")
                && l.contains("ligne 4")
                && l.contains("zéro de tête")),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains("92815"));
}

#[test]
fn an_unchanged_workbook_rewrites_nothing() {
    let site = Site::new();
    site.write_config(&xlsx_config(MATCHES));
    write_workbook(&site.root().join("roster.xlsx"));
    site.build_ok();
    let before = tree::stamps(&site.out());
    // Saved again: new file bytes (zip timestamps), same cells.
    write_workbook(&site.root().join("roster.xlsx"));
    let run = site.build_ok();
    assert!(run.stdout.contains(" 0 files written"), "{}", run.stdout);
    assert_eq!(tree::stamps(&site.out()), before);
}

#[test]
fn a_missing_sheet_is_exit_2_naming_the_tab() {
    let site = Site::new();
    site.write_config(&xlsx_config(
        "[[tables]]\ntab = \"Results\"\nkey = \"player_id\"\n",
    ));
    write_workbook(&site.root().join("roster.xlsx"));
    for cmd in ["build", "check"] {
        let run = site.run(&[cmd]);
        run.expect_code(2);
        assert!(run.stderr.contains("\"Results\""), "{}", run.stderr);
        // It lists the sheets there are.
        assert!(run.stderr.contains("Players, Matches"), "{}", run.stderr);
    }
    assert!(!site.out().exists());

    // Sheet names are case-sensitive, and the players tab is checked too.
    site.write_config(&xlsx_config("").replace("tab = \"Players\"", "tab = \"players\""));
    let run = site.build();
    run.expect_code(2);
    assert!(run.stderr.contains("\"players\""), "{}", run.stderr);
}

#[test]
fn a_missing_or_broken_workbook_is_a_runtime_error_naming_it() {
    let site = Site::new();
    site.write_config(&xlsx_config(""));
    let run = site.build();
    run.expect_code(1);
    assert!(run.stderr.contains("roster.xlsx"), "{}", run.stderr);

    site.write("roster.xlsx", "id,name,pin\n1,not,a workbook\n");
    let run = site.build();
    run.expect_code(1);
    assert!(run.stderr.contains("roster.xlsx"), "{}", run.stderr);
    assert!(!site.out().exists());
}
