//! Headless Chromium driven through chromedriver over W3C WebDriver
//! ([`Browser`]) on a phone viewport: screenshots under
//! `target/screenshots/`, the console and the requests the page made, and
//! the URL helpers the browser tests share.
//!
//! Needs the Debian packages `nginx`, `chromium` and `chromium-driver`
//! ([`Tools::find`] fails naming the package, never skips).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nginx::nginx_binary;
use crate::process::{free_port, poll};
use crate::site::REPO;
use crate::tools::{tail_file, tool};
use serde_json::{Value, json};

/// The phone viewport of the screenshots.
pub const VIEWPORT: (u32, u32) = (390, 844);
/// The longest wait for one step (a page, a redirect, a message): polled,
/// so a passing run takes what the browser takes.
pub const STEP: Duration = Duration::from_secs(10);
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---------------------------------------------------------------- tools

pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Tools {
    /// Every tool or a failure naming its Debian package (never a skip),
    /// before anything starts.
    pub fn find() -> Tools {
        // Run by `Nginx::start`; looked for here too, to fail first.
        nginx_binary();
        Tools {
            chromium: tool("chromium", "chromium"),
            chromedriver: tool("chromedriver", "chromium-driver"),
        }
    }
}

/// A child process killed (and reaped) on drop.
pub struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------- the browser

/// chromedriver + one Chromium session, over W3C WebDriver.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    session: String,
    log_path: PathBuf,
    /// Console lines so far, as "LEVEL message".
    pub console: Vec<String>,
    /// Every URL the page asked for so far (DevTools Network events).
    pub requests: Vec<String>,
    _driver: Proc,
}

