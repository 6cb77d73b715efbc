//! Issue 23, items 1 and 7, through the real `gen` binary on temp CSV
//! sites. A PIN published in another form (`06 12 34 56 78` for PIN
//! `0612345678`, `17/05/1990` for `17051990`, `BLUEFOX42` for
//! `BlueFox42`) let anyone reading the roster log in as that player: each
//! such cell is now withheld from every page, named by tab, row and column
//! (never its value), and the last gate refuses the cycle when a PIN form
//! sits outside any cell. And gen is the only writer of `out_dir`: a
//! symlink planted there is removed by `gen build` and named by `gen check`.

use std::os::unix::fs::symlink;
use std::path::Path;

use sheetgen_test_support::http::{COOKIE, post_form};
use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{Run, Site, csv_config, csv_text, site_config};
use sheetgen_test_support::tree::{assert_gz_twins, readable_contents, tree_bytes};

/// Separators a number is written with: space, no-break space, narrow
/// no-break space, thin space, `.`, `-`, `/`, `,`.
const SEPARATORS: [char; 8] = [' ', '\u{a0}', '\u{202f}', '\u{2009}', '.', '-', '/', ','];

const PLAYERS_HEADER: [&str; 8] = [
    "id", "name", "pin", "team", "phone", "birthday", "note", "contact",
];

/// (id, name, PIN, team, phone, birthday, note, contact): every PIN shown
/// in some other form, by its own row or by another one. Row numbers as
/// the spreadsheet shows them (the header is row 1).
const PLAYERS: [[&str; 8]; 6] = [
    // row 2: the phone is the PIN.
    [
        "a1",
        "Alice",
        "0612345678",
        "Red",
        "06 12 34 56 78",
        "01/02/2003",
        "",
        "",
    ],
    // row 3: the birth date is the PIN.
    ["b2", "Bruno", "17051990", "Blue", "", "17/05/1990", "", ""],
    // row 4: the PIN in digit groups, in the note.
    ["c3", "Chloé", "987654", "Green", "", "", "987 654", ""],
    // row 5: the PIN inside a longer phone number.
    [
        "d4",
        "Dario",
        "612345678",
        "Gold",
        "+33 6 12 34 56 78",
        "",
        "",
        "",
    ],
    // row 6: other players' PINs: Dario's in a phone, Chloé's in the note
    // and in the contact (a search filter the roster does not show).
    [
        "e5",
        "Emma",
        "530172",
        "Red",
        "0033612345678",
        "",
        "987-654",
        "987.654",
    ],
    // row 7: Chloé's PIN in pairs.
    ["f6", "Farid", "284615", "Blue", "", "", "98 76 54", ""],
];

const MATCHES_HEADER: [&str; 4] = ["player_id", "date", "opponent", "note"];

/// Joined rows: rows 2 to 6 of the Matches tab.
const MATCHES: [[&str; 4]; 5] = [
    ["a1", "2026-09-06", "Rovers", "06.12.34.56.78"],
    ["b2", "2026-09-13", "Town", "17-05-1990"],
    ["f6", "2026-09-20", "City", "987\u{202f}654"],
    ["e5", "2026-09-27", "United", "987,654"],
    ["a1", "2026-10-04", "Athletic", "987\u{a0}654"],
];

/// Every (tab, row, column) above that shows a PIN in some form.
const SHOWN: [(&str, usize, &str); 13] = [
    ("Players", 2, "phone"),
    ("Players", 3, "birthday"),
    ("Players", 4, "note"),
    ("Players", 5, "phone"),
    ("Players", 6, "phone"),
    ("Players", 6, "note"),
    ("Players", 6, "contact"),
    ("Players", 7, "note"),
    ("Matches", 2, "note"),
    ("Matches", 3, "note"),
    ("Matches", 4, "note"),
    ("Matches", 5, "note"),
    ("Matches", 6, "note"),
];

/// The values of the cells of [`SHOWN`].
fn withheld_values() -> Vec<&'static str> {
    let column = |header: &[&str], name: &str| header.iter().position(|h| *h == name).unwrap();
    SHOWN
        .iter()
        .map(|&(tab, row, name)| match tab {
            "Players" => PLAYERS[row - 2][column(&PLAYERS_HEADER, name)],
            _ => MATCHES[row - 2][column(&MATCHES_HEADER, name)],
        })
        .collect()
}

fn pins() -> Vec<&'static str> {
    PLAYERS.iter().map(|p| p[2]).collect()
}

