//! A problem is a value (issue 24): where it is (tab, row, column) and
//! what it is ([`ProblemKind`], with the values a sentence needs: the
//! cell as it may be shown, rows, counts, the nearest name). Nothing here
//! is a sentence: `gen check`, the organiser's page and the logs classify
//! by the kind, and the wording lives at the edge ([`super::wording`]), so
//! rewording or translating a message never moves a problem to another
//! kind. No value may hold a secret: a cell is kept as [`Shown`], cut,
//! hidden when it spans lines, and scrubbed of every PIN the snapshot read
//! ([`Problem::redact`]).

use std::fmt;

use super::SecretIndex;
use super::pins::NumberShape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// Something wrong with one row or cell, named for the organiser. Never
/// holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    pub severity: Severity,
    pub tab: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub kind: ProblemKind,
}

/// What a problem is, with the values its sentence needs. Grouped as the
/// organiser meets them: rows left out, players who cannot log in, PINs,
/// cells, photos.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    // --- Rows left out (the players' tab: skipped; other tabs: ignored).
    /// An id, a login name or a PIN (or another tab's key) that spans
    /// lines: the row is skipped. `lines`: the file's lines the cell runs
    /// over, when the source has lines; `origin`: the file or sheet.
    SpansLines {
        lines: Option<(u64, u64)>,
        origin: String,
    },
    /// The id cell is empty: row skipped.
    EmptyId,
    /// The id is already on `first_row`: row skipped.
    DuplicateId { id: Shown, first_row: usize },
    /// The login name cell is empty: row skipped.
    EmptyLogin,
    /// Another tab's row without a player id: ignored.
    EmptyPlayerId,
    /// Another tab's row whose id matches no player: ignored. `other_case`:
    /// the player id it matches in another case (`P001` for `p001`).
    UnknownPlayer {
        key: Shown,
        other_case: Option<String>,
    },

    // --- Players who cannot log in.
    /// No PIN in the row.
    NoPin { name: Shown },
    /// The PIN is shown in scientific notation: its digits are lost.
    PinDigitsLost,
    /// The login name folds to nothing (only invisible characters).
    InvisibleName,
    /// Same login name and same PIN as `same_pin` rows: none of them logs
    /// in. `other_pin`: rows with the name and another PIN (they log in).
    SameNameAndPin {
        name: Shown,
        same_pin: Vec<usize>,
        other_pin: Vec<usize>,
    },

    // --- PINs that log in, with a warning.
    /// The login name is on `other_pin` rows too, with other PINs.
    SharedName { name: Shown, other_pin: Vec<usize> },
    /// A PIN cell formatted as a number; its digits are the PIN.
    /// `decimals`: its decimal part as typed (`,0`, `.00`), empty without.
    PinAsNumber {
        shape: NumberShape,
        decimals: String,
    },
    /// Fewer digits than most PINs: a leading zero was probably lost.
    LostZero,
    /// One of the PINs people pick first.
    CommonPin,
    /// Shorter than `min` characters.
    ShortPin { min: usize },
    /// A cell that would show a PIN: withheld from every page.
    PinShown { pin: PinOf, pin_column: String },

    // --- Cells.
    /// An admin cell that does not mean yes: not an admin.
    AdminUnclear { cell: Shown, yes: Vec<String> },
    /// A joined tab sorted by dates has a cell that is not a date.
    NotADate { cell: Shown },
    /// A joined tab sorted by numbers has a cell that is not a number.
    NotANumber { cell: Shown },
    /// The index is sorted by numbers and this player's cell is not one.
    IndexNotANumber { cell: Shown },
    /// `[labels]` names a column no page shows.
    UnusedLabel {
        column: String,
        label: String,
        nearest: Option<crate::suggest::Nearest<String>>,
    },

    // --- Photos (`gen build`, `gen watch`).
    /// The photo could not be refreshed; the previous image stays.
    PhotoStale { photo: String, why: String },
    /// The photo is not used; the initials avatar is shown.
    PhotoFailed { photo: String, why: String },
    /// The photo is still downloading.
    PhotoPending { photo: String },
}

/// Whose PIN a withheld cell looks like.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinOf {
    /// The players' tab: the row's own PIN.
    ThisRow,
    /// The players' tab: the PIN of another row.
    Row(usize),
    /// Another tab: the PIN of `row` of the players' tab `tab`; `own`: it
    /// is the player this row belongs to.
    PlayersRow { row: usize, tab: String, own: bool },
}

/// A cell as a problem may show it: cut when long, and not at all when it
/// spans lines (a stray quote may have put other rows, PINs included, in
/// it). The wording quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Shown {
    Text(String),
    /// The first [`Shown::MAX`] characters of a longer cell.
    Cut(String),
    /// A cell spanning several lines, not shown.
    Lines,
}

impl Shown {
    pub const MAX: usize = 60;

