//! Dates as organisers type them, and the order of a joined tab's rows on
//! a player's page (`[[tables]] sort_by`, issue 17): a column is dates when
//! most of its filled cells read as dates, else numbers by the roster's
//! rule ([`super::numbers`]), else text. Cells that do not read as the
//! column's kind go last, each one named in a warning.
//! No crate reads French month names; the calendar check is jiff's.

use std::cmp::Ordering;

use jiff::civil::Date;

use super::numbers::{as_number, is_number_column};
use super::problem::{Problem, ProblemKind, Shown};
use crate::cells::Cells;

/// Month names and abbreviations, French and English, without accents
/// (cells are folded before the lookup).
const MONTHS: [&[&str]; 12] = [
    &["janvier", "janv", "jan", "january"],
    &["fevrier", "fevr", "fev", "february", "feb"],
    &["mars", "mar", "march"],
    &["avril", "avr", "april", "apr"],
    &["mai", "may"],
    &["juin", "june", "jun"],
    &["juillet", "juil", "july", "jul"],
    &["aout", "august", "aug"],
    &["septembre", "sept", "sep", "september"],
    &["octobre", "oct", "october"],
    &["novembre", "nov", "november"],
    &["decembre", "dec", "december"],
];

/// Weekday names and abbreviations, French and English, without accents
/// or a final dot: a long date may start with one (« lundi 5 octobre
/// 2026 », "Monday, October 5, 2026", as French and English Excel show
/// them).
const WEEKDAYS: [&str; 26] = [
    "lundi",
    "lun",
    "mardi",
    "mar",
    "mercredi",
    "mer",
    "jeudi",
    "jeu",
    "vendredi",
    "ven",
    "samedi",
    "sam",
    "dimanche",
    "dim",
    "monday",
    "mon",
    "tuesday",
    "tue",
    "wednesday",
    "wed",
    "thursday",
    "thu",
    "friday",
    "fri",
    "saturday",
    "sunday",
];

fn is_weekday(word: &str) -> bool {
    let folded = deunicode::deunicode(word).to_lowercase();
    let folded = folded.trim_end_matches('.');
    WEEKDAYS.contains(&folded) || matches!(folded, "sat" | "sun" | "tues" | "thur" | "thurs")
}

/// A two-digit year as POSIX `%y` reads it: 69–99 are 19xx, 00–68 20xx.
fn full_year(y: i64, digits: usize) -> i64 {
    match digits {
        1 | 2 if y >= 69 => 1900 + y,
        1 | 2 => 2000 + y,
        _ => y,
    }
}

fn month_number(word: &str) -> Option<i8> {
    let folded: String = deunicode::deunicode(word)
        .to_lowercase()
        .trim_end_matches('.')
        .to_string();
    MONTHS
        .iter()
        .position(|names| names.contains(&folded.as_str()))
        .and_then(|i| i8::try_from(i + 1).ok())
}