/// The config of the sites here: Players and Matches, the roster showing
/// the phone, birthday and note, the contact searchable but not shown.
fn config(lang: &str, labels: &str) -> String {
    site_config(
        "FC Forms",
        Some(3600),
        "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\nMatches = \"matches.csv\"\n",
        &format!(
            "\n[index]\ncolumns = [\"team\", \"phone\", \"birthday\", \"note\"]\n\
             filters = [\"contact\"]\n\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n\
             \n[api]\nlisten = \"127.0.0.1:0\"\nlogin_failures_per_address = 0\n{labels}"
        ),
    )
    .replace("lang = \"en\"", &format!("lang = \"{lang}\""))
}

fn site(lang: &str) -> Site {
    let site = Site::new();
    site.write_config(&config(lang, ""));
    let players: Vec<Vec<&str>> = PLAYERS.iter().map(|r| r.to_vec()).collect();
    site.write("players.csv", csv_text(&PLAYERS_HEADER, &players));
    let matches: Vec<Vec<&str>> = MATCHES.iter().map(|r| r.to_vec()).collect();
    site.write("matches.csv", csv_text(&MATCHES_HEADER, &matches));
    site
}

/// `text` with minijinja's escapes of separators undone, then the
/// separators and soft line breaks removed: the digits a reader sees.
fn digits_as_read(text: &str) -> String {
    let text = text
        .replace("&#x2f;", "/")
        .replace("&nbsp;", " ")
        .replace("<wbr>", "");
    text.chars().filter(|c| !SEPARATORS.contains(c)).collect()
}

/// No `.html` or `.html.gz` under `out_dir` shows any of `pins` in any
/// form: as is, or as its digits once separators are removed.
#[track_caller]
fn assert_no_pin_form_in(out: &Path, pins: &[&str]) {
    let pages: Vec<(String, Vec<u8>)> = readable_contents(out)
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".html") || rel.ends_with(".html.gz"))
        .collect();
    assert!(pages.len() > 10, "{pages:?}");
    for (rel, bytes) in &pages {
        let text = String::from_utf8_lossy(bytes);
        let read = digits_as_read(&text);
        for pin in pins {
            let digits: String = pin.chars().filter(|c| !SEPARATORS.contains(c)).collect();
            assert!(
                !text.contains(pin) && !read.contains(&digits),
                "{rel} shows the PIN {pin:?} in some form"
            );
        }
    }
}

/// The warning lines of `output` about `tab`, `row`, `column`.
fn warnings_at<'a>(output: &'a str, tab: &str, row: usize, column: &str) -> Vec<&'a str> {
    let tag = format!("warning: tab \"{tab}\", row {row}, column \"{column}\": ");
    output.lines().filter(|l| l.starts_with(&tag)).collect()
}

/// Each cell of [`SHOWN`] has one warning saying it looks like a PIN and
/// naming the PIN column; no output names a PIN or a withheld value.
#[track_caller]
fn assert_withheld_cells_named(run: &Run, output: &str) {
    for (tab, row, column) in SHOWN {
        let found = warnings_at(output, tab, row, column);
        assert_eq!(
            found.len(),
            1,
            "one warning for tab {tab:?}, row {row}, column {column:?}:\n{output}"
        );
        let w = found[0];
        assert!(
            w.contains("PIN") && w.contains("column \"pin\"") && w.contains("not published"),
            "{w}"
        );
    }
    for text in [&run.stdout, &run.stderr] {
        for pin in pins() {
            assert!(!text.contains(pin), "gen printed the PIN {pin}:\n{text}");
        }
        for cell in withheld_values() {
            assert!(
                !text.contains(cell),
                "gen printed the cell {cell:?}:\n{text}"
            );
        }
    }
}

#[test]
fn a_pin_shown_in_another_form_never_reaches_out_dir_and_the_rest_publishes() {
    let site = site("en");
    let run = site.build();
    // The attack first: on gen before issue 23 every form was published.
    assert_no_pin_form_in(&site.out(), &pins());
    run.expect_ok();
    assert_withheld_cells_named(&run, &run.stderr);
    // Everything else of those rows publishes.
    let roster = site.html("index.html");
    for name in ["Alice", "Bruno", "Chloé", "Dario", "Emma", "Farid"] {
        assert!(roster.contains(name), "{name} is not on the roster");
    }
    let alice = site.html("p/a1/index.html");
    assert!(
        alice.contains("Red") && alice.contains("01/02/2003"),
        "{alice}"
    );
    assert!(alice.contains("Rovers") && alice.contains("Athletic"));
    assert!(alice.contains("2026-09-06") && alice.contains("2026-10-04"));
    assert_gz_twins(&site.out());
}

