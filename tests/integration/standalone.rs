//! `gen` stands alone (issue 25): the built binary, alone in a temp folder
//! far from the repository (no `site-templates/` in it or any folder above
//! it), makes a site from a club's exports with nothing else: a folder of
//! CSV files, a workbook or a Google Sheet (the fake Google), in English
//! and in French. `gen init` → `gen check` says publishable → `gen serve`
//! shows the roster and a player logs in with a name and PIN of the data.
//! `gen theme export` copies the built-in theme out, never over a file,
//! and a theme folder holding one changed file overrides that file alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sheetgen_test_support::fake_google::{FakeGoogle, SPREADSHEET_ID};
use sheetgen_test_support::http::{COOKIE, get, post_form};
use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{DEMO, Run, TEMPLATES, demo_logins, gen_bin, gen_command_of};
use sheetgen_test_support::tree::tree_bytes;
use tempfile::TempDir;

const API_KEY: &str = "AIzaStandalone-test-key";

/// A folder holding the `gen` binary and nothing else, and the club's
/// folder beside it; both removed on drop.
struct Alone {
    _bin_dir: TempDir,
    bin: PathBuf,
    club: TempDir,
}

impl Alone {
    fn new() -> Alone {
        let bin_dir = tempfile::Builder::new()
            .prefix("gen-alone-")
            .tempdir_in(std::env::temp_dir())
            .unwrap();
        let bin = bin_dir.path().join("gen");
        // A hard link is the same bytes at a new path, without copying
        // 200 MB per test; a copy where links cannot be made.
        if std::fs::hard_link(gen_bin(), &bin).is_err() {
            std::fs::copy(gen_bin(), &bin).unwrap();
        }
        let club = tempfile::Builder::new()
            .prefix("club-")
            .tempdir_in(std::env::temp_dir())
            .unwrap();
        for dir in [bin_dir.path(), club.path()] {
            let real = dir.canonicalize().unwrap();
            assert!(!real.starts_with(sheetgen_test_support::site::REPO));
            for up in real.ancestors() {
                assert!(
                    !up.join("site-templates").exists(),
                    "a theme folder at {}",
                    up.display()
                );
            }
        }
        Alone {
            _bin_dir: bin_dir,
            bin,
            club,
        }
    }

    fn root(&self) -> &Path {
        self.club.path()
    }

    /// `gen --config site.toml <args…>` from the club's folder, with `env`.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = gen_command_of(&self.bin, Path::new("site.toml"), self.root());
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::from_output(self.command(args, env).output().unwrap())
    }

    fn copy_demo_csv(&self, into: &str) {
        std::fs::create_dir_all(self.root().join(into)).unwrap();
        for f in ["players.csv", "matches.csv"] {
            std::fs::copy(format!("{DEMO}/{f}"), self.root().join(into).join(f)).unwrap();
        }
    }
}

