//! A fake Google on 127.0.0.1:0: the Sheets API v4 `values:batchGet` (whole
//! tabs, or rows `Tab!1:5`), `spreadsheets.get` (the tabs, as
//! `fields=sheets.properties` or whole, shaped like the recorded
//! `spreadsheets_get_metadata.json`), an OAuth token endpoint that verifies the service account's JWT (RS256
//! signature, `aud`, `scope`, `exp`) before it issues a token, and sheets
//! "published to the web" as CSV (with a 302 in front, as Google does).
//! It answers like the recorded bodies in tests/fixtures/sheets: trailing
//! empty cells and rows omitted, `[]` for an empty row, no `values` key for
//! an empty tab, errors as `{error:{code,message,status}}`, no Retry-After
//! on 429. It counts requests, and can be told to misbehave.

use std::collections::{BTreeMap, VecDeque};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use percent_encoding::percent_decode_str;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::site::toml_str;

pub const SPREADSHEET_ID: &str = "1FakeSheetId_for-tests";
pub const CLIENT_EMAIL: &str = "sheetgen@club-test.iam.gserviceaccount.com";
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";
/// The access tokens the fake issues start with this (a canary too).
pub const TOKEN_PREFIX: &str = "ya29.CANARYTOKEN-";

/// The recorded bodies the fake answers with (tests/fixtures/sheets).
const FIXTURES: &str = concat!(env!("SHEETGEN_REPO"), "/tests/fixtures/sheets");

/// A recorded body; a missing fixture fails the test, naming the file.
#[track_caller]
pub fn fixture(name: &str) -> String {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read the fixture {path}: {e}"))
}

/// A row of a tab.
pub fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

/// A test RSA key pair (generated once per test binary) as PEM.
pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
}

pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        TestKey {
            private_pem: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public_pem: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }
    })
}

/// A misbehaviour for the next Sheets request(s).
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with Google's JSON error body for it (fixture bodies).
    Status(u16),
    /// 200 with this body and content type.
    Body(&'static str, String),
    /// No answer for this long, then the connection is dropped.
    Hang(Duration),
    /// This status with Google's JSON error shape, whose message quotes the
    /// request's path and query back, key included (as some of Google's
    /// front ends and proxies do).
    Echo(u16),
}

#[derive(Default)]
struct State {
    /// Tab → rows as the sheet holds them.
    tabs: BTreeMap<String, Vec<Vec<String>>>,
    /// Charts on sheets of their own (`sheetType: OBJECT`, no cells),
    /// listed after the tabs.
    charts: Vec<String>,
    /// The query strings of `spreadsheets.get`, as sent.
    metadata_queries: Vec<String>,
    /// Faults for the next Sheets requests, in order.
    next: VecDeque<Fault>,
    /// A fault for every Sheets request while set.
    always: Option<Fault>,
    api_key: Option<String>,
    /// Whether the sheet is shared with the service account.
    shared_with_service_account: bool,
    tokens: Vec<String>,
    last_sheets_query: String,
    /// Every batchGet's query string, as sent, in order.
    sheets_queries: Vec<String>,
    last_user_agent: String,
    token_rejections: Vec<String>,
}

