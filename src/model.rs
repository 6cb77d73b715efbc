//! [`RawTables`] → [`Snapshot`]: players with stable unique slugs, other tabs
//! joined to them, and the credentials split off so that nothing renderable
//! can hold a secret. Bad rows are reported as [`Problem`]s and skipped; they
//! never stop good rows from publishing. A PIN shown as a number is read as
//! its digits, or refused when digits were lost (`model/pins.rs`); players sharing a
//! login name each log in when their PINs differ. A problem never quotes a cell that
//! could hold someone else's row (one spanning lines), and every message is
//! scrubbed of the snapshot's secrets ([`secrets`]) before anyone sees it.
//! A cell that would show a PIN in any form (a phone number that is the
//! PIN) is emptied and reported (`model/withheld.rs`).

pub(crate) mod dates;
pub(crate) mod numbers;
mod pins;
pub mod secrets;
mod withheld;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::cells::Cells;
use crate::config::{Config, Secret};
use crate::error::ModelError;
use crate::table::{RawRow, RawTable, RawTables};

use pins::{NumberShape, PinCell};
pub use secrets::SecretIndex;
use withheld::{At, Owner, Withholder};

/// One immutable fetch, ready to render and to check logins against.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Public columns of the players tab, in sheet order (no secret column).
    pub columns: Vec<String>,
    pub players: Vec<Player>,
    pub tables: Vec<JoinedTable>,
    pub credentials: Credentials,
    pub problems: Vec<Problem>,
    /// The secret of every row read (skipped rows included), for the last
    /// gate before publish.
    secrets: SecretIndex,
    /// Player id → index, and slug → index.
    by_id: HashMap<String, usize>,
    /// Hex SHA-256 of everything above (secrets included, so a PIN change
    /// is a change).
    pub hash: String,
    pub fetched_at: SystemTime,
    /// When this data first appeared (`as_of`): the pages' "data as of"
    /// time; the fetch time until the cycle says otherwise.
    pub changed_at: SystemTime,
    /// When each page last showed different content (issue 17), read from
    /// `state_dir` by the cycle; empty (every page at `changed_at`) for a
    /// snapshot made elsewhere. Only rendering uses it.
    pub(crate) page_times: std::sync::Arc<crate::as_of::PageTimes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Player {
    pub id: String,
    pub slug: Slug,
    /// The login column's value, as written in the sheet.
    pub name: String,
    /// Aligned with [`Snapshot::columns`].
    pub values: Vec<String>,
    /// The spreadsheet row it came from.
    pub row: usize,
    pub admin: bool,
    /// The photo column's cell (a URL or a Drive link), when there is one;
    /// never rendered as such (the photos stage fetches it).
    pub photo: Option<String>,
}

impl Player {
    pub fn value(&self, columns: &[String], column: &str) -> Option<&str> {
        let i = columns.iter().position(|c| c == column)?;
        self.values.get(i).map(String::as_str)
    }
}

/// A URL-safe, path-safe player identifier: `[a-z0-9-]{1,64}`, never empty,
/// never `.` or `..`, so `p/<slug>/` always stays inside `out_dir`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts only what [`slugify`] can produce (for values from outside,
    /// such as a header nginx sends).
    pub fn parse(s: &str) -> Option<Slug> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Slug(s.to_string()))
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_SLUG: usize = 64;

/// Rows of another tab, grouped by the player they belong to.
#[derive(Debug, Clone)]
pub struct JoinedTable {
    pub name: String,
    /// The tab's columns without the key column.
    pub columns: Vec<String>,
    /// `rows[player_index]`: that player's rows, in sheet order.
    pub rows: Vec<Vec<Cells>>,
}

/// Login name → players and secrets. Kept apart from everything renderable.
/// Players sharing a login name (homonyms) each log in when their PINs
/// differ: name and PIN together tell them apart (issue 16).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Normalised login → the credentials of the players who log in with
    /// it, in sheet order (one, or homonyms with different PINs).
    by_login: HashMap<String, Vec<Credential>>,
    /// Player index → its normalised login and its place in `by_login`
    /// (players without one can't log in).
    login_of: HashMap<usize, (String, usize)>,
    /// The most players sharing one login: every login compares this many
    /// PINs, whatever the name, so time does not tell how many share it.
    widest: usize,
}

#[derive(Clone)]
pub struct Credential {
    pub player: usize,
    /// The PIN as the sheet meant it (the digits of a number-formatted
    /// cell); sessions are bound to it.
    pub secret: Secret,
    /// [`pins::login_digest`] of the secret: what a typed PIN is compared
    /// with.
    digest: [u8; 32],
}

/// Shows the player only: the digest of a 6-digit PIN is as good as the PIN.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("player", &self.player)
            .finish_non_exhaustive()
    }
}

impl Credential {
    fn new(player: usize, secret: String) -> Credential {
        Credential {
            player,
            digest: pins::login_digest(&secret),
            secret: Secret::new(secret),
        }
    }