/// A CSV file of the demo as rows of cells, its header first.
fn csv_rows(file: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(format!("{DEMO}/{file}"))
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn write_demo_workbook(path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (sheet, file) in [("Players", "players.csv"), ("Matches", "matches.csv")] {
        let ws = wb.add_worksheet().set_name(sheet).unwrap();
        for (r, row) in csv_rows(file).iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

/// `gen init` succeeded on its own: no theme line, no TODO about one, the
/// check said publishable, and the advice sends nowhere a binary-only
/// The check's verdict for good data, in the site's language (issue 26).
fn publishable(lang: &str) -> &'static str {
    match lang {
        "fr" => "verdict : publiable",
        _ => "verdict: publishable",
    }
}

/// user cannot go.
#[track_caller]
fn assert_init_alone(alone: &Alone, run: &Run, lang: &str) {
    run.expect_ok();
    let text = std::fs::read_to_string(alone.root().join("site.toml")).unwrap();
    assert!(
        !text.lines().any(|l| l.starts_with("templates")),
        "a templates line:\n{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.contains("TODO") && l.contains("theme")),
        "{text}"
    );
    assert!(text.contains(&format!("lang = \"{lang}\"")), "{text}");
    let (check, steps) = run
        .stdout
        .split_once(match lang {
            "fr" => "la suite :\n",
            _ => "next steps:\n",
        })
        .unwrap();
    assert!(check.contains(publishable(lang)), "{}", run.stdout);
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
    assert!(
        !steps.contains("Fix what") && !steps.contains("Corrigez"),
        "{steps}"
    );
    assert!(!steps.contains("docs/"), "{steps}");
    assert!(steps.contains("`gen check`"), "{steps}");
}

/// `gen check`, then `gen serve`: the roster on `/`, a login with a name
/// and PIN of the data, and that player's own page.
fn check_and_serve(alone: &Alone, lang: &str, env: &[(&str, &str)]) -> Gen {
    let check = alone.run(&["check"], env);
    check.expect_ok();
    assert!(check.stdout.contains(publishable(lang)), "{}", check.stdout);
    assert!(
        check.stdout.contains(match lang {
            "fr" => "joueurs : 120 (dont 120 peuvent se connecter)",
            _ => "players: 120 (120 can log in)",
        }),
        "{}",
        check.stdout
    );

    let serve = Gen::start_command(alone.command(&["serve", "--listen", "127.0.0.1:0"], env));
    serve.wait_first_cycle();
    let addr = serve.addr.as_str();
    let index = get(addr, "/", &[]);
    assert_eq!(index.status, 200, "{}", index.head);
    let body = index.text();
    assert!(body.contains(&format!("<html lang=\"{lang}\"")), "{body}");
    let logins = demo_logins();
    let shown = logins
        .iter()
        .filter(|(_, n, _)| body.contains(n.as_str()))
        .count();
    assert!(shown >= 20, "{shown} of the demo's names on /:\n{body}");

    let (id, name, pin) = &logins[0];
    let r = post_form(addr, "/api/login", &[], &[("name", name), ("pin", pin)]);
    assert_eq!(r.status, 303, "{}", r.head);
    let location = r.header("Location").unwrap().to_string();
    assert_eq!(location, format!("/p/{}/", id.to_ascii_lowercase()));
    let cookie = format!("{COOKIE}={}", r.cookie(COOKIE).unwrap());
    let page = get(addr, &location, &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200, "{}", page.head);
    assert!(page.text().contains(name.as_str()), "{}", page.text());
    serve
}

fn from_csv_folder(lang: &str) {
    let alone = Alone::new();
    alone.copy_demo_csv("exports");
    let run = alone.run(&["init", "exports", "--lang", lang], &[]);
    assert_init_alone(&alone, &run, lang);
    check_and_serve(&alone, lang, &[]);
}

fn from_workbook(lang: &str) {
    let alone = Alone::new();
    write_demo_workbook(&alone.root().join("roster.xlsx"));
    let run = alone.run(&["init", "roster.xlsx", "--lang", lang], &[]);
    assert_init_alone(&alone, &run, lang);
    check_and_serve(&alone, lang, &[]);
}

fn from_google(lang: &str) {
    let tabs: BTreeMap<String, Vec<Vec<String>>> = [
        ("Players".to_string(), csv_rows("players.csv")),
        ("Matches".to_string(), csv_rows("matches.csv")),
    ]
    .into();
    let fake = FakeGoogle::start(API_KEY, tabs);
    let alone = Alone::new();
    let url = format!("https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit#gid=0");
    let env = [("GEN_GOOGLE_API_KEY", API_KEY)];
    let run = alone.run(
        &["init", &url, "--api-base", &fake.base, "--lang", lang],
        &env,
    );
    assert_init_alone(&alone, &run, lang);
    check_and_serve(&alone, lang, &env);
}

#[test]
fn alone_a_csv_folder_becomes_a_site_in_english() {
    from_csv_folder("en");
}

#[test]
fn alone_a_csv_folder_becomes_a_site_in_french() {
    from_csv_folder("fr");
}

#[test]
fn alone_a_workbook_becomes_a_site_in_english() {
    from_workbook("en");
}

#[test]
fn alone_a_workbook_becomes_a_site_in_french() {
    from_workbook("fr");
}

#[test]
fn alone_a_google_sheet_becomes_a_site_in_english() {
    from_google("en");
}

#[test]
fn alone_a_google_sheet_becomes_a_site_in_french() {
    from_google("fr");
}

/// `gen theme export` writes the whole built-in theme, refuses to write
/// over any file of it, and a folder left with one changed `base.html`
/// overrides that file and nothing else.
#[test]
fn alone_the_theme_exports_and_one_file_overrides_the_built_in_one() {
    let alone = Alone::new();
    let export = alone.run(&["theme", "export", "theme"], &[]);
    export.expect_ok();
    let theme = alone.root().join("theme");
    let exported = tree_bytes(&theme);
    assert_eq!(exported, tree_bytes(Path::new(TEMPLATES)));
    assert!(exported.contains_key("strings/fr.toml") && exported.contains_key("assets/site.css"));
    assert!(
        export.stdout.contains("templates = \"theme\""),
        "{}",
        export.stdout
    );

    // Again, with one file edited and one removed: refused, the first file
    // in the way named (403.html), nothing written or touched.
    let login = theme.join("login.html");
    std::fs::write(&login, "mine").unwrap();
    std::fs::remove_file(theme.join("base.html")).unwrap();
    let again = alone.run(&["theme", "export", "theme"], &[]);
    again.expect_error(
        2,
        &format!(
            "{}: `gen theme export` will not overwrite this file: it already exists. \
             Nothing was written; export into a new folder, or move the file away",
            Path::new("theme").join("403.html").display()
        ),
    );
    assert!(!theme.join("base.html").exists(), "a file was written");
    assert_eq!(std::fs::read_to_string(&login).unwrap(), "mine");

    // Only a changed base.html left in the folder.
    std::fs::remove_dir_all(&theme).unwrap();
    std::fs::create_dir(&theme).unwrap();
    let base = std::fs::read_to_string(format!("{TEMPLATES}/base.html")).unwrap();
    let marker = "<p class=\"club-banner\">Our own banner</p>";
    let custom = base.replacen("<body>", &format!("<body>\n{marker}"), 1);
    assert_ne!(custom, base);
    std::fs::write(theme.join("base.html"), custom).unwrap();

    alone.copy_demo_csv("exports");
    let run = alone.run(
        &["init", "exports", "--lang", "en", "--templates", "theme"],
        &[],
    );
    run.expect_ok();
    let text = std::fs::read_to_string(alone.root().join("site.toml")).unwrap();
    assert!(text.contains("templates = \"theme\""), "{text}");
    let serve = check_and_serve(&alone, "en", &[]);
    let addr = serve.addr.as_str();
    let index = get(addr, "/", &[]).text();
    assert!(index.contains(marker), "{index}");
    let login = get(addr, "/login/", &[]);
    assert_eq!(login.status, 200);
    let login = login.text();
    assert!(login.contains(marker), "{login}");
    assert!(login.contains("action=\"/api/login\""), "{login}");
    // The built-in site.css, under its fingerprinted name.
    // (autoescape writes `/` as `&#x2f;`)
    let css_url = index
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap().replace("&#x2f;", "/"))
        .find(|u| u.starts_with("/assets/site.") && u.ends_with(".css"))
        .unwrap_or_else(|| panic!("no site.css in\n{index}"));
    let css = get(addr, &css_url, &[]);
    assert_eq!(css.status, 200, "{}", css.head);
    assert_eq!(
        css.body,
        std::fs::read(format!("{TEMPLATES}/assets/site.css")).unwrap()
    );
}

/// The `sh` blocks of README.md's "Quick start", as written: each line
/// without its `# comment`.
fn readme_quick_start() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(sheetgen_test_support::site::repo().join("README.md")).unwrap();
    let (_, start) = readme
        .split_once("## Quick start")
        .expect("README.md has a Quick start");
    let section = start.split("\n## ").next().unwrap_or_default();
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| {
            block
                .split("```")
                .next()
                .unwrap_or_default()
                .lines()
                .map(|l| l.split(" # ").next().unwrap_or(l).trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .collect()
}

/// README's quick start runs as written (as casey/just's tests/readme.rs
/// does): its `gen` commands with the binary alone and a folder of CSV
/// exports; `gen serve` on a free port instead of 8080. The server's
/// commands are the ones tests/integration/debian.rs and https_deploy.rs
/// run: the package's name and sheetgen-deploy's options are checked here.
#[test]
fn the_readmes_quick_start_runs_as_written() {
    let blocks = readme_quick_start();
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert_eq!(
        blocks[0],
        ["gen init exports/", "gen check", "gen serve"],
        "the organiser's commands changed: update this test"
    );
    let alone = Alone::new();
    alone.copy_demo_csv("exports");
    for line in &blocks[0] {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        if args == ["serve"] {
            let serve =
                Gen::start_command(alone.command(&["serve", "--listen", "127.0.0.1:0"], &[]));
            serve.wait_first_cycle();
            let index = get(serve.addr.as_str(), "/", &[]);
            assert_eq!(index.status, 200, "{}", index.head);
            let (_, name, _) = &demo_logins()[0];
            assert!(index.text().contains(name.as_str()), "{}", index.text());
        } else {
            let run = alone.run(&args, &[]);
            run.expect_ok();
        }
    }
    let deb = format!("./sheetgen_{}-1_amd64.deb", env!("CARGO_PKG_VERSION"));
    assert_eq!(blocks[1][0], format!("sudo apt install {deb}"));
    let deploy = &blocks[1][1];
    assert!(
        deploy.starts_with("sudo sheetgen-deploy --domain "),
        "{deploy}"
    );
    let usage =
        std::fs::read_to_string(sheetgen_test_support::site::repo().join("deploy.sh")).unwrap();
    for option in deploy.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(
            usage.contains(&format!("  {option} ")),
            "deploy.sh has no {option}"
        );
    }
}
