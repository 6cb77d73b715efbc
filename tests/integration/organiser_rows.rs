//! Issue 16, items 2 and 4, as the organiser meets them through the real
//! `gen`: a points column with a few text cells (`n/a`, `-`) still sorts as
//! numbers, its text rows last and each named in a warning; and every
//! problem names the row a spreadsheet shows, whatever the source: a CSV
//! file with blank lines and cells on several lines (LF and CRLF), a
//! workbook whose table does not start on row 1, Google Sheets through the
//! API and as a published CSV.

use std::collections::BTreeMap;

use rust_xlsxwriter::Workbook;
use sheetgen_test_support::fake_google::{FakeGoogle, row};
use sheetgen_test_support::site::{Run, Site, csv_config, site_config, toml_str};

// ---- item 2: a number column stays a number column -------------------------

/// Rows 2-8: numbers, a decimal comma, `n/a` (row 3), `-` (row 5) and an
/// empty cell (row 6). Text order would put `-` and `n/a` first and 9
/// above 14.
const POINTS_CSV: &str = "id,name,pin,points\n\
a1,Alice,804417,9\n\
a2,Bruno,804424,n/a\n\
a3,Chloé,804431,14\n\
a4,David,804438,-\n\
a5,Emma,804445,\n\
a6,Farid,804452,\"12,5\"\n\
a7,Gaëlle,804459,2\n";

fn points_site(descending: bool) -> Site {
    let site = Site::new();
    site.write_config(&csv_config(
        "",
        &format!("[index]\nsort_by = \"points\"\ndescending = {descending}\n"),
    ));
    site.write("players.csv", POINTS_CSV);
    site
}

/// (rank, name, last cell) of each row of the built roster, in order.
fn roster(site: &Site) -> Vec<(String, String, String)> {
    let html = site.html("index.html");
    let body = html
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .unwrap_or_else(|| panic!("no roster table in index.html:\n{html}"));
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            let cells: Vec<&str> = tr.split("<td>").skip(1).collect();
            assert!(cells.len() >= 3, "a roster row without cells: {tr}");
            let name = cells[1]
                .split("</a>")
                .next()
                .and_then(|a| a.rsplit('>').next())
                .unwrap_or_default();
            (
                cells[0].trim().to_string(),
                name.to_string(),
                cells[cells.len() - 1].trim().to_string(),
            )
        })
        .collect()
}

fn rows(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(r, n, v)| (r.to_string(), n.to_string(), v.to_string()))
        .collect()
}

/// The lines of `output` that report a text cell in the sort column.
fn not_a_number(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.contains("is not a number"))
        .collect()
}

/// What `gen build` (stderr) and `gen check` (stdout) must both say: the
/// `n/a` row and the `-` row, by tab, row and column, what happens to them
/// and what to do; nothing about the empty cell (row 6).
#[track_caller]
fn assert_text_rows_named(build: &Run, check: &Run) {
    for (what, output) in [("build", &build.stderr), ("check", &check.stdout)] {
        let lines = not_a_number(output);
        assert_eq!(lines.len(), 2, "gen {what}:\n{output}");
        assert!(
            lines[0].starts_with(
                "warning: tab \"Players\", row 3, column \"points\": \"n/a\" is not a number"
            ),
            "gen {what}:\n{output}"
        );
        assert!(
            lines[1].starts_with(
                "warning: tab \"Players\", row 5, column \"points\": \"-\" is not a number"
            ),
            "gen {what}:\n{output}"
        );
        for line in lines {
            assert!(
                line.contains("listed after every player with a number")
                    && line.contains("Write a number (like 12 or 12,5), or leave the cell empty"),
                "gen {what}: {line}"
            );
        }
    }
}

/// Builds the points site, checks the roster's order against `expected`
/// (rank, name, points), and that build and check name the text rows.
#[track_caller]
fn sorted_with_text_last(descending: bool, expected: &[(&str, &str, &str)]) {
    let site = points_site(descending);
    let build = site.build_ok();
    assert_eq!(roster(&site), rows(expected));
    let check = site.run(&["check"]);
    check.expect_ok();
    assert_text_rows_named(&build, &check);
}

