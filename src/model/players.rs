//! The players' tab, row by row: rows that cannot make a player are
//! skipped and named (no id, a duplicate id, no login name, a key cell
//! spanning lines), the others kept with their public cells, their PIN
//! cell read ([`super::pins`]) and their admin cell. Every row's PIN is
//! collected, skipped rows' too: none may be published.

use std::collections::HashMap;

use super::columns::PlayerColumns;
use super::pins::{self, NumberShape, PinCell};
use super::problem::{Problem, ProblemKind, Shown};
use crate::config::Config;
use crate::table::{RawRow, RawTable};

/// The only `admin` cells that grant admin, compared case-insensitively.
/// An allow-list: "none", "-", "off" or "✗" are meant as no, and used to
/// grant every page (issue 14).
pub const ADMIN_YES: [&str; 7] = ["yes", "oui", "x", "true", "1", "admin", "✓"];

/// Plain "no" words: no without a warning (a column of "no" is normal).
const ADMIN_NO: [&str; 6] = ["no", "non", "false", "faux", "0", "n"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminCell {
    Yes,
    No,
    /// Anything else: no, and the organiser is told.
    Unclear,
}

fn admin_cell(value: &str) -> AdminCell {
    let v = value.trim().to_lowercase();
    if ADMIN_YES.contains(&v.as_str()) {
        AdminCell::Yes
    } else if v.is_empty() || ADMIN_NO.contains(&v.as_str()) {
        AdminCell::No
    } else {
        AdminCell::Unclear
    }
}

pub(super) fn has_line_break(cell: &str) -> bool {
    cell.contains(['\n', '\r'])
}

/// A row that makes a player.
pub(super) struct Kept {
    pub(super) id: String,
    pub(super) name: String,
    /// Aligned with [`Roster::columns`].
    pub(super) values: Vec<String>,
    pub(super) row: usize,
    pub(super) admin: bool,
    pub(super) pin: PinCell,
    pub(super) photo: Option<String>,
}

/// The players' tab, read.
pub(super) struct Roster {
    /// Public columns: everything but the secret; duplicate header names
    /// keep the first.
    pub(super) columns: Vec<String>,
    pub(super) kept: Vec<Kept>,
    /// (row, PIN) of every row read, skipped rows included, in the forms
    /// a page must never show.
    pub(super) all_secrets: Vec<(usize, String)>,
}

/// Reads the rows of `tab` (its rows taken), naming in `problems` each row
/// skipped and each cell kept with a warning.
pub(super) fn read(
    config: &Config,
    tab: &mut RawTable,
    cols: &PlayerColumns,
    problems: &mut Vec<Problem>,
) -> Roster {
    let public: Vec<usize> = (0..tab.header.len())
        .filter(|&i| i != cols.secret && !tab.header[i].is_empty())
        .filter(|&i| tab.header[..i].iter().all(|h| h != &tab.header[i]))
        .collect();
    let mut roster = Roster {
        columns: public.iter().map(|&i| tab.header[i].clone()).collect(),
        kept: Vec::new(),
        all_secrets: Vec::new(),
    };
    let mut first_row_of_id: HashMap<String, usize> = HashMap::new();
    let rows = std::mem::take(&mut tab.rows);
    let tab = &*tab;
    let reader = RowReader {
        config,
        tab,
        cols,
        public: &public,
    };
    for row in rows {
        if row.is_blank() {
            continue;
        }
        collect_secret(&row, cols.secret, &mut roster.all_secrets);
        let mut problem = |column: &str, kind| {
            problems.push(Problem::warning(
                &tab.name,
                Some(row.number),
                Some(column),
                kind,
            ));
        };
        match reader.player(&row, &first_row_of_id, &mut problem) {
            Some(kept) => {
                first_row_of_id.insert(kept.id.clone(), row.number);
                roster.kept.push(kept);
            }
            None => continue,
        }
    }
    roster
}

/// Keeps `row`'s PIN, and the form logins take it in when it differs
/// (`739164` for `739 164`): the one a page must never show.
fn collect_secret(row: &RawRow, secret_col: usize, all: &mut Vec<(usize, String)>) {
    let Some(secret) = row.cells.get(secret_col) else {
        return;
    };
    if has_line_break(secret) {
        return;
    }
    let secret = secret.trim();
    all.push((row.number, secret.to_string()));
    let typed = pins::login_form(secret);
    if typed != secret {
        all.push((row.number, typed));
    }
}

/// What reading one row needs.
struct RowReader<'a> {
    config: &'a Config,
    tab: &'a RawTable,
    cols: &'a PlayerColumns,
    public: &'a [usize],
}