    /// What a typed PIN's [`login_digest`] must equal (compare it in
    /// constant time).
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

impl Credentials {
    /// The credential of the only player who logs in with the typed name
    /// (case, accents and spacing do not matter); `None` for no one, and
    /// for homonyms (see [`Credentials::named`]). A name that folds to
    /// nothing (blank, invisible characters) is no one.
    pub fn find(&self, typed: &str) -> Option<&Credential> {
        match self.named(typed) {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The credentials of every player who logs in with the typed name:
    /// none, one, or homonyms whose PINs differ.
    pub(crate) fn named(&self, typed: &str) -> &[Credential] {
        let login = normalize_login(typed);
        if login.is_empty() {
            return &[];
        }
        self.by_login.get(&login).map_or(&[][..], Vec::as_slice)
    }

    /// The most players sharing one login name (at least 1): how many PINs
    /// each login attempt compares.
    pub(crate) fn widest(&self) -> usize {
        self.widest.max(1)
    }

    /// The credential of player `player`, if that player can log in.
    pub fn for_player(&self, player: usize) -> Option<&Credential> {
        let (login, at) = self.login_of.get(&player)?;
        self.by_login.get(login)?.get(*at)
    }

    /// How many players can log in.
    pub fn len(&self) -> usize {
        self.login_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.login_of.is_empty()
    }

    /// Every (normalised login, credential), homonyms each on their own.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Credential)> {
        self.by_login
            .iter()
            .flat_map(|(login, cs)| cs.iter().map(move |c| (login.as_str(), c)))
    }

    fn insert(&mut self, login: &str, credential: Credential) {
        let player = credential.player;
        let holders = self.by_login.entry(login.to_string()).or_default();
        holders.push(credential);
        self.widest = self.widest.max(holders.len());
        self.login_of
            .insert(player, (login.to_string(), holders.len() - 1));
    }
}

/// The digest a typed PIN is compared with a [`Credential`]'s by: spaces
/// of any kind ignored, a number typed with digit groups read as its
/// digits, the same way the sheet's PINs are read.
pub(crate) fn login_digest(typed_pin: &str) -> [u8; 32] {
    pins::login_digest(typed_pin)
}

/// What a person would type, folded: `  Zoé  ÉLOÏSE ` → `zoe eloise`.
pub fn normalize_login(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lowercase ASCII `[a-z0-9-]`, accents transliterated: `Zoé Éloïse` →
/// `zoe-eloise`. An id with no letter or digit gets `player-<hash>`.
pub fn slugify(id: &str) -> String {
    let ascii = deunicode::deunicode(id).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_SLUG - 8);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        format!(
            "player-{}",
            &hex::encode(Sha256::digest(id.as_bytes()))[..8]
        )
    } else {
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Something wrong with one row or cell, named for the organiser. Never
/// holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub tab: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
    /// What it is, when whoever raised it says so; `None`: `gen check`
    /// and the organiser's page still read the kind from the message's
    /// words (`check::Kind::of`), until every problem says its kind.
    pub kind: Option<ProblemKind>,
}

/// A problem's kind, said by the code that raises it (issue 23), so that
/// rewording or translating a message never moves it to another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A cell that would show a PIN, withheld from every page.
    PinShown,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tab \"{}\"", self.tab)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column \"{column}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Finds `column` in `table`'s header or names what is there instead.
fn column_index(table: &RawTable, column: &str, key: &str) -> Result<usize, ModelError> {
    table
        .header
        .iter()
        .position(|h| h == column)
        .ok_or_else(|| ModelError::MissingColumn {
            tab: table.name.clone(),
            origin: table.origin.clone(),
            column: column.to_string(),
            key: key.to_string(),
            found: table.header.join(", "),
        })
}

/// A tab the config names that the data does not have at all.
fn absent_tab(tab: &str) -> ModelError {
    ModelError::NoHeader {
        tab: tab.to_string(),
        origin: "the source".into(),
    }
}

/// A tab without a header row has no columns to find.
fn require_header(tab: &RawTable) -> Result<(), ModelError> {
    if tab.header.is_empty() {
        return Err(ModelError::NoHeader {
            tab: tab.name.clone(),
            origin: tab.origin.clone(),
        });
    }
    Ok(())
}

/// Where the players tab's configured columns are.
struct PlayerColumns {
    id: usize,
    login: usize,
    secret: usize,
    photo: Option<usize>,
    admin: Option<usize>,
}

/// Finds every column the config names in the players tab, in the
/// config's order. Looks for all of them even after one is missing, so
/// that `gen check` names every missing column in one run (issue 16); the
/// error is the first missing column, then the others.
fn player_columns(
    config: &Config,
    tab: &RawTable,
) -> Result<PlayerColumns, Box<(ModelError, Vec<ModelError>)>> {
    let pc = &config.players;
    let mut missing = Vec::new();
    // A missing column's index is never used: `missing` is not empty then.
    let mut find = |column: &str, key: &str| {
        column_index(tab, column, key)
            .map_err(|e| missing.push(e))
            .unwrap_or_default()
    };
    let id = find(&pc.id, "players.id");
    let login = find(&pc.login, "players.login");
    let secret = find(&pc.secret, "players.secret");
    for c in &pc.private {
        find(c, "players.private");
    }
    let photo = pc.photo.as_ref().map(|c| find(c, "players.photo"));
    let admin = pc.admin.as_ref().map(|c| find(c, "players.admin"));
    for c in config.index.columns.iter().flatten() {
        find(c, "index.columns");
    }
    if let Some(c) = &config.index.sort_by {
        find(c, "index.sort_by");
    }
    for c in &config.index.filters {
        find(c, "index.filters");
    }
    for c in config.player_page.fields.iter().flatten() {
        find(c, "player_page.fields");
    }
    let mut missing = missing.into_iter();
    match missing.next() {
        None => Ok(PlayerColumns {
            id,
            login,
            secret,
            photo,
            admin,
        }),
        Some(first) => Err(Box::new((first, missing.collect()))),
    }
}

/// `[labels]` entries for a column no page shows (a typo in the column's
/// name): each a warning with the nearest column, never silently ignored.
fn unused_labels(
    config: &Config,
    players_tab: &str,
    columns: &[String],
    tables: &[JoinedTable],
) -> Vec<Problem> {
    let shown = || {
        columns
            .iter()
            .chain(tables.iter().flat_map(|t| t.columns.iter()))
            .map(String::as_str)
    };
    config
        .labels
        .iter()
        .filter(|(column, _)| !shown().any(|c| c == column.as_str()))
        .map(|(column, label)| {
            let hint = crate::suggest::sentence(column, shown(), "the column")
                .map_or(String::new(), |s| format!(" ({s})"));
            Problem {
                severity: Severity::Warning,
                tab: players_tab.to_string(),
                row: None,
                column: Some(column.clone()),
                kind: None,
                message: format!(
                    "`[labels]` gives \"{column}\" the label \"{label}\", but no page shows a column \"{column}\"{hint}: the label is used nowhere. Write the column's name as the sheet has it"
                ),
            }
        })
        .collect()
}

/// The key column of a joined table.
fn key_column(table: &crate::config::Table, tab: &RawTable) -> Result<usize, ModelError> {
    require_header(tab)?;
    column_index(tab, &table.key, "tables.key")
}

/// Where a joined table's configured columns are: the key, the columns
/// shown (configured, or all but the key and unnamed ones) and the sort
/// column. Every missing one is named (the first is the error).
struct TableColumns {
    key: usize,
    shown: Vec<usize>,
    sort: Option<usize>,
}

fn table_columns(
    table: &crate::config::Table,
    tab: &RawTable,
) -> Result<TableColumns, Vec<ModelError>> {
    let mut missing = Vec::new();
    let key = key_column(table, tab).map_err(|e| vec![e])?;
    let mut find = |column: &str, setting: &str| {
        column_index(tab, column, setting)
            .map_err(|e| missing.push(e))
            .ok()
    };
    let shown: Vec<usize> = match &table.columns {
        Some(columns) => columns
            .iter()
            .filter_map(|c| find(c, "tables.columns"))
            .collect(),
        None => (0..tab.header.len())
            .filter(|&i| i != key && !tab.header[i].is_empty())
            .collect(),
    };
    let sort = table
        .sort_by
        .as_ref()
        .and_then(|c| find(c, "tables.sort_by"));
    if missing.is_empty() {
        Ok(TableColumns { key, shown, sort })
    } else {
        Err(missing)
    }
}

/// Every tab and column the config names that the data does not have:
/// each missing column of the players tab, each table's missing key
/// column, each tab without a header row, in the config's order. Empty
/// when [`Snapshot::build`] finds every column it needs. [`Snapshot::build`]
/// stops at the first of these; `gen check` lists them all (issue 16).
pub fn missing_columns(config: &Config, raw: &RawTables) -> Vec<ModelError> {
    let mut out = Vec::new();
    match raw.get(&config.players.tab) {
        None => out.push(absent_tab(&config.players.tab)),
        Some(tab) => match require_header(tab) {
            Err(e) => out.push(e),
            Ok(()) => {
                if let Err(missing) = player_columns(config, tab) {
                    let (first, more) = *missing;
                    out.push(first);
                    out.extend(more);
                }
            }
        },
    }
    for table in &config.tables {
        match raw.get(&table.tab) {
            None => out.push(absent_tab(&table.tab)),
            Some(tab) => out.extend(table_columns(table, tab).err().into_iter().flatten()),
        }
    }
    out
}

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

fn has_line_break(cell: &str) -> bool {
    cell.contains(['\n', '\r'])
}

/// A cell for a message: quoted, cut when long, and never shown when it
/// spans lines (a stray quote may have put other rows, PINs included, in it).
fn quoted(cell: &str) -> String {
    const MAX: usize = 60;
    if has_line_break(cell) {
        "(a cell spanning several lines, not shown)".into()
    } else if cell.chars().count() > MAX {
        format!("\"{}…\"", cell.chars().take(MAX).collect::<String>())
    } else {
        format!("\"{cell}\"")
    }
}

/// The advice every damaged-PIN problem ends with (issue 16: the
/// organiser should know which menu to open).
pub(crate) const PLAIN_TEXT_ADVICE: &str =
    "format the PIN column as Plain text in the sheet (Format → Number → Plain text)";

/// What to tell the organiser about a PIN cell shown as a number, if
/// anything. Never quotes the cell.
fn pin_cell_message(pin: &PinCell) -> Option<String> {
    let shown = match pin {
        PinCell::Number { shape, .. } => match shape {
            NumberShape::Grouped => {
                "shown as a number with its digits in groups (a space, comma or dot between \
                 groups of three digits)"
            }
            NumberShape::ZeroDecimal => "shown as a number with decimals (\".0\")",
            NumberShape::GroupedZeroDecimal => {
                "shown as a number with its digits in groups and decimals (\".00\")"
            }
        },
        PinCell::Scientific => {
            return Some(format!(
                "this PIN is shown in scientific notation (a number with \"E+\"): the sheet \
                 kept only its first digits, so this player cannot log in. To fix it, \
                 {PLAIN_TEXT_ADVICE}, then retype this PIN in full"
            ));
        }
        PinCell::Empty | PinCell::Text(_) => return None,
    };
    Some(format!(
        "this PIN is {shown}: its digits alone are the PIN, and the player logs in by typing \
         them (spaces are ignored). To be safe, {PLAIN_TEXT_ADVICE}, or a PIN starting with 0 \
         loses its 0"
    ))
}

/// The first of `keys` (id, login, secret) in `row` that spans lines: none
/// may hold a line break, and the cells after it may have come from other
/// lines. A quote that swallowed rows never gets here: the CSV reader
/// refuses the file ([`crate::error::SourceError::UnclosedQuote`]).
fn runaway_cell(row: &RawRow, keys: &[usize]) -> Option<usize> {
    row.cells
        .iter()
        .enumerate()
        .position(|(i, c)| has_line_break(c) && keys.contains(&i))
}

/// What to tell the organiser about a row refused by [`runaway_cell`].
/// Names lines, never the cell's text.
fn runaway_message(row: &RawRow, column: usize, origin: &str) -> String {
    let breaks = |c: &str| c.matches('\n').count() as u64;
    match row.line {
        Some(line) => {
            let open = line + row.cells.iter().take(column).map(breaks).sum::<u64>();
            let close = open + row.cells.get(column).map_or(0, breaks);
            format!(
                "this cell runs from line {open} to line {close} of {origin}, and an id, a login \
                 name or a PIN cannot hold a line break: row skipped; retype the cell on one line"
            )
        }
        None => "this cell holds a line break, which an id, a login name or a PIN cannot \
                 have: row skipped; retype the cell on one line"
            .into(),
    }
}

impl Snapshot {
    /// What the API serves once the pages are published: logins, slugs,
    /// admin rows and the data's age, without what only rendering needed
    /// (the joined tables, the players' column values, the photo cells,
    /// the problems). At 10,000 players with 20 matches each the tables
    /// are most of the snapshot, and `gen watch` holds this between cycles
    /// (issue 15). The hash stays: it still names the data.
    pub fn into_served(mut self) -> Snapshot {
        self.tables = Vec::new();
        self.columns = Vec::new();
        self.problems = Vec::new();
        self.page_times = std::sync::Arc::default();
        for p in &mut self.players {
            p.values = Vec::new();
            p.photo = None;
        }
        self
    }

