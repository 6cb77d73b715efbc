//! `values:batchGet`: every configured tab in ONE request per cycle, and
//! its answer → one table per tab.

use super::*;
use crate::config::GoogleSource;
use crate::error::SourceError;
use crate::source::http::HttpOptions;
use crate::source::{Cells, RawTables, table_from_rows};
use crate::suggest;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::time::Instant;

/// Reads every tab of `tabs` in one `values:batchGet`.
pub async fn fetch(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    tabs: &[String],
    deadline: Instant,
) -> Result<RawTables, SourceError> {
    let url = batch_get_url(&g.api_base, &g.spreadsheet_id, tabs);
    let (answer, shown) = match request(http, opts, tokens, g, url, tabs, deadline).await {
        Ok(ok) => ok,
        Err(Refused {
            error,
            missing: Some(missing),
        }) => return Err(with_the_tabs(http, opts, tokens, g, error, missing, deadline).await),
        Err(Refused { error, .. }) => return Err(error),
    };
    parse_batch_get(&answer.body, tabs).map_err(|detail| not_sheets_api(&answer, shown, detail))
}

/// A tab Google could not find ("Unable to parse range"): the configured
/// tab it names and Google's own words.
pub(super) struct MissingRange {
    pub(super) status: u16,
    pub(super) tab: String,
    pub(super) said: String,
}

/// A GET that did not succeed: the advice, and, when Google could not find
/// a tab, which one.
pub(super) struct Refused {
    pub(super) error: SourceError,
    pub(super) missing: Option<MissingRange>,
}

/// On "Unable to parse range" only: one `spreadsheets.get` for the tabs the
/// spreadsheet has, to name them and the one the configured tab probably
/// is. If that listing fails too, the first explanation stands, unchanged.
pub(super) async fn with_the_tabs(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    error: SourceError,
    missing: MissingRange,
    deadline: Instant,
) -> SourceError {
    match list_tabs(http, opts, tokens, g, deadline).await {
        Ok(tabs) => match missing_tab_message(&missing, &tabs) {
            Some(message) => SourceError::Google {
                status: missing.status,
                message,
                share_with: None,
            },
            None => error,
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the spreadsheet's tabs to explain a missing one");
            error
        }
    }
}

/// The advice for a missing tab, given the tabs the spreadsheet has:
/// the tabs of cells listed, and "did you mean" or "only in case" when one
/// is close. `None` when the listing contradicts Google's error (the tab
/// is there after all): the first explanation then stands.
pub(super) fn missing_tab_message(missing: &MissingRange, tabs: &[SheetTab]) -> Option<String> {
    let MissingRange { tab, said, .. } = missing;
    let chart = tabs
        .iter()
        .any(|t| &t.title == tab && t.sheet_type != "GRID");
    let grids: Vec<&str> = tabs
        .iter()
        .filter(|t| t.sheet_type == "GRID")
        .map(|t| t.title.as_str())
        .collect();
    if grids.contains(&tab.as_str()) {
        return None;
    }
    let found = if grids.is_empty() {
        "none".to_string()
    } else {
        grids.join(", ")
    };
    let hint = if chart {
        format!(". \"{tab}\" is a chart on a sheet of its own, with no cells to read")
    } else {
        suggest::after_list(tab, &found, "the tab")
    };
    let next = if hint.ends_with('?') { " " } else { ". " };
    Some(format!(
        "no tab named '{tab}' in the spreadsheet (tabs are case-sensitive; its tabs are: {found}){hint}{next}Rename the tab in the sheet, or change the tab name in the config {said}"
    ))
}

/// Everything but the unreserved characters of RFC 3986 is escaped.
pub(super) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `…/values:batchGet?ranges=A&ranges=B&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE`
/// (no credentials).
pub fn batch_get_url(api_base: &str, spreadsheet_id: &str, tabs: &[String]) -> String {
    batch_get_url_of(
        api_base,
        spreadsheet_id,
        tabs.iter().map(|t| a1_sheet_name(t)),
    )
}

