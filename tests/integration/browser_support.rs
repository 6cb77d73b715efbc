//! The browser harness of the Chromium tests: chromedriver + headless
//! Chromium over W3C WebDriver ([`Browser`]), the demo site served by real
//! nginx in front of `gen watch` or by `gen serve` ([`Stack`]), and the demo
//! data and theme strings the tests read. See `browser.rs` for why the
//! driver is plain `reqwest`.
//!
//! Needs the Debian packages `nginx`, `chromium` and `chromium-driver`
//! ([`Tools::find`] fails naming the package, never skips).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{DEMO, Site, TEMPLATES, demo_logins, run_gen, tail, tail_file, tool};
use crate::http_support::{Gen, Nginx, NginxSetup, free_port, nginx_binary, poll};
use serde_json::{Value, json};

pub const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The phone viewport of the screenshots.
pub const VIEWPORT: (u32, u32) = (390, 844);
/// The longest wait for one step (a page, a redirect, a message): polled,
/// so a passing run takes what the browser takes.
pub const STEP: Duration = Duration::from_secs(10);
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---------------------------------------------------------------- the data

pub struct Player {
    pub name: String,
    pub pin: String,
    pub slug: String,
    pub opponent: String,
}

/// The first demo player who has matches, with one opponent of theirs.
pub fn demo_player() -> Player {
    let mut matches = csv::Reader::from_path(format!("{DEMO}/matches.csv")).unwrap();
    let mh = matches.headers().unwrap().clone();
    let mcol = |n: &str| mh.iter().position(|h| h == n).unwrap();
    let (key, opp) = (mcol("player_id"), mcol("opponent"));
    let games: Vec<(String, String)> = matches
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[key].to_string(), r[opp].to_string())
        })
        .collect();
    for (id, name, pin) in demo_logins() {
        if let Some((_, opponent)) = games.iter().find(|(k, o)| *k == id && !o.is_empty()) {
            return Player {
                name,
                pin,
                // Demo ids are lowercase ASCII already: the slug is the id.
                slug: id.to_ascii_lowercase(),
                opponent: opponent.clone(),
            };
        }
    }
    panic!("no demo player has matches");
}

/// The theme's UI string `key` for `lang` (`strings/<lang>.toml`; a
/// dotted key reads a table: `"admin.title"`).
pub fn ui_string(lang: &str, key: &str) -> String {
    let path = format!("{TEMPLATES}/strings/{lang}.toml");
    let table: toml::Table = std::fs::read_to_string(&path)
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value = toml::Value::Table(table);
    for part in key.split('.') {
        value = value
            .get(part)
            .cloned()
            .unwrap_or_else(|| panic!("{path}: no string {key}"));
    }
    value
        .as_str()
        .unwrap_or_else(|| panic!("{path}: {key} is not a string"))
        .to_string()
}

/// The demo's `site.toml`, made to run in `dir`: the repo's theme, the demo
/// CSVs copied there, the API on a free loopback port, `lang` if given,
/// then changed by `tweak` (the whole config as a table).
pub fn demo_config(
    lang: Option<&str>,
    api_listen: &str,
    tweak: &dyn Fn(&mut toml::Table),
) -> (String, String) {
    let path = format!("{REPO}/site.toml");
    let mut config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let table = |config: &mut toml::Table, k: &str| -> toml::Table {
        config
            .get(k)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_else(|| panic!("{path}: no [{k}]"))
    };
    let mut site = table(&mut config, "site");
    if let Some(lang) = lang {
        site.insert("lang".into(), lang.into());
    }
    site.insert("templates".into(), TEMPLATES.into());
    site.insert("out_dir".into(), "public".into());
    site.insert("state_dir".into(), ".sheetgen".into());
    let lang = site["lang"].as_str().unwrap().to_string();
    config.insert("site".into(), site.into());
    let mut source = table(&mut config, "source");
    source.insert(
        "files".into(),
        toml::Table::from_iter([
            ("Players".to_string(), "players.csv".into()),
            ("Matches".to_string(), "matches.csv".into()),
        ])
        .into(),
    );
    config.insert("source".into(), source.into());
    let mut api = table(&mut config, "api");
    api.insert("listen".into(), api_listen.into());
    config.insert("api".into(), api.into());
    tweak(&mut config);
    (toml::to_string(&config).unwrap(), lang)
}

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

