//! The forms a secret is found in, and the ones it is not.

use super::*;

fn index(secrets: &[(usize, &str)]) -> SecretIndex {
    SecretIndex::new(secrets.iter().copied())
}

fn rows_in(ix: &SecretIndex, t: &str) -> Vec<usize> {
    ix.find_all(t.as_bytes()).iter().map(|h| h.row).collect()
}

#[test]
fn only_whole_tokens_count() {
    let ix = index(&[(2, "482913"), (3, "blue-fox-42"), (4, "1234")]);
    assert_eq!(ix.len(), 2, "a 4-character PIN is not searched");
    let rows = |t: &str| rows_in(&ix, t);
    assert_eq!(rows("<td>482913</td>"), [2]);
    assert_eq!(rows("482913"), [2]);
    assert_eq!(rows("Team-482913!"), [2]);
    assert_eq!(
        rows("é482913é"),
        Vec::<usize>::new(),
        "letters bound a token"
    );
    for t in ["4829130", "x482913", "1482913", "48291", "1234"] {
        assert_eq!(rows(t), Vec::<usize>::new(), "{t}");
    }
    assert_eq!(rows("a blue-fox-42."), [3]);
    assert_eq!(rows("ablue-fox-42"), Vec::<usize>::new());
    assert_eq!(rows("blue-fox-421"), Vec::<usize>::new());
    assert_eq!(rows("482913 and blue-fox-42"), [2, 3]);
}

/// Issue 23: the forms a number is written in.
#[test]
fn a_pin_of_digits_is_found_in_a_number_written_with_separators() {
    let ix = index(&[
        (2, "0612345678"),
        (3, "17051990"),
        (9, "006543"),
        (4, "987654"),
        (5, "612345678"),
        (6, "73 91 64"),
    ]);
    let rows = |t: &str| rows_in(&ix, t);
    for (text, row) in [
        ("Tel. 06 12 34 56 78", 2),
        ("06.12.34.56.78", 2),
        ("06-12-34-56-78", 2),
        ("<dd>17&#x2f;05&#x2f;1990</dd>", 3),
        ("born 17/05/1990.", 3),
        ("17-05-1990", 3),
        ("987 654", 4),
        ("987-654", 4),
        ("987.654", 4),
        ("98 76 54", 4),
        ("987,654", 4),
        ("987\u{a0}654", 4),
        ("987\u{202f}654", 4),
        ("987\u{2009}654", 4),
        ("987&nbsp;654", 4),
        ("987&#160;654", 4),
        ("987<wbr>.654", 4),
        // Inside a longer number: only PINs of 8 digits or more.
        ("+33 6 12 34 56 78", 2),
        ("+33 (0)6 12 34 56 78", 2),
        ("(739164)", 6),
        ("7 3 9 1 6 4", 6),
    ] {
        assert_eq!(rows(text), [row], "{text:?}");
    }
    assert_eq!(rows("0033612345678"), [2], "without its 0, inside");
    for text in [
        // Leading zeros go only where 6 digits remain.
        "6543",
        // A shorter PIN inside a longer number is left to the model.
        "1987654",
        "987 6543",
        "19 87 65 43",
        // Two separators end a number; letters make it a word.
        "987, 654",
        "987 - 654",
        "p987654",
        "987654px",
        "Data as of 7 December 2026, 14:05",
        "2026-12-07T14:05",
    ] {
        assert_eq!(rows(text), Vec::<usize>::new(), "{text:?}");
    }
    let hits = ix.find_all("call 06 12 34 56 78 now".as_bytes());
    assert_eq!((hits[0].start, hits[0].end), (5, 19), "{hits:?}");
}

#[test]
fn numbers_are_groups_joined_by_one_separator() {
    let all = |t: &str| {
        let mut out = Vec::new();
        numbers(t.as_bytes(), &mut |n| {
            out.push((String::from_utf8_lossy(n.digits).into_owned(), n.glued()));
            true
        });
        out
    };
    let n = |d: &str, glued: bool| (d.to_string(), glued);
    assert_eq!(
        all("a 12 34, 56 x7 y 1&#x2f;2, 3..4"),
        [
            n("1234", false),
            n("56", false),
            n("7", true),
            n("12", false),
            n("3", false),
            n("4", false)
        ]
    );
    assert_eq!(all("9<wbr>9<wbr />.9"), [n("999", false)]);
    assert_eq!(pin_digits(" 06 12 34 56 78 "), Some(b"0612345678".to_vec()));
    assert_eq!(
        pin_digits("+33 6 12 34 56 78"),
        Some(b"33612345678".to_vec())
    );
    assert_eq!(pin_digits("12 345"), None, "five digits");
    assert_eq!(pin_digits("12345a"), None);
    // A player's own PIN: inside any number, letters touching it or not.
    let none = SecretIndex::default();
    assert_eq!(
        none.cell_shows("p0612345678x", Some((2, b"612345"))),
        Some(2)
    );
    assert_eq!(
        none.cell_shows("06 12 34, 56 78", Some((2, b"345678"))),
        None
    );
}

