//! Google's error answers → what the organiser should do; no key, token or
//! cell value in any of them (Google's own words are redacted).

use super::*;
use crate::error::SourceError;
use crate::redact;
use crate::source::http::{self};
use serde_json::Value;

/// A successful answer's JSON; the error is a detail for
/// [`SourceError::NotSheetsApi`] (a proxy's or login page's HTML is named
/// as such).
pub(super) fn json_body(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| {
        if body.trim_ascii_start().starts_with(b"<") {
            "an HTML page, not JSON".to_string()
        } else {
            format!("not valid JSON ({e})")
        }
    })
}

pub(super) fn not_sheets_api(answer: &http::Answer, url: String, detail: String) -> SourceError {
    SourceError::NotSheetsApi {
        url,
        status: answer.status,
        content_type: answer.content_type.clone(),
        detail,
    }
}

/// Google's error answer → what the organiser should do.
pub fn explain(
    answer: &http::Answer,
    auth: AuthKind<'_>,
    spreadsheet_id: &str,
    tabs: &[String],
    url: &str,
) -> SourceError {
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let error = json.as_ref().and_then(|j| j.get("error"));
    let Some(error) = error.filter(|e| e.is_object()) else {
        if (500..600).contains(&answer.status) {
            return SourceError::Google {
                status: answer.status,
                message: failing(answer.attempts),
                share_with: None,
            };
        }
        return SourceError::NotSheetsApi {
            url: url.to_string(),
            status: answer.status,
            content_type: answer.content_type.clone(),
            detail: "an error without Google's JSON error body".into(),
        };
    };
    // Google's words may echo the request's URL, key included (issue 23).
    let text =
        |name: &str| redact::upstream(error.get(name).and_then(Value::as_str).unwrap_or_default());
    let (google_message, google_status) = (text("message"), text("status"));
    let (google_message, google_status) = (google_message.as_str(), google_status.as_str());
    let reasons: Vec<&str> = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("reason").and_then(Value::as_str))
        .collect();
    let said = format!("(Google said: {google_status} \"{google_message}\")");
    let message = match answer.status {
        400 if google_message.contains("Unable to parse range") => {
            let tab = unparsable_tab(google_message, tabs);
            format!(
                "no tab named '{tab}' in the spreadsheet (tabs are case-sensitive): rename the tab back, or change the tab name in the config {said}"
            )
        }
        400 if reasons.contains(&"API_KEY_INVALID") || google_message.contains("API key") => {
            format!(
                "the API key is not valid: create one in the Google Cloud console (APIs & Services → Credentials) {said}"
            )
        }
        401 => format!(
            "the credentials were refused; check the API key or the service-account key file {said}"
        ),
        403 if reasons.contains(&"SERVICE_DISABLED") => format!(
            "the Google Sheets API is not enabled in the Cloud project of these credentials: enable it in the Google Cloud console (APIs & Services → Library → Google Sheets API) and wait a few minutes {said}"
        ),
        403 => match auth {
            AuthKind::ServiceAccount { client_email } => format!(
                "the service account cannot read this sheet: share the sheet with {client_email} (Share → add that e-mail as Viewer) {said}"
            ),
            AuthKind::ApiKey => format!(
                "the sheet is not link-readable, or the key is restricted: with an API key the sheet must be shared as \"Anyone with the link\" (Viewer) and the key allowed to call the Google Sheets API {said}"
            ),
        },
        404 => format!(
            "spreadsheet \"{spreadsheet_id}\" was not found: check spreadsheet_id (the part of the sheet's URL between /d/ and /edit) {said}"
        ),
        429 => format!(
            "the read quota is used up: the Sheets API allows 300 reads per minute per project and 60 per minute per user, and sheetgen makes one read per cycle, so something else is using the same key or project (another program, or several gen instances with short refresh_secs); the last good site stays up and the next cycle tries again {said}"
        ),
        500..600 => format!("{} {said}", failing(answer.attempts)),
        _ => format!("unexpected answer {said}"),
    };
    let share_with = match auth {
        AuthKind::ServiceAccount { client_email }
            if answer.status == 403 && !reasons.contains(&"SERVICE_DISABLED") =>
        {
            Some(client_email.to_string())
        }
        _ => None,
    };
    SourceError::Google {
        status: answer.status,
        message,
        share_with,
    }
}

/// Google's answer "Unable to parse range: …" → the tab it names and
/// Google's words; `None` for any other answer.
pub(super) fn missing_range(answer: &http::Answer, tabs: &[String]) -> Option<MissingRange> {
    if answer.status != 400 {
        return None;
    }
    let json: Value = serde_json::from_slice(&answer.body).ok()?;
    let error = json.get("error")?;
    // Google's words may echo the request's URL, key included (issue 23).
    let text =
        |name: &str| redact::upstream(error.get(name).and_then(Value::as_str).unwrap_or_default());
    let (google_message, google_status) = (text("message"), text("status"));
    let (google_message, google_status) = (google_message.as_str(), google_status.as_str());
    if !google_message.contains("Unable to parse range") {
        return None;
    }
    Some(MissingRange {
        status: answer.status,
        tab: unparsable_tab(google_message, tabs),
        said: format!("(Google said: {google_status} \"{google_message}\")"),
    })
}

/// The tab of "Unable to parse range: NOPE!A5:F15": the configured tab the
/// range was made of, else the sheet part of the range.
pub(super) fn unparsable_tab(google_message: &str, tabs: &[String]) -> String {
    let range = google_message
        .split_once("range:")
        .map_or("", |(_, r)| r.trim());
    tabs.iter()
        .find(|t| {
            range == t.as_str()
                || range == a1_sheet_name(t)
                || range.starts_with(&format!("{}!", a1_sheet_name(t)))
        })
        .cloned()
        .unwrap_or_else(|| sheet_of_range(range))
}

/// The tab part of an A1 range as Google echoes it: `'Bob''s'!A1:B2` →
/// `Bob's`, `NOPE!A5:F15` → `NOPE`.
pub(super) fn sheet_of_range(range: &str) -> String {
    if let Some(quoted) = range.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(c);
        }
        return out;
    }
    range.split('!').next().unwrap_or(range).to_string()
}

pub(super) fn failing(attempts: u32) -> String {
    format!(
        "Google Sheets is failing on its side (tried {attempts} time(s) in this cycle); the last good site stays up and the next cycle tries again"
    )
}
