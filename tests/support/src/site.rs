//! Test sites on real temp dirs, built by the real `gen` binary.
//!
//! A [`Site`] owns its `TempDir` (removed on drop): a `site.toml`, the
//! roster files, and `public/` + `.sheetgen/` once built. Every run goes
//! through [`gen_bin`] with a clean environment, so tests see exactly what
//! an organiser sees: exit code, stdout, stderr and the files on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use tempfile::TempDir;

use crate::tree::chmod;

/// The repository's root (where `site.toml`, `examples/` and
/// `site-templates/` live), as cargo gives it to the root crate: `build.rs`
/// takes it from this crate's own folder, `tests/support`.
pub const REPO: &str = env!("SHEETGEN_REPO");

/// The theme shipped in the repo.
pub const TEMPLATES: &str = concat!(env!("SHEETGEN_REPO"), "/site-templates");

/// The demo roster shipped in the repo (`players.csv`, `matches.csv`).
pub const DEMO: &str = concat!(env!("SHEETGEN_REPO"), "/examples/demo");

/// The repo root (where `site.toml` and `examples/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(REPO)
}

/// A value as a TOML string literal (quotes and escapes included).
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A `site.toml`: `[site]` titled `title` (English, the repo's theme,
/// `public/` and `.sheetgen/` inside the site folder, `refresh_secs` if
/// given), `[source]` holding `source`, `[players]` with the usual columns
/// (`id`, `name`, `pin`), then `extra` verbatim (more `[players]` keys, more
/// sections, …).
pub fn site_config(title: &str, refresh_secs: Option<u64>, source: &str, extra: &str) -> String {
    let refresh = refresh_secs.map_or(String::new(), |s| format!("refresh_secs = {s}\n"));
    format!(
        r#"[site]
title = {title}
lang = "en"
out_dir = "public"
templates = {templates}
state_dir = ".sheetgen"
{refresh}
[source]
{source}
[players]
tab = "Players"
id = "id"
login = "name"
secret = "pin"
{extra}"#,
        title = toml_str(title),
        templates = toml_str(TEMPLATES),
    )
}

/// The `[source]` of a CSV site: `players.csv` as the Players tab.
pub const CSV_SOURCE: &str = "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\n";

/// The usual config for CSV tests: `players.csv` as the Players tab, the
/// repo's theme, `public/` and `.sheetgen/` inside the site folder.
/// `source_extra` goes into `[source]`; `extra` is appended verbatim (more
/// sections, `[[tables]]`, …).
pub fn csv_config(source_extra: &str, extra: &str) -> String {
    site_config(
        "FC Test",
        None,
        &format!("kind = \"csv\"\n{source_extra}\n[source.files]\nPlayers = \"players.csv\"\n"),
        &format!("\n{extra}\n"),
    )
}

/// The `gen` binary under test. Cargo builds it for the root crate's tests
/// and benches and, since 1.94, gives its path to them when it runs them
/// (`CARGO_BIN_EXE_gen`, rust-lang/cargo#16421); `env!` would not do here,
/// this crate being a dependency. A test binary run by hand, or by an older
/// cargo, finds it beside its own `deps/` folder, where cargo puts both.
pub fn gen_bin() -> &'static Path {
    static GEN: OnceLock<PathBuf> = OnceLock::new();
    GEN.get_or_init(|| {
        let from_cargo = std::env::var_os("CARGO_BIN_EXE_gen").map(PathBuf::from);
        let beside_deps = std::env::current_exe().ok().and_then(|exe| {
            let deps = exe.parent()?;
            Some(deps.parent()?.join("gen"))
        });
        from_cargo
            .or(beside_deps)
            .filter(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "the `gen` binary is not built: run the tests with `cargo test`, which builds it"
                )
            })
    })
}

/// `gen --config <config>` run from `root`, without any of the environment
/// variables gen reads (log level, secrets, timeouts) from the test's own
/// environment.
pub fn gen_command(config: &Path, root: &Path) -> Command {
    gen_command_of(gen_bin(), config, root)
}

/// [`gen_command`] for the `gen` binary at `bin` (a copy of it elsewhere).
pub fn gen_command_of(bin: &Path, config: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .current_dir(root)
        .env_remove("RUST_LOG")
        .env_remove("GEN_GOOGLE_API_KEY")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GEN_SESSION_KEY")
        .env_remove("GEN_REFRESH_TOKEN")
        .env_remove("GEN_HTTP_TIMEOUT_MS");
    cmd
}

/// Runs `gen --config <config> <args…>` from `root` (see [`gen_command`]),
/// with `env` set, to the end.
pub fn run_gen(config: &Path, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = gen_command(config, root);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from_output(cmd.output().unwrap())
}

