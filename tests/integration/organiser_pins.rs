//! The PIN column as a volunteer organiser really fills it (issue 16,
//! items 1 and 6), through the real `gen check`, `gen build` and
//! `gen watch`, CSV and XLSX:
//! - PINs shown as numbers (`739 164` with a space, a no-break space or a
//!   narrow no-break space, `739,164`, `739.164`, `827391.0`): their digits
//!   are the PIN, with a warning naming tab, row and column and saying to
//!   format the column as Plain text; the player logs in typing the digits,
//!   with or without spaces.
//! - digits lost (scientific notation, a leading zero dropped): the warning
//!   says the player cannot log in.
//! - homonyms: different PINs each reach their own page; the same PIN locks
//!   both out, and the warning names both rows.
//!
//! Never a PIN in a message.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rust_xlsxwriter::{Format, Workbook};

use sheetgen_test_support::http::{COOKIE, Response, auth_status, post_form};
use sheetgen_test_support::process::{Gen, poll};
use sheetgen_test_support::site::{CSV_SOURCE, Run, Site, csv_text, site_config};
use sheetgen_test_support::tree::assert_absent;

/// A CSV site (or, with `source`, any) with the API on a free port and
/// the per-address limits lifted: these tests fail logins on purpose.
fn site_with(source: &str) -> Site {
    let site = Site::new();
    site.write_config(&site_config(
        "FC PINs",
        Some(3600),
        source,
        "\n[api]\nlisten = \"127.0.0.1:0\"\nlogin_failures_per_address = 0\n",
    ));
    site
}

fn players_csv(rows: &[(&str, &str, &str)]) -> String {
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|&(id, name, pin)| vec![id, name, pin])
        .collect();
    csv_text(&["id", "name", "pin"], &rows)
}

fn start(site: &Site) -> Gen {
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_first_cycle();
    g
}

/// A fresh client network for each attempt (X-Real-IP, honoured from a
/// loopback peer): these tests fail some logins on purpose, more than the
/// per-address limit allows. (A name's strangers share one allowance
/// whatever their network: 5 failures on one name before it locks.)
fn next_ip() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("10.{}.{}.7", 16 + n / 250, n % 250)
}

fn login(addr: &str, name: &str, pin: &str) -> Response {
    post_form(
        addr,
        "/api/login",
        &[("X-Real-IP", &next_ip())],
        &[("name", name), ("pin", pin)],
    )
}

/// Logs in and returns the session cookie, asserting that the player lands
/// on their own page `/p/<slug>/`.
#[track_caller]
fn login_to(addr: &str, name: &str, pin: &str, slug: &str) -> String {
    let r = login(addr, name, pin);
    assert_eq!(
        (r.status, r.header("Location")),
        (303, Some(format!("/p/{slug}/").as_str())),
        "login {name:?} with {pin:?} should open /p/{slug}/:\n{}",
        r.head
    );
    r.cookie(COOKIE)
        .unwrap_or_else(|| panic!("no session cookie:\n{}", r.head))
}

#[track_caller]
fn refused(addr: &str, name: &str, pin: &str) {
    let r = login(addr, name, pin);
    assert_eq!(
        (r.status, r.header("Location")),
        (303, Some("/login/?error=1")),
        "login {name:?} with {pin:?} should be refused:\n{}",
        r.head
    );
    assert!(r.set_cookie(COOKIE).is_none(), "{}", r.head);
}

/// The `warning:` lines of `gen check` (stdout) about `row`'s `column`.
fn warnings_at<'a>(run: &'a Run, row: usize, column: &str) -> Vec<&'a str> {
    let tag = format!("warning: tab \"Players\", row {row}, column \"{column}\": ");
    run.stdout.lines().filter(|l| l.starts_with(&tag)).collect()
}

/// The one warning at `row`/`column` holding every one of `needles`.
#[track_caller]
fn warning_with<'a>(run: &'a Run, row: usize, column: &str, needles: &[&str]) -> &'a str {
    let found: Vec<&str> = warnings_at(run, row, column)
        .into_iter()
        .filter(|w| needles.iter().all(|n| w.contains(n)))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one warning at row {row}, column {column:?} with {needles:?}:\n{}",
        run.stdout
    );
    found[0]
}