    /// Builds the snapshot. Fails only when the config names a tab or column
    /// the data does not have; bad rows become [`Problem`]s.
    /// Takes the raw tables by value: their cells move into the snapshot
    /// instead of being copied (a 10,000-player roster is tens of MB).
    pub fn build(config: &Config, raw: RawTables) -> Result<Snapshot, ModelError> {
        let pc = &config.players;
        let mut tabs = raw.tabs;
        let mut tab = tabs.remove(&pc.tab).ok_or_else(|| absent_tab(&pc.tab))?;
        require_header(&tab)?;
        let PlayerColumns {
            id: id_col,
            login: login_col,
            secret: secret_col,
            photo: photo_col,
            admin: admin_col,
        } = player_columns(config, &tab).map_err(|missing| missing.0)?;
        let tab_rows = std::mem::take(&mut tab.rows);

        let mut problems = Vec::new();
        let mut problem = |severity, row: usize, column: &str, message: String| {
            problems.push(Problem {
                severity,
                tab: tab.name.clone(),
                row: Some(row),
                column: Some(column.to_string()),
                message,
                kind: None,
            })
        };

        // Public columns: everything but the secret. Duplicate header names
        // keep the first.
        let public: Vec<usize> = (0..tab.header.len())
            .filter(|&i| i != secret_col && !tab.header[i].is_empty())
            .filter(|&i| tab.header[..i].iter().all(|h| h != &tab.header[i]))
            .collect();
        let columns: Vec<String> = public.iter().map(|&i| tab.header[i].clone()).collect();

        struct Kept {
            id: String,
            name: String,
            values: Vec<String>,
            row: usize,
            admin: bool,
            pin: PinCell,
            photo: Option<String>,
        }
        let mut kept: Vec<Kept> = Vec::new();
        let mut first_row_of_id: HashMap<String, usize> = HashMap::new();
        // Every row's secret, skipped rows included: none may be published.
        let mut all_secrets: Vec<(usize, String)> = Vec::new();
        let keys = [id_col, login_col, secret_col];
        for row in tab_rows {
            if row.is_blank() {
                continue;
            }
            if let Some(secret) = row.cells.get(secret_col)
                && !has_line_break(secret)
            {
                let secret = secret.trim();
                all_secrets.push((row.number, secret.to_string()));
                // The PIN as logins take it (`739164` for `739 164`) is
                // the one a page must never show.
                let typed = pins::login_form(secret);
                if typed != secret {
                    all_secrets.push((row.number, typed));
                }
            }
            if let Some(col) = runaway_cell(&row, &keys) {
                let column = tab.header.get(col).map_or("", String::as_str);
                problem(
                    Severity::Warning,
                    row.number,
                    column,
                    runaway_message(&row, col, &tab.origin),
                );
                continue;
            }
            let cells = row.cells;
            let cell = |i: usize| cells.get(i).map_or("", str::trim);
            let id = cell(id_col).to_string();
            let name = cell(login_col).to_string();
            if id.is_empty() {
                problem(
                    Severity::Warning,
                    row.number,
                    &pc.id,
                    "empty id; row skipped".into(),
                );
                continue;
            }
            if let Some(first) = first_row_of_id.get(&id) {
                problem(
                    Severity::Warning,
                    row.number,
                    &pc.id,
                    format!(
                        "duplicate id {} (already on row {first}); row skipped",
                        quoted(&id)
                    ),
                );
                continue;
            }
            if name.is_empty() {
                problem(
                    Severity::Warning,
                    row.number,
                    &pc.login,
                    "empty login name; row skipped".into(),
                );
                continue;
            }
            first_row_of_id.insert(id.clone(), row.number);
            let admin = match admin_col.map(|c| (c, admin_cell(cell(c)))) {
                Some((_, AdminCell::Yes)) => true,
                Some((c, AdminCell::Unclear)) => {
                    problem(
                        Severity::Warning,
                        row.number,
                        tab.header.get(c).map_or("", String::as_str),
                        format!(
                            "{} does not mean yes, so this row is not an admin. To make it \
                             an admin write one of {}; to say no, leave the cell empty or write no",
                            quoted(cell(c)),
                            ADMIN_YES.join(", ")
                        ),
                    );
                    false
                }
                _ => false,
            };
            let pin = pins::read_pin(cell(secret_col));
            if let Some(message) = pin_cell_message(&pin) {
                problem(Severity::Warning, row.number, &pc.secret, message);
            }
            let photo = photo_col
                .map(|c| cell(c).to_string())
                .filter(|c| !c.is_empty());
            kept.push(Kept {
                id,
                name,
                values: public.iter().map(|&i| cell(i).to_string()).collect(),
                row: row.number,
                admin,
                pin,
                photo,
            });
        }

        let slugs = unique_slugs(kept.iter().map(|k| k.id.as_str()));

        // Credentials. Players sharing a login name each log in with their
        // own PIN; those whose PINs are the same too can't be told apart,
        // so none of them logs in (issue 16).
        let mut by_login: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in kept.iter().enumerate() {
            by_login
                .entry(normalize_login(&k.name))
                .or_default()
                .push(i);
        }
        // Logins in sheet order: `widest` and the problems do not depend on
        // a hash map's order.
        let mut by_login: Vec<(String, Vec<usize>)> = by_login.into_iter().collect();
        by_login.sort_by_key(|(_, holders)| holders.first().copied());
        let mut credentials = Credentials::default();
        for (login, holders) in by_login {
            if login.is_empty() {
                // Only invisible characters (a zero-width space): an empty
                // typed name would have matched it (issue 14).
                for &i in &holders {
                    problem(
                        Severity::Warning,
                        kept[i].row,
                        &pc.login,
                        "this login name has no letter or digit once spaces and invisible \
                         characters are left out, so nobody can type it: this player cannot log in; \
                         retype the name in the sheet"
                            .into(),
                    );
                }
                continue;
            }
            // Holders with a PIN one can type, and that PIN's digest.
            let mut usable: Vec<(usize, Credential)> = Vec::new();
            for &i in &holders {
                let k = &kept[i];
                match k.pin.pin() {
                    Some(pin) => usable.push((i, Credential::new(i, pin.to_string()))),
                    // Scientific notation was reported with the row.
                    None if k.pin == PinCell::Scientific => {}
                    None => problem(
                        Severity::Warning,
                        k.row,
                        &pc.secret,
                        format!("no PIN for {}: this player cannot log in", quoted(&k.name)),
                    ),
                }
            }
            let row_list = |rows: &[usize]| {
                rows.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut admitted = Vec::with_capacity(usable.len());
            for (i, credential) in &usable {
                let (mut same_pin, mut other_pin) = (Vec::new(), Vec::new());
                for (j, other) in usable.iter().filter(|(j, _)| j != i) {
                    if other.digest() == credential.digest() {
                        same_pin.push(kept[*j].row);
                    } else {
                        other_pin.push(kept[*j].row);
                    }
                }
                let name = quoted(&kept[*i].name);
                let message = match (same_pin.is_empty(), other_pin.is_empty()) {
                    (true, true) => None,
                    (true, false) => Some(format!(
                        "login name {name} is also on row {}: each of these players logs in \
                         with their own PIN (name and PIN tell them apart), but if their PINs \
                         were ever the same neither could log in; to be safe, make the names \
                         differ (add an initial)",
                        row_list(&other_pin)
                    )),
                    (false, _) => {
                        let mut m = format!(
                            "login name {name} and its PIN are the same as on row {}: neither \
                             row can log in until the names or the PINs differ (add an initial \
                             to one name, or give one player another PIN)",
                            row_list(&same_pin)
                        );
                        if !other_pin.is_empty() {
                            m.push_str(&format!(
                                "; row {} has this name with another PIN and logs in",
                                row_list(&other_pin)
                            ));
                        }
                        Some(m)
                    }
                };
                if let Some(message) = message {
                    problem(Severity::Warning, kept[*i].row, &pc.login, message);
                }
                admitted.push(same_pin.is_empty());
            }
            for ((_, credential), admit) in usable.into_iter().zip(admitted) {
                if admit {
                    credentials.insert(&login, credential);
                }
            }
        }

        // Every PIN read, skipped rows' included: none may be published.
        let secrets = SecretIndex::new(all_secrets.iter().map(|(r, s)| (*r, s.as_str())));
        let withholder = Withholder {
            secrets: &secrets,
            players_tab: &tab.name,
            pin_column: &pc.secret,
        };
        // Each player's PIN as digits, looked for inside their own cells.
        let own_digits: Vec<Option<Vec<u8>>> = kept
            .iter()
            .map(|k| k.pin.pin().and_then(secrets::pin_digits))
            .collect();
        let owner = |p: usize| Owner {
            row: kept[p].row,
            digits: own_digits[p].as_deref(),
        };
        // The id, the name and the photo are never shown as cells: a PIN
        // there is the last gate's to refuse.
        let not_cells = [Some(&pc.id), Some(&pc.login), pc.photo.as_ref()];
        let mut withheld = Vec::new();
        for (p, k) in kept.iter().enumerate() {
            for (c, (value, column)) in k.values.iter().zip(&columns).enumerate() {
                if not_cells.contains(&Some(column)) {
                    continue;
                }
                let at = At {
                    tab: &tab.name,
                    row: k.row,
                    column,
                };
                if let Some(found) = withholder.check(value, owner(p), at) {
                    withheld.push((p, c));
                    problems.push(found);
                }
            }
        }

        let index_of_id: HashMap<&str, usize> = kept
            .iter()
            .enumerate()
            .map(|(i, k)| (k.id.as_str(), i))
            .collect();
        // A key typed in another case (`P001` for `p001`) is named as such.
        let id_of_folded: HashMap<String, &str> = kept
            .iter()
            .map(|k| (k.id.to_lowercase(), k.id.as_str()))
            .collect();
        let mut tables = Vec::new();
        for tc in &config.tables {
            let mut t = tabs.remove(&tc.tab).ok_or_else(|| absent_tab(&tc.tab))?;
            let TableColumns {
                key: key_col,
                shown,
                sort,
            } = table_columns(tc, &t).map_err(|missing| {
                missing
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| absent_tab(&tc.tab))
            })?;
            // The sort column rides at the end of each row until sorted.
            let carried: Vec<usize> = shown.iter().copied().chain(sort).collect();
            let mut rows: Vec<Vec<(usize, Cells)>> = vec![Vec::new(); kept.len()];
            for row in std::mem::take(&mut t.rows) {
                if row.is_blank() {
                    continue;
                }
                if let Some(col) = runaway_cell(&row, &[key_col]) {
                    problems.push(Problem {
                        severity: Severity::Warning,
                        tab: t.name.clone(),
                        row: Some(row.number),
                        column: t.header.get(col).cloned(),
                        message: runaway_message(&row, col, &t.origin),
                        kind: None,
                    });
                    continue;
                }
                let cells = row.cells;
                let key = cells.get(key_col).map_or("", str::trim);
                match index_of_id.get(key) {
                    Some(&p) => {
                        let mut row_cells: Vec<&str> = carried
                            .iter()
                            .map(|&i| cells.get(i).map_or("", str::trim))
                            .collect();
                        for &col in &shown {
                            let Some(at) = carried.iter().position(|&i| i == col) else {
                                continue;
                            };
                            let at_cell = At {
                                tab: &t.name,
                                row: row.number,
                                column: &t.header[col],
                            };
                            if let Some(found) = withholder.check(row_cells[at], owner(p), at_cell)
                            {
                                problems.push(found);
                                // The sort column's copy too, when shown.
                                for (cell, &i) in row_cells.iter_mut().zip(&carried) {
                                    if i == col {
                                        *cell = "";
                                    }
                                }
                            }
                        }
                        rows[p].push((row.number, row_cells.into_iter().collect()));
                    }
                    None => problems.push(Problem {
                        severity: Severity::Warning,
                        tab: t.name.clone(),
                        row: Some(row.number),
                        column: Some(tc.key.clone()),
                        kind: None,
                        message: if key.is_empty() {
                            "empty player id; row ignored".into()
                        } else {
                            let case = id_of_folded
                                .get(&key.to_lowercase())
                                .and_then(|id| {
                                    crate::suggest::sentence(key, [*id], "the player id")
                                })
                                .map_or(String::new(), |s| format!(". {s}"));
                            format!("{} matches no player; row ignored{case}", quoted(key))
                        },
                    }),
                }
            }
            if let (Some(_), Some(column)) = (sort, &tc.sort_by) {
                let spec = dates::SortSpec {
                    tab: &t.name,
                    column,
                    at: shown.len(),
                    descending: tc.descending,
                };
                problems.extend(dates::sort_rows(&spec, &mut rows));
            }
            let width = shown.len();
            let rows: Vec<Vec<Cells>> = rows
                .into_iter()
                .map(|player_rows| {
                    let mut out: Vec<Cells> = player_rows
                        .into_iter()
                        .map(|(_, cells)| compact(cells.iter().take(width).collect()))
                        .collect();
                    out.shrink_to_fit();
                    out
                })
                .collect();
            tables.push(JoinedTable {
                name: t.name.clone(),
                columns: shown.iter().map(|&i| t.header[i].clone()).collect(),
                rows,
            });
        }

        for (p, c) in withheld {
            if let Some(value) = kept[p].values.get_mut(c) {
                value.clear();
            }
        }
        problems.extend(unused_labels(config, &tab.name, &columns, &tables));
        problems.extend(numbers::sort_column_problems(
            config,
            &tab.name,
            &columns,
            kept.iter().map(|k| (k.row, k.values.as_slice())),
        ));
        // Last line of defence for messages: a cell quoted above may equal
        // someone's PIN (a name typed as a PIN, a PIN in the wrong column).
        for p in &mut problems {
            p.message = secrets.redact(&p.message);
        }
        problems.sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
        let players: Vec<Player> = kept
            .into_iter()
            .zip(slugs)
            .map(|(k, slug)| Player {
                id: k.id,
                slug,
                name: k.name,
                values: k.values,
                row: k.row,
                admin: k.admin,
                photo: k.photo,
            })
            .collect();
        let hash = content_hash(&columns, &players, &tables, &credentials);
        let by_id = players
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        Ok(Snapshot {
            by_id,
            columns,
            players,
            tables,
            credentials,
            problems,
            secrets,
            hash,
            fetched_at: SystemTime::now(),
            changed_at: SystemTime::now(),
            page_times: std::sync::Arc::default(),
        })
    }

