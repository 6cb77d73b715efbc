//! A tiny HTTP/1.1 client over `std::net::TcpStream` (exact bytes on the
//! wire, every header kept, several `Set-Cookie` included), a gunzip helper,
//! [`Gen`]: a running `gen watch`/`gen serve` whose stderr is collected and
//! which is stopped when dropped, and [`Nginx`]: the real nginx in front of
//! it. Uses [`crate::common`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, Site};

/// How long any single read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The session cookie gen sets (`__Host-`: HTTPS only, no Domain).
pub const COOKIE: &str = "__Host-gen_session";

// ---------------------------------------------------------------- responses

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The status line and headers as received (without the blank line).
    pub head: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header `name`, in order.
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body, gunzipped when `Content-Encoding: gzip`.
    pub fn decoded(&self) -> Vec<u8> {
        if self
            .header("Content-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"))
        {
            gunzip(&self.body)
        } else {
            self.body.clone()
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.head, self.text()))
    }

    /// The value of cookie `name` from the `Set-Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .and_then(|sc| sc.split(';').next())
            .and_then(|pair| pair.trim().split_once('='))
            .map(|(_, v)| v.to_string())
    }

    /// The whole `Set-Cookie` header for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers_all("Set-Cookie")
            .into_iter()
            .find(|sc| sc.trim_start().starts_with(&format!("{name}=")))
    }

    /// Status line and headers without the ones that legitimately differ
    /// between two identical answers (`Date`).
    pub fn head_without_date(&self) -> String {
        self.head
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// Whether the server will keep the connection open.
    fn keeps_alive(&self) -> bool {
        !self
            .header("Connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }
}

#[track_caller]
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("not valid gzip ({} bytes): {e}", bytes.len()));
    out
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------- requests

/// The bytes of one request. A `Host` header is added unless given;
/// `Content-Length` is added for a non-empty body unless given.
pub fn request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    if !has("Host") {
        out.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if (!body.is_empty() || method == "POST") && !has("Content-Length") && !has("Transfer-Encoding")
    {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one response. `head_only`: the request was `HEAD` (no body).
pub fn read_response(reader: &mut impl BufRead, head_only: bool) -> std::io::Result<Response> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed after {:?}", head),
            ));
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let head = head.trim_end_matches(['\r', '\n']).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        if get("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
            loop {
                let mut size_line = String::new();
                reader.read_line(&mut size_line)?;
                let size = usize::from_str_radix(
                    size_line.trim().split(';').next().unwrap_or("").trim(),
                    16,
                )
                .map_err(|e| std::io::Error::other(format!("bad chunk size: {e}")))?;
                if size == 0 {
                    // Trailers, then the blank line.
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l)? == 0 || l == "\r\n" || l == "\n" {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0; size];
                reader.read_exact(&mut chunk)?;
                body.extend_from_slice(&chunk);
                let mut crlf = [0u8; 2];
                reader.read_exact(&mut crlf)?;
            }
        } else if let Some(len) = get("Content-Length") {
            let len: usize = len
                .parse()
                .map_err(|e| std::io::Error::other(format!("bad Content-Length: {e}")))?;
            body = vec![0; len];
            reader.read_exact(&mut body)?;
        } else {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(Response {
        status,
        head,
        headers,
        body,
    })
}

/// One connection, reusable for several requests (keep-alive).
pub struct Conn {
    pub addr: String,
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            addr: addr.to_string(),
            reader: BufReader::new(stream),
        })
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn set_read_timeout(&self, t: Duration) {
        self.stream().set_read_timeout(Some(t)).unwrap();
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(bytes)?;
        self.reader.get_mut().flush()
    }

    pub fn read(&mut self, head_only: bool) -> std::io::Result<Response> {
        read_response(&mut self.reader, head_only)
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let bytes = request_bytes(&self.addr, method, path, headers, body);
        self.send_raw(&bytes)?;
        self.read(method == "HEAD")
    }
}

/// Sends `raw` (a whole request, as it is) on a fresh connection and reads
/// the answer (no body if `raw` is a `HEAD`).
pub fn raw_request(addr: &str, raw: &[u8]) -> std::io::Result<Response> {
    let mut conn = Conn::open(addr)?;
    conn.send_raw(raw)?;
    conn.read(raw.starts_with(b"HEAD "))
}

/// One request on a fresh connection, closed afterwards.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Connection"))
    {
        all.push(("Connection", "close"));
    }
    let mut conn = Conn::open(addr)?;
    let response = conn.request(method, path, &all, body)?;
    let _ = response.keeps_alive();
    Ok(response)
}

