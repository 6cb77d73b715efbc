//! Numbers as the organiser writes them, and the one rule for when a column
//! is a number column (issue 16). The model warns with it and render sorts
//! with it, so every text cell that the index lists last is a row that
//! `gen check` names.
//! Reads cells only; never quotes the secret column (the index may not
//! sort by it, nor by a private column: see `Config`).

use super::problem::{Problem, ProblemKind, Shown};
use crate::config::Config;

/// A cell as a number, if it reads as one: `12`, `-3.5`, `12,5` (a decimal
/// comma, as French spreadsheets write it), `1 234` (spaces, no-break ones
/// too, between digit groups). `NaN` and infinities are not numbers.
pub(crate) fn as_number(cell: &str) -> Option<f64> {
    let t: String = cell
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether a column sorts as numbers: it holds at least one number and
/// numbers are more than half of its non-empty cells. Empty cells count
/// neither way. So a points column with a few `n/a` or `-` stays a number
/// column (9 before 14), while a column of names or teams with one stray
/// `3` stays text; a tie (one number, one text) is text.
pub(crate) fn is_number_column<'a>(cells: impl IntoIterator<Item = &'a str>) -> bool {
    mostly(cells, |cell| as_number(cell).is_some())
}

/// Whether `is` holds for more than half of the non-empty `cells` (empty
/// cells count neither way; a tie is no): the rule that makes a column
/// one of numbers, or of dates (`dates.rs`).
pub(crate) fn mostly<'a>(
    cells: impl IntoIterator<Item = &'a str>,
    is: impl Fn(&str) -> bool,
) -> bool {
    let (mut yes, mut no) = (0usize, 0usize);
    for cell in cells {
        if cell.trim().is_empty() {
            continue;
        }
        if is(cell) {
            yes += 1;
        } else {
            no += 1;
        }
    }
    yes > no
}

/// One warning per player whose `[index] sort_by` cell is text in a number
/// column: the index lists that player after every player with a number,
/// whatever `descending` says, and the organiser is told which cell to fix.
/// An empty cell goes last too but is not reported: it means "no value
/// yet" (a new player), and a warning on each would bury the real slips.
/// `rows` are (sheet row, values aligned with `columns`) of the players.
pub(crate) fn sort_column_problems<'a>(
    config: &Config,
    tab: &str,
    columns: &[String],
    rows: impl IntoIterator<Item = (usize, &'a [String])>,
) -> Vec<Problem> {
    let Some(column) = config.index.sort_by.as_deref() else {
        return Vec::new();
    };
    // Not among the public columns (the secret one): nothing to sort by.
    let Some(at) = columns.iter().position(|c| c == column) else {
        return Vec::new();
    };
    let cells: Vec<(usize, &str)> = rows
        .into_iter()
        .map(|(row, values)| (row, values.get(at).map_or("", |v| v.trim())))
        .collect();
    if !is_number_column(cells.iter().map(|&(_, cell)| cell)) {
        return Vec::new();
    }
    cells
        .into_iter()
        .filter(|&(_, cell)| !cell.is_empty() && as_number(cell).is_none())
        .map(|(row, cell)| {
            let cell = Shown::cell(cell);
            Problem::warning(
                tab,
                Some(row),
                Some(column),
                ProblemKind::IndexNotANumber { cell },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_people_write_them() {
        assert_eq!(as_number("12"), Some(12.0));
        assert_eq!(as_number(" 12,5 "), Some(12.5));
        assert_eq!(as_number("-3.5"), Some(-3.5));
        assert_eq!(as_number("1 234"), Some(1234.0));
        assert_eq!(as_number("1\u{a0}234"), Some(1234.0));
        for text in ["abc", "", "  ", "n/a", "-", "NaN", "inf", "12 pts"] {
            assert_eq!(as_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_column_is_numbers_when_most_of_its_filled_cells_are() {
        assert!(is_number_column(["9", "n/a", "14", "-", "", "12,5"]));
        assert!(is_number_column(["3", "", "", ""]));
        // A tie is text; so are no numbers at all, and an empty column.
        assert!(!is_number_column(["3", "n/a"]));
        assert!(!is_number_column(["Red", "Blue", "3"]));
        assert!(!is_number_column(["", " "]));
        assert!(!is_number_column([]));
    }
}
