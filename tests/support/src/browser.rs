//! Headless Chromium driven through chromedriver over W3C WebDriver
//! ([`Browser`], on fantoccini) on a phone viewport: screenshots under
//! `target/screenshots/`, the console and the requests the page made, and
//! the URL helpers the browser tests share; axe-core's accessibility check
//! ([`Browser::axe`]), the colour scheme and the viewport emulated through
//! DevTools. The tests are synchronous: the browser owns a one-thread
//! runtime and waits for each command in turn.
//!
//! Needs the Debian packages `nginx`, `chromium` and `chromium-driver`
//! ([`Tools::find`] fails naming the package, never skips).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::nginx::nginx_binary;
use crate::process::{free_port, poll};
use crate::site::REPO;
use crate::tools::{tail_file, tool};

/// The phone viewport of the screenshots.
pub const VIEWPORT: (u32, u32) = (390, 844);
/// The longest wait for one step (a page, a redirect, a message): polled,
/// so a passing run takes what the browser takes.
pub const STEP: Duration = Duration::from_secs(10);
/// The longest one WebDriver command may take.
const COMMAND: Duration = Duration::from_secs(30);
/// axe-core, vendored (`tests/support/assets/README.md`: version, licence).
const AXE: &str = include_str!("../assets/axe.min.js");
/// The rules [`Browser::axe`] runs: WCAG 2.1 A and AA.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

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
    /// Taken on drop, to end the session.
    client: Option<Client>,
    log_path: PathBuf,
    /// Console lines so far, as "LEVEL message".
    pub console: Vec<String>,
    /// Every URL the page asked for so far (DevTools Network events).
    pub requests: Vec<String>,
    /// The viewport emulated now: [`VIEWPORT`] until [`Browser::viewport`].
    size: Cell<(u32, u32)>,
    _driver: Proc,
}

/// One rule axe-core found broken, with the elements that break it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub id: String,
    /// "minor", "moderate", "serious" or "critical".
    pub impact: String,
    pub help: String,
    /// Each element: its CSS path, its HTML, what fails.
    pub nodes: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({}): {}", self.id, self.impact, self.help)?;
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        Ok(())
    }
}

impl Browser {
    pub fn start(tools: &Tools, dir: &Path) -> Browser {
        Browser::start_with(tools, dir, true)
    }

    /// A browser whose pages run no script when `javascript` is false (as
    /// for a player who turned JavaScript off): the WebDriver commands,
    /// [`Browser::exec`] included, still work.
    pub fn start_with(tools: &Tools, dir: &Path, javascript: bool) -> Browser {
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
        let capabilities = json!({
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
            // The console and the DevTools network events, read back with
            // chromedriver's log command (no websocket needed).
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let capabilities: Capabilities = capabilities;
        // chromedriver listens on loopback, in plain HTTP: no TLS connector.
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let webdriver = format!("http://127.0.0.1:{port}");
        let connect = builder.connect(&webdriver);
        let client = rt
            .block_on(async { tokio::time::timeout(COMMAND, connect).await })
            .unwrap_or_else(|_| panic!("no session within {COMMAND:?}"))
            .unwrap_or_else(|e| panic!("no session: {e}\n{}", tail_file(&log_path, 30)));
        let browser = Browser {
            rt,
            client: Some(client),
            log_path,
            console: Vec::new(),
            requests: Vec::new(),
            size: Cell::new(VIEWPORT),
            _driver: driver,
        };
        if !javascript {
            // DevTools' switch for the tab, kept across its navigations.
            // (Chromium's content setting or `--blink-settings` left
            // chromedriver's click waiting forever for the next page.)
            browser.cmd(
                "POST",
                "/goog/cdp/execute",
                Some(json!({
                    "cmd": "Emulation.setScriptExecutionDisabled",
                    "params": { "value": true },
                })),
            );
        }
        browser
    }

    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until drop")
    }

    /// Waits for one command ([`COMMAND`] at most); its result, or a
    /// panic naming `what` with the error and chromedriver's log.
    #[track_caller]
    fn wait<T>(&self, what: &str, command: impl Future<Output = Result<T, CmdError>>) -> T {
        // The timer is made inside the runtime (it needs one).
        match self
            .rt
            .block_on(async { tokio::time::timeout(COMMAND, command).await })
        {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("WebDriver {what}: {e}\n{}", tail_file(&self.log_path, 30)),
            Err(_) => panic!(
                "WebDriver {what}: no answer within {COMMAND:?}\n{}",
                tail_file(&self.log_path, 30)
            ),
        }
    }

    /// A command fantoccini has no method for (chromedriver's own, like its
    /// log): `method` on `/session/{id}{path}`; its `value`.
    #[track_caller]
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let command = SessionCommand {
            method: http::Method::from_bytes(method.as_bytes()).unwrap(),
            path: path.to_string(),
            body,
        };
        self.wait(path, self.client().issue_cmd(command))
    }

