//! `gen check`'s own findings beyond row problems: PINs that are easy to
//! guess or that look damaged by a spreadsheet. Messages name the row, never
//! the PIN. A PIN cell shown as a number (digit groups, decimals, scientific
//! notation) is the model's to read and report; what it reads as digits is
//! measured here with the others, so a number that also lost its leading
//! zero is flagged here too.
//!
//! And how the report sorts what it prints (issue 16): each problem once,
//! grouped by tab, counted by kind with the important kinds first, and who
//! cannot log in by reason. Every count is by the problem's typed kind
//! ([`ProblemKind`], issue 24), never by its words: rewording or translating
//! a message moves nothing.

use std::collections::HashMap;

use crate::config::Config;
use crate::i18n::Words;
use crate::model::{Problem, ProblemKind, Severity, Snapshot};

/// PINs people pick first; a guesser tries these before anything else.
const COMMON_PINS: [&str; 24] = [
    "0000", "1111", "1234", "12345", "123456", "654321", "000000", "111111", "121212", "123123",
    "112233", "222222", "666666", "696969", "777777", "888888", "999999", "123321", "159753",
    "1234567", "12345678", "password", "azerty", "qwerty",
];

const MIN_PIN_LEN: usize = 6;

/// Weak, common and truncated-looking PINs, one problem per row.
pub(crate) fn pin_warnings(snapshot: &Snapshot, config: &Config) -> Vec<Problem> {
    let creds: Vec<_> = snapshot.credentials.iter().map(|(_, c)| c).collect();
    // The usual length of all-digit PINs: a shorter one lost a leading zero
    // when the column was formatted as a number.
    let mut lengths: HashMap<usize, usize> = HashMap::new();
    for c in &creds {
        let pin = c.secret.expose();
        if pin.bytes().all(|b| b.is_ascii_digit()) {
            *lengths.entry(pin.len()).or_default() += 1;
        }
    }
    let usual = lengths
        .iter()
        .max_by_key(|(len, n)| (**n, **len))
        .map(|(len, _)| *len);
    let mut out = Vec::new();
    for c in creds {
        let Some(player) = snapshot.players.get(c.player) else {
            continue;
        };
        let pin = c.secret.expose();
        let digits = pin.bytes().all(|b| b.is_ascii_digit());
        let kind = if digits && usual.is_some_and(|u| pin.len() < u) {
            ProblemKind::LostZero
        } else if COMMON_PINS.contains(&pin.to_lowercase().as_str()) {
            ProblemKind::CommonPin
        } else if pin.chars().count() < MIN_PIN_LEN {
            ProblemKind::ShortPin { min: MIN_PIN_LEN }
        } else {
            continue;
        };
        out.push(Problem::warning(
            &config.players.tab,
            Some(player.row),
            Some(&config.players.secret),
            kind,
        ));
    }
    out.sort_by_key(|p| p.row);
    out
}

/// Why a player cannot log in, as the model reported it on their row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LoginBlock {
    NoPin,
    /// Scientific notation: the sheet kept only the first digits.
    DigitsLost,
    SameNameAndPin,
    InvisibleName,
    /// None of the above was reported for the row.
    Other,
}

impl LoginBlock {
    /// The reason in words.
    pub(crate) fn describe(self, w: &Words) -> String {
        w.say(&format!("blocked-{}", self.key().replace('_', "-")), &[])
    }

    /// The name of its theme string on the organiser's page
    /// (`admin.blocked.<key>`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            LoginBlock::NoPin => "no_pin",
            LoginBlock::DigitsLost => "digits_lost",
            LoginBlock::SameNameAndPin => "same_name_and_pin",
            LoginBlock::InvisibleName => "invisible_name",
            LoginBlock::Other => "other",
        }
    }

    /// Why the player of problem `p`'s row cannot log in, if `p` says so.
    fn of(p: &Problem) -> Option<LoginBlock> {
        match p.kind {
            ProblemKind::NoPin { .. } => Some(LoginBlock::NoPin),
            ProblemKind::PinDigitsLost => Some(LoginBlock::DigitsLost),
            ProblemKind::SameNameAndPin { .. } => Some(LoginBlock::SameNameAndPin),
            ProblemKind::InvisibleName => Some(LoginBlock::InvisibleName),
            _ => None,
        }
    }
}