#[test]
fn a_text_pin_is_found_whatever_its_case_and_accents() {
    let ix = index(&[(2, "BlueFox42"), (3, "Éloïse-2024"), (4, "Æsir-Wolf")]);
    let rows = |t: &str| rows_in(&ix, t);
    for (text, row) in [
        ("bluefox42", 2),
        ("<td>BLUEFOX42</td>", 2),
        ("eloise-2024", 3),
        ("ÉLOÏSE-2024!", 3),
        ("aesir-wolf", 4),
    ] {
        assert_eq!(rows(text), [row], "{text:?}");
    }
    for text in ["bluefox421", "xbluefox42", "Eloise 2024", "zbluefox42"] {
        assert_eq!(rows(text), Vec::<usize>::new(), "{text:?}");
    }
    // A hit of the folded text hides the original characters.
    assert_eq!(ix.redact("pin: ÉLOÏSE-2024."), "pin: ….");
    assert_eq!(ix.redact("Æsir-Wolf!"), "…!");
    // A cell that is the PIN, spaces and punctuation aside.
    assert_eq!(ix.cell_shows("Blue Fox 42", None), Some(2));
    assert_eq!(ix.cell_shows("éloïse 2024", None), Some(3));
    assert_eq!(ix.cell_shows("Blue Fox", None), None);
}

#[test]
fn a_cell_shows_its_own_players_pin_inside_any_number() {
    let ix = index(&[(2, "482913"), (3, "551204")]);
    // Another player's 6-digit PIN inside a longer number: chance.
    assert_eq!(ix.cell_shows("06 48 29 13 00", None), None);
    assert_eq!(
        ix.cell_shows("06 48 29 13 00", Some((2, b"482913"))),
        Some(2)
    );
    assert_eq!(
        ix.cell_shows("tel0648291300", Some((2, b"482913"))),
        Some(2)
    );
    assert_eq!(ix.cell_shows("55 12 04", Some((2, b"482913"))), Some(3));
    assert_eq!(ix.cell_shows("Red", Some((2, b"482913"))), None);
    assert_eq!(ix.cell_shows("2026-09-06", Some((2, b"482913"))), None);
}

#[test]
fn escaped_and_symbol_only_secrets_are_found() {
    let ix = index(&[(5, "Bl<ue>&Red7"), (6, "!!##!!"), (7, "zoé123")]);
    let rows = |t: &str| rows_in(&ix, t);
    assert_eq!(rows("<td>Bl&lt;ue&gt;&amp;Red7</td>"), [5]);
    assert_eq!(rows("raw Bl<ue>&Red7"), [5]);
    assert_eq!(rows("x !!##!! y"), [6]);
    assert_eq!(rows("(zoé123)"), [7]);
    assert_eq!(rows("zoé1234"), Vec::<usize>::new());
    assert_eq!(rows("azoé123"), Vec::<usize>::new());
    // As the `soft_breaks` filter writes a long value (issue 17).
    let ix = index(&[(8, "pass.word9")]);
    let broken = "<dd>me<wbr>.pass<wbr>.word9@<wbr>club.org</dd>";
    assert_eq!(ix.find_all(broken.as_bytes()).len(), 1);
}

#[test]
fn redact_hides_every_secret_and_debug_shows_none() {
    let ix = index(&[(2, "482913"), (3, "739164"), (4, "0612345678")]);
    assert_eq!(
        ix.redact("name \"482913\" is also on row 3 (739164)"),
        "name \"…\" is also on row 3 (…)"
    );
    assert_eq!(
        ix.redact("\"06 12 34 56 78\" is not a number; nor 739 164."),
        "\"…\" is not a number; nor …."
    );
    assert_eq!(ix.redact("nothing here"), "nothing here");
    let debug = format!("{ix:?}");
    assert!(
        !debug.contains("482913") && debug.contains("secrets: 3"),
        "{debug}"
    );
    assert!(ix.find_any(b"xx 739164").is_some());
    assert!(SecretIndex::default().find_any(b"482913").is_none());
}
