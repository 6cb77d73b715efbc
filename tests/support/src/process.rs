//! A running `gen watch`/`gen serve` ([`Gen`]): started with a clean
//! environment, its log collected line by line, its address read from that
//! log, stopped as systemd stops it when dropped; and the waiting every
//! server start needs (a free port, polling until it listens).

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::{Response, request, try_request};
use crate::site::gen_command;

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

    /// Starts `cmd` (a `gen` command line made by
    /// [`crate::site::gen_command_of`], for another binary than cargo's)
    /// as [`Gen::start`] does.
    #[track_caller]
    pub fn start_command(cmd: Command) -> Gen {
        Gen::spawn(cmd, false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn launch(
        config: &Path,
        root: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        term_on_listening: bool,
    ) -> Result<Gen, String> {
        let mut cmd = gen_command(config, root);
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Gen::spawn(cmd, term_on_listening)
    }

    fn spawn(mut cmd: Command, term_on_listening: bool) -> Result<Gen, String> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
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