/// The players who cannot log in (no credential), by reason, reasons in
/// a fixed order, each with the rows it holds.
pub(crate) fn login_blocks(
    snapshot: &Snapshot,
    problems: &[Problem],
    config: &Config,
) -> Vec<(LoginBlock, Vec<usize>)> {
    let mut by_reason: std::collections::BTreeMap<LoginBlock, Vec<usize>> = Default::default();
    for (i, player) in snapshot.players.iter().enumerate() {
        if snapshot.credentials.for_player(i).is_some() {
            continue;
        }
        let reason = problems
            .iter()
            .filter(|p| p.tab == config.players.tab && p.row == Some(player.row))
            .find_map(LoginBlock::of)
            .unwrap_or(LoginBlock::Other);
        by_reason.entry(reason).or_default().push(player.row);
    }
    by_reason.into_iter().collect()
}

/// Rows whose PIN looks like it lost a leading zero: these players have a
/// PIN, but probably not the one they were given.
pub(crate) fn lost_zero_rows(problems: &[Problem], config: &Config) -> Vec<usize> {
    problems
        .iter()
        .filter(|p| p.tab == config.players.tab && p.kind == ProblemKind::LostZero)
        .filter_map(|p| p.row)
        .collect()
}

/// A kind of problem, for the summary's counts; the order is the order of
/// importance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Error,
    /// A cell that would show a PIN, withheld (issue 23): right after the
    /// errors, as that player's PIN is probably known to others already.
    PinShown,
    CannotLogIn,
    LostZero,
    RowSkipped,
    RowIgnored,
    WeakPin,
    SharedName,
    PinAsNumber,
    AdminUnclear,
    Other,
}

impl Kind {
    pub(crate) fn of(p: &Problem) -> Kind {
        use ProblemKind as K;
        if p.severity == Severity::Error {
            return Kind::Error;
        }
        if LoginBlock::of(p).is_some() {
            return Kind::CannotLogIn;
        }
        // Every kind named: a new one must say where it counts.
        match &p.kind {
            K::PinShown { .. } => Kind::PinShown,
            K::LostZero => Kind::LostZero,
            K::SpansLines { .. } | K::EmptyId | K::DuplicateId { .. } | K::EmptyLogin => {
                Kind::RowSkipped
            }
            K::EmptyPlayerId | K::UnknownPlayer { .. } => Kind::RowIgnored,
            K::CommonPin | K::ShortPin { .. } => Kind::WeakPin,
            K::SharedName { .. } => Kind::SharedName,
            K::PinAsNumber { .. } => Kind::PinAsNumber,
            K::AdminUnclear { .. } => Kind::AdminUnclear,
            K::NoPin { .. } | K::PinDigitsLost | K::SameNameAndPin { .. } | K::InvisibleName => {
                Kind::CannotLogIn
            }
            K::NotADate { .. }
            | K::NotANumber { .. }
            | K::IndexNotANumber { .. }
            | K::UnusedLabel { .. }
            | K::PhotoStale { .. }
            | K::PhotoFailed { .. }
            | K::PhotoPending { .. } => Kind::Other,
        }
    }

    /// `count` problems of this kind, in words (without the count).
    fn describe(self, w: &Words, count: usize) -> String {
        let id = format!("kind-{}", self.key().replace('_', "-"));
        w.say(&id, &[("count", count.into())])
    }

    /// The name of its theme string on the organiser's page
    /// (`admin.kind.<key>`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Error => "error",
            Kind::PinShown => "pin_shown",
            Kind::CannotLogIn => "cannot_log_in",
            Kind::LostZero => "lost_zero",
            Kind::RowSkipped => "row_skipped",
            Kind::RowIgnored => "row_ignored",
            Kind::WeakPin => "weak_pin",
            Kind::SharedName => "shared_name",
            Kind::PinAsNumber => "pin_as_number",
            Kind::AdminUnclear => "admin_unclear",
            Kind::Other => "other",
        }
    }
}

