//! Cells that would show a PIN (issue 23): a phone number that is the
//! player's PIN, a birth date typed as one, another player's PIN in a
//! note. Each is withheld, emptied before any page is rendered so that no
//! page shows it, and named to the organiser by tab, row and column, never
//! by its value; the rest of the row publishes. What "shows a PIN" means
//! is [`SecretIndex::cell_shows`]. The last gate before publish stays the
//! final defence for anything that is not a cell (a label, a theme's text,
//! a player's name).

use super::SecretIndex;
use super::problem::{PinOf, Problem, ProblemKind};

/// Checks cells against every PIN of the snapshot.
pub(super) struct Withholder<'a> {
    pub secrets: &'a SecretIndex,
    /// The players' tab and its PIN column, for the messages.
    pub players_tab: &'a str,
    pub pin_column: &'a str,
}

/// The player a cell belongs to: their row in the players' tab, and their
/// PIN's digits when it is made of digits (looked for inside any number
/// of their own cells).
#[derive(Debug, Clone, Copy)]
pub(super) struct Owner<'a> {
    pub row: usize,
    pub digits: Option<&'a [u8]>,
}

/// Where a cell is.
#[derive(Debug, Clone, Copy)]
pub(super) struct At<'a> {
    pub tab: &'a str,
    pub row: usize,
    pub column: &'a str,
}

impl Withholder<'_> {
    /// The warning for the cell `cell` at `at`, belonging to `owner`, if it
    /// would show a PIN (the caller then empties it).
    pub(super) fn check(&self, cell: &str, owner: Owner<'_>, at: At<'_>) -> Option<Problem> {
        let pin_row = self
            .secrets
            .cell_shows(cell, owner.digits.map(|d| (owner.row, d)))?;
        let pin = if at.tab != self.players_tab {
            PinOf::PlayersRow {
                row: pin_row,
                tab: self.players_tab.to_string(),
                own: pin_row == owner.row,
            }
        } else if pin_row == at.row {
            PinOf::ThisRow
        } else {
            PinOf::Row(pin_row)
        };
        let kind = ProblemKind::PinShown {
            pin,
            pin_column: self.pin_column.to_string(),
        };
        Some(Problem::warning(
            at.tab,
            Some(at.row),
            Some(at.column),
            kind,
        ))
    }
}