/// The fake server; stops when dropped.
pub struct FakeGoogle {
    pub base: String,
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    pub sheets_requests: Arc<AtomicUsize>,
    pub token_requests: Arc<AtomicUsize>,
    pub csv_requests: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGoogle {
    /// A fake holding `tabs`, accepting `api_key` and the test service
    /// account (the sheet is shared with it).
    pub fn start(api_key: &str, tabs: BTreeMap<String, Vec<Vec<String>>>) -> FakeGoogle {
        // Read the recorded error bodies here: a missing one fails the test
        // now, by name, not later in the server's thread.
        for name in RECORDED_ERRORS.map(|(_, name)| name) {
            fixture(name);
        }
        fixture(METADATA);
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            tabs,
            api_key: Some(api_key.to_string()),
            shared_with_service_account: true,
            ..State::default()
        }));
        let mut fake = FakeGoogle {
            base: base.clone(),
            server: server.clone(),
            state: state.clone(),
            sheets_requests: Arc::default(),
            token_requests: Arc::default(),
            csv_requests: Arc::default(),
            thread: None,
        };
        let counters = (
            fake.sheets_requests.clone(),
            fake.token_requests.clone(),
            fake.csv_requests.clone(),
        );
        fake.thread = Some(std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let state = state.clone();
                let counters = counters.clone();
                let base = base.clone();
                // One thread per request: a hanging answer blocks nothing else.
                std::thread::spawn(move || handle(request, &state, &counters, &base));
            }
        }));
        fake
    }

    /// The `[source]` of a site reading this fake's sheet with `api_key`.
    pub fn api_key_source(&self, api_key: &str) -> String {
        format!(
            "kind = \"google\"\nspreadsheet_id = {}\napi_base = {}\napi_key = {}\n",
            toml_str(SPREADSHEET_ID),
            toml_str(&self.base),
            toml_str(api_key)
        )
    }

    pub fn token_uri(&self) -> String {
        format!("{}/token", self.base)
    }

    pub fn sheets(&self) -> usize {
        self.sheets_requests.load(Ordering::SeqCst)
    }
    pub fn tokens(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }
    pub fn csvs(&self) -> usize {
        self.csv_requests.load(Ordering::SeqCst)
    }

    pub fn set_tab(&self, tab: &str, rows: Vec<Vec<String>>) {
        self.state
            .lock()
            .unwrap()
            .tabs
            .insert(tab.to_string(), rows);
    }

    pub fn rename_tab(&self, from: &str, to: &str) {
        let mut s = self.state.lock().unwrap();
        let rows = s.tabs.remove(from).unwrap();
        s.tabs.insert(to.to_string(), rows);
    }

    pub fn fail_next(&self, fault: Fault) {
        self.state.lock().unwrap().next.push_back(fault);
    }

    pub fn fail_always(&self, fault: Option<Fault>) {
        self.state.lock().unwrap().always = fault;
    }

    /// Adds a chart on a sheet of its own: listed, with no cells to read.
    pub fn add_chart_sheet(&self, title: &str) {
        self.state.lock().unwrap().charts.push(title.to_string());
    }

    /// The query strings of every `spreadsheets.get`, as sent.
    pub fn metadata_queries(&self) -> Vec<String> {
        self.state.lock().unwrap().metadata_queries.clone()
    }

    pub fn unshare(&self) {
        self.state.lock().unwrap().shared_with_service_account = false;
    }

    /// The query string of the last batchGet, as sent.
    pub fn last_sheets_query(&self) -> String {
        self.state.lock().unwrap().last_sheets_query.clone()
    }

    /// Every batchGet's query string, as sent, in order.
    pub fn sheets_queries(&self) -> Vec<String> {
        self.state.lock().unwrap().sheets_queries.clone()
    }

    pub fn last_user_agent(&self) -> String {
        self.state.lock().unwrap().last_user_agent.clone()
    }

    /// Why the token endpoint refused JWTs, if it did.
    pub fn token_rejections(&self) -> Vec<String> {
        self.state.lock().unwrap().token_rejections.clone()
    }

    /// The service-account key file Google would hand out, pointing its
    /// `token_uri` at this fake. `literal_newlines`: the PEM with `\n` as
    /// two characters, as pasted through an env file.
    pub fn key_file_json(&self, literal_newlines: bool) -> String {
        let pem = &test_key().private_pem;
        let pem = if literal_newlines {
            pem.replace('\n', "\\n")
        } else {
            pem.clone()
        };
        json!({
            "type": "service_account",
            "project_id": "club-test",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
        })
        .to_string()
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Counters = (Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<AtomicUsize>);

fn handle(mut request: tiny_http::Request, state: &Mutex<State>, counters: &Counters, base: &str) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let path = path.to_string();
    let query = query.to_string();
    let reply = if path.ends_with("/values:batchGet") && *request.method() == tiny_http::Method::Get
    {
        counters.0.fetch_add(1, Ordering::SeqCst);
        let ua = header(&request, "User-Agent").unwrap_or_default();
        let bearer = header(&request, "Authorization");
        let fault = {
            let mut s = state.lock().unwrap();
            s.last_sheets_query = query.clone();
            s.sheets_queries.push(query.clone());
            s.last_user_agent = ua;
            s.next.pop_front().or_else(|| s.always.clone())
        };
        match fault {
            Some(Fault::Hang(d)) => {
                std::thread::sleep(d);
                return; // dropped without an answer
            }
            Some(Fault::Status(code)) => error_reply(code),
            Some(Fault::Echo(code)) => json_reply(
                code,
                json!({"error": {"code": code, "message": format!("The request {path}?{query} was refused; see https://console.example/apis?key=echoed&{query}"), "status": "PERMISSION_DENIED"}}).to_string(),
            ),
            Some(Fault::Body(content_type, body)) => (200, content_type.to_string(), body, vec![]),
            None => batch_get(state, &path, &query, bearer.as_deref()),
        }
    } else if let Some(id) = path.strip_prefix("/v4/spreadsheets/")
        && !id.contains('/')
        && *request.method() == tiny_http::Method::Get
    {
        let bearer = header(&request, "Authorization");
        metadata(state, id, &query, bearer.as_deref())
    } else if path == "/token" && *request.method() == tiny_http::Method::Post {
        counters.1.fetch_add(1, Ordering::SeqCst);
        let mut body = String::new();
        request.as_reader().read_to_string(&mut body).unwrap();
        token(state, &body, &format!("{base}/token"))
    } else if let Some(tab) = path.strip_prefix("/redirect/") {
        counters.2.fetch_add(1, Ordering::SeqCst);
        let location = format!("{base}/pub/{tab}.csv");
        (
            302,
            "text/html".into(),
            String::new(),
            vec![("Location".into(), location)],
        )
    } else if let Some(tab) = path
        .strip_prefix("/pub/")
        .and_then(|p| p.strip_suffix(".csv"))
    {
        counters.2.fetch_add(1, Ordering::SeqCst);
        let tab = percent_decode_str(tab).decode_utf8_lossy().into_owned();
        match state.lock().unwrap().tabs.get(&tab) {
            Some(rows) => (200, "text/csv".into(), csv_text(rows), vec![]),
            None => (
                404,
                "text/html; charset=UTF-8".into(),
                "<html><body>Not Found</body></html>".into(),
                vec![],
            ),
        }
    } else {
        (404, "text/plain".into(), "no such route".into(), vec![])
    };
    let (status, content_type, body, headers) = reply;
    let mut response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("Content-Type", content_type).unwrap());
    for (name, value) in headers {
        response = response.with_header(tiny_http::Header::from_bytes(name, value).unwrap());
    }
    let _ = request.respond(response);
}