    pub fn cell(cell: &str) -> Shown {
        if cell.contains(['\n', '\r']) {
            Shown::Lines
        } else if cell.chars().count() > Shown::MAX {
            Shown::Cut(cell.chars().take(Shown::MAX).collect())
        } else {
            Shown::Text(cell.to_string())
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Shown::Text(t) | Shown::Cut(t) => Some(t),
            Shown::Lines => None,
        }
    }
}

impl Problem {
    /// A warning at `tab`, `row`, `column`.
    pub fn warning(tab: &str, row: Option<usize>, column: Option<&str>, kind: ProblemKind) -> Self {
        Problem {
            severity: Severity::Warning,
            tab: tab.to_string(),
            row,
            column: column.map(str::to_string),
            kind,
        }
    }

    /// The sentence for the organiser, in English (the wording's
    /// catalogue: [`super::wording`]).
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// The sentence in the language of `w`.
    pub fn say(&self, w: &crate::i18n::Words) -> String {
        super::wording::say(&self.kind, w)
    }

    /// Where it is, in the language of `w`: `tab "Players", row 4,
    /// column "pin"`.
    pub fn place(&self, w: &crate::i18n::Words) -> String {
        let mut out = w.say("where-tab", &[("tab", self.tab.as_str().into())]);
        if let Some(row) = self.row {
            out.push_str(&w.say("where-row", &[("row", row.to_string().into())]));
        }
        if let Some(column) = &self.column {
            out.push_str(&w.say("where-column", &[("column", column.as_str().into())]));
        }
        out
    }

    /// Hides every PIN of `secrets` in the values taken from cells: the
    /// last line of defence for messages, as a cell quoted may equal
    /// someone's PIN (a name typed as a PIN, a PIN in the wrong column).
    pub fn redact(&mut self, secrets: &SecretIndex) {
        for text in self.kind.cell_values_mut() {
            *text = secrets.redact(text);
        }
    }
}

impl ProblemKind {
    /// The kind's stable name, for logs and catalogues (`spans_lines`,
    /// `no_pin`…): the structured field a log line carries.
    pub fn key(&self) -> &'static str {
        use ProblemKind as K;
        match self {
            K::SpansLines { .. } => "spans_lines",
            K::EmptyId => "empty_id",
            K::DuplicateId { .. } => "duplicate_id",
            K::EmptyLogin => "empty_login",
            K::EmptyPlayerId => "empty_player_id",
            K::UnknownPlayer { .. } => "unknown_player",
            K::NoPin { .. } => "no_pin",
            K::PinDigitsLost => "pin_digits_lost",
            K::InvisibleName => "invisible_name",
            K::SameNameAndPin { .. } => "same_name_and_pin",
            K::SharedName { .. } => "shared_name",
            K::PinAsNumber { .. } => "pin_as_number",
            K::LostZero => "lost_zero",
            K::CommonPin => "common_pin",
            K::ShortPin { .. } => "short_pin",
            K::PinShown { .. } => "pin_shown",
            K::AdminUnclear { .. } => "admin_unclear",
            K::NotADate { .. } => "not_a_date",
            K::NotANumber { .. } => "not_a_number",
            K::IndexNotANumber { .. } => "index_not_a_number",
            K::UnusedLabel { .. } => "unused_label",
            K::PhotoStale { .. } => "photo_stale",
            K::PhotoFailed { .. } => "photo_failed",
            K::PhotoPending { .. } => "photo_pending",
        }
    }

    /// Every value taken from a cell (or a URL in one), to redact.
    fn cell_values_mut(&mut self) -> Vec<&mut String> {
        use ProblemKind as K;
        match self {
            K::DuplicateId { id: s, .. }
            | K::UnknownPlayer { key: s, .. }
            | K::NoPin { name: s }
            | K::SameNameAndPin { name: s, .. }
            | K::SharedName { name: s, .. }
            | K::AdminUnclear { cell: s, .. }
            | K::NotADate { cell: s }
            | K::NotANumber { cell: s }
            | K::IndexNotANumber { cell: s } => s.text_mut().into_iter().collect(),
            K::PhotoStale { photo, why } | K::PhotoFailed { photo, why } => vec![photo, why],
            K::PhotoPending { photo } => vec![photo],
            K::UnusedLabel { label, .. } => vec![label],
            K::SpansLines { .. }
            | K::EmptyId
            | K::EmptyLogin
            | K::EmptyPlayerId
            | K::PinDigitsLost
            | K::InvisibleName
            | K::PinAsNumber { .. }
            | K::LostZero
            | K::CommonPin
            | K::ShortPin { .. }
            | K::PinShown { .. } => Vec::new(),
        }
    }
}

/// The English sentence ([`super::wording`]).
impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::wording::english(self))
    }
}

/// In English: `tab "Players", row 4, column "pin": …`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let en = crate::i18n::words(crate::config::Lang::En);
        write!(f, "{}: {}", self.place(en), self.message())
    }
}