#[track_caller]
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

#[track_caller]
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", path, headers, b"")
}

/// `GET /api/auth` as nginx asks it: the status gen gives session `token`
/// for the page of `slug`.
#[track_caller]
pub fn auth_status(addr: &str, token: &str, slug: &str) -> u16 {
    let cookie = format!("{COOKIE}={token}");
    get(
        addr,
        "/api/auth",
        &[("Cookie", &cookie), ("X-Player-Slug", slug)],
    )
    .status
}

/// `POST` of a form.
#[track_caller]
pub fn post_form(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Response {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Type", "application/x-www-form-urlencoded"));
    request(addr, "POST", path, &all, &form(fields))
}

/// Whether `child` accepts connections on `addr` within `timeout` (false
/// as soon as it exits: a server that failed to start).
pub fn listening(child: &mut Child, addr: &str, timeout: Duration) -> bool {
    let up = poll(timeout, || {
        if let Ok(Some(_)) = child.try_wait() {
            return Some(false);
        }
        TcpStream::connect(addr).is_ok().then_some(true)
    });
    up == Some(true)
}

/// A port nobody listens on right now (bound then released: another
/// process may take it meanwhile, callers retry).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` until it returns `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

// ---------------------------------------------------------------- bursts

/// What a burst of fresh connections saw.
#[derive(Debug)]
pub struct Burst {
    /// Per connection: time from the start of the burst to its complete
    /// answer, with its status; `Err` if it never came.
    pub results: Vec<Result<(Duration, u16), String>>,
}

impl Burst {
    pub fn answered_within(&self, limit: Duration) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r, Ok((d, _)) if *d <= limit))
            .count()
    }

    pub fn statuses(&self) -> std::collections::BTreeMap<String, usize> {
        let mut m = std::collections::BTreeMap::new();
        for r in &self.results {
            let k = match r {
                Ok((_, s)) => s.to_string(),
                Err(e) => format!("error: {e}"),
            };
            *m.entry(k).or_insert(0) += 1;
        }
        m
    }

    /// `p50 / p90 / p99 / max` of the answered ones, and how many failed.
    pub fn summary(&self) -> String {
        let mut d: Vec<Duration> = self
            .results
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|(d, _)| *d))
            .collect();
        d.sort();
        let pct = |p: f64| {
            d.get(((d.len() as f64 - 1.0) * p).round() as usize)
                .map_or("-".to_string(), |x| format!("{} ms", x.as_millis()))
        };
        format!(
            "{} connections: {} answered within 1 s; latency p50 {}, p90 {}, p99 {}, max {}; statuses {:?}",
            self.results.len(),
            self.answered_within(Duration::from_secs(1)),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0),
            self.statuses()
        )
    }
}

/// Opens `n` fresh connections at once (one thread each, released together)
/// and sends one keep-alive request on each; every connection stays open
/// until all have finished or given up after `give_up`.
pub fn burst(addr: &str, n: usize, request: Vec<u8>, give_up: Duration) -> Burst {
    burst_each(addr, vec![request; n], give_up)
}

/// Like [`burst`], one connection per request in `requests` (each sends its
/// own).
pub fn burst_each(addr: &str, requests: Vec<Vec<u8>>, give_up: Duration) -> Burst {
    let n = requests.len();
    let barrier = Arc::new(std::sync::Barrier::new(n + 1));
    let done = Arc::new(std::sync::Barrier::new(n + 1));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (addr, barrier, done) = (addr.to_string(), Arc::clone(&barrier), Arc::clone(&done));
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let result = (|| -> std::io::Result<(Duration, u16)> {
                    let stream = TcpStream::connect(&addr)?;
                    stream.set_read_timeout(Some(give_up))?;
                    stream.set_nodelay(true)?;
                    let mut reader = BufReader::new(stream);
                    reader.get_mut().write_all(&request)?;
                    let r = read_response(&mut reader, false)?;
                    let elapsed = start.elapsed();
                    // Keep the connection open (keep-alive) until all are done.
                    done.wait();
                    drop(reader);
                    Ok((elapsed, r.status))
                })();
                match result {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        done.wait();
                        Err(e.to_string())
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    done.wait();
    Burst {
        results: handles.into_iter().map(|h| h.join().unwrap()).collect(),
    }
}

/// Like [`burst`] but the way a proxy opens connections: one thread
/// connects `n` sockets back to back, then writes the request on each,
/// then reads the answers (all within `give_up` of the
/// start). Latency is measured when each answer has been read.
pub fn burst_one_thread(addr: &str, n: usize, request: &[u8], give_up: Duration) -> Burst {
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let c = (|| -> std::io::Result<BufReader<TcpStream>> {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            Ok(BufReader::new(stream))
        })();
        conns.push(c);
    }
    // All connected first, then all requests written (as an event loop
    // does when the connects complete).
    for c in &mut conns {
        if let Ok(reader) = c {
            if let Err(e) = reader.get_mut().write_all(request) {
                *c = Err(e);
            }
        }
    }
    let deadline = start + give_up;
    let results = conns
        .iter_mut()
        .map(|c| {
            let reader = c.as_mut().map_err(|e| e.to_string())?;
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            reader
                .get_ref()
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let r = read_response(reader, false).map_err(|e| e.to_string())?;
            Ok((start.elapsed(), r.status))
        })
        .collect();
    // Every connection stayed open (keep-alive) until now.
    drop(conns);
    Burst { results }
}