type Reply = (u16, String, String, Vec<(String, String)>);

fn header(request: &tiny_http::Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.to_string())
}

fn json_reply(status: u16, body: String) -> Reply {
    (
        status,
        "application/json; charset=UTF-8".into(),
        body,
        vec![],
    )
}

/// The statuses Google's recorded error bodies are for.
const RECORDED_ERRORS: [(u16, &str); 3] = [
    (403, "error_403_permission_denied.json"),
    (404, "extra/error_404_not_found.json"),
    (429, "error_429_resource_exhausted.json"),
];

/// Google's error body for `code` (the recorded ones where we have them).
fn error_reply(code: u16) -> Reply {
    let recorded = RECORDED_ERRORS.iter().find(|(status, _)| *status == code);
    let body = match (recorded, code) {
        (Some((_, name)), _) => fixture(name),
        (None, 500) => json!({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}).to_string(),
        (None, 503) => json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}).to_string(),
        (None, other) => json!({"error": {"code": other, "message": "error", "status": "UNKNOWN"}}).to_string(),
    };
    json_reply(code, body)
}

/// The first value of `name` among decoded query parameters.
fn first(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn batch_get(state: &Mutex<State>, path: &str, query: &str, bearer: Option<&str>) -> Reply {
    let s = state.lock().unwrap();
    let params = query_params(query);
    let param = |name: &str| first(&params, name);
    let expected_path = format!("/v4/spreadsheets/{SPREADSHEET_ID}/values:batchGet");
    if path != expected_path {
        return error_reply(404);
    }
    if let Err(refused) = authorise(&s, param("key"), bearer) {
        return refused;
    }
    if param("majorDimension").as_deref() != Some("ROWS")
        || param("valueRenderOption").as_deref() != Some("FORMATTED_VALUE")
    {
        return json_reply(400, json!({"error": {"code": 400, "message": "fake: majorDimension=ROWS and valueRenderOption=FORMATTED_VALUE expected", "status": "INVALID_ARGUMENT"}}).to_string());
    }
    let mut ranges = Vec::new();
    for (_, range) in params.iter().filter(|(k, _)| k == "ranges") {
        let Some((tab, asked)) = split_range(range) else {
            return parse_range_error(range);
        };
        let Some(rows) = s.tabs.get(&tab) else {
            return parse_range_error(range);
        };
        let (first, last) = asked.unwrap_or((1, 1000));
        let asked_rows = match asked {
            Some(_) => rows
                .get(first - 1..last.min(rows.len()))
                .unwrap_or_default(),
            None => rows.as_slice(),
        };
        let values = google_values(asked_rows);
        let mut vr = json!({
            "range": format!("{}!A{first}:Z{last}", quote(&tab)),
            "majorDimension": "ROWS",
        });
        if !values.is_empty() {
            vr["values"] = json!(values);
        }
        ranges.push(vr);
    }
    json_reply(
        200,
        serde_json::to_string_pretty(
            &json!({"spreadsheetId": SPREADSHEET_ID, "valueRanges": ranges}),
        )
        .unwrap(),
    )
}

/// Auth as Google does it: a valid key, or a valid token of an account the
/// sheet is shared with; else Google's error answer.
fn authorise(s: &State, key: Option<String>, bearer: Option<&str>) -> Result<(), Reply> {
    let authorised = match (key, bearer) {
        (Some(key), _) => s.api_key.as_deref() == Some(key.as_str()),
        (None, Some(b)) => {
            let token = b.strip_prefix("Bearer ").unwrap_or_default();
            if !s.tokens.iter().any(|t| t == token) {
                return Err(json_reply(401, json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}).to_string()));
            }
            s.shared_with_service_account
        }
        (None, None) => false,
    };
    if authorised {
        Ok(())
    } else {
        Err(error_reply(403))
    }
}