#[test]
fn gen_check_and_the_organisers_page_name_each_withheld_cell() {
    let site = site("en");
    let check = site.run(&["check"]);
    assert_withheld_cells_named(&check, &check.stdout);
    check.expect_ok();
    assert!(
        check
            .stdout
            .contains("13 cell(s) that look like a player's PIN"),
        "{}",
        check.stdout
    );
    assert!(!site.out().exists(), "gen check wrote out_dir");

    site.build_ok();
    let page = site.html("admin/index.html");
    assert!(page.contains("Looks like a PIN"), "{page}");
    assert!(
        page.contains("This cell looks like a player&#x27;s PIN: it is not published"),
        "{page}"
    );
    assert_eq!(
        page.matches("<h3>Looks like a PIN</h3>").count(),
        13,
        "{page}"
    );

    let fr = self::site("fr");
    fr.build_ok();
    let page = fr.html("admin/index.html");
    assert!(page.contains("Ressemble à un code PIN"), "{page}");
    assert!(
        page.contains("Ce champ ressemble au code PIN d&#x27;un joueur : il n&#x27;est pas publié"),
        "{page}"
    );
    assert_no_pin_form_in(&fr.out(), &pins());
}

#[test]
fn the_last_gate_refuses_a_pin_form_outside_any_cell_and_keeps_the_site() {
    let site = site("en");
    site.build_ok();
    let before = tree_bytes(&site.out());
    // A label is no cell: nothing can withhold it, the gate must refuse.
    site.write_config(&config("en", "\n[labels]\nnote = \"Note 98-76-54\"\n"));
    let run = site.build();
    run.expect_code(1);
    let output = format!("{}\n{}", run.stdout, run.stderr);
    assert!(output.contains("refusing to publish"), "{output}");
    assert!(output.contains("index.html"), "{output}");
    assert!(
        output.contains("tab \"Players\", row 4, column \"pin\""),
        "{output}"
    );
    assert!(!output.contains("987654") && !output.contains("98-76-54"));
    assert_eq!(tree_bytes(&site.out()), before, "the site changed");

    let check = site.run(&["check"]);
    check.expect_code(1);
    assert!(check.stderr.contains("refusing to publish"), "{check:?}");
    assert!(!check.stdout.contains("98-76-54") && !check.stderr.contains("98-76-54"));
}

#[test]
fn text_pins_are_found_whatever_their_case_accents_and_spaces() {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Words",
        None,
        "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\n",
        "\n[index]\ncolumns = [\"team\", \"motto\"]\n",
    ));
    let rows = [
        ["a1", "Alice", "BlueFox42", "Red", "Go"],
        ["b2", "Bruno", "Éloïse-2024", "bluefox42", "ELOISE-2024"],
        ["c3", "Chloé", "river-stone", "Blue Fox 42", "River Stone"],
        ["d4", "Dario", "Maple-Leaf", "Green", "maple leaf"],
    ];
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.to_vec()).collect();
    site.write(
        "players.csv",
        csv_text(&["id", "name", "pin", "team", "motto"], &rows),
    );
    let run = site.build();
    let pages: Vec<(String, String)> = readable_contents(&site.out())
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".html") || rel.ends_with(".html.gz"))
        .map(|(rel, b)| (rel, String::from_utf8_lossy(&b).to_lowercase()))
        .collect();
    for (rel, text) in &pages {
        for form in [
            "bluefox42",
            "blue fox 42",
            "eloise-2024",
            "éloïse-2024",
            "river stone",
            "maple leaf",
        ] {
            assert!(!text.contains(form), "{rel} shows {form:?}");
        }
    }
    run.expect_ok();
    for (row, column) in [
        (3, "team"),
        (3, "motto"),
        (4, "team"),
        (4, "motto"),
        (5, "motto"),
    ] {
        let w = warnings_at(&run.stderr, "Players", row, column);
        assert_eq!(w.len(), 1, "row {row}, {column}:\n{}", run.stderr);
    }
    assert!(site.html("index.html").contains("<td>Go"));
}

#[test]
fn a_pin_typed_with_spaces_still_logs_in() {
    let site = site("en");
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_first_cycle();
    for (i, typed) in ["06 12 34 56 78", "0612345678", "06\u{a0}12\u{a0}34 56 78"]
        .iter()
        .enumerate()
    {
        let r = post_form(
            &g.addr,
            "/api/login",
            &[("X-Real-IP", &format!("10.9.{i}.1"))],
            &[("name", "Alice"), ("pin", typed)],
        );
        assert_eq!(
            (r.status, r.header("Location")),
            (303, Some("/p/a1/")),
            "{typed:?}: {}",
            r.head
        );
        assert!(r.set_cookie(COOKIE).is_some(), "{}", r.head);
    }
    assert!(!g.log().contains("0612345678"), "{}", g.log());
}

