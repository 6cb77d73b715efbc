//! `[source]`: which reader, which files or URLs, which credentials; the
//! environment's key and credentials fill in what the file leaves out. A
//! single `path`/`url` names the players tab's file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::raw::{RawSource, SourceKind};
use super::validate::{Origin, missing_tab_file};
use super::{
    DEFAULT_API_BASE, DEFAULT_DRIVE_API_BASE, Encoding, Env, GoogleSource, Secret, Source,
};
use crate::error::ConfigError;

/// Every tab needs a file (or URL) when the source is one per tab; the
/// single `path = …`/`url = …` becomes the players tab's.
pub(super) fn check_tab_files(
    source: &mut Source,
    tabs: &[&String],
    at: &Origin<'_>,
) -> Result<(), ConfigError> {
    let missing = match source {
        Source::CsvFiles { files, .. } => name_single_and_find_missing(files, tabs).map(|tab| {
            (
                tab,
                "[source.files]",
                files.keys().cloned().collect::<Vec<_>>(),
            )
        }),
        Source::CsvUrls { urls, .. } => name_single_and_find_missing(urls, tabs).map(|tab| {
            (
                tab,
                "[source.urls]",
                urls.keys().cloned().collect::<Vec<_>>(),
            )
        }),
        Source::Google(_) | Source::Workbook { .. } => None,
    };
    match missing {
        Some((tab, listed_in, given)) => {
            Err(at.invalid("source.files", missing_tab_file(&tab, listed_in, &given)))
        }
        None => Ok(()),
    }
}

/// `key`'s base URL (no trailing `/`), or `default`; http(s) only.
fn base_url(
    value: Option<&String>,
    default: &str,
    key: &str,
    at: &Origin<'_>,
) -> Result<String, ConfigError> {
    let url = value
        .map_or(default, String::as_str)
        .trim_end_matches('/')
        .to_string();
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(at.invalid(key, "must be an http(s) URL".into()))
    }
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

pub(super) fn resolve_source(
    raw: &RawSource,
    env: &Env,
    at: &Origin<'_>,
) -> Result<Source, ConfigError> {
    let resolve = |p: &Path| at.resolve(p);
    let invalid = |key: &str, message: String| at.invalid(key, message);
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
        SourceKind::Google => google(raw, env, at),
        SourceKind::Csv => csv(raw, encoding, at),
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

/// `kind = "google"`: the sheet's id, the APIs' addresses, and the key or
/// service account (the file's, else the environment's).
fn google(raw: &RawSource, env: &Env, at: &Origin<'_>) -> Result<Source, ConfigError> {
    let resolve = |p: &Path| at.resolve(p);
    let invalid = |key: &str, message: String| at.invalid(key, message);
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
    let api_base = base_url(
        raw.api_base.as_ref(),
        DEFAULT_API_BASE,
        "source.api_base",
        at,
    )?;
    let drive_api_base = base_url(
        raw.drive_api_base.as_ref(),
        DEFAULT_DRIVE_API_BASE,
        "source.drive_api_base",
        at,
    )?;
    let api_key = raw
        .api_key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .map(Secret::new)
        .or_else(|| env.google_api_key.clone());
    let credentials = raw
        .credentials
        .as_deref()
        .map(&resolve)
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

/// `kind = "csv"`: local files (one per tab) or published URLs, not both.
fn csv(raw: &RawSource, encoding: Encoding, at: &Origin<'_>) -> Result<Source, ConfigError> {
    let resolve = |p: &Path| at.resolve(p);
    let invalid = |key: &str, message: String| at.invalid(key, message);
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