fn date(year: i64, month: i64, day: i64) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// A cell as a date, if it reads as one: `30/11/2026`, `3/3/26`,
/// `30.11.2026`, `30-11-2026` (day first, as in France and the UK),
/// `2026-11-30` or `2026/11/30` (year first), `3 mars 2026`,
/// `1er janv. 2026`, `3 March 2026`, `March 3, 2026`, `3 Mar 26`, and
/// each of these after a weekday (`lundi 5 octobre 2026`,
/// `lun. 5 oct. 2026`, `Monday, October 5, 2026`).
/// A date the calendar lacks (`31/02/2026`) is not one.
pub(crate) fn as_date(cell: &str) -> Option<Date> {
    let t = cell.trim();
    if t.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    // « lundi 5 octobre 2026 », "Monday, October 5, 2026": the weekday
    // says nothing the date does not.
    if parts.len() == 4 && is_weekday(parts[0]) {
        parts.remove(0);
    }
    let number = |s: &str| -> Option<(i64, usize)> {
        let digits = s.strip_suffix("er").unwrap_or(s);
        let digits = digits
            .strip_suffix("st")
            .or_else(|| digits.strip_suffix("nd"))
            .or_else(|| digits.strip_suffix("rd"))
            .or_else(|| digits.strip_suffix("th"))
            .unwrap_or(digits);
        (!digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Some((digits.parse().ok()?, digits.len())))?
    };
    match parts.as_slice() {
        [one] => {
            let fields: Vec<&str> = one.split(['/', '-', '.']).collect();
            let [a, b, c] = fields.as_slice() else {
                return None;
            };
            let (a, b, c) = (number(a)?, number(b)?, number(c)?);
            if a.1 == 4 {
                date(a.0, b.0, c.0)
            } else {
                date(full_year(c.0, c.1), b.0, a.0)
            }
        }
        // 3 mars 2026, 3 March 2026
        [d, m, y] if number(d).is_some() => {
            let (d, y) = (number(d)?, number(y)?);
            date(full_year(y.0, y.1), i64::from(month_number(m)?), d.0)
        }
        // March 3, 2026
        [m, d, y] => {
            let (d, y) = (number(d)?, number(y)?);
            date(full_year(y.0, y.1), i64::from(month_number(m)?), d.0)
        }
        _ => None,
    }
}

/// Whether most filled cells read as dates (the rule numbers follow).
fn is_date_column<'a>(cells: impl IntoIterator<Item = &'a str>) -> bool {
    super::numbers::mostly(cells, |cell| as_date(cell).is_some())
}

/// What a sort column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dates,
    Numbers,
    Text,
}

/// A cell's place in a tab's order; `None` (empty, or not of the column's
/// kind) goes last in both directions.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Date(Date),
    Number(f64),
    Text(String),
}

fn key(kind: Kind, cell: &str) -> Option<Key> {
    match kind {
        Kind::Dates => as_date(cell).map(Key::Date),
        Kind::Numbers => as_number(cell).map(Key::Number),
        Kind::Text if cell.trim().is_empty() => None,
        Kind::Text => Some(Key::Text(crate::model::normalize_login(cell))),
    }
}

/// Which column of a joined tab its rows are sorted by.
pub(crate) struct SortSpec<'a> {
    pub tab: &'a str,
    pub column: &'a str,
    /// Where the sort column is in each row's cells.
    pub at: usize,
    pub descending: bool,
}

/// Sorts each player's rows `groups[player]` = (sheet row, cells) by the
/// column at `spec.at`, stably (sheet order among equals). The column's
/// kind is decided over the whole tab, so every page sorts alike. Returns
/// a warning for each filled cell that does not read as that kind.
pub(crate) fn sort_rows(spec: &SortSpec<'_>, groups: &mut [Vec<(usize, Cells)>]) -> Vec<Problem> {
    let cell = |c: &Cells| c.get(spec.at).unwrap_or("").trim().to_string();
    let all = || {
        groups
            .iter()
            .flatten()
            .map(|(_, c)| c.get(spec.at).unwrap_or(""))
    };
    let kind = if is_date_column(all()) {
        Kind::Dates
    } else if is_number_column(all()) {
        Kind::Numbers
    } else {
        Kind::Text
    };
    let mut problems = Vec::new();
    for rows in groups.iter_mut() {
        let mut keyed: Vec<(Option<Key>, (usize, Cells))> = std::mem::take(rows)
            .into_iter()
            .map(|(row, cells)| {
                let c = cell(&cells);
                let k = key(kind, &c);
                if k.is_none() && !c.is_empty() && kind != Kind::Text {
                    problems.push(problem(spec, kind, row, &c));
                }
                (k, (row, cells))
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
                if spec.descending { o.reverse() } else { o }
            }
        });
        *rows = keyed.into_iter().map(|(_, row)| row).collect();
    }
    problems.sort_by_key(|p| p.row);
    problems
}

