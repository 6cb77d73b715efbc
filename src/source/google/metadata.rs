//! `spreadsheets.get`: the tabs a sheet has, for `gen init` and for naming
//! the tab that went missing.

use super::*;
use crate::config::GoogleSource;
use crate::error::SourceError;
use crate::source::RawTables;
use crate::source::http::HttpOptions;
use percent_encoding::utf8_percent_encode;
use serde_json::Value;
use std::time::Instant;

/// The first `rows` rows of every tab of `tabs` in one `values:batchGet`
/// (`gen init` reads the header rows this way; the header is the first
/// non-empty row, so a title row above it is no harm).
pub(crate) async fn fetch_header_rows(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    tabs: &[String],
    rows: u32,
    deadline: Instant,
) -> Result<RawTables, SourceError> {
    let ranges = tabs
        .iter()
        .map(|tab| format!("{}!1:{rows}", a1_sheet_name(tab)));
    let url = batch_get_url_of(&g.api_base, &g.spreadsheet_id, ranges);
    let (answer, shown) = get(http, opts, tokens, g, url, tabs, deadline).await?;
    parse_batch_get(&answer.body, tabs).map_err(|detail| not_sheets_api(&answer, shown, detail))
}

/// One tab of a spreadsheet, as `spreadsheets.get` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetTab {
    pub(crate) title: String,
    /// `GRID` for a tab of cells; `OBJECT` for a chart on a sheet of its
    /// own, which has no cells to read.
    pub(crate) sheet_type: String,
}

/// The tabs of the spreadsheet, in the order the sheet shows them: one
/// `spreadsheets.get` with `fields=sheets.properties` (no cell is read).
pub(crate) async fn list_tabs(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    deadline: Instant,
) -> Result<Vec<SheetTab>, SourceError> {
    let url = metadata_url(&g.api_base, &g.spreadsheet_id);
    let (answer, shown) = get(http, opts, tokens, g, url, &[], deadline).await?;
    parse_sheet_tabs(&answer.body).map_err(|detail| not_sheets_api(&answer, shown, detail))
}

/// `…/v4/spreadsheets/ID?fields=sheets.properties` (no credentials).
pub(crate) fn metadata_url(api_base: &str, spreadsheet_id: &str) -> String {
    format!(
        "{}/v4/spreadsheets/{}?fields=sheets.properties",
        api_base.trim_end_matches('/'),
        utf8_percent_encode(spreadsheet_id, QUERY_VALUE)
    )
}

/// The body of `spreadsheets.get` → its tabs, sorted by `index`. The error
/// is a detail for [`SourceError::NotSheetsApi`].
pub(crate) fn parse_sheet_tabs(body: &[u8]) -> Result<Vec<SheetTab>, String> {
    let json = json_body(body)?;
    // A spreadsheet has at least one tab: no `sheets` is not an answer.
    let sheets = json
        .get("sheets")
        .and_then(Value::as_array)
        .ok_or("no \"sheets\" array")?;
    let mut tabs = Vec::new();
    for (i, sheet) in sheets.iter().enumerate() {
        let properties = sheet.get("properties");
        let field = |name: &str| properties.and_then(|p| p.get(name));
        let title = field("title")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("sheets[{i}] has no properties.title"))?;
        // Recorded answers carry it, even when 0; a missing one counts as 0.
        let index = field("index").and_then(Value::as_u64).unwrap_or(0);
        let sheet_type = field("sheetType")
            .and_then(Value::as_str)
            .unwrap_or("GRID")
            .to_string();
        tabs.push((
            index,
            SheetTab {
                title: title.to_string(),
                sheet_type,
            },
        ));
    }
    tabs.sort_by_key(|(index, _)| *index);
    Ok(tabs.into_iter().map(|(_, tab)| tab).collect())
}
