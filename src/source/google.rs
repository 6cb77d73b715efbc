//! The Sheets API v4: every configured tab in ONE `values:batchGet` per
//! cycle, with an API key or a service account (JWT → OAuth access token,
//! cached until shortly before it expires). Google's errors become messages
//! that tell the organiser what to do; no key, token or cell value ever
//! appears in one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::http::{self, HttpOptions, Target};
use super::{Cells, RawTables, table_from_rows};
use crate::config::{Config, GoogleSource, Secret, Source};
use crate::error::SourceError;
use crate::redact;
use crate::suggest;

/// Read-only access to spreadsheets: all a site generator needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";
/// With `[players] photo`: the sheet, plus the Drive files shared with the
/// service account (photos kept private on Drive, issue 8).
pub const SCOPE_WITH_DRIVE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly https://www.googleapis.com/auth/drive.readonly";
/// Used when a key file has no `token_uri` (Google's always do).
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// What rows read from the API say they come from.
pub const ORIGIN: &str = "Google Sheets";

/// A token is renewed this long before it expires, so that a request never
/// goes out with one that dies in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Lifetime asked for in the JWT (Google's maximum).
const JWT_LIFETIME_SECS: u64 = 3600;

/// The loud warning of `gen check` for a secret column read through a path
/// that anyone holding the sheet's link can use too.
pub const PUBLIC_SECRET_WARNING: &str =
    "anyone with the link can read the PINs; use a service account and restrict sharing";

/// How requests to Google are authorised.
pub enum Auth {
    ApiKey(Secret),
    ServiceAccount(ServiceAccountKey),
}

/// Who is asking, for error messages.
#[derive(Debug, Clone, Copy)]
pub enum AuthKind<'a> {
    ApiKey,
    ServiceAccount { client_email: &'a str },
}

impl Auth {
    /// A service account when one is configured (it is the private mode),
    /// else the API key.
    pub fn from_source(g: &GoogleSource) -> Result<Auth, SourceError> {
        if let Some(path) = &g.credentials {
            let mut key = ServiceAccountKey::load(path)?;
            if g.drive_photos {
                key.scope = SCOPE_WITH_DRIVE;
            }
            return Ok(Auth::ServiceAccount(key));
        }
        match &g.api_key {
            Some(key) => Ok(Auth::ApiKey(key.clone())),
            None => Err(SourceError::NoGoogleAuth),
        }
    }

    pub fn kind(&self) -> AuthKind<'_> {
        match self {
            Auth::ApiKey(_) => AuthKind::ApiKey,
            Auth::ServiceAccount(k) => AuthKind::ServiceAccount {
                client_email: &k.client_email,
            },
        }
    }
}

/// The parts of a service-account JSON key file we use.
pub struct ServiceAccountKey {
    pub path: PathBuf,
    pub client_email: String,
    pub token_uri: String,
    key_id: Option<String>,
    signing_key: EncodingKey,
    scope: &'static str,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("path", &self.path)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    pub fn load(path: &Path) -> Result<ServiceAccountKey, SourceError> {
        let bad = |message: String| SourceError::Credentials {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        ServiceAccountKey::parse(path, &bytes).map_err(bad)
    }

    /// Parsed field by field, never through a typed serde error: those can
    /// quote the value they choked on, and that value may be the key.
    fn parse(path: &Path, bytes: &[u8]) -> Result<ServiceAccountKey, String> {
        let json: Value = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "not a JSON key file (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
        if let Some(kind) = field("type")
            && kind != "service_account"
        {
            return Err(format!(
                "has \"type\": \"{kind}\"; a service account's key file (\"service_account\") is needed: \
                 Google Cloud console → IAM → Service accounts → Keys → Add key → JSON"
            ));
        }
        let client_email = field("client_email").ok_or("has no \"client_email\"")?;
        let private_key = field("private_key").ok_or("has no \"private_key\"")?;
        // Keys pasted through env files often arrive with literal `\n`.
        let pem = private_key.replace("\\n", "\n");
        let signing_key = EncodingKey::from_rsa_pem(pem.trim().as_bytes())
            .map_err(|_| "\"private_key\" is not an RSA private key in PEM form".to_string())?;
        Ok(ServiceAccountKey {
            path: path.to_path_buf(),
            client_email,
            token_uri: field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string()),
            key_id: field("private_key_id"),
            signing_key,
            scope: SCOPE,
        })
    }

    /// The signed assertion of RFC 7523 that Google's token endpoint takes.
    fn assertion(&self, now_unix: u64) -> Result<String, SourceError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: u64,
            exp: u64,
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            scope: self.scope,
            aud: &self.token_uri,
            iat: now_unix,
            exp: now_unix + JWT_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|e| {
            SourceError::Credentials {
                path: self.path.clone(),
                message: format!("cannot sign a token request: {e}"),
            }
        })
    }
}

