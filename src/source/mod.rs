//! Where rows come from: local CSV files, workbooks, sheets published as CSV
//! ([`published`]) and the Sheets API ([`google`]), over one HTTP client
//! ([`http`]). Every source returns [`RawTables`]: untyped text cells, headers
//! first, each row with the number a person sees in the spreadsheet. This is
//! the only module that reads the data; it is never called on a player's
//! request.

pub mod file;
pub mod google;
pub mod http;
pub mod published;

use std::time::Instant;

pub use crate::cells::Cells;
pub use crate::table::{RawRow, RawTable, RawTables, table_from_rows};

use crate::config::{Config, Source};
use crate::error::SourceError;

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