// ---------------------------------------------------------------- item 7

const SIMPLE: &str = "id,name,pin,team\na1,Alice,482913,Red\nb2,Bob,551204,Blue\n";

/// Whether `path` itself (not what it leads to) exists.
fn exists_itself(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

#[test]
fn symlinks_planted_in_out_dir_are_named_by_check_and_removed_by_build() {
    let site = Site::csv(SIMPLE);
    site.build_ok();
    // Outside out_dir: a secret-looking file and a folder.
    let outside = Site::new();
    outside.write("secret.json", "{\"pin\": \"482913\"}");
    outside.write("folder/keep.txt", "keep");
    let out = site.out();
    symlink(outside.root().join("secret.json"), out.join("leak.json")).unwrap();
    symlink(outside.root().join("folder"), out.join("assets/docs")).unwrap();

    // gen check writes nothing: it names both and says build removes them.
    let check = site.run(&["check"]);
    check.expect_ok();
    for rel in ["leak.json", "assets/docs"] {
        let line = check
            .stdout
            .lines()
            .find(|l| l.contains(rel))
            .unwrap_or_else(|| panic!("gen check does not name {rel}:\n{}", check.stdout));
        assert!(line.contains("symlink"), "{line}");
    }
    assert!(exists_itself(&out.join("leak.json")));

    // Nothing else changed: the build that follows has no page to write.
    let run = site.build();
    assert!(
        !exists_itself(&out.join("leak.json")),
        "the symlink to a file is still in out_dir"
    );
    assert!(
        !exists_itself(&out.join("assets/docs")),
        "the symlink to a folder is still in out_dir"
    );
    run.expect_ok();
    for rel in ["leak.json", "assets/docs"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains("symlink") && l.contains(rel)),
            "no warning names {rel}:\n{}",
            run.stderr
        );
    }
    // Links are removed, never followed.
    assert_eq!(
        std::fs::read_to_string(outside.root().join("secret.json")).unwrap(),
        "{\"pin\": \"482913\"}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.root().join("folder/keep.txt")).unwrap(),
        "keep"
    );
    let check = site.run(&["check"]);
    check.expect_ok();
    assert!(!check.stdout.contains("symlink"), "{}", check.stdout);
}

#[test]
fn a_player_folder_replaced_by_a_symlink_is_never_written_through() {
    let site = Site::csv(SIMPLE);
    site.build_ok();
    let outside = Site::new();
    std::fs::create_dir(outside.root().join("elsewhere")).unwrap();
    let player = site.out().join("p/a1");
    std::fs::remove_dir_all(&player).unwrap();
    symlink(outside.root().join("elsewhere"), &player).unwrap();
    // The data changes, so Alice's page is written again.
    site.write("players.csv", SIMPLE.replace("Red", "Gold"));

    let run = site.build();
    assert_eq!(
        std::fs::read_dir(outside.root().join("elsewhere"))
            .unwrap()
            .count(),
        0,
        "gen wrote through the symlink"
    );
    run.expect_ok();
    assert!(
        !std::fs::symlink_metadata(&player)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(site.html("p/a1/index.html").contains("Gold"));
    assert!(run.stderr.contains("p/a1"), "{}", run.stderr);
}

#[test]
fn gen_watch_removes_a_symlink_planted_while_nothing_changes() {
    let site = Site::new();
    site.write_config(&csv_config("", "[api]\nlisten = \"127.0.0.1:0\"\n"));
    site.write("players.csv", SIMPLE);
    let g = Gen::start_env(
        &site.config_path(),
        site.root(),
        &["watch"],
        &[("GEN_REFRESH_TOKEN", "t0ken-for-the-test")],
    );
    g.wait_first_cycle();
    let outside = Site::new();
    outside.write("secret.json", "{\"pin\": \"482913\"}");
    let leak = site.out().join("leak.json");
    symlink(outside.root().join("secret.json"), &leak).unwrap();
    // The data did not change: the cycle that follows still looks.
    let r = g.push("Bearer t0ken-for-the-test");
    assert_eq!(r.status, 202, "{}", r.head);
    g.wait_log_count(
        "removed the symlink leak.json",
        1,
        std::time::Duration::from_secs(15),
    );
    assert!(!exists_itself(&leak));
    assert!(outside.root().join("secret.json").exists());
    assert!(!g.log().contains("482913"), "{}", g.log());
}