    pub fn goto(&self, url: &str) {
        self.wait("goto", self.client().goto(url));
    }

    pub fn url(&self) -> String {
        self.wait("url", self.client().current_url()).to_string()
    }

    pub fn refresh(&self) {
        self.wait("refresh", self.client().refresh());
    }

    pub fn source(&self) -> String {
        self.wait("source", self.client().source())
    }

    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        self.wait(
            &format!("find {css}"),
            self.client().find(Locator::Css(css)),
        )
    }

    pub fn text(&self, el: &Element) -> String {
        self.wait("text", el.text())
    }

    /// A DOM property as text ("" when the element has none).
    pub fn prop(&self, el: &Element, name: &str) -> String {
        self.wait(&format!("property {name}"), el.prop(name))
            .unwrap_or_default()
    }

    pub fn displayed(&self, el: &Element) -> bool {
        self.wait("displayed", el.is_displayed())
    }

    pub fn click(&self, el: &Element) {
        self.wait("click", el.click());
    }

    /// Keys sent to `el` as they are (`"\u{E007}"` is Enter): a button
    /// pressed from the keyboard.
    pub fn send_keys(&self, el: &Element, text: &str) {
        self.wait("send keys", el.send_keys(text));
    }

    pub fn type_into(&self, el: &Element, text: &str) {
        self.wait("clear", el.clear());
        self.wait("send keys", el.send_keys(text));
    }

    /// Fills the login form (fields found by their `name`) and submits it.
    pub fn login(&self, name: &str, pin: &str) {
        self.type_into(&self.find(r#"input[name="name"]"#), name);
        self.type_into(&self.find(r#"input[name="pin"]"#), pin);
        self.click(&self.find(r#"form[action="/api/login"] [type="submit"]"#));
    }

    /// Runs `script` (a function body; `arguments[i]` are the items of the
    /// array `args`) in the page; its return value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        let args = match args {
            Value::Array(items) => items,
            other => panic!("exec: the arguments must be a JSON array, not {other}"),
        };
        self.wait("execute", self.client().execute(script, args))
    }

    /// The page's visible text.
    pub fn body_text(&self) -> String {
        let v = self.exec(
            "return document.body ? document.body.innerText : ''",
            json!([]),
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

    /// Saves a PNG of the viewport under target/screenshots/, checks its
    /// size (the phone's, or the one [`Browser::viewport`] set).
    pub fn screenshot(&self, name: &str) {
        let png = self.wait("screenshot", self.client().screenshot());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
        let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!(
            (be(16), be(20)),
            self.size.get(),
            "{name}: the screenshot must be the emulated viewport"
        );
        let dir = Path::new(REPO).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    /// Sets a cookie for the current page's site (path `/`), as a stale
    /// cookie left in the browser would be. Host-only, as `__Host-` cookies
    /// must be: fantoccini's `add_cookie` sends `"domain": null`, which
    /// chromedriver refuses, so the command is sent as the spec writes it.
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
        self.wait("cookies", self.client().get_all_cookies())
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_string())
    }

    /// A DevTools command (chromedriver's `goog/cdp/execute`): `method`
    /// with `params`; its result.
    pub fn cdp(&self, method: &str, params: Value) -> Value {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": method, "params": params })),
        )
    }

    /// Emulates `prefers-color-scheme: dark` (or light) for every page of
    /// the session from now on.
    pub fn color_scheme(&self, dark: bool) {
        let scheme = if dark { "dark" } else { "light" };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        );
        let applied = self.exec(
            "return matchMedia('(prefers-color-scheme: ' + arguments[0] + ')').matches",
            json!([scheme]),
        );
        assert_eq!(applied, json!(true), "the {scheme} scheme was not applied");
    }

    /// Emulates a `width`×`height` viewport from now on: a phone (touch,
    /// mobile) under 600 px wide, a desktop otherwise.
    pub fn viewport(&self, width: u32, height: u32) {
        let mobile = width < 600;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        );
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": mobile }),
        );
        self.size.set((width, height));
        let inner = self.exec("return [innerWidth, innerHeight]", json!([]));
        assert_eq!(inner, json!([width, height]), "the emulated viewport");
    }

    /// The viewport emulated now.
    pub fn size(&self) -> (u32, u32) {
        self.size.get()
    }

    /// Runs axe-core (WCAG 2.1 A and AA rules) on the page as it is now;
    /// every violation, of any impact.
    pub fn axe(&self) -> Vec<Violation> {
        let loaded = self.exec("return typeof window.axe === 'object'", json!([]));
        if loaded != json!(true) {
            // Injected through WebDriver, so the page's CSP does not apply.
            self.exec(&format!("{AXE}\nreturn true;"), json!([]));
        }
        let script = "var done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: arguments[0] },
                                resultTypes: ['violations'] })
              .then(function (r) {
                done(r.violations.map(function (v) {
                  return { id: v.id, impact: v.impact || '', help: v.help,
                    nodes: v.nodes.map(function (n) {
                      return n.target.join(' ') + '  ' + n.html + '  ' + (n.failureSummary || '');
                    }) };
                }));
              }, function (e) { done({ error: String(e) }); });";
        let result = self.wait(
            "axe.run",
            self.client().execute_async(script, vec![json!(WCAG_TAGS)]),
        );
        let Value::Array(found) = result else {
            panic!("axe.run failed at {}: {result}", self.url());
        };
        found
            .iter()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or("?").to_string(),
                impact: v["impact"].as_str().unwrap_or("").to_string(),
                help: v["help"].as_str().unwrap_or("").to_string(),
                nodes: v["nodes"]
                    .as_array()
                    .map(|n| {
                        n.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Fails naming every axe-core violation on the page, `what` being the
    /// page and its state, in the light then the dark colour scheme (left
    /// light afterwards).
    #[track_caller]
    pub fn assert_accessible(&self, what: &str) {
        let mut report = String::new();
        for dark in [false, true] {
            self.color_scheme(dark);
            for v in self.axe() {
                let scheme = if dark { "dark" } else { "light" };
                report.push_str(&format!("[{scheme}] {v}"));
            }
        }
        self.color_scheme(false);
        assert!(
            report.is_empty(),
            "axe-core (WCAG 2.1 A/AA) on {what} at {}:\n{report}",
            self.url()
        );
    }

    /// Where each visible element matching `css` is, in CSS pixels of the
    /// viewport.
    pub fn rects(&self, css: &str) -> Vec<Rect> {
        let found = self.exec(
            "return Array.from(document.querySelectorAll(arguments[0]))
               .filter(function (e) { return e.getClientRects().length > 0; })
               .map(function (e) {
                 var r = e.getBoundingClientRect();
                 return [r.left, r.right, r.top, r.bottom,
                         e.tagName.toLowerCase() + ' ' + (e.textContent || '').trim().slice(0, 60)];
               });",
            json!([css]),
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Rect {
                left: r[0].as_f64().unwrap(),
                right: r[1].as_f64().unwrap(),
                top: r[2].as_f64().unwrap(),
                bottom: r[3].as_f64().unwrap(),
                what: r[4].as_str().unwrap_or("").to_string(),
            })
            .collect()
    }

    /// Fails unless every visible element matching `css` (at least one)
    /// is at least 44 CSS pixels tall: a thumb's tap target (WCAG 2.5.5).
    #[track_caller]
    pub fn assert_tap_targets(&self, css: &str) {
        let found = self.rects(css);
        assert!(!found.is_empty(), "no {css} at {}", self.url());
        let small: Vec<String> = found
            .iter()
            .filter(|r| r.bottom - r.top < 44.0)
            .map(|r| {
                format!(
                    "{} ({:.0}×{:.0} px)",
                    r.what,
                    r.right - r.left,
                    r.bottom - r.top
                )
            })
            .collect();
        assert!(
            small.is_empty(),
            "tap targets under 44 px tall at {}: {small:#?}",
            self.url()
        );
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

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.collect_logs_quietly();
            eprintln!(
                "--- browser console\n{}\n--- requests\n{}\n--- chromedriver.log (tail)\n{}",
                self.console.join("\n"),
                self.requests.join("\n"),
                tail_file(&self.log_path, 20)
            );
        }
        if let Some(client) = self.client.take() {
            let close = client.close();
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), close).await });
        }
    }
}

/// Where an element is ([`Browser::rects`]): CSS pixels of the viewport.
#[derive(Debug, Clone)]
pub struct Rect {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// Its tag and the start of its text, for messages.
    pub what: String,
}

impl Rect {
    /// Wholly inside a `width`-pixel-wide viewport, sideways.
    pub fn within_width(&self, width: u32) -> bool {
        self.left >= -0.5 && self.right <= f64::from(width) + 0.5 && self.right > self.left
    }

    /// Wholly inside a `width`×`height` viewport.
    pub fn within(&self, (width, height): (u32, u32)) -> bool {
        self.within_width(width) && self.top >= -0.5 && self.bottom <= f64::from(height) + 0.5
    }
}

/// A command on the session that fantoccini has no method for.
#[derive(Debug)]
struct SessionCommand {
    method: http::Method,
    /// After `/session/{id}`.
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a command on an open session");
        base_url.join(&format!("session/{session}{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = self.body.as_ref().map(Value::to_string);
        (self.method.clone(), body)
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
