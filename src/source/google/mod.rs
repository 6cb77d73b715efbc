//! The Sheets API v4: every configured tab in ONE `values:batchGet` per
//! cycle, with an API key or a service account (JWT → OAuth access token,
//! cached until shortly before it expires). Google's errors become messages
//! that tell the organiser what to do; no key, token or cell value ever
//! appears in one.
//!
//! The rooms: [`auth`] (API key or service account), [`values`] (the one
//! batchGet), [`metadata`] (the tab list), [`errors`] (Google's answers in
//! the organiser's words).

mod auth;
mod errors;
mod metadata;
mod values;

use super::http::{self, HttpOptions, Target};
use crate::config::GoogleSource;
use crate::error::SourceError;
use crate::redact;
use percent_encoding::utf8_percent_encode;
use std::time::Instant;

pub use auth::*;
pub use errors::*;
pub(crate) use metadata::*;
pub use values::*;

/// What rows read from the API say they come from.
pub const ORIGIN: &str = "Google Sheets";

/// A GET of `url` (built without credentials) with the source's
/// credentials: the API key in the query, or the service account's token.
/// Returns a successful answer and the URL as messages may show it; any
/// other answer becomes advice ([`explain`]; `tabs` name the requested
/// tabs in it).
async fn get(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    url: String,
    tabs: &[String],
    deadline: Instant,
) -> Result<(http::Answer, String), SourceError> {
    request(http, opts, tokens, g, url, tabs, deadline)
        .await
        .map_err(|refused| refused.error)
}

/// [`get`], telling apart Google's "Unable to parse range" (see
/// [`Refused`]).
async fn request(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    mut url: String,
    tabs: &[String],
    deadline: Instant,
) -> Result<(http::Answer, String), Refused> {
    let refused = |error: SourceError| Refused {
        error,
        missing: None,
    };
    let auth = GoogleAuth::from_source(g).map_err(refused)?;
    let bearer = match &auth {
        GoogleAuth::ApiKey(key) => {
            url.push_str(if url.contains('?') { "&key=" } else { "?key=" });
            url.extend(utf8_percent_encode(key.expose(), QUERY_VALUE));
            None
        }
        GoogleAuth::ServiceAccount(key) => Some(
            tokens
                .get(http, opts, key, deadline)
                .await
                .map_err(refused)?,
        ),
    };
    let shown = redact::url(&url);
    let answer = http::send_with_retry(
        opts,
        &Target {
            url: &shown,
            deadline,
        },
        || {
            let request = http.get(&url);
            match &bearer {
                Some(token) => request.bearer_auth(token.expose()),
                None => request,
            }
        },
    )
    .await
    .map_err(refused)?;
    tracing::debug!(url = %shown, status = answer.status, attempts = answer.attempts, bytes = answer.body.len(), "Google answered");
    if answer.status == 401 && bearer.is_some() {
        tokens.clear().await;
    }
    if !answer.is_success() {
        return Err(Refused {
            error: explain(&answer, auth.kind(), &g.spreadsheet_id, tabs, &shown),
            missing: missing_range(&answer, tabs),
        });
    }
    Ok((answer, shown))
}

#[cfg(test)]
mod tests;
