//! The real nginx (Debian package `nginx`) in front of gen: a prefix folder
//! with `gen nginx`'s file included verbatim in a main `nginx.conf` that
//! sets what `gen nginx --main-values` asks of it, as deploy.sh does; a
//! running master ([`Nginx`]) on a free port, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, listening, terminate};
use crate::site::{Site, gen_bin};
use crate::tools::tool;
use crate::tree::chmod;

// ---------------------------------------------------------------- nginx

/// The real nginx (Debian package `nginx`); fails, never skips, without it.
pub fn nginx_binary() -> PathBuf {
    tool("nginx", "nginx")
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
    let out = Command::new(gen_bin())
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
) -> (tempfile::TempDir, PathBuf, String) {
    let prefix = tempfile::Builder::new()
        .prefix("sheetgen-nginx-")
        .tempdir()
        .unwrap();
    // nginx's workers run as an unprivileged user: they must reach the files.
    chmod(prefix.path(), 0o755);
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

    /// The master's process id (tests/load.rs watches its memory).
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
