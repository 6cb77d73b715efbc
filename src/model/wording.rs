//! A [`ProblemKind`] in words: the one place a problem becomes a sentence
//! (`gen check`, the organiser's page, the logs), from the catalogue of the
//! site's language ([`crate::i18n`]). Every value comes from the kind; a
//! sentence never decides what a problem is.

use std::borrow::Cow;

use super::pins::NumberShape;
use super::problem::{PinOf, ProblemKind, Shown};
use crate::config::Lang;
use crate::i18n::{Arg, Words, words};
use crate::suggest::Nearest;

/// A cell as `w` quotes it, cut when long, and never shown when it spans
/// lines.
pub(crate) fn quoted_in(cell: &Shown, w: &Words) -> String {
    match cell {
        Shown::Text(t) => w.say("cell-text", &[("text", t.as_str().into())]),
        Shown::Cut(t) => w.say("cell-cut", &[("text", t.as_str().into())]),
        Shown::Lines => w.say("cell-lines", &[]),
    }
}

/// A cell quoted in English.
fn spans_lines(lines: Option<(u64, u64)>, origin: &str, w: &Words) -> String {
    match lines {
        Some((open, close)) => w.say(
            "problem-spans-lines-at",
            &[
                ("open", open.to_string().into()),
                ("close", close.to_string().into()),
                ("origin", origin.into()),
            ],
        ),
        None => w.say("problem-spans-lines", &[]),
    }
}

fn same_name_and_pin(name: &Shown, same_pin: &[usize], other_pin: &[usize], w: &Words) -> String {
    let mut args = vec![
        ("name", Arg::from(quoted_in(name, w))),
        ("rows", rows_in(same_pin, w).into()),
        ("count", same_pin.len().into()),
    ];
    if other_pin.is_empty() {
        return w.say("problem-same-name-and-pin", &args);
    }
    args.push(("others", rows_in(other_pin, w).into()));
    args.push(("others_count", other_pin.len().into()));
    w.say("problem-same-name-and-pin-others", &args)
}

fn pin_shown(pin: &PinOf, pin_column: &str, w: &Words) -> String {
    let (whose, pin_row, tab) = match pin {
        PinOf::ThisRow => ("this-row", 0, ""),
        PinOf::Row(r) => ("row", *r, ""),
        PinOf::PlayersRow { row, tab, own } => {
            (if *own { "own" } else { "other" }, *row, tab.as_str())
        }
    };
    w.say(
        "problem-pin-shown",
        &[
            ("whose", whose.into()),
            ("row", pin_row.to_string().into()),
            ("tab", tab.into()),
            ("column", pin_column.into()),
        ],
    )
}

fn unused_label(column: &str, label: &str, nearest: Option<&Nearest<String>>, w: &Words) -> String {
    let (near, name) = match nearest {
        Some(Nearest::OtherCase(n)) => ("case", n.as_str()),
        Some(Nearest::Spaces(n)) => ("spaces", n.as_str()),
        Some(Nearest::Close(n)) => ("close", n.as_str()),
        None => ("none", ""),
    };
    w.say(
        "problem-unused-label",
        &[
            ("column", column.into()),
            ("label", label.into()),
            ("near", near.into()),
            ("name", name.into()),
        ],
    )
}

#[cfg(test)]
fn quoted(cell: &Shown) -> String {
    quoted_in(cell, words(Lang::En))
}

/// Row numbers as `w` lists them: `3, 7` in English, `3 et 7` in French.
pub(crate) fn rows_in(rows: &[usize], w: &Words) -> String {
    let (sep, last) = (w.say("list-sep", &[]), w.say("list-last-sep", &[]));
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == rows.len() { &last } else { &sep });
        }
        out.push_str(&row.to_string());
    }
    out
}

/// The sentence for `kind`, in English (logs, `Display`).
pub(crate) fn english(kind: &ProblemKind) -> String {
    say(kind, words(Lang::En))
}

/// The sentence for `kind` in the language of `w`.
pub(crate) fn say(kind: &ProblemKind, w: &Words) -> String {
    use ProblemKind as K;
    let q = |cell: &Shown| Arg::from(quoted_in(cell, w));
    let text = |t: &str| Arg::Text(Cow::Owned(t.to_string()));
    let row = |r: usize| Arg::from(r.to_string());
    match kind {
        K::SpansLines { lines, origin } => spans_lines(*lines, origin, w),
        K::EmptyId => w.say("problem-empty-id", &[]),
        K::DuplicateId { id, first_row } => w.say(
            "problem-duplicate-id",
            &[("id", q(id)), ("first", row(*first_row))],
        ),
        K::EmptyLogin => w.say("problem-empty-login", &[]),
        K::EmptyPlayerId => w.say("problem-empty-player-id", &[]),
        K::UnknownPlayer { key, other_case } => match (key, other_case) {
            (Shown::Text(typed), Some(id)) => w.say(
                "problem-unknown-player-case",
                &[("key", q(key)), ("typed", text(typed)), ("id", text(id))],
            ),
            _ => w.say("problem-unknown-player", &[("key", q(key))]),
        },
        K::NoPin { name } => w.say("problem-no-pin", &[("name", q(name))]),
        K::PinDigitsLost => w.say("problem-pin-digits-lost", &[]),
        K::InvisibleName => w.say("problem-invisible-name", &[]),
        K::SameNameAndPin {
            name,
            same_pin,
            other_pin,
        } => same_name_and_pin(name, same_pin, other_pin, w),
        K::SharedName { name, other_pin } => w.say(
            "problem-shared-name",
            &[
                ("name", q(name)),
                ("rows", rows_in(other_pin, w).into()),
                ("count", other_pin.len().into()),
            ],
        ),
        K::PinAsNumber { shape, decimals } => {
            let shape = match shape {
                NumberShape::Grouped => "grouped",
                NumberShape::ZeroDecimal => "decimals",
                NumberShape::GroupedZeroDecimal => "both",
            };
            let args = [("shape", shape.into()), ("decimals", text(decimals))];
            w.say("problem-pin-as-number", &args)
        }
        K::LostZero => w.say("problem-lost-zero", &[]),
        K::CommonPin => w.say("problem-common-pin", &[]),
        K::ShortPin { min } => w.say("problem-short-pin", &[("min", (*min).into())]),
        K::PinShown { pin, pin_column } => pin_shown(pin, pin_column, w),
        K::AdminUnclear { cell, yes } => w.say(
            "problem-admin-unclear",
            &[("cell", q(cell)), ("yes", yes.join(", ").into())],
        ),
        K::NotADate { cell } => w.say("problem-not-a-date", &[("cell", q(cell))]),
        K::NotANumber { cell } => w.say("problem-not-a-number", &[("cell", q(cell))]),
        K::IndexNotANumber { cell } => w.say("problem-index-not-a-number", &[("cell", q(cell))]),
        K::UnusedLabel {
            column,
            label,
            nearest,
        } => unused_label(column, label, nearest.as_ref(), w),
        K::PhotoStale { photo, why } => w.say(
            "problem-photo-stale",
            &[("photo", text(photo)), ("why", text(why))],
        ),
        K::PhotoFailed { photo, why } => w.say(
            "problem-photo-failed",
            &[("photo", text(photo)), ("why", text(why))],
        ),
        K::PhotoPending { photo } => w.say("problem-photo-pending", &[("photo", text(photo))]),
    }
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
