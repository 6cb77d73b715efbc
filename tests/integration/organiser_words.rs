//! Issue 16, items 5 and 7: messages in the organiser's words. A misspelled
//! tab, column or config key gets "did you mean", a difference of case is
//! named as one, and a config value of the wrong type says what the key
//! holds, with an example, the file, the line and a caret, not serde's
//! `expected u64`. Through the real `gen`, as the organiser runs it.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::Workbook;

use sheetgen_test_support::fake_google::{FakeGoogle, row};
use sheetgen_test_support::site::{Run, Site, csv_config};

const PLAYERS: &str = "id,name,pin,Points\na1,Alice,483920,3\nb2,Bob,572913,5\n";
const MATCHES: &str = "player_id,date\na1,2026-01-01\n";

/// `build` and `check` both refuse with exit 2 and an `error:` holding
/// every one of `says`; nothing is written.
#[track_caller]
fn refused_saying(site: &Site, says: &[&str]) -> Run {
    let mut last = None;
    for cmd in ["build", "check"] {
        let run = site.run(&[cmd]);
        run.expect_code(2);
        assert!(run.stderr.contains("error:"), "{cmd}: {}", run.stderr);
        for s in says {
            assert!(
                run.stderr.contains(s),
                "{cmd}: stderr does not say {s:?}:\n{}",
                run.stderr
            );
        }
        assert!(!site.out().exists(), "{cmd} created out_dir");
        last = Some(run);
    }
    last.unwrap()
}

/// A CSV site: `players.csv` and `matches.csv`, both listed under
/// `[source.files]`, with `extra` appended to the usual config.
fn csv_site(extra: &str) -> Site {
    let site = Site::new();
    site.write("players.csv", PLAYERS);
    site.write("matches.csv", MATCHES);
    site.write_config(&csv_config("", extra).replace(
        "Players = \"players.csv\"",
        "Players = \"players.csv\"\nMatches = \"matches.csv\"",
    ));
    site
}

/// The 1-based number of the line of `config` that is `line`.
fn line_of(config: &str, line: &str) -> usize {
    config
        .lines()
        .position(|l| l == line)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line {line:?} in\n{config}"))
}

#[test]
fn a_misspelled_tab_with_csv_files_gets_did_you_mean() {
    let site = csv_site("[[tables]]\ntab = \"Matchs\"\nkey = \"player_id\"\n");
    let run = refused_saying(
        &site,
        &[
            "site.toml",
            "`source.files` has no file for the tab \"Matchs\": did you mean \"Matches\"?",
            "write its name the same way in [players] or [[tables]] and under [source.files]",
        ],
    );
    // Still the old way out, for a tab that really has no file yet.
    assert!(
        run.stderr.contains("add Matchs = \"file.csv\""),
        "{}",
        run.stderr
    );
}