/// The outcome of one run of `gen`.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn expect_ok(&self) -> &Run {
        self.expect_code(0)
    }

    /// The last `error: …` line of stderr: what gen says when it fails (the
    /// error and its causes, on one line).
    pub fn error_line(&self) -> Option<&str> {
        self.stderr.lines().rev().find(|l| l.starts_with("error: "))
    }

    /// Panics with both streams unless gen exited with `code` and said
    /// `error: <message>` (its last error line, exactly).
    #[track_caller]
    pub fn expect_error(&self, code: i32, message: &str) -> &Run {
        self.expect_code(code);
        assert_eq!(
            self.error_line(),
            Some(format!("error: {message}").as_str()),
            "--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with both streams unless stdout or stderr contains `needle`.
    #[track_caller]
    pub fn says(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle) || self.stdout.contains(needle),
            "expected {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `warning:` lines of stderr.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect()
    }
}

/// A site folder on disk, removed when dropped.
pub struct Site {
    dir: TempDir,
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

impl Site {
    /// An empty site folder.
    pub fn new() -> Site {
        Site {
            dir: tempfile::Builder::new()
                .prefix("sheetgen-test-")
                .tempdir()
                .unwrap(),
        }
    }

    /// An empty site folder nginx's workers can traverse (they run as
    /// another user when the tests run as root; gen publishes 0644 files
    /// and 0755 folders).
    pub fn for_nginx() -> Site {
        let site = Site::new();
        chmod(site.root(), 0o755);
        site
    }

    /// A site with the usual config and this `players.csv`.
    pub fn csv(players_csv: impl AsRef<[u8]>) -> Site {
        let site = Site::new();
        site.write_config(&csv_config("", ""));
        site.write("players.csv", players_csv);
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.root().join("site.toml")
    }

    pub fn out(&self) -> PathBuf {
        self.root().join("public")
    }

    pub fn state(&self) -> PathBuf {
        self.root().join(".sheetgen")
    }

    /// Writes `rel` (creating folders), replacing what was there.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.root().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }

    pub fn write_config(&self, toml: &str) {
        self.write("site.toml", toml);
    }

    /// Copies the demo's `players.csv` and `matches.csv` into the folder.
    pub fn copy_demo_roster(&self) {
        for f in ["players.csv", "matches.csv"] {
            self.write(f, std::fs::read(format!("{DEMO}/{f}")).unwrap());
        }
    }

    /// Runs `gen --config <site.toml> <args…>` from the site folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// [`Site::run`] with `env` set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_gen(&self.config_path(), self.root(), args, env)
    }

    pub fn build(&self) -> Run {
        self.run(&["build"])
    }

    /// `gen build` that must succeed.
    #[track_caller]
    pub fn build_ok(&self) -> Run {
        let run = self.build();
        run.expect_ok();
        run
    }

    /// Reads a file under `out_dir` as text, with minijinja's escaped `/`
    /// (`&#x2f;`, valid in attributes) turned back into `/` so URLs can be
    /// searched for.
    #[track_caller]
    pub fn html(&self, rel: &str) -> String {
        self.page(rel).replace("&#x2f;", "/")
    }

    /// Reads a file under `out_dir` as text, as it is.
    #[track_caller]
    pub fn page(&self, rel: &str) -> String {
        let path = self.out().join(rel);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

/// The demo's players as (id, name, pin), from its `players.csv`.
pub fn demo_logins() -> Vec<(String, String, String)> {
    let mut r = csv::Reader::from_path(format!("{DEMO}/players.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, name, pin) = (col("id"), col("name"), col("pin"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[id].to_string(),
                rec[name].to_string(),
                rec[pin].to_string(),
            )
        })
        .collect()
}

/// A CSV document, quoted properly, `\n` line ends.
pub fn csv_text<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for row in rows {
        w.write_record(row.iter().map(AsRef::as_ref)).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The PIN of generated player `i`: six digits, distinct per player, and
/// not a substring of anything else in [`roster`].
pub fn roster_pin(i: usize) -> String {
    format!("{}", 700_001 + i * 7)
}

/// A roster of `n` players `p0001`…: `id,name,pin,team,points`.
pub fn roster(n: usize) -> String {
    roster_with(n, |_| 0)
}

/// Like [`roster`], with points given by `points(i)`.
pub fn roster_with(n: usize, points: impl Fn(usize) -> i64) -> String {
    let rows: Vec<Vec<String>> = (1..=n)
        .map(|i| {
            vec![
                format!("p{i:04}"),
                format!("Player {i:04}"),
                roster_pin(i),
                ["Red", "Blue", "Green"][i % 3].to_string(),
                points(i).to_string(),
            ]
        })
        .collect();
    csv_text(&["id", "name", "pin", "team", "points"], &rows)
}

/// `gen check` on `site`, which must refuse to publish: exit 2 and the
/// verdict saying so.
#[track_caller]
pub fn check_not_publishable(site: &Site) -> Run {
    let check = site.run(&["check"]);
    check.expect_code(2);
    assert!(
        check.stdout.contains("verdict: NOT publishable"),
        "{}",
        check.stdout
    );
    check
}