impl RowReader<'_> {
    /// The player of `row`, or `None` when the row is skipped; problems
    /// go to `problem(column, kind)`.
    fn player(
        &self,
        row: &RawRow,
        first_row_of_id: &HashMap<String, usize>,
        problem: &mut impl FnMut(&str, ProblemKind),
    ) -> Option<Kept> {
        let pc = &self.config.players;
        let cols = self.cols;
        if let Some(col) = runaway_cell(row, &[cols.id, cols.login, cols.secret]) {
            let column = self.tab.header.get(col).map_or("", String::as_str);
            problem(column, spans_lines(row, col, &self.tab.origin));
            return None;
        }
        let cell = |i: usize| row.cells.get(i).map_or("", str::trim);
        let id = cell(cols.id).to_string();
        let name = cell(cols.login).to_string();
        if id.is_empty() {
            problem(&pc.id, ProblemKind::EmptyId);
            return None;
        }
        if let Some(&first_row) = first_row_of_id.get(&id) {
            let id = Shown::cell(&id);
            problem(&pc.id, ProblemKind::DuplicateId { id, first_row });
            return None;
        }
        if name.is_empty() {
            problem(&pc.login, ProblemKind::EmptyLogin);
            return None;
        }
        let admin = match cols.admin.map(|c| (c, admin_cell(cell(c)))) {
            Some((_, AdminCell::Yes)) => true,
            Some((c, AdminCell::Unclear)) => {
                let column = self.tab.header.get(c).map_or("", String::as_str);
                let yes = ADMIN_YES.iter().map(|y| y.to_string()).collect();
                let cell = Shown::cell(cell(c));
                problem(column, ProblemKind::AdminUnclear { cell, yes });
                false
            }
            _ => false,
        };
        let pin = pins::read_pin(cell(cols.secret));
        if let Some(kind) = pin_cell_problem(&pin, cell(cols.secret)) {
            problem(&pc.secret, kind);
        }
        Some(Kept {
            id,
            name,
            values: self.public.iter().map(|&i| cell(i).to_string()).collect(),
            row: row.number,
            admin,
            pin,
            photo: cols
                .photo
                .map(|c| cell(c).to_string())
                .filter(|c| !c.is_empty()),
        })
    }
}

/// What to tell the organiser about a PIN cell `cell` shown as a number,
/// if anything: its decimal part as typed (zeros: never a secret).
fn pin_cell_problem(pin: &PinCell, cell: &str) -> Option<ProblemKind> {
    match pin {
        PinCell::Number { shape, .. } => {
            let decimals = match shape {
                NumberShape::Grouped => String::new(),
                NumberShape::ZeroDecimal | NumberShape::GroupedZeroDecimal => cell
                    .rfind(['.', ','])
                    .map_or(String::new(), |at| cell[at..].to_string()),
            };
            Some(ProblemKind::PinAsNumber {
                shape: *shape,
                decimals,
            })
        }
        PinCell::Scientific => Some(ProblemKind::PinDigitsLost),
        PinCell::Empty | PinCell::Text(_) => None,
    }
}

/// The first of `keys` (id, login, secret) in `row` that spans lines: none
/// may hold a line break, and the cells after it may have come from other
/// lines. A quote that swallowed rows never gets here: the CSV reader
/// refuses the file ([`crate::error::SourceError::UnclosedQuote`]).
pub(super) fn runaway_cell(row: &RawRow, keys: &[usize]) -> Option<usize> {
    row.cells
        .iter()
        .enumerate()
        .position(|(i, c)| has_line_break(c) && keys.contains(&i))
}

/// The problem of a row refused by [`runaway_cell`]: the lines the cell
/// runs over, never its text.
pub(super) fn spans_lines(row: &RawRow, column: usize, origin: &str) -> ProblemKind {
    let breaks = |c: &str| c.matches('\n').count() as u64;
    let lines = row.line.map(|line| {
        let open = line + row.cells.iter().take(column).map(breaks).sum::<u64>();
        let close = open + row.cells.get(column).map_or(0, breaks);
        (open, close)
    });
    ProblemKind::SpansLines {
        lines,
        origin: origin.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_cells_grant_only_yes_values() {
        for yes in ["yes", " YES ", "Oui", "x", "X", "true", "1", "Admin", "✓"] {
            assert_eq!(admin_cell(yes), AdminCell::Yes, "{yes:?}");
        }
        for no in ["", "  ", "no", "NON", "false", "0", "n"] {
            assert_eq!(admin_cell(no), AdminCell::No, "{no:?}");
        }
        for unclear in ["none", "-", "N/A", "off", "nein", "✗", "✔", "yes!", "2"] {
            assert_eq!(admin_cell(unclear), AdminCell::Unclear, "{unclear:?}");
        }
    }
}
