//! Test sites on real temp dirs, built by the real `gen` binary.
//!
//! A [`Site`] owns its `TempDir` (removed on drop): a `site.toml`, the
//! roster files, and `public/` + `.sheetgen/` once built. Every run goes
//! through `CARGO_BIN_EXE_gen` with a clean environment, so tests see exactly
//! what an organiser sees: exit code, stdout, stderr and the files on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The theme shipped in the repo.
pub const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/site-templates");

/// The demo roster shipped in the repo (`players.csv`, `matches.csv`).
pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo");

/// The repo root (where `site.toml` and `examples/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// `gen --config <config>` run from `root`, without any of the environment
/// variables gen reads (log level, secrets, timeouts) from the test's own
/// environment.
pub fn gen_command(config: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gen"));
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

/// Every entry under `dir` (symlinks listed, not followed): its path
/// relative to `dir` (`/`-separated), its path, and whether it is a folder.
fn walk(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let is_dir = entry.file_type().unwrap().is_dir();
            if is_dir {
                stack.push(path.clone());
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path, is_dir));
        }
    }
    out
}

/// Every file under `dir`, by path relative to it (`/`-separated). Symlinks
/// are listed, not followed.
pub fn files(dir: &Path) -> BTreeMap<String, PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|(_, _, is_dir)| !is_dir)
        .map(|(rel, path, _)| (rel, path))
        .collect()
}

/// Every folder under `dir`, relative.
pub fn dirs(dir: &Path) -> BTreeSet<String> {
    walk(dir)
        .into_iter()
        .filter(|(_, _, is_dir)| *is_dir)
        .map(|(rel, _, _)| rel)
        .collect()
}

/// The organiser's page under `out_dir`: the one file a failed cycle may
/// update (issue 16), so the "nothing changed" checks of [`tree_bytes`]
/// and [`stamps`] leave it out; `organiser_page.rs` checks when it changes.
pub const ORGANISER_PAGE: &str = "admin/";

/// Every file under `dir` but the organiser's page ([`ORGANISER_PAGE`]).
fn player_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut all = files(dir);
    all.retain(|rel, _| !rel.starts_with(ORGANISER_PAGE));
    all
}

/// Every file under `dir` with its bytes (the organiser's page apart:
/// [`ORGANISER_PAGE`]).
pub fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    player_files(dir)
        .into_iter()
        .map(|(rel, path)| (rel, std::fs::read(path).unwrap()))
        .collect()
}

/// Whether the file at `path` exists and its text contains `text`.
pub fn file_contains(path: &Path, text: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(text))
}

/// What identifies a file's last write: (mtime s, mtime ns, inode, size).
pub type Stamp = (i64, i64, u64, u64);

/// The [`Stamp`] of every file under `dir` (the organiser's page apart:
/// [`ORGANISER_PAGE`]).
pub fn stamps(dir: &Path) -> BTreeMap<String, Stamp> {
    player_files(dir)
        .into_iter()
        .map(|(rel, path)| {
            let m = std::fs::symlink_metadata(&path).unwrap();
            (rel, (m.mtime(), m.mtime_nsec(), m.ino(), m.size()))
        })
        .collect()
}

/// The files whose stamp differs between `before` and `after`, plus the
/// ones that appeared or went away.
pub fn changed(
    before: &BTreeMap<String, Stamp>,
    after: &BTreeMap<String, Stamp>,
) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

#[track_caller]
pub fn gunzip(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{} is not valid gzip: {e}", path.display()));
    out
}

/// Every file under `dir` as a reader would get it: `.gz` files
/// decompressed, others as they are.
pub fn readable_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .map(|(rel, path)| {
            let bytes = if rel.ends_with(".gz") {
                gunzip(&path)
            } else {
                std::fs::read(&path).unwrap()
            };
            (rel, bytes)
        })
        .collect()
}

/// No file under `dir` (`.gz` decompressed) contains any of `needles`.
#[track_caller]
pub fn assert_absent(dir: &Path, needles: &[String]) {
    let contents = readable_contents(dir);
    assert!(!contents.is_empty(), "{} is empty", dir.display());
    for (rel, bytes) in &contents {
        for needle in needles {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{rel} contains the forbidden value {needle:?}"
            );
        }
        // The raw .gz bytes as well (a stored, uncompressed block would show).
        let raw = std::fs::read(dir.join(rel)).unwrap();
        for needle in needles {
            assert!(
                !contains(&raw, needle.as_bytes()),
                "{rel} (raw) contains the forbidden value {needle:?}"
            );
        }
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every `.html`/`.css`/`.js` has a `.gz` twin that gunzips to the same
/// bytes, and every `.gz` has its plain twin.
#[track_caller]
pub fn assert_gz_twins(dir: &Path) {
    let all = files(dir);
    let mut text = 0;
    for (rel, path) in &all {
        if let Some(plain) = rel.strip_suffix(".gz") {
            assert!(all.contains_key(plain), "{rel} has no plain twin");
            continue;
        }
        if [".html", ".css", ".js"].iter().any(|e| rel.ends_with(e)) {
            text += 1;
            let gz = format!("{rel}.gz");
            let gz_path = all
                .get(&gz)
                .unwrap_or_else(|| panic!("{rel} has no .gz twin"));
            assert!(
                gunzip(gz_path) == std::fs::read(path).unwrap(),
                "{gz} does not gunzip to the bytes of {rel}"
            );
        }
    }
    assert!(text > 0, "no text files under {}", dir.display());
}

/// The slugs that have a page: `p/<slug>/index.html`.
pub fn player_slugs(out: &Path) -> BTreeSet<String> {
    files(out)
        .keys()
        .filter_map(|rel| {
            rel.strip_prefix("p/")?
                .strip_suffix("/index.html")
                .map(str::to_string)
        })
        .collect()
}

/// `[a-z0-9-]+`, as a slug must be.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `chmod MODE PATH`.
pub fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The last `n` lines of the file at `path` (none if it cannot be read).
pub fn tail_file(path: &Path, n: usize) -> String {
    tail(&std::fs::read_to_string(path).unwrap_or_default(), n)
}

/// A command from PATH or the usual system folders, if installed.
pub fn find_tool(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
}

/// A command the test needs, or a failure naming its Debian package: a
/// missing tool never skips a test.
#[track_caller]
pub fn tool(command: &str, package: &str) -> PathBuf {
    find_tool(command).unwrap_or_else(|| {
        panic!(
            "`{command}` is not installed: this test needs the Debian package \
             `{package}` (apt-get install {package}; tests/run.sh installs it as root)"
        )
    })
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