/// Neither stream names any of `pins`.
#[track_caller]
fn no_pin_in(run: &Run, pins: &[&str]) {
    for pin in pins {
        assert!(
            !run.stdout.contains(pin) && !run.stderr.contains(pin),
            "gen printed the PIN {pin:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

// ------------------------------------------------- PINs shown as numbers

/// (id, name, PIN cell as the sheet shows it, the digits the player knows).
const NUMBER_FORMATTED: &[(&str, &str, &str, &str)] = &[
    ("ann", "Ann Space", "739 164", "739164"),         // row 2
    ("ben", "Ben Nbsp", "615\u{a0}482", "615482"),     // row 3
    ("cat", "Cat Narrow", "582\u{202f}730", "582730"), // row 4
    ("dan", "Dan Comma", "904,217", "904217"),         // row 5
    ("eve", "Eve Dot", "318.546", "318546"),           // row 6
    ("fay", "Fay Decimal", "827391.0", "827391"),      // row 7
    ("gus", "Gus Plain", "460285", "460285"),          // row 8
    ("hal", "Hal Science", "1.23457E+11", "123456789012"), // row 9
    ("ida", "Ida Zero", "91 234", "091234"),           // row 10
];

fn number_formatted_site() -> Site {
    let site = site_with(CSV_SOURCE);
    let rows: Vec<(&str, &str, &str)> = NUMBER_FORMATTED
        .iter()
        .map(|&(id, name, cell, _)| (id, name, cell))
        .collect();
    site.write("players.csv", players_csv(&rows));
    site
}

/// Every PIN cell and every PIN, as shown and as typed.
fn all_pin_forms() -> Vec<&'static str> {
    NUMBER_FORMATTED
        .iter()
        .flat_map(|&(_, _, cell, digits)| [cell, digits])
        .chain(["91234"])
        .collect()
}

#[test]
fn number_formatted_pins_are_read_as_digits_and_named_by_row_and_column() {
    let site = number_formatted_site();
    let run = site.run(&["check"]);
    run.expect_ok();

    // Rows 2-7: every digit is there; read as digits, with the advice.
    for row in 2..=7 {
        let w = warning_with(&run, row, "pin", &["shown as a number"]);
        assert!(
            w.contains("its digits alone are the PIN")
                && w.contains("format the PIN column as Plain text in the sheet")
                && w.contains("Format → Number → Plain text"),
            "{w}"
        );
        assert_eq!(warnings_at(&run, row, "pin").len(), 1, "{}", run.stdout);
    }
    assert!(warning_with(&run, 5, "pin", &["digits in groups"]).contains("comma"));
    warning_with(&run, 7, "pin", &["decimals"]);
    // Row 8 is plain text: nothing to say.
    assert!(warnings_at(&run, 8, "pin").is_empty(), "{}", run.stdout);
    // Row 9: digits lost, the player cannot log in.
    warning_with(
        &run,
        9,
        "pin",
        &[
            "scientific notation",
            "cannot log in",
            "Plain text",
            "retype this PIN in full",
        ],
    );
    // Row 10: grouped, and one digit short of the others: its leading zero
    // was lost, and the warning says the player cannot log in.
    warning_with(&run, 10, "pin", &["digits in groups"]);
    warning_with(
        &run,
        10,
        "pin",
        &["leading zero", "cannot log in", "Plain text"],
    );
    assert_eq!(warnings_at(&run, 10, "pin").len(), 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("players: 9 (8 can log in)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ok: publishable (9 warning(s))"),
        "{}",
        run.stdout
    );
    no_pin_in(&run, &all_pin_forms());

    // build says the same and publishes no PIN, in either form.
    let build = site.build_ok();
    let warnings = build.warnings();
    for row in [2, 7, 9, 10] {
        let tag = format!("tab \"Players\", row {row}, column \"pin\"");
        assert!(
            warnings.iter().any(|w| w.contains(&tag)),
            "{tag}:\n{}",
            build.stderr
        );
    }
    no_pin_in(&build, &all_pin_forms());
    let forms: Vec<String> = all_pin_forms().iter().map(|s| s.to_string()).collect();
    assert_absent(&site.out(), &forms);
}

#[test]
fn number_formatted_pins_log_in_with_the_digits_typed_with_or_without_spaces() {
    let site = number_formatted_site();
    let g = start(&site);
    let addr = g.addr.as_str();

    for &(id, name, cell, digits) in &NUMBER_FORMATTED[..7] {
        let spaced = format!("{} {}", &digits[..3], &digits[3..]);
        let narrow = format!("{}\u{202f}{}", &digits[..3], &digits[3..]);
        // The digits, with a space, with a narrow no-break space (a phone
        // keyboard's), and as the sheet shows them.
        for typed in [digits, spaced.as_str(), narrow.as_str(), cell] {
            let cookie = login_to(addr, name, typed, id);
            assert_eq!(
                auth_status(addr, &cookie, id),
                204,
                "{name} typed {typed:?}"
            );
        }
        // One digit off is still wrong, and so is a blank PIN.
        let mut wrong = digits.to_string();
        wrong.replace_range(5.., if digits.ends_with('9') { "8" } else { "9" });
        refused(addr, name, &wrong);
        refused(addr, name, " \u{a0} ");
    }
    // Digits lost: neither the shown cell nor the real PIN opens the page.
    refused(addr, "Hal Science", "1.23457E+11");
    refused(addr, "Hal Science", "123456789012");
    refused(addr, "Hal Science", "123457000000");
    // A leading zero lost: the PIN the player was given is refused (the
    // warning says so); what is left of it is not guessed into a PIN.
    refused(addr, "Ida Zero", "091234");
    refused(addr, "Ida Zero", "091 234");
    login_to(addr, "Ida Zero", "91 234", "ida");

    // No log line names a PIN.
    let log = g.log();
    for pin in all_pin_forms() {
        assert!(!log.contains(pin), "the log shows {pin:?}:\n{log}");
    }
}

// ------------------------------------------------------------- a workbook

/// Players as a workbook fills them: number cells with a thousands format
/// (`739,164` on screen, 739164 in the cell), text cells pasted with
/// narrow no-break spaces or in scientific notation, and a number that lost
/// its leading zero.
fn write_workbook(site: &Site) {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet().set_name("Players").unwrap();
    for (c, h) in ["id", "name", "pin"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let thousands = Format::new().set_num_format("#,##0");
    let decimals = Format::new().set_num_format("#,##0.00");
    let rows = [
        (1, "ann", "Ann Number"),
        (2, "ben", "Ben Pasted"),
        (3, "cat", "Cat Science"),
        (4, "dan", "Dan Zero"),
        (5, "eve", "Eve Decimals"),
    ];
    for (r, id, name) in rows {
        sheet.write_string(r, 0, id).unwrap();
        sheet.write_string(r, 1, name).unwrap();
    }
    sheet
        .write_number_with_format(1, 2, 739_164.0, &thousands)
        .unwrap();
    sheet.write_string(2, 2, "615\u{202f}482").unwrap();
    sheet.write_string(3, 2, "1.23457E+11").unwrap();
    // 082730 typed into a number column.
    sheet
        .write_number_with_format(4, 2, 82_730.0, &thousands)
        .unwrap();
    sheet
        .write_number_with_format(5, 2, 460_285.0, &decimals)
        .unwrap();
    wb.save(site.root().join("roster.xlsx")).unwrap();
}

fn xlsx_site() -> Site {
    let site = site_with("kind = \"xlsx\"\npath = \"roster.xlsx\"\n");
    write_workbook(&site);
    site
}

#[test]
fn a_workbook_pin_column_formatted_as_numbers_is_checked_and_logs_in() {
    let site = xlsx_site();
    let run = site.run(&["check"]);
    run.expect_ok();
    // Number cells hold every digit: no warning for rows 2 and 6.
    assert!(warnings_at(&run, 2, "pin").is_empty(), "{}", run.stdout);
    assert!(warnings_at(&run, 6, "pin").is_empty(), "{}", run.stdout);
    warning_with(&run, 3, "pin", &["digits in groups", "Plain text"]);
    warning_with(&run, 4, "pin", &["scientific notation", "cannot log in"]);
    warning_with(
        &run,
        5,
        "pin",
        &["leading zero", "cannot log in", "Plain text"],
    );
    assert!(
        run.stdout.contains("players: 5 (4 can log in)"),
        "{}",
        run.stdout
    );
    no_pin_in(
        &run,
        &[
            "739164",
            "739,164",
            "615482",
            "1.23457E+11",
            "82730",
            "460285",
        ],
    );

    let g = start(&site);
    let addr = g.addr.as_str();
    for typed in ["739164", "739 164", "739,164", "739\u{a0}164"] {
        let cookie = login_to(addr, "Ann Number", typed, "ann");
        assert_eq!(auth_status(addr, &cookie, "ann"), 204);
        assert_eq!(auth_status(addr, &cookie, "ben"), 403);
    }
    login_to(addr, "Ben Pasted", "615482", "ben");
    login_to(addr, "Ben Pasted", "615 482", "ben");
    login_to(addr, "eve decimals", "460285", "eve");
    refused(addr, "Cat Science", "1.23457E+11");
    refused(addr, "Cat Science", "123456789012");
    refused(addr, "Dan Zero", "082730");
}

// ---------------------------------------------------------------- homonyms

#[test]
fn homonyms_with_different_pins_each_reach_their_own_page() {
    let site = site_with(CSV_SOURCE);
    let roster = |sam2_pin: &str| {
        players_csv(&[
            ("sam1", "Sam Martin", "482913"),     // row 2
            ("ann", "Ann Other", "615482"),       // row 3
            ("sam2", "  sam  MARTIN ", sam2_pin), // row 4
        ])
    };
    site.write("players.csv", roster("739164"));

    let run = site.run(&["check"]);
    run.expect_ok();
    assert!(
        run.stdout.contains("players: 3 (3 can log in)"),
        "{}",
        run.stdout
    );
    for (row, other) in [(2, "row 4"), (4, "row 2")] {
        warning_with(&run, row, "name", &[other, "each of these players logs in"]);
    }
    assert!(warnings_at(&run, 3, "name").is_empty(), "{}", run.stdout);
    no_pin_in(&run, &["482913", "739164", "615482"]);

    let g = start(&site);
    let addr = g.addr.as_str();
    let first = login_to(addr, "Sam Martin", "482913", "sam1");
    let second = login_to(addr, "sam martin", "739 164", "sam2");
    // Each session is one player's: their own page only.
    assert_eq!(auth_status(addr, &first, "sam1"), 204);
    assert_eq!(auth_status(addr, &first, "sam2"), 403);
    assert_eq!(auth_status(addr, &second, "sam2"), 204);
    assert_eq!(auth_status(addr, &second, "sam1"), 403);
    // Another player's PIN with this name is no way in.
    refused(addr, "Sam Martin", "615482");
    // A wrong PIN for a shared name answers exactly like an unknown name.
    let norm = |r: &Response| (r.status, r.head_without_date(), r.body.clone());
    let wrong = login(addr, "Sam Martin", "111111");
    let unknown = login(addr, "Nobody Here", "111111");
    assert_eq!(wrong.status, 303, "{}", wrong.head);
    assert_eq!(norm(&wrong), norm(&unknown));

    // A new PIN for the second Sam ends their sessions only.
    site.write("players.csv", roster("905316"));
    let ended = poll(Duration::from_secs(10), || {
        (auth_status(addr, &second, "sam2") == 401).then_some(())
    });
    assert!(ended.is_some(), "old session still valid:\n{}", g.log());
    assert_eq!(auth_status(addr, &first, "sam1"), 204);
    refused(addr, "Sam Martin", "739164");
    login_to(addr, "Sam Martin", "905316", "sam2");
    login_to(addr, "Sam Martin", "482913", "sam1");
}

#[test]
fn homonyms_with_the_same_pin_are_both_refused_and_both_rows_named() {
    let site = site_with(CSV_SOURCE);
    let roster = |lea2_pin: &str| {
        players_csv(&[
            ("lea1", "Léa Petit", "482913"), // row 2
            ("bob", "Bob Stone", "739164"),  // row 3
            // The same PIN, shown as a number.
            ("lea2", "lea petit", lea2_pin), // row 4
        ])
    };
    site.write("players.csv", roster("482 913"));

    let run = site.run(&["check"]);
    run.expect_ok();
    for (row, other) in [(2, "row 4"), (4, "row 2")] {
        let w = warning_with(&run, row, "name", &[other, "neither"]);
        assert!(
            w.contains("\"") && w.contains("same") && w.contains("PIN"),
            "{w}"
        );
    }
    assert!(
        run.stdout.contains("players: 3 (1 can log in)"),
        "{}",
        run.stdout
    );
    no_pin_in(&run, &["482913", "482 913", "739164"]);
    // Both pages still publish.
    site.build_ok();
    for slug in ["lea1", "lea2", "bob"] {
        assert!(
            site.out().join(format!("p/{slug}/index.html")).is_file(),
            "no page for {slug}"
        );
    }

    let g = start(&site);
    let addr = g.addr.as_str();
    for (name, pin) in [
        ("Léa Petit", "482913"),
        ("lea petit", "482 913"),
        ("LEA PETIT", "482913"),
    ] {
        refused(addr, name, pin);
    }
    login_to(addr, "Bob Stone", "739164", "bob");

    // Once the organiser gives the second Léa another PIN, both log in.
    // (After the cycle that reads it: retrying a login until it works
    // would be guessing, which locks the name for every network.)
    let cycles = g.count_log("changed=true");
    site.write("players.csv", roster("905316"));
    g.wait_log_count("changed=true", cycles + 1, Duration::from_secs(10));
    let second = login_to(addr, "Léa Petit", "905316", "lea2");
    let first = login_to(addr, "Léa Petit", "482913", "lea1");
    assert_eq!(auth_status(addr, &first, "lea1"), 204);
    assert_eq!(auth_status(addr, &first, "lea2"), 403);
    assert_eq!(auth_status(addr, &second, "lea2"), 204);
    assert_eq!(auth_status(addr, &second, "lea1"), 403);
}
