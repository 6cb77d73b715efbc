//! Sheets "published to the web" as CSV (`…/pub?output=csv`, or the
//! `/export?format=csv&gid=…` form): one GET per tab, redirects followed, the
//! body decoded like a local CSV file. No credentials: anyone with these
//! URLs can read them, so they are capabilities and never shown beyond their
//! host.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::RawTables;
use super::file::parse_csv;
use super::http::{self, HttpOptions, Target};
use crate::config::Encoding;
use crate::error::SourceError;
use crate::redact;

/// Reads the published CSV of every tab in `tabs`.
pub async fn fetch(
    client: &reqwest::Client,
    opts: &HttpOptions,
    urls: &BTreeMap<String, String>,
    encoding: Encoding,
    tabs: &[String],
    deadline: Instant,
) -> Result<RawTables, SourceError> {
    let mut out = RawTables::default();
    for tab in tabs {
        let url = urls.get(tab).ok_or_else(|| SourceError::MissingTab {
            origin: "[source.urls]".into(),
            tab: tab.clone(),
            found: urls.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        // Whoever holds this URL reads every PIN: messages and logs show
        // its host only (issue 14).
        let shown = redact::capability_url(url);
        let answer = http::send_with_retry(
            opts,
            &Target {
                url: &shown,
                deadline,
            },
            || client.get(url),
        )
        .await
        .map_err(|e| match e {
            // The host alone does not say which tab's URL it was.
            SourceError::Network {
                url,
                attempts,
                message,
            } => SourceError::Network {
                url: format!("the published CSV of tab \"{tab}\" at {url}"),
                attempts,
                message,
            },
            other => other,
        })?;
        let failed = |message: &str| SourceError::Published {
            tab: tab.clone(),
            url: shown.clone(),
            status: answer.status,
            message: message.to_string(),
        };
        if !answer.is_success() {
            return Err(failed(match answer.status {
                400..500 => {
                    "is the sheet still published to the web (File → Share → Publish to web → CSV) and the URL complete?"
                }
                _ => {
                    "Google is failing on its side; the last good site stays up and the next cycle tries again"
                }
            }));
        }
        if is_html(&answer.content_type, &answer.body) {
            return Err(failed(&format!(
                "an HTML page (content type \"{}\") instead of CSV: the sheet is probably not published, or the link asks to sign in; publish it as CSV (File → Share → Publish to web)",
                answer.content_type
            )));
        }
        // Parse errors name the tab themselves.
        let origin = format!("published CSV at {shown}");
        let mut table = parse_csv(tab, Path::new(&origin), &answer.body, encoding)?;
        table.origin = origin;
        out.tabs.insert(tab.clone(), table);
    }
    Ok(out)
}

fn is_html(content_type: &str, body: &[u8]) -> bool {
    let head = body.trim_ascii_start();
    let prefix = &head[..head.len().min(15)];
    content_type.to_ascii_lowercase().contains("text/html")
        || prefix.eq_ignore_ascii_case(b"<!doctype html>")
        || prefix.to_ascii_lowercase().starts_with(b"<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_recognised_by_type_or_body() {
        assert!(is_html("text/html; charset=utf-8", b"id,name"));
        assert!(is_html("text/csv", b"  <!DOCTYPE html><html>"));
        assert!(is_html("", b"<HTML><body>"));
        assert!(!is_html("text/csv", b"id,name\n1,<b>\n"));
    }
}