/// [`batch_get_url`] for A1 ranges as given.
pub(super) fn batch_get_url_of(
    api_base: &str,
    spreadsheet_id: &str,
    ranges: impl Iterator<Item = String>,
) -> String {
    let mut url = format!(
        "{}/v4/spreadsheets/{}/values:batchGet?",
        api_base.trim_end_matches('/'),
        utf8_percent_encode(spreadsheet_id, QUERY_VALUE)
    );
    for range in ranges {
        url.push_str("ranges=");
        url.extend(utf8_percent_encode(&range, QUERY_VALUE));
        url.push('&');
    }
    url.push_str("majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE");
    url
}

/// A tab name as an A1 range meaning the whole tab: bare when it is a plain
/// word that cannot be read as a cell or column reference, else in single
/// quotes with any `'` doubled (`'My Tab'`, `'Bob''s'`).
pub fn a1_sheet_name(tab: &str) -> String {
    let plain = tab.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && tab.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !looks_like_reference(tab);
    if plain {
        tab.to_string()
    } else {
        format!("'{}'", tab.replace('\'', "''"))
    }
}

/// `A1`, `AB`, `XFD1048576` (A1 cells and columns) or `R1C1`, `R2`, `C3`.
pub(super) fn looks_like_reference(s: &str) -> bool {
    let letters = s.chars().take_while(char::is_ascii_alphabetic).count();
    let rest = &s[letters..];
    if letters <= 3 && rest.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let upper = s.to_ascii_uppercase();
    let Some(after_r) = upper.strip_prefix('R') else {
        return upper.starts_with('C') && upper[1..].chars().all(|c| c.is_ascii_digit());
    };
    let digits = after_r.chars().take_while(char::is_ascii_digit).count();
    let tail = &after_r[digits..];
    tail.is_empty()
        || tail
            .strip_prefix('C')
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
}

/// The body of a successful batchGet → one table per tab, matched by
/// position (Google answers ranges in request order and echoes them
/// normalised, as `'My Tab'!A1:Z1000`). The i-th row of `values` is sheet
/// row i+1. The error is a detail for [`SourceError::NotSheetsApi`]; it
/// never quotes a cell.
pub fn parse_batch_get(body: &[u8], tabs: &[String]) -> Result<RawTables, String> {
    let json = json_body(body)?;
    let ranges = json
        .get("valueRanges")
        .and_then(Value::as_array)
        .ok_or("no \"valueRanges\" array")?;
    if ranges.len() != tabs.len() {
        return Err(format!(
            "{} value ranges for {} requested tab(s)",
            ranges.len(),
            tabs.len()
        ));
    }
    let mut out = RawTables::default();
    for (i, (range, tab)) in ranges.iter().zip(tabs).enumerate() {
        let rows = match range.get("values") {
            // A tab with no data at all has no `values` key.
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(rows)) => rows
                .iter()
                .enumerate()
                .map(|(r, row)| {
                    let cells = row.as_array().ok_or_else(|| {
                        format!(
                            "valueRanges[{i}].values[{r}] (tab \"{tab}\", row {}) is {}, not an array of cells",
                            r + 1,
                            type_name(row)
                        )
                    })?;
                    // Straight into one allocation per row (see Cells).
                    let mut row_cells = Cells::new();
                    for (c, cell) in cells.iter().enumerate() {
                        let text = cell_text(cell).ok_or_else(|| {
                            format!(
                                "valueRanges[{i}].values[{r}][{c}] (tab \"{tab}\", row {}) is {}, not a cell value",
                                r + 1,
                                type_name(cell)
                            )
                        })?;
                        row_cells.push(&text);
                    }
                    Ok((r + 1, row_cells))
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(other) => {
                return Err(format!(
                    "valueRanges[{i}].values (tab \"{tab}\") is {}, not an array of arrays",
                    type_name(other)
                ));
            }
        };
        out.tabs
            .insert(tab.clone(), table_from_rows(tab, ORIGIN, rows));
    }
    Ok(out)
}

/// FORMATTED_VALUE sends strings; numbers and booleans are accepted too.
pub(super) fn cell_text(cell: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match cell {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        Value::Null => Some("".into()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