/// An OAuth access token and when to stop using it.
pub struct AccessToken {
    value: Secret,
    /// The account and endpoint it was issued for: a changed key file
    /// gets a new token.
    issued_to: (String, String, &'static str),
    renew_at: Instant,
}

/// The token of the service account, kept across cycles by the `Fetcher`.
#[derive(Default)]
pub struct TokenCache(Mutex<Option<AccessToken>>);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache(***)")
    }
}

impl TokenCache {
    /// A valid token for `key`: the cached one, or a new one from the key's
    /// `token_uri`. The lock is held while fetching so concurrent cycles
    /// ask once.
    async fn get(
        &self,
        http: &reqwest::Client,
        opts: &HttpOptions,
        key: &ServiceAccountKey,
        deadline: Instant,
    ) -> Result<Secret, SourceError> {
        let mut cached = self.0.lock().await;
        let issued_to = (key.client_email.clone(), key.token_uri.clone(), key.scope);
        if let Some(t) = cached.as_ref()
            && t.issued_to == issued_to
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let token = request_token(http, opts, key, deadline).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Forgets the token (Google refused it: revoked key, changed account).
    async fn clear(&self) {
        *self.0.lock().await = None;
    }
}

async fn request_token(
    http: &reqwest::Client,
    opts: &HttpOptions,
    key: &ServiceAccountKey,
    deadline: Instant,
) -> Result<AccessToken, SourceError> {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let assertion = key.assertion(now_unix)?;
    let url = redact::url(&key.token_uri);
    let started = Instant::now();
    let answer = http::send_with_retry(
        opts,
        &Target {
            url: &url,
            deadline,
        },
        || {
            http.post(&key.token_uri).form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
        },
    )
    .await?;
    let token_error = |message: String| SourceError::Token {
        client_email: key.client_email.clone(),
        token_uri: url.clone(),
        status: answer.status,
        message,
    };
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    // Upstream words may echo what was sent (issue 23): redacted like URLs.
    let text = |v: &Option<Value>, name: &str| {
        v.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(redact::upstream)
    };
    if !answer.is_success() {
        return Err(token_error(match text(&json, "error") {
            Some(error) => {
                let description = text(&json, "error_description").unwrap_or_default();
                format!(
                    "{error} {description}; check that the key file is current (keys can be deleted in the Cloud console) and the machine's clock is right"
                )
            }
            None => format!(
                "not an OAuth answer (content type \"{}\")",
                answer.content_type
            ),
        }));
    }
    let value = text(&json, "access_token").ok_or_else(|| {
        token_error(format!(
            "the answer has no access_token (content type \"{}\")",
            answer.content_type
        ))
    })?;
    let lifetime = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(JWT_LIFETIME_SECS), Duration::from_secs);
    // Renew 5 minutes early; a short-lived token is used for half its life.
    let margin = TOKEN_MARGIN.min(lifetime / 2);
    tracing::info!(
        client_email = %key.client_email,
        expires_in_s = lifetime.as_secs(),
        "got a Google access token"
    );
    Ok(AccessToken {
        value: Secret::new(value),
        issued_to: (key.client_email.clone(), key.token_uri.clone(), key.scope),
        renew_at: started + lifetime - margin,
    })
}

/// The service account's bearer token (the one the Sheets source uses),
/// for reading photos through the Drive API; `None` without a service
/// account.
pub async fn service_account_token(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    deadline: Instant,
) -> Result<Option<Secret>, SourceError> {
    if g.credentials.is_none() {
        return Ok(None);
    }
    match Auth::from_source(g)? {
        Auth::ServiceAccount(key) => Ok(Some(tokens.get(http, opts, &key, deadline).await?)),
        Auth::ApiKey(_) => Ok(None),
    }
}

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
struct MissingRange {
    status: u16,
    tab: String,
    said: String,
}