/// The warning for a cell of a date or number column that is not one.
fn problem(spec: &SortSpec<'_>, kind: Kind, row: usize, cell: &str) -> Problem {
    let cell = Shown::cell(cell);
    let kind = match kind {
        Kind::Dates => ProblemKind::NotADate { cell },
        _ => ProblemKind::NotANumber { cell },
    };
    Problem::warning(spec.tab, Some(row), Some(spec.column), kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Option<Date> {
        Some(Date::new(y, m, day).unwrap())
    }

    #[test]
    fn dates_as_organisers_type_them() {
        for (cell, want) in [
            ("30/11/2026", d(2026, 11, 30)),
            ("3/3/26", d(2026, 3, 3)),
            ("03/03/2026", d(2026, 3, 3)),
            ("30.11.2026", d(2026, 11, 30)),
            ("2026-11-30", d(2026, 11, 30)),
            ("2026/1/5", d(2026, 1, 5)),
            ("3 mars 2026", d(2026, 3, 3)),
            ("1er janv. 2026", d(2026, 1, 1)),
            ("12 févr. 2026", d(2026, 2, 12)),
            ("12 fevrier 2026", d(2026, 2, 12)),
            ("15 AOÛT 2026", d(2026, 8, 15)),
            ("3 décembre 2026", d(2026, 12, 3)),
            ("3 March 2026", d(2026, 3, 3)),
            ("March 3, 2026", d(2026, 3, 3)),
            ("3 Sept 26", d(2026, 9, 3)),
            ("lundi 5 octobre 2026", d(2026, 10, 5)),
            ("lun. 5 oct. 2026", d(2026, 10, 5)),
            ("Lundi 5 Octobre 2026", d(2026, 10, 5)),
            ("Monday, October 5, 2026", d(2026, 10, 5)),
            ("Mon, 5 Oct 2026", d(2026, 10, 5)),
            ("samedi 1er août 2026", d(2026, 8, 1)),
            ("1/1/99", d(1999, 1, 1)),
        ] {
            assert_eq!(as_date(cell), want, "{cell:?}");
        }
        for cell in [
            "",
            "31/02/2026",
            "2026-13-01",
            "tomorrow",
            "3 mois 2026",
            "12",
            "W 3-1",
            "1-0",
        ] {
            assert_eq!(as_date(cell), None, "{cell:?}");
        }
    }

    fn rows(cells: &[&str]) -> Vec<Vec<(usize, Cells)>> {
        vec![
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| (i + 2, [*c, "x"].iter().copied().collect()))
                .collect(),
        ]
    }

    fn firsts(rows: &[Vec<(usize, Cells)>]) -> Vec<String> {
        rows[0]
            .iter()
            .map(|(_, c)| c.get(0).unwrap().to_string())
            .collect()
    }

    #[test]
    fn rows_sort_by_date_whatever_the_format_and_bad_cells_go_last() {
        let mut r = rows(&["3 mars 2026", "2026-01-10", "soon", "", "14/02/2026"]);
        let spec = SortSpec {
            tab: "Matches",
            column: "date",
            at: 0,
            descending: true,
        };
        let problems = sort_rows(&spec, &mut r);
        assert_eq!(
            firsts(&r),
            ["3 mars 2026", "14/02/2026", "2026-01-10", "soon", ""]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = problems[0].to_string();
        assert!(p.contains("tab \"Matches\", row 4, column \"date\""), "{p}");
        assert!(p.contains("\"soon\" is not a date"), "{p}");
    }

    #[test]
    fn numbers_sort_as_numbers_and_text_as_text() {
        let mut r = rows(&["10", "9", "n/a", "100"]);
        let spec = SortSpec {
            tab: "T",
            column: "c",
            at: 0,
            descending: false,
        };
        assert_eq!(sort_rows(&spec, &mut r).len(), 1);
        assert_eq!(firsts(&r), ["9", "10", "100", "n/a"]);
        let mut r = rows(&["Élan", "abeille", "Zèbre"]);
        assert!(sort_rows(&spec, &mut r).is_empty());
        assert_eq!(firsts(&r), ["abeille", "Élan", "Zèbre"]);
    }
}