#[test]
fn text_cells_in_a_points_column_go_last_and_are_named_ascending() {
    // Numbers in number order (9 before 12,5 before 14), whatever text sits
    // among them; then the cells without a number, by name, sharing a rank.
    sorted_with_text_last(
        false,
        &[
            ("1", "Gaëlle", "2"),
            ("2", "Alice", "9"),
            ("3", "Farid", "12,5"),
            ("4", "Chloé", "14"),
            ("5", "Bruno", "n/a"),
            ("5", "David", "-"),
            ("5", "Emma", ""),
        ],
    );
}

#[test]
fn text_cells_in_a_points_column_go_last_and_are_named_descending() {
    // Descending reverses the numbers only: no number is still last.
    sorted_with_text_last(
        true,
        &[
            ("1", "Chloé", "14"),
            ("2", "Farid", "12,5"),
            ("3", "Alice", "9"),
            ("4", "Gaëlle", "2"),
            ("5", "Bruno", "n/a"),
            ("5", "David", "-"),
            ("5", "Emma", ""),
        ],
    );
}

#[test]
fn a_text_column_with_one_number_sorts_as_text_without_warnings() {
    // One number among two texts: not "mostly numbers", so text order,
    // and no cell is a slip.
    let site = Site::new();
    site.write_config(&csv_config("", "[index]\nsort_by = \"team\"\n"));
    site.write(
        "players.csv",
        "id,name,pin,team\n\
         b1,Alice,804417,Rouge\n\
         b2,Bruno,804424,3\n\
         b3,Chloé,804431,Bleu\n\
         b4,David,804438,\n",
    );
    let build = site.build_ok();
    assert_eq!(
        roster(&site),
        rows(&[
            ("1", "Bruno", "3"),
            ("2", "Chloé", "Bleu"),
            ("3", "Alice", "Rouge"),
            ("4", "David", ""),
        ])
    );
    assert_eq!(not_a_number(&build.stderr), Vec::<&str>::new());
    let check = site.run(&["check"]);
    check.expect_ok();
    assert_eq!(not_a_number(&check.stdout), Vec::<&str>::new());
}

// ---- item 4: row numbers are the sheet's ------------------------------------

/// The `warning:` lines of `gen check`, which must pass.
fn check_warnings(site: &Site) -> Vec<String> {
    let check = site.run(&["check"]);
    check.expect_ok();
    check
        .stdout
        .lines()
        .filter(|l| l.starts_with("warning: tab"))
        .map(String::from)
        .collect()
}

#[track_caller]
fn assert_has(warnings: &[String], line: &str) {
    assert!(
        warnings.iter().any(|w| w == line),
        "missing: {line}\nin:\n{}",
        warnings.join("\n")
    );
}

/// The Players problems every source below must report, on the rows a
/// spreadsheet shows: an empty login on `empty`, a duplicate id on `dup` of
/// the id on `first`, and nothing else.
#[track_caller]
fn assert_players_rows(warnings: &[String], empty: &[usize], dup: usize, first: usize) {
    for row in empty {
        assert_has(
            warnings,
            &format!(
                "warning: tab \"Players\", row {row}, column \"name\": empty login name; row skipped"
            ),
        );
    }
    assert_has(
        warnings,
        &format!(
            "warning: tab \"Players\", row {dup}, column \"id\": duplicate id \"a1\" \
             (already on row {first}); row skipped"
        ),
    );
    let players: Vec<&String> = warnings
        .iter()
        .filter(|w| w.starts_with("warning: tab \"Players\""))
        .collect();
    assert_eq!(players.len(), empty.len() + 1, "{players:#?}");
}

/// Players as a spreadsheet shows the file: row 3 empty, Chloé's address
/// on two lines of row 5, rows 7 and 8 empty.
fn players_csv(eol: &str) -> String {
    [
        "id,name,pin,address",                // row 1
        "a1,Alice,804417,",                   // row 2
        "",                                   // row 3
        "a2,,804424,",                        // row 4: no login name
        "a3,Chloé,804431,\"12 rue des Lilas", // row 5…
        "75011 Paris\"",                      // …still row 5
        "a4,,804438,",                        // row 6: no login name
        "",                                   // row 7
        "",                                   // row 8
        "a1,Emma,804445,",                    // row 9: a1 again
    ]
    .join(eol)
        + eol
}