/// A GET that did not succeed: the advice, and, when Google could not find
/// a tab, which one.
struct Refused {
    error: SourceError,
    missing: Option<MissingRange>,
}

/// On "Unable to parse range" only: one `spreadsheets.get` for the tabs the
/// spreadsheet has, to name them and the one the configured tab probably
/// is. If that listing fails too, the first explanation stands, unchanged.
async fn with_the_tabs(
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
fn missing_tab_message(missing: &MissingRange, tabs: &[SheetTab]) -> Option<String> {
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

/// A successful answer's JSON; the error is a detail for
/// [`SourceError::NotSheetsApi`] (a proxy's or login page's HTML is named
/// as such).
fn json_body(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| {
        if body.trim_ascii_start().starts_with(b"<") {
            "an HTML page, not JSON".to_string()
        } else {
            format!("not valid JSON ({e})")
        }
    })
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
    let auth = Auth::from_source(g).map_err(refused)?;
    let bearer = match &auth {
        Auth::ApiKey(key) => {
            url.push_str(if url.contains('?') { "&key=" } else { "?key=" });
            url.extend(utf8_percent_encode(key.expose(), QUERY_VALUE));
            None
        }
        Auth::ServiceAccount(key) => Some(
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

fn not_sheets_api(answer: &http::Answer, url: String, detail: String) -> SourceError {
    SourceError::NotSheetsApi {
        url,
        status: answer.status,
        content_type: answer.content_type.clone(),
        detail,
    }
}

/// Everything but the unreserved characters of RFC 3986 is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
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
fn batch_get_url_of(
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
fn looks_like_reference(s: &str) -> bool {
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
fn cell_text(cell: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match cell {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        Value::Null => Some("".into()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
fn missing_range(answer: &http::Answer, tabs: &[String]) -> Option<MissingRange> {
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
fn unparsable_tab(google_message: &str, tabs: &[String]) -> String {
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
fn sheet_of_range(range: &str) -> String {
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

fn failing(attempts: u32) -> String {
    format!(
        "Google Sheets is failing on its side (tried {attempts} time(s) in this cycle); the last good site stays up and the next cycle tries again"
    )
}

/// How `gen check` names the auth path of a Google source.
pub fn auth_description(g: &GoogleSource) -> String {
    match (&g.credentials, &g.api_key) {
        (Some(path), _) => match ServiceAccountKey::load(path) {
            Ok(key) => format!(
                "service account {} (key {}; the sheet needs to be shared with that e-mail only)",
                key.client_email,
                path.display()
            ),
            Err(e) => format!("service account, but its key is unusable: {e}"),
        },
        (None, Some(_)) => "API key (anyone with the link can read the sheet)".to_string(),
        (None, None) => "none configured (set credentials or api_key under [source])".to_string(),
    }
}

/// The warning of `gen check` when the secret column travels through a path
/// that anyone holding the sheet's link can use: an API key or a published
/// CSV. `None` for a service account or local files.
pub fn public_secret_warning(config: &Config) -> Option<String> {
    let public = match &config.source {
        Source::Google(g) => g.credentials.is_none() && g.api_key.is_some(),
        Source::CsvUrls { .. } => true,
        Source::CsvFiles { .. } | Source::Workbook { .. } => false,
    };
    public.then(|| {
        format!(
            "the secret column \"{}\" is read through a public path: {PUBLIC_SECRET_WARNING}",
            config.players.secret
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded Sheets API bodies, kept in the repository (tests/fixtures/).
    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sheets");

    /// A recorded body; a missing or unreadable fixture fails the test.
    #[track_caller]
    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(FIXTURES).join(name);
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("cannot read the fixture {}: {e}", path.display()))
    }

    fn tabs(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// A batchGet body made of the single-range fixtures (`values:get`
    /// answers are the same objects as batchGet's `valueRanges` items).
    #[track_caller]
    fn batch_of(names: &[&str]) -> Vec<u8> {
        let ranges: Vec<Value> = names
            .iter()
            .map(|n| {
                serde_json::from_slice(&fixture(n))
                    .unwrap_or_else(|e| panic!("the fixture {n} is not JSON: {e}"))
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"spreadsheetId": "x", "valueRanges": ranges}))
            .unwrap_or_else(|e| panic!("cannot encode the batch: {e}"))
    }

    #[test]
    fn a1_quoting() {
        assert_eq!(a1_sheet_name("Players"), "Players");
        assert_eq!(a1_sheet_name("Match_2024"), "Match_2024");
        assert_eq!(a1_sheet_name("My Tab"), "'My Tab'");
        assert_eq!(a1_sheet_name("Bob's"), "'Bob''s'");
        assert_eq!(a1_sheet_name("Équipes"), "'Équipes'");
        assert_eq!(a1_sheet_name("2024"), "'2024'");
        assert_eq!(a1_sheet_name("A1"), "'A1'");
        assert_eq!(a1_sheet_name("AB"), "'AB'");
        assert_eq!(a1_sheet_name("R1C1"), "'R1C1'");
        assert_eq!(a1_sheet_name("C3"), "'C3'");
        assert_eq!(a1_sheet_name("Results"), "Results");
        assert_eq!(a1_sheet_name("Scores!"), "'Scores!'");
    }

    #[test]
    fn batch_get_url_encodes_and_quotes() {
        let url = batch_get_url(
            "http://h/",
            "abc-_1",
            &tabs(&["Players", "My Tab", "Bob's"]),
        );
        assert_eq!(
            url,
            "http://h/v4/spreadsheets/abc-_1/values:batchGet?ranges=Players&ranges=%27My%20Tab%27&ranges=%27Bob%27%27s%27&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE"
        );
    }

    #[test]
    fn header_rows_and_metadata_urls() {
        let ranges = tabs(&["Players", "My Tab"])
            .into_iter()
            .map(|t| format!("{}!1:5", a1_sheet_name(&t)));
        assert_eq!(
            batch_get_url_of("http://h", "abc", ranges),
            "http://h/v4/spreadsheets/abc/values:batchGet?ranges=Players%211%3A5&ranges=%27My%20Tab%27%211%3A5&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE"
        );
        assert_eq!(
            metadata_url("http://h/", "abc-_1"),
            "http://h/v4/spreadsheets/abc-_1?fields=sheets.properties"
        );
    }

    #[test]
    fn lists_the_tabs_of_the_recorded_metadata() {
        let t = parse_sheet_tabs(&fixture("spreadsheets_get_metadata.json")).unwrap();
        assert_eq!(
            t,
            [SheetTab {
                title: "Sheet1".into(),
                sheet_type: "GRID".into()
            }]
        );
        // With fields=sheets.properties: only `sheets`, in any order; a
        // chart on a sheet of its own is OBJECT; no index counts as 0.
        let body = br#"{"sheets":[{"properties":{"sheetId":7,"title":"Matches","index":2,"sheetType":"GRID"}},{"properties":{"sheetId":0,"title":"Players","sheetType":"GRID"}},{"properties":{"sheetId":9,"title":"Chart","index":1,"sheetType":"OBJECT"}}]}"#;
        let t = parse_sheet_tabs(body).unwrap();
        let titles: Vec<&str> = t.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Players", "Chart", "Matches"]);
        assert_eq!(t[1].sheet_type, "OBJECT");
        assert!(
            parse_sheet_tabs(b"<html>Sign in</html>")
                .unwrap_err()
                .contains("HTML")
        );
        assert!(parse_sheet_tabs(b"{}").unwrap_err().contains("sheets"));
        let untitled = br#"{"sheets":[{"properties":{"index":0}}]}"#;
        assert!(parse_sheet_tabs(untitled).unwrap_err().contains("title"));
    }

    #[test]
    fn parses_formatted_sparse_and_empty_ranges_from_the_fixtures() {
        let body = batch_of(&[
            "values_get_formatted_rows.json",
            "values_get_sparse_rows.json",
            "extra/values_get_empty_range.json",
        ]);
        let t = parse_batch_get(&body, &tabs(&["A", "B", "C"])).unwrap();
        let a = &t.tabs["A"];
        assert_eq!(a.header, ["Item", "Cost", "Stocked", "Ship Date"]);
        assert_eq!(a.rows.len(), 4);
        assert_eq!(a.rows[0].number, 2);
        assert_eq!(a.rows[0].cells, ["Wheel", "$20.50", "4", "3/1/2016"]);
        assert_eq!(a.origin, ORIGIN);

        let b = &t.tabs["B"];
        assert_eq!(b.header, ["A1", "B1", "", "D1"]);
        // The `[]` rows are padded blank rows; row numbers stay true.
        assert_eq!(b.rows.len(), 3);
        assert!(b.rows[0].is_blank() && b.rows[1].is_blank());
        assert_eq!(b.rows[2].number, 4);
        assert_eq!(b.rows[2].cells, ["A4", "B4", "", "D4"]);

        let c = &t.tabs["C"];
        assert!(c.header.is_empty() && c.rows.is_empty());
    }

    #[test]
    fn unformatted_numbers_are_text() {
        let body = batch_of(&["extra/values_get_unformatted_serial.json"]);
        let t = parse_batch_get(&body, &tabs(&["S"])).unwrap();
        assert_eq!(t.tabs["S"].header, ["2", "43831", "string", "53"]);
        assert_eq!(t.tabs["S"].rows[0].cells, ["1.5", "0.12", "36162", ""]);
    }

    #[test]
    fn header_only_tab_and_trailing_cells() {
        let body = br#"{"valueRanges":[{"range":"'My Tab'!A1:Z1000","values":[["id","name","pin"],["1","Al"]]},{"range":"M!A1:Z1","values":[["id"]]}]}"#;
        let t = parse_batch_get(body, &tabs(&["My Tab", "M"])).unwrap();
        assert_eq!(t.tabs["My Tab"].rows[0].cells, ["1", "Al", ""]);
        assert_eq!(t.tabs["M"].header, ["id"]);
        assert!(t.tabs["M"].rows.is_empty());
    }

    #[test]
    fn rejects_what_is_not_the_sheets_api_without_quoting_cells() {
        let t = tabs(&["P"]);
        let html = b"<!DOCTYPE html><html>Sign in</html>";
        assert!(parse_batch_get(html, &t).unwrap_err().contains("HTML"));
        let cut = br#"{"valueRanges":[{"range":"P!A1","values":[["id","pin"],["1","SECRET9"#;
        assert!(
            parse_batch_get(cut, &t)
                .unwrap_err()
                .contains("not valid JSON")
        );
        let wrong = br#"{"valueRanges":[{"values":"SECRET9"}]}"#;
        let e = parse_batch_get(wrong, &t).unwrap_err();
        assert!(
            e.contains("not an array of arrays") && !e.contains("SECRET9"),
            "{e}"
        );
        let rows = br#"{"valueRanges":[{"values":["id","SECRET9"]}]}"#;
        let e = parse_batch_get(rows, &t).unwrap_err();
        assert!(
            e.contains("not an array of cells") && !e.contains("SECRET9"),
            "{e}"
        );
        let count = br#"{"valueRanges":[]}"#;
        assert!(parse_batch_get(count, &t).is_err());
        assert!(parse_batch_get(b"{}", &t).is_err());
    }

    fn answer(status: u16, name: &str) -> http::Answer {
        http::Answer {
            status,
            content_type: "application/json; charset=UTF-8".into(),
            body: fixture(name),
            attempts: 1,
        }
    }

    fn explained(status: u16, name: &str, auth: AuthKind<'_>) -> String {
        let tabs = tabs(&["Players", "Matches"]);
        explain(&answer(status, name), auth, "SHEETID", &tabs, "u").to_string()
    }

    #[test]
    fn google_errors_become_advice() {
        let sa = AuthKind::ServiceAccount {
            client_email: "gen@p.iam.gserviceaccount.com",
        };
        let e = explained(403, "error_403_permission_denied.json", sa);
        assert!(
            e.contains("share the sheet with gen@p.iam.gserviceaccount.com"),
            "{e}"
        );
        let e = explained(403, "error_403_permission_denied.json", AuthKind::ApiKey);
        assert!(
            e.contains("the sheet is not link-readable, or the key is restricted"),
            "{e}"
        );
        let e = explained(
            403,
            "extra/error_403_service_disabled.json",
            AuthKind::ApiKey,
        );
        assert!(e.contains("not enabled"), "{e}");
        let e = explained(404, "extra/error_404_not_found.json", AuthKind::ApiKey);
        assert!(
            e.contains("check spreadsheet_id") && e.contains("SHEETID"),
            "{e}"
        );
        let e = explained(429, "error_429_resource_exhausted.json", AuthKind::ApiKey);
        assert!(e.contains("300 reads per minute per project"), "{e}");
        assert!(e.contains("60 per minute per user"), "{e}");
        let e = explained(
            400,
            "error_400_unable_to_parse_range.json",
            AuthKind::ApiKey,
        );
        assert!(e.contains("no tab named 'NOPE'"), "{e}");
        assert!(e.contains("tabs are case-sensitive"), "{e}");
    }

    #[test]
    fn tab_of_an_echoed_range() {
        assert_eq!(sheet_of_range("NOPE!A5:F15"), "NOPE");
        assert_eq!(sheet_of_range("'Bob''s tab'!A1:Z9"), "Bob's tab");
        assert_eq!(sheet_of_range("Players"), "Players");
    }

    #[test]
    fn a_bad_range_names_the_configured_tab() {
        let body = br#"{"error":{"code":400,"message":"Unable to parse range: 'My Tab'","status":"INVALID_ARGUMENT"}}"#;
        let a = http::Answer {
            status: 400,
            content_type: "application/json".into(),
            body: body.to_vec(),
            attempts: 1,
        };
        let e = explain(
            &a,
            AuthKind::ApiKey,
            "x",
            &tabs(&["Players", "My Tab"]),
            "u",
        )
        .to_string();
        assert!(e.contains("no tab named 'My Tab'"), "{e}");
    }

    fn sheet_tabs(grids: &[&str], charts: &[&str]) -> Vec<SheetTab> {
        let tab = |title: &&str, sheet_type: &str| SheetTab {
            title: title.to_string(),
            sheet_type: sheet_type.into(),
        };
        let grids = grids.iter().map(|t| tab(t, "GRID"));
        grids
            .chain(charts.iter().map(|t| tab(t, "OBJECT")))
            .collect()
    }

    /// The missing tab of Google's answer to a batchGet of `Players` and
    /// `asked`, explained with the tabs `grids` and `charts`.
    #[track_caller]
    fn missing(asked: &str, grids: &[&str], charts: &[&str]) -> Option<String> {
        let body = serde_json::json!({"error": {"code": 400, "message": format!("Unable to parse range: {}", a1_sheet_name(asked)), "status": "INVALID_ARGUMENT"}});
        let a = http::Answer {
            status: 400,
            content_type: "application/json".into(),
            body: body.to_string().into_bytes(),
            attempts: 1,
        };
        let Some(m) = missing_range(&a, &tabs(&["Players", asked])) else {
            panic!("not seen as a missing tab: {body}");
        };
        assert_eq!(m.tab, asked);
        missing_tab_message(&m, &sheet_tabs(grids, charts))
    }

    #[test]
    fn a_missing_tab_is_told_with_the_tabs_there_are() {
        let e = missing("Matchs", &["Players", "Matches"], &["Chart 1"]).unwrap();
        assert_eq!(
            e,
            "no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive; its tabs are: Players, Matches). Did you mean \"Matches\"? Rename the tab in the sheet, or change the tab name in the config (Google said: INVALID_ARGUMENT \"Unable to parse range: Matchs\")"
        );
        let e = missing("My tab", &["Players", "My Tab"], &[]).unwrap();
        assert!(
            e.contains("its tabs are: Players, My Tab). \"My tab\" differs from the tab \"My Tab\" only in case. Rename"),
            "{e}"
        );
        assert!(e.contains("Unable to parse range: 'My tab'"), "{e}");
        let e = missing("Results", &["Players", "Matches"], &[]).unwrap();
        assert!(
            e.contains("its tabs are: Players, Matches). Rename the tab"),
            "{e}"
        );
        let e = missing("Chart 1", &["Players"], &["Chart 1"]).unwrap();
        assert!(
            e.contains("its tabs are: Players). \"Chart 1\" is a chart on a sheet of its own"),
            "{e}"
        );
        // A listing that has the tab after all contradicts Google: the
        // first explanation stands.
        assert_eq!(missing("Matches", &["Players", "Matches"], &[]), None);
    }

    #[tokio::test]
    async fn a_failed_listing_keeps_the_first_explanation() {
        // Nothing listens on port 1: the listing cannot even connect.
        let g = GoogleSource {
            spreadsheet_id: "SHEETID".into(),
            api_base: "http://127.0.0.1:1".into(),
            api_key: Some(Secret::new("AIzaCANARY-unit".into())),
            credentials: None,
            drive_api_base: "http://127.0.0.1:1".into(),
            drive_photos: false,
        };
        let opts = HttpOptions {
            max_attempts: 1,
            ..HttpOptions::default()
        };
        let client = http::client(&opts).unwrap();
        let first = SourceError::Google {
            status: 400,
            message: "no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive): FIRST"
                .into(),
            share_with: None,
        };
        let missing = MissingRange {
            status: 400,
            tab: "Matchs".into(),
            said: "(Google said: INVALID_ARGUMENT \"Unable to parse range: Matchs\")".into(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let e = with_the_tabs(
            &client,
            &opts,
            &TokenCache::default(),
            &g,
            first,
            missing,
            deadline,
        )
        .await;
        assert!(
            matches!(e, SourceError::Google { status: 400, .. }),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "Google Sheets answered HTTP 400: no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive): FIRST"
        );
    }

    #[test]
    fn only_unable_to_parse_range_is_a_missing_tab() {
        let t = tabs(&["Players", "Matches"]);
        let m = missing_range(&answer(400, "error_400_unable_to_parse_range.json"), &t).unwrap();
        assert_eq!(m.tab, "NOPE");
        assert!(m.said.contains("Google said:"), "{}", m.said);
        for (status, name) in [
            (403, "error_403_permission_denied.json"),
            (429, "error_429_resource_exhausted.json"),
            (404, "extra/error_404_not_found.json"),
        ] {
            assert!(missing_range(&answer(status, name), &t).is_none(), "{name}");
        }
        let html = http::Answer {
            status: 400,
            content_type: "text/html".into(),
            body: b"<html>Unable to parse range</html>".to_vec(),
            attempts: 1,
        };
        assert!(missing_range(&html, &t).is_none());
    }

    #[test]
    fn html_errors_and_5xx() {
        let html = http::Answer {
            status: 404,
            content_type: "text/html".into(),
            body: b"<html>nope</html>".to_vec(),
            attempts: 1,
        };
        let e = explain(&html, AuthKind::ApiKey, "x", &[], "http://h/x?key=***").to_string();
        assert!(
            e.contains("Google answered something that is not the Sheets API"),
            "{e}"
        );
        assert!(e.contains("text/html") && e.contains("404"), "{e}");
        let bad_gateway = http::Answer {
            status: 502,
            attempts: 4,
            ..html
        };
        let e = explain(&bad_gateway, AuthKind::ApiKey, "x", &[], "u").to_string();
        assert!(e.contains("HTTP 502") && e.contains("4 time(s)"), "{e}");
    }

    #[test]
    fn key_file_errors_never_quote_the_key() {
        let p = Path::new("k.json");
        let e = ServiceAccountKey::parse(p, br#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nCANARYKEY\n-----END PRIVATE KEY-----\n"}"#)
            .unwrap_err();
        assert!(!e.contains("CANARYKEY"), "{e}");
        let e = ServiceAccountKey::parse(
            p,
            br#"{"type":"service_account","client_email":"a@b","private_key":42}"#,
        )
        .unwrap_err();
        assert!(e.contains("private_key"), "{e}");
        let e = ServiceAccountKey::parse(p, br#"{"type":"authorized_user"}"#).unwrap_err();
        assert!(e.contains("service_account"), "{e}");
        let e = ServiceAccountKey::parse(p, b"{\"private_key\": \"CANARYKEY").unwrap_err();
        assert!(!e.contains("CANARYKEY"), "{e}");
    }
}