    /// Every secret of the rows read, for the last gate before publish.
    pub fn secrets(&self) -> &SecretIndex {
        &self.secrets
    }

    pub fn player_by_id(&self, id: &str) -> Option<(usize, &Player)> {
        let &i = self.by_id.get(id)?;
        Some((i, self.players.get(i)?))
    }
}

/// `cells` without spare capacity: a clone allocates exactly what it
/// holds, where a row built cell by cell keeps up to half of its buffers
/// unused. The snapshot keeps every joined row for as long as it is in
/// force (200,000 of them at 10,000 players × 20 matches; issue 15).
fn compact(cells: Cells) -> Cells {
    cells.clone()
}

/// Slugs for ids in order, unique: among ids sharing a base slug, the one
/// that sorts first keeps it and the others get a suffix from a hash of
/// their own id, so a slug never depends on row order.
fn unique_slugs<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<Slug> {
    let ids: Vec<&str> = ids.collect();
    let bases: Vec<String> = ids.iter().map(|id| slugify(id)).collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, base) in bases.iter().enumerate() {
        groups.entry(base).or_default().push(i);
    }
    let mut out: Vec<Option<String>> = vec![None; ids.len()];
    for members in groups.values() {
        // An id that already is its slug ("zoe") keeps it; otherwise the id
        // that sorts first does.
        let first = members
            .iter()
            .min_by_key(|&&i| (ids[i] != bases[i], ids[i]));
        for &i in members {
            out[i] = Some(if Some(&i) == first {
                bases[i].clone()
            } else {
                let digest = hex::encode(Sha256::digest(ids[i].as_bytes()));
                format!("{}-{}", bases[i], &digest[..6])
            });
        }
    }
    // A suffixed slug that hits another base slug (astronomically rare):
    // lengthen its hash until it is unique.
    let mut seen = std::collections::HashSet::new();
    out.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut slug = s.unwrap_or_else(|| bases[i].clone());
            let mut n = 2;
            while !seen.insert(slug.clone()) {
                slug = format!("{}-{n}", bases[i]);
                n += 1;
            }
            Slug(slug)
        })
        .collect()
}