/// Matches: a note on two lines of row 2, row 3 empty, an unknown player
/// on row 4.
fn matches_csv(eol: &str) -> String {
    [
        "player_id,date,note",
        "a1,2026-09-06,\"Bon match",
        "et un but\"",
        "",
        "ghost,2026-09-13,",
    ]
    .join(eol)
        + eol
}

#[test]
fn csv_rows_are_counted_like_a_spreadsheet_after_blank_lines_and_cells_on_two_lines() {
    for eol in ["\n", "\r\n"] {
        let site = Site::new();
        site.write_config(&site_config(
            "FC Rows",
            None,
            "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\nMatches = \"matches.csv\"\n",
            "\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n",
        ));
        site.write("players.csv", players_csv(eol));
        site.write("matches.csv", matches_csv(eol));
        let warnings = check_warnings(&site);
        // By file index these were rows 3, 5 and 6 (and Matches row 3).
        assert_players_rows(&warnings, &[4, 6], 9, 2);
        assert_has(
            &warnings,
            "warning: tab \"Matches\", row 4, column \"player_id\": \"ghost\" matches no player; row ignored",
        );
        // gen build says the same rows.
        let build = site.build_ok();
        assert!(
            build.warnings().iter().any(|w| w.starts_with(
                "warning: tab \"Players\", row 9, column \"id\": duplicate id \"a1\" (already on row 2)"
            )),
            "eol {eol:?}:\n{}",
            build.stderr
        );
    }
}

#[test]
fn workbook_rows_are_the_sheet_rows_when_the_table_starts_lower() {
    // Header on row 2 (row 1 empty), row 4 empty, a cell on two lines on
    // row 6.
    let site = Site::new();
    site.write_config(&site_config(
        "FC Rows",
        None,
        "kind = \"xlsx\"\npath = \"roster.xlsx\"\n",
        "",
    ));
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet().set_name("Players").unwrap();
    let cells: [(u32, [&str; 4]); 5] = [
        (1, ["id", "name", "pin", "address"]),
        (2, ["a1", "Alice", "804417", ""]),
        (4, ["a2", "", "804424", ""]),
        (
            5,
            ["a3", "Chloé", "804431", "12 rue des Lilas\n75011 Paris"],
        ),
        (6, ["a1", "Emma", "804445", ""]),
    ];
    for (r, values) in cells {
        for (c, value) in values.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r, c as u16, *value).unwrap();
            }
        }
    }
    wb.save(site.root().join("roster.xlsx")).unwrap();
    let warnings = check_warnings(&site);
    assert_players_rows(&warnings, &[5], 7, 3);
}

/// The same sheet for Google: row 1 empty, header on row 2, row 4 empty
/// (`[]` in the API's answer), a cell on two lines on row 6.
fn google_sheet() -> BTreeMap<String, Vec<Vec<String>>> {
    let players = vec![
        row(&[]),
        row(&["id", "name", "pin", "address"]),
        row(&["a1", "Alice", "804417", ""]),
        row(&["", "", "", ""]),
        row(&["a2", "", "804424", ""]),
        row(&["a3", "Chloé", "804431", "12 rue des Lilas\n75011 Paris"]),
        row(&["a1", "Emma", "804445", ""]),
        // Trailing empty rows: Google leaves them out.
        row(&["", "", "", ""]),
    ];
    [("Players".to_string(), players)].into_iter().collect()
}

#[test]
fn google_rows_are_the_sheet_rows_through_the_api_and_a_published_csv() {
    const KEY: &str = "AIza-organiser-rows-test";
    let fake = FakeGoogle::start(KEY, google_sheet());
    let api = Site::new();
    api.write_config(&site_config("FC Rows", None, &fake.api_key_source(KEY), ""));
    assert_players_rows(&check_warnings(&api), &[5], 7, 3);
    assert_eq!(fake.sheets(), 1);

    let published = Site::new();
    published.write_config(&site_config(
        "FC Rows",
        None,
        &format!(
            "kind = \"csv\"\n[source.urls]\nPlayers = {}\n",
            toml_str(&format!("{}/pub/Players.csv", fake.base))
        ),
        "",
    ));
    assert_players_rows(&check_warnings(&published), &[5], 7, 3);
    assert!(fake.csvs() >= 1);
}