// ---------------------------------------------------------------- gen

/// A running `gen` (`watch` or `serve`) with its stderr collected; SIGTERM
/// then SIGKILL when dropped.
pub struct Gen {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// The threads collecting stderr and stdout (joined once gen exited, so
    /// its last lines are in).
    readers: Vec<JoinHandle<()>>,
    /// Where its API listens (`127.0.0.1:PORT`).
    pub addr: String,
}

/// Collects the lines of `stream` into `into`. `term_pid`: SIGTERM that
/// process the instant a line says where the API listens (once).
fn collect(
    stream: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    mut term_pid: Option<u32>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let listening = term_pid.is_some() && listening_addr(&line).is_some();
            into.lock().unwrap().push(line);
            if listening && let Some(pid) = term_pid.take() {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
        }
    })
}

impl Gen {
    /// Starts `gen --config <site.toml> <args…>` in `root` with a clean
    /// environment (plus `env`); waits for `API listening on …` (15 s).
    /// `Err` with the log if it exited first.
    pub fn try_start(
        config: &Path,
        root: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Gen, String> {
        Gen::launch(config, root, args, env, false)
    }

    #[track_caller]
    pub fn start(config: &Path, root: &Path, args: &[&str]) -> Gen {
        Gen::start_env(config, root, args, &[])
    }

    /// [`Gen::start`] with `env` set.
    #[track_caller]
    pub fn start_env(config: &Path, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Gen {
        Gen::try_start(config, root, args, env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Gen::start`], and a SIGTERM sent the instant gen says where it
    /// listens (by the thread reading its log, before anything else runs).
    #[track_caller]
    pub fn start_then_term(config: &Path, root: &Path, args: &[&str]) -> Gen {
        Gen::launch(config, root, args, &[], true).unwrap_or_else(|e| panic!("{e}"))
    }

    fn launch(
        config: &Path,
        root: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        term_on_listening: bool,
    ) -> Result<Gen, String> {
        let mut cmd = common::gen_command(config, root);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let term_pid = term_on_listening.then_some(child.id());
        let readers = vec![
            collect(child.stderr.take().unwrap(), Arc::clone(&lines), term_pid),
            collect(child.stdout.take().unwrap(), Arc::clone(&stdout), None),
        ];
        let mut gen_ = Gen {
            child,
            lines,
            stdout,
            readers,
            addr: String::new(),
        };
        let found = poll(Duration::from_secs(15), || {
            // Exited before the log is read: a gen stopped right after it
            // said where it listens (see `start_then_term`) counts as started.
            let exited = gen_.child.try_wait().ok().flatten();
            if let Some(addr) = gen_.lines().iter().find_map(|l| listening_addr(l)) {
                return Some(Ok(addr));
            }
            exited.map(Err)
        });
        match found {
            Some(Ok(addr)) => {
                gen_.addr = addr;
                Ok(gen_)
            }
            Some(Err(status)) => {
                gen_.join_readers();
                Err(format!("gen exited with {status}:\n{}", gen_.log()))
            }
            None => Err(format!("gen never said where it listens:\n{}", gen_.log())),
        }
    }

    /// Waits for the log readers (gen has exited: its pipes are closed).
    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn log(&self) -> String {
        self.lines().join("\n")
    }

    pub fn count_log(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log holds `n` lines containing `needle`.
    #[track_caller]
    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) {
        if poll(timeout, || (self.count_log(needle) >= n).then_some(())).is_none() {
            panic!(
                "no {n} log lines with {needle:?} within {timeout:?}:\n{}",
                self.log()
            );
        }
    }

    /// Waits for the first successful cycle.
    #[track_caller]
    pub fn wait_first_cycle(&self) {
        self.wait_log_count("cycle ok", 1, Duration::from_secs(30));
    }

    /// `GET /healthz`: its status and JSON.
    #[track_caller]
    pub fn health(&self) -> (u16, Value) {
        let r = try_request(&self.addr, "GET", "/healthz", &[], b"")
            .unwrap_or_else(|e| panic!("GET /healthz: {e}\n--- log\n{}", self.log()));
        (r.status, r.json())
    }

    /// Polls `/healthz` until `pred` holds (within `timeout`); the answer
    /// that satisfied it.
    #[track_caller]
    pub fn wait_health(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(u16, &Value) -> bool,
    ) -> Value {
        let mut last = None;
        let found = poll(timeout, || {
            let (status, v) = self.health();
            let ok = pred(status, &v);
            last = Some((status, v.clone()));
            ok.then_some(v)
        });
        found.unwrap_or_else(|| {
            panic!(
                "/healthz: {what} not within {timeout:?}; last answer {last:?}\n--- log\n{}",
                self.log()
            )
        })
    }

    /// `POST /api/refresh` (a push) with `Authorization: <authorization>`.
    #[track_caller]
    pub fn push(&self, authorization: &str) -> Response {
        request(
            &self.addr,
            "POST",
            "/api/refresh",
            &[("Authorization", authorization)],
            b"",
        )
    }

    /// The cycles run so far, as `/healthz` counts them.
    #[track_caller]
    pub fn cycles(&self) -> u64 {
        self.health().1["cycles"].as_u64().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -SIG <pid>` (`TERM`, `INT`, `KILL`), which must succeed.
    #[track_caller]
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{sig} failed");
    }

    /// The exit status, if it exits within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let status = poll(timeout, || self.child.try_wait().unwrap());
        if status.is_some() {
            self.join_readers();
        }
        status
    }

    /// SIGTERM and wait (5 s), else SIGKILL.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(5));
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        status
    }
}

/// Stops `child` as systemd would: SIGTERM, then SIGKILL if it is still
/// running 3 s later; reaps it either way.
pub fn terminate(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let exited = poll(Duration::from_secs(3), || child.try_wait().ok().flatten());
        if exited.is_none() {
            let _ = child.kill();
        }
    }
    let _ = child.wait();
}