fn content_hash(
    columns: &[String],
    players: &[Player],
    tables: &[JoinedTable],
    credentials: &Credentials,
) -> String {
    let mut h = Sha256::new();
    let mut feed = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    columns.iter().for_each(|c| feed(c));
    for p in players {
        feed(&p.id);
        feed(p.slug.as_str());
        feed(&p.name);
        feed(if p.admin { "admin" } else { "" });
        p.values.iter().for_each(|v| feed(v));
    }
    for t in tables {
        feed(&t.name);
        t.columns.iter().for_each(|c| feed(c));
        for (player, rows) in t.rows.iter().enumerate() {
            feed(&player.to_string());
            rows.iter().flat_map(Cells::iter).for_each(&mut feed);
        }
    }
    let mut logins: Vec<_> = credentials.iter().collect();
    logins.sort_by_key(|(login, c)| (*login, c.player));
    for (login, c) in logins {
        feed(login);
        feed(&c.player.to_string());
        feed(c.secret.expose());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config naming `secret`, `sort_by` and a Matches table keyed by
    /// `key`, over a players tab `id,name,pin,Points` and a Matches tab
    /// `player_id,date`.
    fn columns_case(secret: &str, sort_by: &str, key: &str) -> (Config, RawTables) {
        let text = format!(
            "[site]\ntitle = \"T\"\n[source]\nkind = \"csv\"\n[source.files]\n\
             Players = \"p.csv\"\nMatches = \"m.csv\"\n[players]\ntab = \"Players\"\n\
             id = \"id\"\nlogin = \"name\"\nsecret = \"{secret}\"\n[index]\n\
             sort_by = \"{sort_by}\"\n[[tables]]\ntab = \"Matches\"\nkey = \"{key}\"\n"
        );
        let config = Config::parse(
            &text,
            std::path::Path::new("/nonexistent-sheetgen-test/site.toml"),
            &crate::config::Env::default(),
        )
        .unwrap();
        let tab = |name: &str, header: &[&str]| RawTable {
            name: name.into(),
            origin: format!("{name}.csv"),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        };
        let mut raw = RawTables::default();
        raw.tabs.insert(
            "Players".into(),
            tab("Players", &["id", "name", "pin", "Points"]),
        );
        raw.tabs
            .insert("Matches".into(), tab("Matches", &["player_id", "date"]));
        (config, raw)
    }

    #[test]
    fn every_missing_column_is_found_and_build_stops_at_the_first() {
        let (config, raw) = columns_case("code", "Pionts", "player");
        let missing: Vec<(String, String)> = missing_columns(&config, &raw)
            .into_iter()
            .map(|e| match e {
                ModelError::MissingColumn { tab, key, .. } => (tab, key),
                other => panic!("not a missing column: {other}"),
            })
            .collect();
        let expected = [
            ("Players", "players.secret"),
            ("Players", "index.sort_by"),
            ("Matches", "tables.key"),
        ]
        .map(|(t, k)| (t.to_string(), k.to_string()));
        assert_eq!(missing, expected);
        match Snapshot::build(&config, raw) {
            Err(ModelError::MissingColumn { key, .. }) => assert_eq!(key, "players.secret"),
            other => panic!("{other:?}"),
        }

        let (config, raw) = columns_case("pin", "Points", "player_id");
        assert!(missing_columns(&config, &raw).is_empty());
        assert!(Snapshot::build(&config, raw).is_ok());
    }

    /// Issue 23: a cell that would show a PIN is emptied, on the players'
    /// tab and on a joined one, and named with a typed kind; the id and the
    /// name are left to the last gate.
    #[test]
    fn cells_that_would_show_a_pin_are_withheld_and_named() {
        let (config, mut raw) = columns_case("pin", "Points", "player_id");
        let mut fill = |tab: &str, rows: &[&[&str]]| {
            let t = raw.tabs.get_mut(tab).unwrap();
            for (i, cells) in rows.iter().enumerate() {
                t.rows.push(RawRow {
                    number: i + 2,
                    cells: cells.iter().collect(),
                    line: None,
                });
            }
        };
        fill(
            "Players",
            &[
                &["a1", "Alice", "0612345678", "06 12 34 56 78"],
                &["b2", "Bob 987654", "987654", "12"],
            ],
        );
        fill(
            "Matches",
            &[
                &["a1", "98-76-54"],
                &["b2", "2026-09-06"],
                &["a1", "+33 6 12 34 56 78"],
            ],
        );
        let s = Snapshot::build(&config, raw).unwrap();
        let points = |p: usize| s.players[p].value(&s.columns, "Points");
        assert_eq!((points(0), points(1)), (Some(""), Some("12")));
        assert_eq!(s.players[1].name, "Bob 987654", "a name is not a cell");
        let dates: Vec<Vec<String>> = s.tables[0]
            .rows
            .iter()
            .flat_map(|rows| rows.iter().map(|c| c.iter().map(String::from).collect()))
            .collect();
        assert_eq!(dates, [vec![""], vec![""], vec!["2026-09-06"]]);
        let found: Vec<(&str, Option<usize>, Option<&str>)> = s
            .problems
            .iter()
            .filter(|p| p.kind == Some(ProblemKind::PinShown))
            .map(|p| (p.tab.as_str(), p.row, p.column.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("Matches", Some(2), Some("date")),
                ("Matches", Some(4), Some("date")),
                ("Players", Some(2), Some("Points")),
            ]
        );
        for p in &s.problems {
            for secret in ["0612345678", "987654", "06 12", "98-76"] {
                assert!(!p.message.contains(secret), "{p}");
            }
        }
        let own = s.problems.iter().find(|p| p.tab == "Players").unwrap();
        assert!(
            own.message.contains("this row's PIN (column \"pin\")"),
            "{own}"
        );
    }

    #[test]
    fn slugs_are_ascii_and_path_safe() {
        assert_eq!(slugify("Zoé Éloïse"), "zoe-eloise");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(
            slugify("<script>alert(1)</script>"),
            "script-alert-1-script"
        );
        assert!(slugify("..").starts_with("player-"));
        assert!(slugify("").starts_with("player-"));
        let long = "x".repeat(500);
        assert!(slugify(&long).len() <= MAX_SLUG);
        for s in ["..", "a/b", "日本", "   "] {
            assert!(Slug::parse(&slugify(s)).is_some(), "{s}");
        }
    }

    #[test]
    fn colliding_slugs_are_unique_and_independent_of_order() {
        let a = unique_slugs(["Zoé", "zoe", "ZOE"].into_iter());
        let b = unique_slugs(["ZOE", "Zoé", "zoe"].into_iter());
        let sa: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(sa.len(), 3);
        // Same id, same slug, whatever the order.
        assert_eq!(a[0], b[1]);
        assert_eq!(a[1], b[2]);
        assert_eq!(a[2], b[0]);
        // The id that already is its slug keeps it.
        assert_eq!(a[1].as_str(), "zoe");
        let c = unique_slugs(["Zoé", "ZOE"].into_iter());
        assert_eq!(c[1].as_str(), "zoe"); // no exact match: "ZOE" sorts first
    }

    #[test]
    fn logins_fold_case_accents_and_spaces() {
        assert_eq!(normalize_login("  Zoé   ÉLOÏSE "), "zoe eloise");
        // Invisible only: folds to nothing, and nothing is no one.
        assert_eq!(normalize_login("\u{200b}\u{200b}"), "");
        assert!(Credentials::default().find("").is_none());
    }

    #[test]
    fn homonyms_are_told_apart_by_their_pins() {
        let mut c = Credentials::default();
        assert_eq!(c.widest(), 1, "an empty roster still compares one PIN");
        c.insert("sam martin", Credential::new(0, "482913".into()));
        c.insert("ann", Credential::new(1, "615482".into()));
        c.insert("sam martin", Credential::new(3, "739164".into()));
        assert_eq!((c.len(), c.widest()), (3, 2));
        let players =
            |typed: &str| -> Vec<usize> { c.named(typed).iter().map(|x| x.player).collect() };
        assert_eq!(players("  SAM  Martin"), [0, 3]);
        assert_eq!(players("Ann"), [1]);
        assert!(players("").is_empty() && players("nobody").is_empty());
        // `find` is for a name only one player has.
        assert!(c.find("sam martin").is_none());
        assert_eq!(c.find("ann").map(|x| x.player), Some(1));
        assert_eq!(c.for_player(3).map(|x| x.secret.expose()), Some("739164"));
        assert!(c.for_player(2).is_none());
        // Typed with spaces or digit groups, the same PIN.
        assert_eq!(
            c.for_player(3).map(Credential::digest),
            Some(&login_digest("739 164"))
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("739164") && !debug.contains("digest"),
            "{debug}"
        );
    }

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

    #[test]
    fn cells_spanning_lines_are_never_quoted() {
        assert_eq!(quoted("Zoé"), "\"Zoé\"");
        assert_eq!(
            quoted("Bob,551204\na3,Carol,660127"),
            "(a cell spanning several lines, not shown)"
        );
        assert!(quoted(&"x".repeat(500)).len() < 80);
    }
}
