//! `site.toml` and gen's environment variables: a raw serde shape that
//! rejects unknown keys, turned into a validated [`Config`] with resolved
//! paths, durations and addresses. `parse` works on a string and an [`Env`]
//! (tests); `load` adds the file and the process environment. The only
//! reader of the environment besides logging's `RUST_LOG`. Nothing here touches the data source.
//! A file serde refuses is explained key by key in the organiser's words
//! (`SETTINGS`: what each key holds, with an example), "did you mean"
//! included, with toml's line and caret (issue 16).
//!
//! The rooms: [`raw`] (the file's shape), [`settings`] (the catalogue of
//! keys), [`explain`] (a refused file in plain words), [`validate`] (one
//! function per section), [`source`], [`served`] (what `out_dir` must not
//! hold), [`mod@env`], [`listen`].

mod env;
mod explain;
mod listen;
mod raw;
mod served;
mod settings;
mod source;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::secret::Secret;
pub use env::Env;
pub use listen::ListenAddr;

use crate::error::ConfigError;
use crate::redact;
use validate::Origin;

/// The validated configuration, paths resolved against the config's folder.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from (for messages).
    pub path: PathBuf,
    pub site: Site,
    pub source: Source,
    pub players: Players,
    pub index: Index,
    pub tables: Vec<Table>,
    /// What the player's page shows (issue 17).
    pub player_page: PlayerPage,
    /// Column name → the label pages show for it (`[labels]`): roster
    /// headers, the player's fields and the tables' columns (issue 17).
    pub labels: BTreeMap<String, String>,
    pub api: Api,
    /// `GEN_HTTP_TIMEOUT_MS`: the whole-request timeout of the source's HTTP
    /// client, for tests that simulate a hanging server. A value that is not
    /// a positive number of milliseconds is ignored.
    pub http_timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub title: String,
    pub lang: Lang,
    pub out_dir: PathBuf,
    /// `site.templates`: a folder whose files override the built-in
    /// theme's, file by file; `None`: the built-in theme alone.
    pub templates: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub refresh: Duration,
    /// `site.timezone` as written (an IANA name) and the zone it names:
    /// the pages' "data as of" time is shown in it (issue 17).
    pub timezone_name: String,
    pub timezone: jiff::tz::TimeZone,
    /// How players reach the organiser (an e-mail, a phone…), shown as
    /// text on the login page under "Forgot your PIN?"; `None`: the page
    /// says to ask the club's organiser.
    pub contact: Option<String>,
    pub visibility: Visibility,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// `[site] visibility`: who may read the pages that name or show players
/// (the roster, photos). A player's own page is private either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone: the roster and photos are public (the default).
    #[default]
    Public,
    /// Logged-in players only: without a session, nothing names or shows a
    /// player, and `/` leads to the login page.
    Players,
}

impl Visibility {
    pub fn word(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Players => "players",
        }
    }
}

/// Where the rows come from.
#[derive(Debug, Clone)]
pub enum Source {
    Google(GoogleSource),
    /// One local CSV file per tab.
    CsvFiles {
        files: BTreeMap<String, PathBuf>,
        encoding: Encoding,
    },
    /// A sheet "published to the web" as CSV: one URL per tab.
    CsvUrls {
        urls: BTreeMap<String, String>,
        encoding: Encoding,
    },
    /// A workbook (.xlsx, .xls, .ods): tabs are its sheets.
    Workbook {
        path: PathBuf,
    },
}

impl Source {
    /// A short name for logs and `gen check`.
    pub fn describe(&self) -> String {
        match self {
            Source::Google(g) => format!("Google Sheets {}", g.spreadsheet_id),
            Source::CsvFiles { files, .. } => format!("{} CSV file(s)", files.len()),
            Source::CsvUrls { urls, .. } => format!("{} published CSV URL(s)", urls.len()),
            Source::Workbook { path } => format!("workbook {}", path.display()),
        }
    }