impl Drop for Gen {
    fn drop(&mut self) {
        // SIGTERM, as systemd stops it: gen removes its private socket
        // folder in /tmp on the way out (a SIGKILL leaves it behind).
        terminate(&mut self.child);
        self.join_readers();
    }
}

/// `…API listening on 127.0.0.1:PORT…` → `127.0.0.1:PORT`.
pub fn listening_addr(line: &str) -> Option<String> {
    let rest = line.split("API listening on ").nth(1)?;
    let addr: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"')
        .collect();
    (!addr.is_empty()).then_some(addr)
}

// ---------------------------------------------------------------- nginx

/// The real nginx (Debian package `nginx`); fails, never skips, without it.
pub fn nginx_binary() -> std::path::PathBuf {
    common::tool("nginx", "nginx")
}

/// What `gen nginx` prints for `site` with these arguments (which must
/// succeed): the `gen_nginx` of [`Nginx::start`] and [`write_nginx_conf`].
pub fn gen_nginx(site: &Site) -> impl Fn(&[&str]) -> String + '_ {
    move |args| {
        let run = site.run(args);
        run.expect_ok();
        run.stdout.clone()
    }
}

/// How the test's own main `nginx.conf` is set up around `gen nginx`'s file.
#[derive(Clone, Copy)]
pub struct NginxSetup {
    pub workers: u32,
    pub access_log: bool,
}

/// What nginx.conf itself needs, from its one source: `gen nginx
/// --main-values` (`name=value` lines), as deploy.sh and bench/load.sh read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainValues {
    pub multi_accept: String,
    pub worker_connections: u64,
    pub nofile: u64,
}

pub fn nginx_main_values() -> MainValues {
    let out = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(["nginx", "--main-values"])
        .output()
        .unwrap();
    assert!(out.status.success(), "gen nginx --main-values: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name}= in:\n{text}"))
            .to_string()
    };
    MainValues {
        multi_accept: value("multi_accept"),
        worker_connections: value("worker_connections").parse().unwrap(),
        nofile: value("nofile").parse().unwrap(),
    }
}

/// This process's hard limit of open files (nginx inherits it and may raise
/// its soft limit up to it), from /proc/self/limits.
fn hard_nofile_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let hard = line.split_whitespace().nth(4)?;
    Some(hard.parse().unwrap_or(u64::MAX))
}