/// The recorded `spreadsheets.get` answer the fake's is shaped on.
const METADATA: &str = "spreadsheets_get_metadata.json";

/// `GET /v4/spreadsheets/{id}`: the recorded answer with this sheet's tabs
/// (then its charts); with `fields=sheets.properties`, only `sheets`.
fn metadata(state: &Mutex<State>, id: &str, query: &str, bearer: Option<&str>) -> Reply {
    let mut s = state.lock().unwrap();
    s.metadata_queries.push(query.to_string());
    let params = query_params(query);
    let param = |name: &str| first(&params, name);
    if id != SPREADSHEET_ID {
        return error_reply(404);
    }
    if let Err(refused) = authorise(&s, param("key"), bearer) {
        return refused;
    }
    let mut sheets = Vec::new();
    for (index, (title, rows)) in s.tabs.iter().enumerate() {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0).max(26);
        sheets.push(json!({"properties": {
            "sheetId": index * 1000,
            "title": title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": rows.len().max(1000), "columnCount": columns},
        }}));
    }
    for (i, title) in s.charts.iter().enumerate() {
        let index = s.tabs.len() + i;
        sheets.push(json!({"properties": {
            "sheetId": index * 1000 + 7,
            "title": title,
            "index": index,
            "sheetType": "OBJECT",
        }}));
    }
    let body = match param("fields").as_deref() {
        Some("sheets.properties") => json!({ "sheets": sheets }),
        None => {
            let mut whole: Value = serde_json::from_str(&fixture(METADATA)).unwrap();
            whole["spreadsheetId"] = json!(SPREADSHEET_ID);
            whole["properties"]["title"] = json!("Club roster");
            whole["sheets"] = json!(sheets);
            whole["spreadsheetUrl"] = json!(format!(
                "https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit"
            ));
            whole
        }
        Some(other) => {
            return json_reply(400, json!({"error": {"code": 400, "message": format!("fake: fields={other} is not served (sheets.properties or none)"), "status": "INVALID_ARGUMENT"}}).to_string());
        }
    };
    json_reply(200, serde_json::to_string_pretty(&body).unwrap())
}