/// A workbook with the sheets Players (id, name, pin, Points) and Matches.
fn write_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let players = wb.add_worksheet().set_name("Players").unwrap();
    let rows = [
        ["id", "name", "pin", "Points"],
        ["a1", "Alice", "483920", "3"],
        ["b2", "Bob", "572913", "5"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            players.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    let matches = wb.add_worksheet().set_name("Matches").unwrap();
    for (c, cell) in ["player_id", "date"].iter().enumerate() {
        matches.write_string(0, c as u16, *cell).unwrap();
    }
    wb.save(path).unwrap();
}

fn workbook_site(players_tab: &str, tables: &str) -> Site {
    let site = Site::new();
    write_workbook(&site.root().join("roster.xlsx"));
    let config = csv_config("", tables)
        .replace(
            "kind = \"csv\"\n\n[source.files]\nPlayers = \"players.csv\"\n",
            "kind = \"xlsx\"\npath = \"roster.xlsx\"\n",
        )
        .replace("tab = \"Players\"", &format!("tab = \"{players_tab}\""));
    assert!(config.contains("kind = \"xlsx\""), "{config}");
    site.write_config(&config);
    site
}

#[test]
fn a_misspelled_sheet_of_a_workbook_gets_did_you_mean() {
    let site = workbook_site(
        "Players",
        "[[tables]]\ntab = \"Matchs\"\nkey = \"player_id\"\n",
    );
    refused_saying(
        &site,
        &[
            "roster.xlsx: no tab named \"Matchs\"",
            "found: Players, Matches). Did you mean \"Matches\"?",
        ],
    );
}

#[test]
fn a_sheet_named_in_another_case_is_named_as_a_case_difference() {
    let site = workbook_site("players", "");
    refused_saying(
        &site,
        &[
            "no tab named \"players\"",
            "\"players\" differs from the tab \"Players\" only in case",
        ],
    );
}

#[test]
fn a_column_in_another_case_is_named_as_a_case_difference() {
    let site = csv_site("[index]\nsort_by = \"points\"\n");
    let run = refused_saying(
        &site,
        &[
            "no column \"points\" (named by `index.sort_by` in the config)",
            "\"points\" differs from the sheet's \"Points\" only in case",
        ],
    );
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    // Never a PIN, even while listing the columns.
    assert!(!run.stderr.contains("483920"), "{}", run.stderr);
}

#[test]
fn a_misspelled_column_gets_did_you_mean() {
    let site = csv_site("[index]\ncolumns = [\"name\", \"Pionts\"]\n");
    refused_saying(
        &site,
        &[
            "no column \"Pionts\" (named by `index.columns` in the config)",
            "its columns are: id, name, pin, Points. Did you mean \"Points\"?",
        ],
    );
}

#[test]
fn a_misspelled_config_key_gets_did_you_mean() {
    let config = csv_config("", "").replace(
        "state_dir = \".sheetgen\"\n",
        "state_dir = \".sheetgen\"\nrefesh_secs = 30\n",
    );
    let line = line_of(&config, "refesh_secs = 30");
    let site = csv_site("");
    site.write_config(&config);
    refused_saying(
        &site,
        &[
            &format!(
                "site.toml: line {line}, column 1: unknown setting `refesh_secs` in [site]: did you mean `refresh_secs`?"
            ),
            &format!("{line} | refesh_secs = 30\n"),
            "| ^^^^^^^^^^^",
        ],
    );
}

#[test]
fn refresh_secs_in_quotes_is_told_in_plain_words_with_line_and_caret() {
    let config = csv_config("", "").replace(
        "state_dir = \".sheetgen\"\n",
        "state_dir = \".sheetgen\"\nrefresh_secs = \"30\"\n",
    );
    let line = line_of(&config, "refresh_secs = \"30\"");
    let site = csv_site("");
    site.write_config(&config);
    let run = refused_saying(
        &site,
        &[
            &format!(
                "site.toml: line {line}, column 16: `site.refresh_secs` must be a whole number of seconds, e.g. refresh_secs = 30; here it is in quotes: write refresh_secs = 30 without them"
            ),
            &format!("{line} | refresh_secs = \"30\"\n"),
            "|                ^^^^\n",
        ],
    );
    for rust in ["u64", "invalid type", "TOML parse error"] {
        assert!(!run.stderr.contains(rust), "{rust}: {}", run.stderr);
    }
}

#[test]
fn index_columns_as_one_name_is_told_in_plain_words_with_line_and_caret() {
    let site = csv_site("[index]\ncolumns = \"Name\"\n");
    let config = std::fs::read_to_string(site.config_path()).unwrap();
    let line = line_of(&config, "columns = \"Name\"");
    let run = refused_saying(
        &site,
        &[
            &format!(
                "site.toml: line {line}, column 11: `index.columns` must be a list of column names, e.g. columns = [\"Name\", \"Points\"]; here it is one name in quotes: put the names in square brackets, columns = [\"Name\"]"
            ),
            &format!("{line} | columns = \"Name\"\n"),
            "|           ^^^^^^\n",
        ],
    );
    for rust in ["a sequence", "invalid type", "TOML parse error"] {
        assert!(!run.stderr.contains(rust), "{rust}: {}", run.stderr);
    }
}

#[test]
fn an_api_key_of_the_wrong_type_is_not_quoted_back() {
    // toml quotes the line at fault; a key typed without quotes must not
    // reach the terminal (or a log collecting it) that way.
    let site = Site::new();
    site.write_config(&sheetgen_test_support::site::site_config(
        "FC Test",
        None,
        "kind = \"google\"\nspreadsheet_id = \"abc\"\napi_key = AIzaSyNotQuoted123\n",
        "",
    ));
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(run.stderr.contains("api_key = (hidden)"), "{}", run.stderr);
    assert!(!run.stderr.contains("AIzaSyNotQuoted123"), "{}", run.stderr);
}

#[test]
fn a_match_row_whose_player_id_differs_only_in_case_says_so() {
    let site = Site::new();
    site.write("players.csv", PLAYERS);
    site.write(
        "matches.csv",
        "player_id,date\nA1,2026-01-01\nzz,2026-01-02\nb2,2026-01-03\n",
    );
    site.write_config(
        &csv_config("", "[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n").replace(
            "Players = \"players.csv\"",
            "Players = \"players.csv\"\nMatches = \"matches.csv\"",
        ),
    );
    let run = site.run(&["check"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains(
            "\"A1\" matches no player; row ignored. \"A1\" differs from the player id \"a1\" only in case"
        ),
        "{}",
        run.stdout
    );
    // A key like no id at all gets no hint.
    assert!(
        run.stdout
            .contains("\"zz\" matches no player; row ignored\n")
            || run
                .stdout
                .ends_with("\"zz\" matches no player; row ignored"),
        "{}",
        run.stdout
    );
}

/// Must never appear in any output.
const GOOGLE_KEY: &str = "AIzaCANARY-words-key-3f9a";

/// A site reading the fake Google (tabs Players, Matches, Match Notes)
/// through an API key, with `tables` appended to the config.
fn google_site(tables: &str) -> (FakeGoogle, Site) {
    let players = vec![
        row(&["id", "name", "pin"]),
        row(&["a1", "Alice", "483920"]),
        row(&["b2", "Bob", "572913"]),
    ];
    let tabs = BTreeMap::from([
        ("Players".to_string(), players),
        (
            "Matches".to_string(),
            vec![row(&["player_id", "date"]), row(&["a1", "2026-01-01"])],
        ),
        (
            "Match Notes".to_string(),
            vec![row(&["player_id", "note"]), row(&["a1", "captain"])],
        ),
    ]);
    let fake = FakeGoogle::start(GOOGLE_KEY, tabs);
    let site = Site::new();
    site.write_config(&sheetgen_test_support::site::site_config(
        "FC Google",
        None,
        &fake.api_key_source(GOOGLE_KEY),
        tables,
    ));
    (fake, site)
}

/// `build` and `check` both fail with exit 1 (Google's answer, as any
/// other failed read of the sheet: see `SourceError::Google`), an
/// `error:` holding every one of `says`, no key, and nothing written;
/// each run lists the tabs once, with `spreadsheets.get`.
#[track_caller]
fn google_refused_saying(fake: &FakeGoogle, site: &Site, says: &[&str]) {
    for (i, cmd) in ["build", "check"].into_iter().enumerate() {
        let run = site.run(&[cmd]);
        run.expect_code(1);
        assert!(run.stderr.contains("error:"), "{cmd}: {}", run.stderr);
        for s in says {
            assert!(
                run.stderr.contains(s),
                "{cmd}: stderr does not say {s:?}:\n{}",
                run.stderr
            );
        }
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains(GOOGLE_KEY), "{cmd}: the key leaked: {out}");
        }
        assert!(!site.out().exists(), "{cmd} created out_dir");
        assert_eq!(
            fake.metadata_queries().len(),
            i + 1,
            "{cmd}: one listing per failed read"
        );
    }
    for query in fake.metadata_queries() {
        assert!(query.contains("fields=sheets.properties"), "{query}");
    }
}

#[test]
fn a_misspelled_google_tab_gets_did_you_mean() {
    let (fake, site) = google_site("[[tables]]\ntab = \"Matchs\"\nkey = \"player_id\"\n");
    google_refused_saying(
        &fake,
        &site,
        &[
            "Google Sheets answered HTTP 400: no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive; its tabs are: Match Notes, Matches, Players). Did you mean \"Matches\"? Rename the tab in the sheet, or change the tab name in the config",
            "(Google said: INVALID_ARGUMENT \"Unable to parse range: Matchs\")",
        ],
    );
}

#[test]
fn a_google_tab_named_in_another_case_is_named_as_a_case_difference() {
    let (fake, site) = google_site("[[tables]]\ntab = \"match notes\"\nkey = \"player_id\"\n");
    google_refused_saying(
        &fake,
        &site,
        &[
            "no tab named 'match notes' in the spreadsheet (tabs are case-sensitive; its tabs are: Match Notes, Matches, Players). \"match notes\" differs from the tab \"Match Notes\" only in case. Rename",
            "Unable to parse range: 'match notes'",
        ],
    );
    let run = site.run(&["check"]);
    assert!(!run.stderr.contains("Did you mean"), "{}", run.stderr);
}