/// A prefix folder holding `sheetgen.conf` (what `gen nginx` printed, given
/// the `gen nginx` arguments by `gen_nginx`) and a main `nginx.conf` that
/// includes it inside `http { }` and sets what `gen nginx --main-values`
/// asks of it, descriptors bounded by this machine's hard limit (as
/// bench/load.sh does). Returns (prefix, main conf, printed).
pub fn write_nginx_conf(
    gen_nginx: &dyn Fn(&[&str]) -> String,
    port: u16,
    setup: NginxSetup,
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let prefix = tempfile::Builder::new()
        .prefix("sheetgen-nginx-")
        .tempdir()
        .unwrap();
    // nginx's workers run as an unprivileged user: they must reach the files.
    common::chmod(prefix.path(), 0o755);
    let p = prefix.path();
    let listen = format!("127.0.0.1:{port}");
    let cache = p.join("cache");
    let printed = gen_nginx(&[
        "nginx",
        "--listen",
        &listen,
        "--server-name",
        "localhost",
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    std::fs::write(p.join("sheetgen.conf"), &printed).unwrap();
    for d in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(p.join("tmp").join(d)).unwrap();
    }
    let mime = if Path::new("/etc/nginx/mime.types").is_file() {
        "include /etc/nginx/mime.types;"
    } else {
        ""
    };
    let access_log = if setup.access_log {
        format!("{}/access.log", p.display())
    } else {
        "off".to_string()
    };
    let values = nginx_main_values();
    let nofile = values
        .nofile
        .min(hard_nofile_limit().unwrap_or(values.nofile));
    let main = format!(
        r#"daemon off;
worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{
    worker_connections {connections};
    multi_accept {multi_accept}; # as deploy.sh sets it
}}
http {{
    {mime}
    default_type application/octet-stream;
    access_log {access_log};
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;
    include {p}/sheetgen.conf;
}}
"#,
        workers = setup.workers,
        connections = values.worker_connections.min(nofile),
        multi_accept = values.multi_accept,
        p = p.display(),
    );
    let conf = p.join("nginx.conf");
    std::fs::write(&conf, main).unwrap();
    (prefix, conf, printed)
}

/// `-p`, `-e`, `-c` for a prefix made by [`write_nginx_conf`].
pub fn nginx_args(prefix: &Path, conf: &Path) -> Vec<String> {
    vec![
        "-p".into(),
        format!("{}/", prefix.display()),
        "-e".into(),
        prefix.join("error.log").display().to_string(),
        "-c".into(),
        conf.display().to_string(),
    ]
}

/// A running nginx master (not a daemon): SIGTERM, then SIGKILL, on drop.
pub struct Nginx {
    child: Child,
    prefix: tempfile::TempDir,
    pub addr: String,
}

impl Nginx {
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("error.log")).unwrap_or_default()
    }

    /// The access log so far (empty without [`NginxSetup::access_log`]).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("access.log")).unwrap_or_default()
    }

    /// Only tests/load.rs (its own crate) watches nginx's memory.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts nginx on a free port in front of gen (retrying when the port
    /// was taken meanwhile). `gen_nginx` runs `gen` with the given arguments
    /// and returns what it printed.
    pub fn start(gen_nginx: &dyn Fn(&[&str]) -> String, setup: NginxSetup) -> Nginx {
        let bin = nginx_binary();
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let (prefix, conf, _) = write_nginx_conf(gen_nginx, port, setup);
            let child = Command::new(&bin)
                .args(nginx_args(prefix.path(), &conf))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut nginx = Nginx {
                child,
                prefix,
                addr: format!("127.0.0.1:{port}"),
            };
            if listening(&mut nginx.child, &nginx.addr, Duration::from_secs(10)) {
                return nginx;
            }
            last = nginx.error_log();
            assert!(
                last.contains("Address already in use"),
                "nginx did not start:\n{last}"
            );
        }
        panic!("nginx never found a free port:\n{last}");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and cache processes (a
        // SIGKILL would orphan them, still listening); SIGKILL if it hangs.
        terminate(&mut self.child);
    }
}

/// A login as nginx forwards it (HTTPS, from 127.0.0.1); true when it
/// succeeds (303 + a session cookie).
#[track_caller]
pub fn login_succeeds(addr: &str, name: &str, pin: &str) -> bool {
    let r = post_form(
        addr,
        "/api/login",
        &[("X-Real-IP", "127.0.0.1"), ("X-Forwarded-Proto", "https")],
        &[("name", name), ("pin", pin)],
    );
    r.status == 303
        && r.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("Set-Cookie") && v.contains("gen_session="))
}