impl Browser {
    pub fn start(tools: &Tools, dir: &Path) -> Browser {
        std::fs::create_dir_all(dir).unwrap();
        let profile = dir.join("profile");
        let log_path = dir.join("chromedriver.log");
        let port = free_port();
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Proc(driver);
        let up = poll(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(
            up.is_some(),
            "chromedriver not listening on 127.0.0.1:{port} after 10 s\n{}",
            tail_file(&log_path, 30)
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap();
        let mut b = Browser {
            rt,
            http,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            log_path,
            console: Vec::new(),
            requests: Vec::new(),
            _driver: driver,
        };
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": tools.chromium,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        format!("--user-data-dir={}", profile.display()),
                        format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
                    ],
                    // Headless Chromium keeps a window at least 500 px wide
                    // (a 390×844 window gave a 500×701 viewport): emulate the
                    // phone's viewport itself.
                    "mobileEmulation": { "deviceMetrics": {
                        "width": VIEWPORT.0,
                        "height": VIEWPORT.1,
                        "pixelRatio": 1.0,
                        "mobile": true,
                        "touch": true,
                    }},
                },
                "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
            }}
        });
        let created = b.raw("POST", "/session", Some(caps));
        b.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        b
    }

    /// One WebDriver command; its `value`, or a panic with the error.
    pub fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self.http.request(method, &url);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        let (status, value) = self.rt.block_on(async {
            let response = request.send().await.unwrap_or_else(|e| {
                panic!("chromedriver {url}: {e}\n{}", tail_file(&self.log_path, 30))
            });
            let status = response.status();
            let value: Value = response.json().await.unwrap();
            (status, value)
        });
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "WebDriver {path}: {status} {}: {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or("?")
        );
        value
    }

    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    pub fn refresh(&self) {
        self.cmd("POST", "/refresh", Some(json!({})));
    }

    pub fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("find {css}: {v}"))
            .to_string()
    }

    pub fn text(&self, el: &str) -> String {
        let v = self.cmd("GET", &format!("/element/{el}/text"), None);
        v.as_str().unwrap().to_string()
    }

    pub fn prop(&self, el: &str, name: &str) -> String {
        let v = self.cmd("GET", &format!("/element/{el}/property/{name}"), None);
        v.as_str().unwrap_or_default().to_string()
    }

    pub fn displayed(&self, el: &str) -> bool {
        let v = self.cmd("GET", &format!("/element/{el}/displayed"), None);
        v.as_bool().unwrap()
    }

    pub fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    pub fn type_into(&self, el: &str, text: &str) {
        self.cmd("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Fills the login form (fields found by their `name`) and submits it.
    pub fn login(&self, name: &str, pin: &str) {
        self.type_into(&self.find(r#"input[name="name"]"#), name);
        self.type_into(&self.find(r#"input[name="pin"]"#), pin);
        self.click(&self.find(r#"form[action="/api/login"] [type="submit"]"#));
    }

    /// The page's visible text.
    pub fn body_text(&self) -> String {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": "return document.body ? document.body.innerText : ''", "args": [] })),
        );
        v.as_str().unwrap_or_default().to_string()
    }

    /// Polls the visible text until `ok` ([`STEP`] at most), returns it.
    pub fn wait_text(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let text = self.body_text();
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not in the page at {}:\n{text}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the URL until `ok` ([`STEP`] at most).
    pub fn wait_url(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + STEP;
        loop {
            let url = self.url();
            if ok(&url) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the browser is at {url}:\n{}",
                self.body_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG of the viewport under target/screenshots/, checks its size.
    pub fn screenshot(&self, name: &str) {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
        let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!(
            (be(16), be(20)),
            VIEWPORT,
            "{name}: the screenshot must be the phone viewport"
        );
        let dir = Path::new(REPO).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    /// Drains chromedriver's console and performance logs into `console`
    /// and `requests`.
    pub fn collect_logs(&mut self) {
        let console = self.cmd("POST", "/se/log", Some(json!({ "type": "browser" })));
        for entry in console.as_array().unwrap() {
            self.console.push(format!(
                "{} {}",
                entry["level"].as_str().unwrap_or("?"),
                entry["message"].as_str().unwrap_or("")
            ));
        }
        let perf = self.cmd("POST", "/se/log", Some(json!({ "type": "performance" })));
        for entry in perf.as_array().unwrap() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let event: Value = serde_json::from_str(message).unwrap();
            let event = &event["message"];
            if event["method"] == "Network.requestWillBeSent" {
                let url = event["params"]["request"]["url"].as_str().unwrap_or("?");
                self.requests.push(url.to_string());
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.session.is_empty() {
            self.collect_logs_quietly();
            eprintln!(
                "--- browser console\n{}\n--- requests\n{}\n--- chromedriver.log (tail)\n{}",
                self.console.join("\n"),
                self.requests.join("\n"),
                tail_file(&self.log_path, 20)
            );
        }
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let request = self.http.delete(url).timeout(Duration::from_secs(5));
            let _ = self.rt.block_on(async move { request.send().await });
        }
    }
}

impl Browser {
    /// Drains the logs and fails on any console error (`SEVERE`) but the
    /// ones naming an `expected` status the test itself provoked (a 403
    /// the browser was shown on purpose logs one).
    #[track_caller]
    pub fn assert_no_console_errors(&mut self, expected: &[&str]) {
        self.collect_logs();
        let errors: Vec<&String> = self
            .console
            .iter()
            .filter(|l| l.starts_with("SEVERE") && !expected.iter().any(|e| l.contains(e)))
            .collect();
        assert!(errors.is_empty(), "console errors:\n{errors:#?}");
    }

    /// `collect_logs` for a failing test: never panics again.
    pub fn collect_logs_quietly(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.collect_logs()));
    }
}

// ---------------------------------------------------------------- URLs

/// A URL the browser serves itself, never fetched over the network.
pub fn browser_internal(url: &str) -> bool {
    [
        "chrome:",
        "chrome-extension:",
        "chrome-untrusted:",
        "devtools:",
        "about:",
    ]
    .iter()
    .any(|scheme| url.starts_with(scheme))
}

/// The path of an absolute http URL.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// A decoded query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------- issue 17

impl Browser {
    /// Runs `script` (a function body; `arguments[i]` are `args`) in the
    /// page; its return value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Sets a cookie for the current page's site (path `/`), as a stale
    /// cookie left in the browser would be.
    pub fn add_cookie(&self, name: &str, value: &str, secure: bool) {
        self.cmd(
            "POST",
            "/cookie",
            Some(json!({ "cookie": {
                "name": name, "value": value, "path": "/", "secure": secure,
                "httpOnly": false, "sameSite": "Lax",
            }})),
        );
    }

    /// The value of the cookie `name` the browser holds for the current
    /// page, HttpOnly ones included (WebDriver sees them all).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let all = self.cmd("GET", "/cookie", None);
        all.as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str())
            .map(str::to_string)
    }
}