// ---------------------------------------------------------------- gen + nginx

/// What serves the site to the browser in a [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// `gen watch` behind the real nginx with the file `gen nginx` prints.
    Nginx,
    /// `gen serve` alone: it serves the files and the API on one port.
    Serve,
}

/// `gen watch` on a copy of the demo with nginx in front of it, or `gen
/// serve` alone ([`Front`]). Stopped on drop; their logs printed if the
/// test is failing.
pub struct Stack {
    pub lang: String,
    // Dropped in this order: nginx, gen, the site folder.
    pub nginx: Option<Nginx>,
    pub gen_: Gen,
    pub site: Site,
}

impl Front {
    /// A word for file names (screenshots).
    pub fn name(self) -> &'static str {
        match self {
            Front::Nginx => "nginx",
            Front::Serve => "serve",
        }
    }
}

impl Stack {
    /// The demo behind nginx, in `lang` (the demo's own when `None`).
    pub fn start(lang: Option<&str>) -> Stack {
        Stack::start_with(lang, Front::Nginx, &|_| {})
    }

    /// The demo with its config changed by `tweak`, served by `front`.
    pub fn start_with(lang: Option<&str>, front: Front, tweak: &dyn Fn(&mut toml::Table)) -> Stack {
        let site = Site::for_nginx();
        site.copy_demo_roster();
        let (config, lang) = demo_config(lang, "127.0.0.1:0", tweak);
        site.write_config(&config);

        // gen on a free port, read from its log.
        // `gen serve` listens on --listen (8080 by default), not api.listen.
        let command: &[&str] = match front {
            Front::Nginx => &["watch"],
            Front::Serve => &["serve", "--listen", "127.0.0.1:0"],
        };
        let gen_ = Gen::start(&site.config_path(), site.root(), command);
        assert!(
            gen_.addr.starts_with("127.0.0.1:") && !gen_.addr.ends_with(":0"),
            "gen's API address: {:?}",
            gen_.addr
        );
        gen_.wait_first_cycle();
        if front == Front::Serve {
            return Stack {
                lang,
                nginx: None,
                gen_,
                site,
            };
        }

        // The nginx site, for the port gen actually got: `gen nginx` reads
        // api.listen from the config, so give it one with that port.
        let nginx_toml = site.root().join("nginx-site.toml");
        std::fs::write(&nginx_toml, demo_config(Some(&lang), &gen_.addr, tweak).0).unwrap();
        let gen_nginx = |args: &[&str]| {
            let run = run_gen(&nginx_toml, site.root(), args, &[]);
            run.expect_ok();
            run.stdout
        };
        let nginx = Nginx::start(
            &gen_nginx,
            NginxSetup {
                workers: 1,
                access_log: true,
            },
        );
        Stack {
            lang,
            nginx: Some(nginx),
            gen_,
            site,
        }
    }

    /// The port the browser talks to (on 127.0.0.1): nginx's, or `gen
    /// serve`'s.
    pub fn port(&self) -> &str {
        let addr = self.nginx.as_ref().map_or(&self.gen_.addr, |n| &n.addr);
        addr.strip_prefix("127.0.0.1:").unwrap()
    }

    /// `http://localhost:<port>` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- gen log\n{}", self.gen_.log());
            if let Some(nginx) = &self.nginx {
                eprintln!(
                    "--- nginx error.log\n{}\n--- nginx access.log\n{}",
                    tail(&nginx.error_log(), 40),
                    tail(&nginx.access_log(), 40),
                );
            }
        }
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