/// `problems` each once (the first of equal ones), in their order.
pub(crate) fn distinct(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    problems
        .into_iter()
        .filter(|p| {
            seen.insert((
                p.severity == Severity::Error,
                p.tab.clone(),
                p.row,
                p.column.clone(),
                p.kind.clone(),
            ))
        })
        .collect()
}

/// How many problems of each kind, most important first.
pub(crate) fn kind_counts(problems: &[Problem]) -> Vec<(Kind, usize)> {
    let mut counts: std::collections::BTreeMap<Kind, usize> = Default::default();
    for p in problems {
        *counts.entry(Kind::of(p)).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// Counts by kind, most important first: `"2 player(s) who cannot log
/// in, 120 PIN(s) shown as a number (they log in)"`.
pub(crate) fn kinds_line(problems: &[Problem], w: &Words) -> String {
    kind_counts(problems)
        .into_iter()
        .map(|(kind, n)| format!("{} {}", w.count(n), kind.describe(w, n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where `tab` comes in a report: the players' tab first, then the joined
/// tables in the config's order, then any other.
pub(crate) fn tab_rank(tab: &str, config: &Config) -> usize {
    if tab == config.players.tab {
        0
    } else {
        config
            .tables
            .iter()
            .position(|t| t.tab == tab)
            .map_or(usize::MAX, |i| i + 1)
    }
}

/// `problems` most important first ([`Kind`]), then by tab ([`tab_rank`])
/// and row.
pub(crate) fn most_important_first(problems: &mut [Problem], config: &Config) {
    problems.sort_by_cached_key(|p| (Kind::of(p), tab_rank(&p.tab, config), p.tab.clone(), p.row));
}

/// `problems` grouped by tab: the players' tab first, then the joined
/// tables in the config's order, then any other; rows in order within
/// each (a problem without a row first).
pub(crate) fn by_tab(problems: Vec<Problem>, config: &Config) -> Vec<(String, Vec<Problem>)> {
    let rank = |tab: &str| tab_rank(tab, config);
    let mut groups: Vec<(String, Vec<Problem>)> = Vec::new();
    for p in problems {
        match groups.iter_mut().find(|(tab, _)| *tab == p.tab) {
            Some((_, list)) => list.push(p),
            None => groups.push((p.tab.clone(), vec![p])),
        }
    }
    groups.sort_by(|(a, _), (b, _)| (rank(a), a).cmp(&(rank(b), b)));
    for (_, list) in &mut groups {
        list.sort_by_key(|p| p.row);
    }
    groups
}

/// Row numbers for the summary, the first few only: `rows 4, 7`,
/// « lignes 4 et 7 ».
pub(crate) fn rows_list(rows: &[usize], w: &Words) -> String {
    const SHOWN: usize = 10;
    let shown = &rows[..rows.len().min(SHOWN)];
    let more = rows.len() - shown.len();
    let list = if more > 0 {
        // "1, 2, … 10 and 3 more": the last shown is not the last row.
        shown
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(&w.say("list-sep", &[]))
    } else {
        crate::model::rows_in(shown, w)
    };
    w.say(
        "rows-list",
        &[
            ("count", rows.len().into()),
            ("rows", list.into()),
            ("more", more.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(tab: &str, row: Option<usize>, kind: ProblemKind) -> Problem {
        Problem::warning(tab, row, Some("pin"), kind)
    }

    #[test]
    fn equal_problems_are_kept_once_in_order() {
        let a = problem("Players", Some(3), ProblemKind::CommonPin);
        let b = problem("Players", Some(2), ProblemKind::LostZero);
        let out = distinct(vec![a.clone(), b.clone(), a.clone()]);
        assert_eq!(out, vec![a, b]);
    }

    #[test]
    fn rows_are_listed_up_to_ten() {
        let w = crate::i18n::words(crate::config::Lang::En);
        assert_eq!(rows_list(&[4], w), "row 4");
        assert_eq!(rows_list(&[4, 7], w), "rows 4, 7");
        let many: Vec<usize> = (1..=13).collect();
        assert_eq!(
            rows_list(&many, w),
            "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 3 more"
        );
    }

    /// One problem of every kind, with the group it counts in.
    fn every_kind() -> Vec<(ProblemKind, Kind)> {
        use crate::model::{NumberShape, PinOf, Shown};
        let cell = || Shown::cell("x");
        vec![
            (
                ProblemKind::SpansLines {
                    lines: None,
                    origin: "f".into(),
                },
                Kind::RowSkipped,
            ),
            (ProblemKind::EmptyId, Kind::RowSkipped),
            (
                ProblemKind::DuplicateId {
                    id: cell(),
                    first_row: 2,
                },
                Kind::RowSkipped,
            ),
            (ProblemKind::EmptyLogin, Kind::RowSkipped),
            (ProblemKind::EmptyPlayerId, Kind::RowIgnored),
            (
                ProblemKind::UnknownPlayer {
                    key: cell(),
                    other_case: None,
                },
                Kind::RowIgnored,
            ),
            (ProblemKind::NoPin { name: cell() }, Kind::CannotLogIn),
            (ProblemKind::PinDigitsLost, Kind::CannotLogIn),
            (ProblemKind::InvisibleName, Kind::CannotLogIn),
            (
                ProblemKind::SameNameAndPin {
                    name: cell(),
                    same_pin: vec![3],
                    other_pin: vec![],
                },
                Kind::CannotLogIn,
            ),
            (
                ProblemKind::SharedName {
                    name: cell(),
                    other_pin: vec![3],
                },
                Kind::SharedName,
            ),
            (
                ProblemKind::PinAsNumber {
                    shape: NumberShape::Grouped,
                    decimals: String::new(),
                },
                Kind::PinAsNumber,
            ),
            (ProblemKind::LostZero, Kind::LostZero),
            (ProblemKind::CommonPin, Kind::WeakPin),
            (ProblemKind::ShortPin { min: 6 }, Kind::WeakPin),
            (
                ProblemKind::PinShown {
                    pin: PinOf::ThisRow,
                    pin_column: "pin".into(),
                },
                Kind::PinShown,
            ),
            (
                ProblemKind::AdminUnclear {
                    cell: cell(),
                    yes: vec![],
                },
                Kind::AdminUnclear,
            ),
            (ProblemKind::NotADate { cell: cell() }, Kind::Other),
            (ProblemKind::NotANumber { cell: cell() }, Kind::Other),
            (ProblemKind::IndexNotANumber { cell: cell() }, Kind::Other),
            (
                ProblemKind::UnusedLabel {
                    column: "c".into(),
                    label: "l".into(),
                    nearest: None,
                },
                Kind::Other,
            ),
            (
                ProblemKind::PhotoStale {
                    photo: "u".into(),
                    why: "w".into(),
                },
                Kind::Other,
            ),
            (
                ProblemKind::PhotoFailed {
                    photo: "u".into(),
                    why: "w".into(),
                },
                Kind::Other,
            ),
            (ProblemKind::PhotoPending { photo: "u".into() }, Kind::Other),
        ]
    }

    /// Issue 24: a problem is counted by its typed kind. A `Problem` holds
    /// no sentence (it is worded from the kind, at the edge), so no count
    /// can depend on words; here every kind lands in its group, and the
    /// list must grow with the enum (the match in `Kind::of` names each).
    #[test]
    fn every_kind_is_counted_by_its_kind_not_its_words() {
        let cases = every_kind();
        let mut keys = std::collections::HashSet::new();
        for (kind, want) in cases {
            assert!(keys.insert(kind.key()), "{} twice", kind.key());
            let p = problem("Players", Some(2), kind);
            assert_eq!(Kind::of(&p), want, "{}", p.kind.key());
            assert!(!p.message().is_empty(), "{}", p.kind.key());
        }
        assert_eq!(keys.len(), 24, "every kind is listed above");
        let en = crate::i18n::words(crate::config::Lang::En);
        let fr = crate::i18n::words(crate::config::Lang::Fr);
        let lost = [problem("P", Some(2), ProblemKind::LostZero)];
        assert_eq!(kinds_line(&lost, en), "1 PIN(s) that lost a leading zero");
        assert_eq!(kinds_line(&lost, fr), "1 code qui a perdu son zéro de tête");
        let many: Vec<usize> = (1..=13).collect();
        assert_eq!(rows_list(&[4, 7], fr), "lignes 4 et 7");
        assert_eq!(
            rows_list(&many, fr),
            "lignes 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 et 3 autres"
        );
    }
}
