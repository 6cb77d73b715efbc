//! The English sentence for each [`ProblemKind`]: the one place a problem
//! becomes words (`gen check`, the organiser's page, the logs). Every value
//! comes from the kind; a sentence never decides what a problem is.

use super::pins::NumberShape;
use super::problem::{PinOf, ProblemKind, Shown};
use crate::suggest::Nearest;

/// The advice every damaged-PIN problem ends with (issue 16: the
/// organiser should know which menu to open).
const PLAIN_TEXT_ADVICE: &str =
    "format the PIN column as Plain text in the sheet (Format → Number → Plain text)";

/// A cell for a message: quoted, cut when long, and never shown when it
/// spans lines.
pub(crate) fn quoted(cell: &Shown) -> String {
    match cell {
        Shown::Text(t) => format!("\"{t}\""),
        Shown::Cut(t) => format!("\"{t}…\""),
        Shown::Lines => "(a cell spanning several lines, not shown)".into(),
    }
}

fn rows(rows: &[usize]) -> String {
    rows.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sentence for `kind`, in English.
pub(crate) fn english(kind: &ProblemKind) -> String {
    use ProblemKind as K;
    match kind {
        K::SpansLines { lines, origin } => spans_lines(*lines, origin),
        K::EmptyId => "empty id; row skipped".into(),
        K::DuplicateId { id, first_row } => format!(
            "duplicate id {} (already on row {first_row}); row skipped",
            quoted(id)
        ),
        K::EmptyLogin => "empty login name; row skipped".into(),
        K::EmptyPlayerId => "empty player id; row ignored".into(),
        K::UnknownPlayer { key, other_case } => {
            let case = match (key, other_case) {
                (Shown::Text(k), Some(id)) => format!(
                    ". {}",
                    nearest_sentence(k, &Nearest::OtherCase(id), "the player id")
                ),
                _ => String::new(),
            };
            format!("{} matches no player; row ignored{case}", quoted(key))
        }
        K::NoPin { name } => format!("no PIN for {}: this player cannot log in", quoted(name)),
        K::PinDigitsLost => format!(
            "this PIN is shown in scientific notation (a number with \"E+\"): the sheet \
             kept only its first digits, so this player cannot log in. To fix it, \
             {PLAIN_TEXT_ADVICE}, then retype this PIN in full"
        ),
        K::InvisibleName => "this login name has no letter or digit once spaces and invisible \
             characters are left out, so nobody can type it: this player cannot log in; \
             retype the name in the sheet"
            .into(),
        K::SameNameAndPin {
            name,
            same_pin,
            other_pin,
        } => same_name_and_pin(name, same_pin, other_pin),
        K::SharedName { name, other_pin } => format!(
            "login name {} is also on row {}: each of these players logs in \
             with their own PIN (name and PIN tell them apart), but if their PINs \
             were ever the same neither could log in; to be safe, make the names \
             differ (add an initial)",
            quoted(name),
            rows(other_pin)
        ),
        K::PinAsNumber { shape } => pin_as_number(*shape),
        K::LostZero => format!(
            "this PIN has fewer digits than most PINs in the column and looks like a number \
             whose leading zero was lost: if so, this player cannot log in with the PIN they \
             were given. To fix it, {PLAIN_TEXT_ADVICE}, then retype this PIN with its \
             leading zeros"
        ),
        K::CommonPin => "this PIN is one of the most common ones: choose another".into(),
        K::ShortPin { min } => format!("this PIN is shorter than {min} characters: easy to guess"),
        K::PinShown { pin, pin_column } => pin_shown(pin, pin_column),
        K::AdminUnclear { cell, yes } => format!(
            "{} does not mean yes, so this row is not an admin. To make it \
             an admin write one of {}; to say no, leave the cell empty or write no",
            quoted(cell),
            yes.join(", ")
        ),
        K::NotADate { cell } => format!(
            "{} is not a date, but this tab is sorted by this column and most of its \
             cells are dates: on the player's page this row is listed after the dated \
             ones. Write a date like 30/11/2026, 2026-11-30 or 30 novembre 2026",
            quoted(cell)
        ),
        K::NotANumber { cell } => format!(
            "{} is not a number, but this tab is sorted by this column and most of its \
             cells are numbers: on the player's page this row is listed after the \
             others. Write a number (like 12 or 12,5), or leave the cell empty",
            quoted(cell)
        ),
        K::IndexNotANumber { cell } => format!(
            "{} is not a number, but the index is sorted by this column and most of \
             its cells are numbers: this player is listed after every player with a \
             number. Write a number (like 12 or 12,5), or leave the cell empty if there \
             is none yet",
            quoted(cell)
        ),
        K::UnusedLabel {
            column,
            label,
            nearest,
        } => {
            let hint = nearest.as_ref().map_or(String::new(), |near| {
                format!(" ({})", nearest_sentence(column, near, "the column"))
            });
            format!(
                "`[labels]` gives \"{column}\" the label \"{label}\", but no page shows a column \"{column}\"{hint}: the label is used nowhere. Write the column's name as the sheet has it"
            )
        }
        K::PhotoStale { photo, why } => {
            format!("photo {photo} could not be refreshed ({why}); the previous image stays")
        }
        K::PhotoFailed { photo, why } => {
            format!("photo {photo} not used ({why}); the initials avatar is shown")
        }
        K::PhotoPending { photo } => format!(
            "photo {photo} is still downloading; the initials avatar is shown until a later cycle"
        ),
    }
}

/// The sentence [`crate::suggest::sentence`] says for `near`.
fn nearest_sentence<S: AsRef<str>>(wanted: &str, near: &Nearest<S>, whose: &str) -> String {
    crate::suggest::sentence_for(wanted, near, whose)
}

fn spans_lines(lines: Option<(u64, u64)>, origin: &str) -> String {
    match lines {
        Some((open, close)) => format!(
            "this cell runs from line {open} to line {close} of {origin}, and an id, a login \
             name or a PIN cannot hold a line break: row skipped; retype the cell on one line"
        ),
        None => "this cell holds a line break, which an id, a login name or a PIN cannot \
                 have: row skipped; retype the cell on one line"
            .into(),
    }
}

fn same_name_and_pin(name: &Shown, same_pin: &[usize], other_pin: &[usize]) -> String {
    let mut m = format!(
        "login name {} and its PIN are the same as on row {}: neither \
         row can log in until the names or the PINs differ (add an initial \
         to one name, or give one player another PIN)",
        quoted(name),
        rows(same_pin)
    );
    if !other_pin.is_empty() {
        m.push_str(&format!(
            "; row {} has this name with another PIN and logs in",
            rows(other_pin)
        ));
    }
    m
}

fn pin_as_number(shape: NumberShape) -> String {
    let shown = match shape {
        NumberShape::Grouped => {
            "shown as a number with its digits in groups (a space, comma or dot between \
             groups of three digits)"
        }
        NumberShape::ZeroDecimal => "shown as a number with decimals (\".0\")",
        NumberShape::GroupedZeroDecimal => {
            "shown as a number with its digits in groups and decimals (\".00\")"
        }
    };
    format!(
        "this PIN is {shown}: its digits alone are the PIN, and the player logs in by typing \
         them (spaces are ignored). To be safe, {PLAIN_TEXT_ADVICE}, or a PIN starting with 0 \
         loses its 0"
    )
}

fn pin_shown(pin: &PinOf, column: &str) -> String {
    let (whose, who) = match pin {
        PinOf::ThisRow => (
            format!("this row's PIN (column \"{column}\")"),
            "this player".to_string(),
        ),
        PinOf::Row(row) => (
            format!("the PIN of row {row} (column \"{column}\")"),
            format!("the player of row {row}"),
        ),
        PinOf::PlayersRow { row, tab, own } => {
            let own = if *own { ", this row's player" } else { "" };
            (
                format!("the PIN of row {row} of the tab \"{tab}\" (column \"{column}\"{own})"),
                "the player of that row".to_string(),
            )
        }
    };
    format!(
        "this cell looks like {whose}, perhaps written another way: it is not published \
         (every page shows it empty). Give {who} another PIN (a phone number or a birth \
         date is easy to guess), or change the cell"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_spanning_lines_are_never_quoted() {
        assert_eq!(quoted(&Shown::cell("Zoé")), "\"Zoé\"");
        assert_eq!(
            quoted(&Shown::cell("Bob,551204\na3,Carol,660127")),
            "(a cell spanning several lines, not shown)"
        );
        assert!(quoted(&Shown::cell(&"x".repeat(500))).len() < 80);
    }
}
