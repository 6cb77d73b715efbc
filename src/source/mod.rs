//! Where rows come from: local CSV files, workbooks, sheets published as CSV
//! ([`published`]) and the Sheets API ([`google`]), over one HTTP client
//! ([`http`]). Every source returns [`RawTables`]: untyped text cells, headers
//! first, each row with the number a person sees in the spreadsheet. This is
//! the only module that reads the data; it is never called on a player's
//! request.

pub mod cells;
pub mod file;
pub mod google;
pub mod http;
pub mod published;

use std::collections::BTreeMap;
use std::time::Instant;

use sha2::{Digest, Sha256};

pub use cells::Cells;

use crate::config::{Config, Source};
use crate::error::SourceError;

/// One tab as read: a header row and data rows padded to the header's width.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawTable {
    pub name: String,
    /// Where it came from, for messages: a file path or "Google Sheets".
    pub origin: String,
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawRow {
    /// The spreadsheet row number (the header is row 1).
    pub number: usize,
    pub cells: Cells,
    /// For a CSV file: the line this record starts on. It differs from
    /// `number` once a quoted cell spans lines, and it is what an organiser
    /// editing the file needs to find a stray quote (issue 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl RawRow {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// All configured tabs of one fetch.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RawTables {
    pub tabs: BTreeMap<String, RawTable>,
}

impl RawTables {
    pub fn get(&self, tab: &str) -> Option<&RawTable> {
        self.tabs.get(tab)
    }

    /// A digest of every cell: equal digests mean equal data.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for (name, table) in &self.tabs {
            feed(&mut h, name);
            for cell in &table.header {
                feed(&mut h, cell);
            }
            for row in &table.rows {
                h.update((row.number as u64).to_le_bytes());
                for cell in row.cells.iter() {
                    feed(&mut h, cell);
                }
            }
        }
        h.finalize().into()
    }
}

/// Length-prefixed, so ("ab","c") and ("a","bc") differ.
fn feed(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Builds a table from rows as read: the first non-empty row is the header;
/// later rows are padded (or, when longer, kept whole) to the header's width.
/// `first_number` is the spreadsheet row number of `rows[0]`.
pub fn table_from_rows<C: Into<Cells>>(
    name: &str,
    origin: &str,
    rows: impl IntoIterator<Item = (usize, C)>,
) -> RawTable {
    let mut header: Option<Vec<String>> = None;
    let mut out = Vec::new();
    for (number, cells) in rows {
        let mut cells: Cells = cells.into();
        match &header {
            None => {
                let mut h: Vec<String> = cells.iter().map(|c| c.trim().to_string()).collect();
                while h.last().is_some_and(|c| c.is_empty()) {
                    h.pop();
                }
                if !h.is_empty() {
                    header = Some(h);
                }
            }
            Some(h) => {
                cells.pad_to(h.len());
                out.push(RawRow {
                    number,
                    cells,
                    line: None,
                });
            }
        }
    }
    RawTable {
        name: name.to_string(),
        origin: origin.to_string(),
        header: header.unwrap_or_default(),
        rows: out,
    }
}

async fn off_runtime(
    f: impl FnOnce() -> Result<RawTables, SourceError> + Send + 'static,
) -> Result<RawTables, SourceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SourceError::Remote(format!("the file reader failed: {e}")))?
}

/// Reads the configured source; keeps what must outlive one cycle (the HTTP
/// client and its connection pool, a service account's access token).
#[derive(Debug)]
pub struct Fetcher {
    http: reqwest::Client,
    options: http::HttpOptions,
    tokens: google::TokenCache,
}

impl Fetcher {
    /// Production timeouts (overridable by `GEN_HTTP_TIMEOUT_MS`, for tests).
    pub fn new(config: &Config) -> Result<Fetcher, SourceError> {
        Fetcher::with_options(http::HttpOptions::for_config(config))
    }

    pub fn with_options(options: http::HttpOptions) -> Result<Fetcher, SourceError> {
        Ok(Fetcher {
            http: http::client(&options)?,
            options,
            tokens: google::TokenCache::default(),
        })
    }

    /// The Google service account's access token, when the source is a
    /// sheet read with one (photos on Drive use it, issue 8).
    pub async fn service_account_token(
        &self,
        config: &Config,
        deadline: Instant,
    ) -> Result<Option<crate::config::Secret>, SourceError> {
        match &config.source {
            Source::Google(g) => {
                google::service_account_token(&self.http, &self.options, &self.tokens, g, deadline)
                    .await
            }
            _ => Ok(None),
        }
    }

    /// Reads every tab the config names, in one pass over the source. A
    /// remote fetch, retries included, ends within `refresh_secs`.
    pub async fn fetch(&self, config: &Config) -> Result<RawTables, SourceError> {
        let tabs = config.tabs();
        let deadline = Instant::now() + config.site.refresh;
        match &config.source {
            // Disk reads can block (a hung network mount): off the async
            // workers, so a stop signal is still heard.
            Source::CsvFiles { files, encoding } => {
                let (files, encoding) = (files.clone(), *encoding);
                off_runtime(move || file::read_csv_files(&files, encoding, &tabs)).await
            }
            Source::Workbook { path } => {
                let path = path.clone();
                off_runtime(move || file::read_workbook(&path, &tabs)).await
            }
            Source::Google(g) => {
                google::fetch(&self.http, &self.options, &self.tokens, g, &tabs, deadline).await
            }
            Source::CsvUrls { urls, encoding } => {
                published::fetch(&self.http, &self.options, urls, *encoding, &tabs, deadline).await
            }
        }
    }
}
