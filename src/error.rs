//! One error enum per stage, and [`enum@Error`] that wraps them with the exit code
//! the CLI maps it to (0 ok, 1 runtime failure, 2 bad usage or config).
//! No `Display` here may contain a secret value: errors name files, keys,
//! tabs, rows and columns, never cell contents of the secret column.

use std::path::PathBuf;

use thiserror::Error;

use crate::suggest;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{}: `{key}` {message}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// Reading the rows: files, workbooks, the network.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} (tab \"{tab}\"), line {line}: {message}", path.display())]
    Csv {
        path: PathBuf,
        tab: String,
        line: u64,
        message: String,
    },
    /// A quote opened a cell and never closed it, so the rows after it
    /// were read into that cell (issue: a name typed `"Zoé Martin`). Names
    /// where the quote opens, never the cell's text (it holds other rows'
    /// PINs).
    #[error(
        "{} (tab \"{tab}\"), row {row}{at_line}, column {column}: this cell starts with a quote (\") \
         that is never closed, so {swallowed} read as part of this cell. Remove the quote, or \
         close it, then build again",
        path.display(),
        at_line = line.map_or(String::new(), |l| format!(" (line {l} of the file)")),
        swallowed = swallowed(*rows)
    )]
    UnclosedQuote {
        path: PathBuf,
        tab: String,
        row: usize,
        /// The file's line, when it is not the row's number (a quoted cell
        /// on several lines above it).
        line: Option<u64>,
        /// `"name"`, or a letter when the header has no name for it.
        column: String,
        /// Rows read into the cell.
        rows: usize,
    },
    #[error(
        "{} (tab \"{tab}\"), line {line}: not valid UTF-8 (set `encoding = \"windows-1252\"` under [source] if the file comes from Excel on Windows)",
        path.display()
    )]
    NotUtf8 {
        path: PathBuf,
        tab: String,
        line: u64,
    },
    #[error("{}: {message}", path.display())]
    Workbook { path: PathBuf, message: String },
    /// `found`: the tabs there are, as `a, b, c`; the message suggests
    /// the one `tab` was probably meant to be.
    #[error(
        "{origin}: no tab named \"{tab}\" (tabs are case-sensitive; found: {found}){hint}",
        hint = suggest::after_list(.tab, .found, "the tab")
    )]
    MissingTab {
        origin: String,
        tab: String,
        found: String,
    },
    #[error("{0}")]
    Remote(String),
    /// No HTTP answer at all (connect error, reset, timeout), after retries.
    /// `url` is redacted.
    #[error("cannot reach {url} (tried {attempts} time(s)): {message}")]
    Network {
        url: String,
        attempts: u32,
        message: String,
    },
    /// Google answered with an error; `message` says what to do about it.
    /// `share_with`: the service account's e-mail when the answer means
    /// the sheet is not shared with it (the organiser's page says so).
    #[error("Google Sheets answered HTTP {status}: {message}")]
    Google {
        status: u16,
        message: String,
        share_with: Option<String>,
    },
    /// An answer that does not have the shape of the Sheets API (an HTML
    /// page from a proxy or a captive portal, a cut-off body, wrong types).
    #[error(
        "Google answered something that is not the Sheets API (HTTP {status}, content type \"{content_type}\") from {url}: {detail}"
    )]
    NotSheetsApi {
        url: String,
        status: u16,
        content_type: String,
        detail: String,
    },
    /// The service-account key file cannot be used.
    #[error("service-account key {}: {message}", path.display())]
    Credentials { path: PathBuf, message: String },
    #[error(
        "kind = \"google\" needs credentials: a service-account key (`credentials = \"key.json\"` under [source], or env GOOGLE_APPLICATION_CREDENTIALS; the private mode) or an API key (`api_key` under [source], or env GEN_GOOGLE_API_KEY; the sheet must then be readable by anyone with its link)"
    )]
    NoGoogleAuth,
    /// The OAuth token endpoint refused the service account's JWT.
    #[error(
        "cannot get an access token for {client_email} from {token_uri} (HTTP {status}): {message}"
    )]
    Token {
        client_email: String,
        token_uri: String,
        status: u16,
        message: String,
    },
    /// A sheet published to the web as CSV did not answer with CSV.
    #[error("tab \"{tab}\": the published CSV at {url} answered HTTP {status}: {message}")]
    Published {
        tab: String,
        url: String,
        status: u16,
        message: String,
    },
}

/// What an unclosed quote swallowed, for [`SourceError::UnclosedQuote`].
fn swallowed(rows: usize) -> String {
    match rows {
        0 => "the rest of the file was".into(),
        1 => "the 1 row after it was".into(),
        n => format!("the {n} rows after it were"),
    }
}

/// The rows are there but cannot make a site (a configured column is missing).
#[derive(Debug, Error)]
pub enum ModelError {
    /// `found`: the header, as `a, b, c`; the message suggests the column
    /// `column` was probably meant to be.
    #[error(
        "tab \"{tab}\" ({origin}): no column \"{column}\" (named by `{key}` in the config); its columns are: {found}{hint}",
        hint = suggest::after_list(.column, .found, "the sheet's")
    )]
    MissingColumn {
        tab: String,
        origin: String,
        column: String,
        key: String,
        found: String,
    },
    #[error("tab \"{tab}\" ({origin}) is empty: it has no header row")]
    NoHeader { tab: String, origin: String },
}

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("cannot read the templates in {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Strings { path: PathBuf, message: String },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
}

#[derive(Debug, Error)]
pub enum PublishError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing to remove {removing} of {existing} player pages in one cycle (more than half); \
         if the sheet really lost those players, run again with --allow-mass-removal. Nothing was changed."
    )]
    MassRemoval { removing: usize, existing: usize },
    #[error("{0}")]
    Unsafe(String),
    /// The last gate before publish (issue 14) found a secret in a page.
    /// Names the pages and the rows whose secret it is, never the value.
    #[error(
        "refusing to publish: {pages} would show the secret of tab \"{tab}\", {rows}, column \"{column}\". \
         Nothing was written; the site stays as it was. Find the cell that holds it (in a CSV file, \
         a stray quote can pull rows into one cell) or, if another cell rightly has that value, \
         change the PIN"
    )]
    SecretInArtifact {
        pages: String,
        tab: String,
        rows: String,
        column: String,
    },
}

/// Any failure of a command, with the exit code it maps to.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The process could not set itself up (threads, signals).
    #[error("{0}")]
    Runtime(String),
    /// `gen check` found problems that stop a publish.
    #[error("{0} problem(s) stop this site from publishing")]
    CheckFailed(usize),
    /// An error already printed where it belongs (`gen init` prints its
    /// check's error before the next steps): `main` only sets the exit code.
    #[error(transparent)]
    Reported(Box<Error>),
}

impl Error {
    /// Whether the error was printed already ([`Error::Reported`]).
    pub fn is_reported(&self) -> bool {
        matches!(self, Error::Reported(_))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Reported(e) => e.exit_code(),
            Error::Config(_) | Error::Model(_) | Error::CheckFailed(_) => 2,
            Error::Source(
                SourceError::MissingTab { .. }
                | SourceError::Credentials { .. }
                | SourceError::UnclosedQuote { .. }
                | SourceError::NoGoogleAuth,
            ) => 2,
            Error::Source(_) | Error::Render(_) | Error::Publish(_) | Error::Runtime(_) => 1,
        }
    }
}

/// An error and its causes as one line, "outer: inner: root": the one place
/// a cause chain becomes words (callers strip URLs first: see `redact`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}
