#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The real thing, end to end (issue 6): headless Chromium, driven through
//! chromedriver, logs in through real nginx (the file `gen nginx` prints)
//! in front of the real `gen watch` on the demo roster.
//!
//! Roster → private page → login form → wrong PIN (the generic message, in
//! the configured language) → right PIN → the player's own page with their
//! matches → reload → log out → the private page asks for login again.
//! Screenshots of the login page and of the player's page on a 390×844
//! (phone) viewport land in `target/screenshots/`. Any console error, or any
//! request to anything but `http://localhost:<nginx port>/` or `data:`, fails
//! the test.
//!
//! Driver: the W3C WebDriver HTTP protocol spoken to chromedriver with
//! `reqwest`, which sheetgen already depends on: no new crate to compile, no
//! change to Cargo.lock, and the handful of endpoints used here are stable
//! and simple JSON. chromedriver gives console logs (`goog:loggingPrefs`)
//! and the DevTools network events (performance log) without a websocket.
//!
//! Needs the Debian packages `nginx`, `chromium` and `chromium-driver`
//! (`tests/run.sh` installs them as root). Without them the test FAILS and
//! names the package: it never skips.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Site, TEMPLATES, toml_str};
use serde_json::{Value, json};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo");
/// The phone viewport of the screenshots.
const VIEWPORT: (u32, u32) = (390, 844);
/// The longest wait for one step (a page, a redirect, a message): polled,
/// so a passing run takes what the browser takes.
const STEP: Duration = Duration::from_secs(10);
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

#[test]
fn browser_login_flow_en() {
    // The demo's own language.
    browser_login_flow(None);
}

#[test]
fn browser_login_flow_fr() {
    browser_login_flow(Some("fr"));
}

#[test]
fn a_missing_tool_fails_naming_its_package() {
    let err = std::panic::catch_unwind(|| tool("sheetgen-no-such-command", "some-package"))
        .expect_err("a missing tool must fail the test, never skip it");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("Debian package `some-package`"),
        "{message}"
    );
}

// ---------------------------------------------------------------- the flow