/// A requested range → its tab and the rows asked for (1-based,
/// inclusive; `None`: the whole tab, `Players`, `'My Tab'`), as in
/// `Players!1:5`; `None` for what Google could not parse (or the fake does
/// not serve).
fn split_range(range: &str) -> Option<(String, Option<(usize, usize)>)> {
    // The `!` that ends the sheet name: after its closing quote, if quoted.
    let bang = if range.starts_with('\'') {
        let mut i = 1;
        let bytes = range.as_bytes();
        loop {
            match bytes.get(i)? {
                b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                b'\'' => break range[i + 1..].starts_with('!').then_some(i + 1),
                _ => i += 1,
            }
        }
    } else {
        range.find('!')
    };
    let Some(bang) = bang else {
        return Some((unquote(range)?, None));
    };
    let tab = unquote(&range[..bang])?;
    let (first, last) = range[bang + 1..].split_once(':')?;
    let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
    (1 <= first && first <= last).then_some((tab, Some((first, last))))
}

fn parse_range_error(range: &str) -> Reply {
    json_reply(400, json!({"error": {"code": 400, "message": format!("Unable to parse range: {range}"), "status": "INVALID_ARGUMENT"}}).to_string())
}

/// `Players` → Players; `'My Tab'` → My Tab; `'Bob''s'` → Bob's; an
/// unquoted name that needs quotes → None (Google cannot parse it).
fn unquote(range: &str) -> Option<String> {
    if let Some(inner) = range.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    range
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then(|| range.to_string())
}

fn quote(tab: &str) -> String {
    if tab.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        tab.to_string()
    } else {
        format!("'{}'", tab.replace('\'', "''"))
    }
}

/// Rows as the API sends them: trailing empty cells and trailing empty rows
/// dropped, an empty row inside the range as `[]`.
fn google_values(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            while row.last().is_some_and(String::is_empty) {
                row.pop();
            }
            row
        })
        .collect();
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The OAuth endpoint: a JWT bearer grant whose assertion is signed by the
/// test key for the test account, this audience and the read-only scope.
fn token(state: &Mutex<State>, body: &str, token_uri: &str) -> Reply {
    let params = query_params(body);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let refuse = |why: String| {
        state.lock().unwrap().token_rejections.push(why.clone());
        json_reply(
            400,
            json!({"error": "invalid_grant", "error_description": why}).to_string(),
        )
    };
    if param("grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return refuse("bad grant_type".into());
    }
    let Some(assertion) = param("assertion") else {
        return refuse("no assertion".into());
    };
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(test_key().public_pem.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    validation.leeway = 0;
    let claims = match jsonwebtoken::decode::<Value>(&assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => return refuse(format!("Invalid JWT: {e}")),
    };
    if claims["scope"] != SCOPE {
        return refuse(format!("bad scope {}", claims["scope"]));
    }
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap_or(0),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if exp <= iat || exp - iat > 3600 {
        return refuse("Invalid JWT: exp must be within an hour of iat".into());
    }
    let mut s = state.lock().unwrap();
    let token = format!("{TOKEN_PREFIX}{}", s.tokens.len() + 1);
    s.tokens.push(token.clone());
    json_reply(
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).to_string(),
    )
}

/// A server that resets every connection: it accepts, lets the request
/// arrive, and closes without reading it (Linux then sends RST).
pub struct ResettingServer {
    pub base: String,
    pub connections: Arc<AtomicUsize>,
}

pub fn resetting_server() -> ResettingServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let connections: Arc<AtomicUsize> = Arc::default();
    let counter = connections.clone();
    // Lives until the test process exits; it only ever serves loopback.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            drop(stream);
        }
    });
    ResettingServer { base, connections }
}