    /// Local files whose change should trigger a cycle (`gen watch`).
    pub fn local_files(&self) -> Vec<PathBuf> {
        match self {
            Source::CsvFiles { files, .. } => files.values().cloned().collect(),
            Source::Workbook { path } => vec![path.clone()],
            Source::Google(_) | Source::CsvUrls { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GoogleSource {
    pub spreadsheet_id: String,
    pub api_base: String,
    /// From the config or `GEN_GOOGLE_API_KEY`; never printed.
    pub api_key: Option<Secret>,
    /// A service-account JSON key file (config `credentials` or
    /// `GOOGLE_APPLICATION_CREDENTIALS`).
    pub credentials: Option<PathBuf>,
    /// The Drive API, for photos on Drive read with the service account.
    pub drive_api_base: String,
    /// `[players] photo` is set: a service account's token also asks for
    /// read access to Drive files shared with it.
    pub drive_photos: bool,
}

/// Text encoding of CSV sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

#[derive(Debug, Clone)]
pub struct Players {
    pub tab: String,
    pub id: String,
    pub login: String,
    pub secret: String,
    /// Shown on the player's own page only, never on the public index.
    pub private: Vec<String>,
    pub photo: Option<String>,
    /// How often a cached photo is asked for again (conditional GET).
    pub photo_recheck: Duration,
    /// Hosts photos may come from even though they resolve to a loopback or
    /// private address (exact host names or IP literals, as in the URL).
    pub photo_allow: Vec<String>,
    /// A column that marks admin rows: only yes, oui, x, true, 1, admin or
    /// ✓ (any case; [`crate::model::ADMIN_YES`]) grant it. Admin rows may
    /// read every player page.
    pub admin: Option<String>,
}

/// The public roster page.
#[derive(Debug, Clone)]
pub struct Index {
    /// Columns shown; `None`: every public column except id and login.
    pub columns: Option<Vec<String>>,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub per_page: usize,
    /// Columns the roster's search box looks in, besides the name.
    pub filters: Vec<String>,
}

/// Another tab, joined to players by `key` (a column holding the player id).
#[derive(Debug, Clone)]
pub struct Table {
    pub tab: String,
    pub key: String,
    /// Columns shown on the player's page, in this order; `None`: every
    /// column but the key, in sheet order.
    pub columns: Option<Vec<String>>,
    /// The column each player's rows are sorted by (dates, numbers or
    /// text: `model::dates`); `None`: sheet order.
    pub sort_by: Option<String>,
    pub descending: bool,
}

/// The player's own page.
#[derive(Debug, Clone, Default)]
pub struct PlayerPage {
    /// Columns of the players tab shown as fields, in this order; `None`:
    /// every column but the id, the login (the page's title), the photo
    /// and the admin ones.
    pub fields: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Api {
    pub listen: ListenAddr,
    pub session_hours: u64,
    pub insecure_http: bool,
    /// Failed logins per client address (IPv4 address, IPv6 /64) in 15
    /// minutes before 429; 0 lifts this limit and the site-wide failure
    /// budget (load tests only).
    pub login_failures_per_address: u32,
    /// `GEN_SESSION_KEY` as set (replicas share it); `None`: the key file in
    /// `state_dir`. Its 32-character minimum is checked where the key is
    /// made (`auth::session`), when the API starts.
    pub session_key: Option<Secret>,
    /// `GEN_REFRESH_TOKEN`, trimmed; `None` (unset or blank) disables
    /// `POST /api/refresh`.
    pub refresh_token: Option<Secret>,
}

/// Rows per index page: 500 keeps a 10,000-player roster's pages well under
/// 100 KB gzipped each (issue 2).
pub const DEFAULT_PER_PAGE: usize = 500;

pub const DEFAULT_API_BASE: &str = "https://sheets.googleapis.com";
pub const DEFAULT_DRIVE_API_BASE: &str = "https://www.googleapis.com";

/// A photo is asked for again at most this often (issue 8).
pub const DEFAULT_PHOTO_RECHECK_HOURS: f64 = 6.0;

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path, &Env::from_process())
    }

    /// Validates `text` as if it were the file at `path` (relative paths in it
    /// resolve against `path`'s folder).
    pub fn parse(text: &str, path: &Path, env: &Env) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            // toml quotes the offending line, which may be a published-CSV
            // URL (a capability), a URL with a password in it, or an API key.
            message: redact::urls_in_text(&explain::hide_secret_lines(&explain::plain_words(
                text, &e,
            ))),
        })?;
        let at = Origin::of(path);
        let site = validate::site(&raw.site, &at)?;
        let mut source = source::resolve_source(&raw.source, env, &at)?;
        let players = validate::players(&raw.players, &at)?;
        if let Source::Google(g) = &mut source {
            g.drive_photos = players.photo.is_some();
        }
        let index = validate::index(&raw.index, &players, &at)?;
        let tables = validate::tables(&raw.tables, &players, &at)?;
        let player_page = validate::player_page(&raw.player_page, &players, &at)?;
        let tabs: Vec<&String> = std::iter::once(&players.tab)
            .chain(tables.iter().map(|t| &t.tab))
            .collect();
        source::check_tab_files(&mut source, &tabs, &at)?;
        served::check_served_tree(&site.out_dir, &site.state_dir, path, &source)
            .map_err(|m| at.invalid("site.out_dir", m))?;
        let api = validate::api(&raw.api, env, &at)?;
        Ok(Config {
            path: path.to_path_buf(),
            site,
            source,
            players,
            index,
            tables,
            player_page,
            labels: raw.labels.clone(),
            api,
            http_timeout: validate::http_timeout(env),
        })
    }

    /// Every tab the source must deliver: players first, then the tables.
    pub fn tabs(&self) -> Vec<String> {
        std::iter::once(self.players.tab.clone())
            .chain(self.tables.iter().map(|t| t.tab.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests;