fn browser_login_flow(lang_override: Option<&str>) {
    let started = Instant::now();
    let tools = Tools::find();
    let stack = Stack::start(&tools, lang_override);
    let lang = stack.lang.clone();
    let strings = ui_strings(&lang);
    let player = demo_player();
    let base = format!("http://localhost:{}", stack.nginx_port);
    let url = |path: &str| format!("{base}{path}");
    let private = format!("/p/{}/", player.slug);

    let mut b = Browser::start(&tools, &stack.dir.join("chrome"));

    // The public roster.
    b.goto(&url("/"));
    b.wait_text("the roster", |t| t.contains(&player.name));

    // A private page without a session → the login form, `next` set.
    b.goto(&url(&private));
    b.wait_url("the login form", |u| path_of(u) == "/login/");
    let landed = b.url();
    assert_eq!(
        query_param(&landed, "next").as_deref(),
        Some(private.as_str()),
        "the login redirect must carry next={private}: {landed}"
    );
    // login.js copied `next` into the form (proves the script ran under the CSP).
    assert_eq!(
        b.prop(&b.find(r#"input[name="next"]"#), "value"),
        private,
        "login.js must copy ?next= into the form"
    );
    assert!(
        !b.body_text().contains(&strings.login_error),
        "the error message shows before any attempt"
    );
    b.screenshot(&format!("login-{lang}.png"));

    // A wrong PIN → the generic message, in the configured language.
    //
    // The inputs are located by their `name` attribute on purpose: those
    // names are what the browser posts and what `POST /api/login` reads
    // (`name`, `pin`, `next`). Renaming a field in login.html either makes
    // `find` fail here, or (if the test matched ids or labels instead) makes
    // the browser post a field the server ignores, so the right PIN below
    // would be refused. Either way, breaking the form breaks this test.
    let wrong_pin = format!("{}9", player.pin);
    b.login(&player.name, &wrong_pin);
    b.wait_url("the login form again after a wrong PIN", |u| {
        path_of(u) == "/login/" && query_param(u, "error").as_deref() == Some("1")
    });
    b.wait_text("the wrong-PIN message", |t| {
        t.contains(&strings.login_error)
    });
    let error = b.find("#login-error");
    assert!(b.displayed(&error), "the error message must be visible");
    assert_eq!(b.text(&error).trim(), strings.login_error);
    assert_eq!(
        query_param(&b.url(), "next").as_deref(),
        Some(private.as_str()),
        "next must survive a failed attempt"
    );
    b.screenshot(&format!("login-error-{lang}.png"));

    // The right PIN → the player's own page, with their matches.
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page after login", |u| path_of(u) == private);
    let check_player_page = |b: &Browser, when: &str| {
        let text = b.wait_text(when, |t| t.contains(&player.name));
        assert!(
            text.contains(&player.opponent),
            "{when}: the player's matches (opponent {:?}) must show:\n{text}",
            player.opponent
        );
        assert!(
            text.contains(&strings.logout),
            "{when}: the logout button ({:?}) must show:\n{text}",
            strings.logout
        );
        assert!(
            !b.source().contains(&player.pin),
            "{when}: the PIN must never be in the page"
        );
    };
    check_player_page(&b, "logged in");
    b.screenshot(&format!("player-{lang}.png"));

    // A reload keeps the session.
    b.refresh();
    b.wait_url("the player's page after a reload", |u| {
        path_of(u) == private
    });
    check_player_page(&b, "after a reload");

    // Log out → the private page asks for login again.
    b.click(&b.find(r#"form[action="/api/logout"] [type="submit"]"#));
    b.wait_url("the login form after logout", |u| path_of(u) == "/login/");
    b.goto(&url(&private));
    b.wait_url("the login form for the private page after logout", |u| {
        path_of(u) == "/login/"
    });
    assert!(
        !b.body_text().contains(&player.opponent),
        "after logout the private page must not show"
    );

    // No console error, no request off the loopback site.
    b.collect_logs();
    let errors: Vec<&String> = b
        .console
        .iter()
        .filter(|l| l.starts_with("SEVERE"))
        .collect();
    assert!(errors.is_empty(), "console errors:\n{errors:#?}");
    // The performance log also shows the browser's own targets loading
    // chrome:// resources (the Debian launcher adds extensions): those never
    // leave the machine. Any other URL must be the site or data:.
    let allowed = format!("{base}/");
    let offsite: Vec<&String> = b
        .requests
        .iter()
        .filter(|u| !u.starts_with(&allowed) && !u.starts_with("data:") && !browser_internal(u))
        .collect();
    assert!(
        offsite.is_empty(),
        "requests to something else than {allowed} or data: {offsite:#?}"
    );
    assert!(
        b.requests.iter().any(|u| u.starts_with(&url("/api/login"))),
        "the performance log must have seen the login POST: {:#?}",
        b.requests
    );
    eprintln!(
        "browser flow ({lang}) ok in {:.1}s: {} requests, {} console lines",
        started.elapsed().as_secs_f64(),
        b.requests.len(),
        b.console.len()
    );
}

// ---------------------------------------------------------------- the data

struct Player {
    name: String,
    pin: String,
    slug: String,
    opponent: String,
}

/// The first demo player who has matches, with one opponent of theirs.
fn demo_player() -> Player {
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
    let mut players = csv::Reader::from_path(format!("{DEMO}/players.csv")).unwrap();
    let ph = players.headers().unwrap().clone();
    let pcol = |n: &str| ph.iter().position(|h| h == n).unwrap();
    let (id, name, pin) = (pcol("id"), pcol("name"), pcol("pin"));
    for r in players.records() {
        let r = r.unwrap();
        if let Some((_, opponent)) = games.iter().find(|(k, o)| k == &r[id] && !o.is_empty()) {
            return Player {
                name: r[name].to_string(),
                pin: r[pin].to_string(),
                // Demo ids are lowercase ASCII already: the slug is the id.
                slug: r[id].to_ascii_lowercase(),
                opponent: opponent.clone(),
            };
        }
    }
    panic!("no demo player has matches");
}

struct Strings {
    login_error: String,
    logout: String,
}

/// The theme's UI strings for `lang`.
fn ui_strings(lang: &str) -> Strings {
    let path = format!("{TEMPLATES}/strings/{lang}.toml");
    let table: toml::Table = std::fs::read_to_string(&path)
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let get = |k: &str| {
        table
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{path}: no string {k}"))
            .to_string()
    };
    Strings {
        login_error: get("login_error"),
        logout: get("logout"),
    }
}

/// The demo's `site.toml`, made to run in `dir`: the repo's theme, the demo
/// CSVs copied there, the API on a free loopback port, `lang` if given.
fn demo_config(lang: Option<&str>, api_listen: &str) -> (String, String) {
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
    (toml::to_string(&config).unwrap(), lang)
}

// ---------------------------------------------------------------- tools

struct Tools {
    nginx: PathBuf,
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Every tool or a failure naming its Debian package (never a skip).
    fn find() -> Tools {
        Tools {
            nginx: tool("nginx", "nginx"),
            chromium: tool("chromium", "chromium"),
            chromedriver: tool("chromedriver", "chromium-driver"),
        }
    }
}

fn tool(command: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{command}` is not installed: this test needs the Debian package \
                 `{package}` (apt-get install {package}; tests/run.sh installs it as root)"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, timeout: Duration, diag: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} not listening on 127.0.0.1:{port} after {timeout:?}\n{}",
            diag()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process stopped (and reaped) on drop: by its `stop` command if
/// it has one (nginx: a SIGKILLed master leaves its workers running, still
/// listening), else or after 5 s by SIGKILL.
struct Proc {
    child: Child,
    stop: Option<Command>,
}

impl Proc {
    fn new(child: Child) -> Proc {
        Proc { child, stop: None }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(stop) = &mut self.stop {
            let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------- gen + nginx

/// `gen watch` on a copy of the demo, and nginx in front of it with the
/// file `gen nginx` prints. Both killed on drop; their logs printed if the
/// test is failing.
struct Stack {
    _site: Site,
    dir: PathBuf,
    lang: String,
    nginx_port: u16,
    gen_log: Arc<Mutex<String>>,
    nginx: Option<Proc>,
    watch: Option<Proc>,
}

impl Stack {
    fn start(tools: &Tools, lang: Option<&str>) -> Stack {
        let site = Site::new();
        // nginx's workers run as another user when the master is root: let
        // them through the temp folder (gen publishes 0644 files, 0755 dirs).
        chmod(site.root(), 0o755);
        let dir = site.root().to_path_buf();
        for f in ["players.csv", "matches.csv"] {
            site.write(f, std::fs::read(format!("{DEMO}/{f}")).unwrap());
        }
        let (config, lang) = demo_config(lang, "127.0.0.1:0");
        site.write_config(&config);

        // gen watch: the API on a free port, read from its log.
        let mut child = Command::new(env!("CARGO_BIN_EXE_gen"))
            .arg("--config")
            .arg(site.config_path())
            .arg("watch")
            .current_dir(&dir)
            .env_remove("RUST_LOG")
            .env_remove("GEN_SESSION_KEY")
            .env_remove("GEN_REFRESH_TOKEN")
            .env_remove("GEN_GOOGLE_API_KEY")
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, gen_log) = read_lines(child.stderr.take().unwrap());
        let mut stack = Stack {
            _site: site,
            dir,
            lang,
            nginx_port: 0,
            gen_log,
            nginx: None,
            watch: Some(Proc::new(child)),
        };
        let api = stack.wait_log(&lines, "API listening on ");
        let api: String = api
            .split("API listening on ")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
            .collect();
        assert!(
            api.starts_with("127.0.0.1:") && !api.ends_with(":0"),
            "gen's API address: {api:?}"
        );
        stack.wait_log(&lines, "cycle ok");

        // The nginx site, for the port gen actually got: `gen nginx` reads
        // api.listen from the config, so give it one with that port.
        let nginx_dir = stack.dir.join("nginx");
        std::fs::create_dir_all(nginx_dir.join("cache")).unwrap();
        chmod(&nginx_dir, 0o755);
        let nginx_toml = stack.dir.join("nginx-site.toml");
        std::fs::write(&nginx_toml, demo_config(Some(&stack.lang), &api).0).unwrap();
        let port = free_port();
        stack.nginx_port = port;
        let out = Command::new(env!("CARGO_BIN_EXE_gen"))
            .arg("--config")
            .arg(&nginx_toml)
            .args(["nginx", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--server-name", "localhost", "--cache-dir"])
            .arg(nginx_dir.join("cache"))
            .current_dir(&stack.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gen nginx failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let site_conf = nginx_dir.join("sheetgen.conf");
        std::fs::write(&site_conf, &out.stdout).unwrap();
        let p = |name: &str| toml_str(&nginx_dir.join(name).display().to_string());
        let main_conf = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid {pid};\nerror_log {error} info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n\
             \x20 access_log {access};\n  client_body_temp_path {t1};\n  proxy_temp_path {t2};\n\
             \x20 fastcgi_temp_path {t3};\n  uwsgi_temp_path {t4};\n  scgi_temp_path {t5};\n\
             \x20 include {site};\n}}\n",
            pid = p("nginx.pid"),
            error = p("error.log"),
            access = p("access.log"),
            t1 = p("client_body"),
            t2 = p("proxy"),
            t3 = p("fastcgi"),
            t4 = p("uwsgi"),
            t5 = p("scgi"),
            site = toml_str(&site_conf.display().to_string()),
        );
        let main_path = nginx_dir.join("nginx.conf");
        std::fs::write(&main_path, main_conf).unwrap();
        let nginx_command = || {
            let mut c = Command::new(&tools.nginx);
            c.arg("-p")
                .arg(&nginx_dir)
                .arg("-e")
                .arg(nginx_dir.join("error.log"))
                .arg("-c")
                .arg(&main_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let mut stop = nginx_command();
        stop.args(["-s", "stop"]);
        stack.nginx = Some(Proc {
            child: nginx_command().spawn().unwrap(),
            stop: Some(stop),
        });
        let error_log = nginx_dir.join("error.log");
        wait_for_port(port, "nginx", Duration::from_secs(10), || {
            format!("nginx error.log:\n{}", tail(&error_log, 30))
        });
        stack
    }

    /// The first line of gen's log containing `needle` (10 s at most).
    fn wait_log(&self, lines: &Receiver<String>, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "gen watch never logged {needle:?}:\n{}",
                    self.gen_log.lock().unwrap()
                ),
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.nginx.take();
        self.watch.take();
        if std::thread::panicking() {
            let log = self.gen_log.lock().map(|l| l.clone()).unwrap_or_default();
            let nginx = self.dir.join("nginx");
            eprintln!(
                "--- gen watch log\n{log}\n--- nginx error.log\n{}\n--- nginx access.log\n{}",
                tail(&nginx.join("error.log"), 40),
                tail(&nginx.join("access.log"), 40),
            );
        }
    }
}

/// Lines of a child's stream, as they come and all so far.
fn read_lines(
    stream: impl std::io::Read + Send + 'static,
) -> (Receiver<String>, Arc<Mutex<String>>) {
    let (tx, rx) = mpsc::channel();
    let all = Arc::new(Mutex::new(String::new()));
    let keep = Arc::clone(&all);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut all) = keep.lock() {
                all.push_str(&line);
                all.push('\n');
            }
            let _ = tx.send(line);
        }
    });
    (rx, all)
}

// ---------------------------------------------------------------- the browser

/// chromedriver + one Chromium session, over W3C WebDriver.
struct Browser {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    session: String,
    log_path: PathBuf,
    /// Console lines so far, as "LEVEL message".
    console: Vec<String>,
    /// Every URL the page asked for so far (DevTools Network events).
    requests: Vec<String>,
    _driver: Proc,
}

impl Browser {
    fn start(tools: &Tools, dir: &Path) -> Browser {
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
        let driver = Proc::new(driver);
        wait_for_port(port, "chromedriver", Duration::from_secs(10), || {
            tail(&log_path, 30)
        });
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
    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self.http.request(method, &url);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        let (status, value) = self.rt.block_on(async {
            let response = request.send().await.unwrap_or_else(|e| {
                panic!("chromedriver {url}: {e}\n{}", tail(&self.log_path, 30))
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

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn refresh(&self) {
        self.cmd("POST", "/refresh", Some(json!({})));
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn find(&self, css: &str) -> String {
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

    fn text(&self, el: &str) -> String {
        let v = self.cmd("GET", &format!("/element/{el}/text"), None);
        v.as_str().unwrap().to_string()
    }

    fn prop(&self, el: &str, name: &str) -> String {
        let v = self.cmd("GET", &format!("/element/{el}/property/{name}"), None);
        v.as_str().unwrap_or_default().to_string()
    }

    fn displayed(&self, el: &str) -> bool {
        let v = self.cmd("GET", &format!("/element/{el}/displayed"), None);
        v.as_bool().unwrap()
    }

    fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn type_into(&self, el: &str, text: &str) {
        self.cmd("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Fills the login form (fields found by their `name`) and submits it.
    fn login(&self, name: &str, pin: &str) {
        self.type_into(&self.find(r#"input[name="name"]"#), name);
        self.type_into(&self.find(r#"input[name="pin"]"#), pin);
        self.click(&self.find(r#"form[action="/api/login"] [type="submit"]"#));
    }

    /// The page's visible text.
    fn body_text(&self) -> String {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": "return document.body ? document.body.innerText : ''", "args": [] })),
        );
        v.as_str().unwrap_or_default().to_string()
    }

    /// Polls the visible text until `ok` ([`STEP`] at most), returns it.
    fn wait_text(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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
    fn wait_url(&self, what: &str, ok: impl Fn(&str) -> bool) {
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
    fn screenshot(&self, name: &str) {
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
    fn collect_logs(&mut self) {
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
                tail(&self.log_path, 20)
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
    /// `collect_logs` for a failing test: never panics again.
    fn collect_logs_quietly(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.collect_logs()));
    }
}

// ---------------------------------------------------------------- URLs

/// A URL the browser serves itself, never fetched over the network.
fn browser_internal(url: &str) -> bool {
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
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// A decoded query parameter of a URL.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
