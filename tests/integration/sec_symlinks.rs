//! Issue 14, item 7: the check that keeps the session key, the last good
//! snapshot (every PIN), the config and the roster out of `out_dir` looks
//! where the paths really lead. A `state_dir` that is a symlink into
//! `out_dir` (or an `out_dir` that is a symlink to the site folder) is
//! refused at config load with exit 2 by every command, before anything is
//! created: `gen serve` once served `session.key` and `last-good.json` so.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sheetgen_test_support::site::{Run, Site, csv_config, gen_command, site_config};

const PLAYERS: &str = "id,name,pin\na1,Alice,483920\nb2,Bob,572913\n";

/// Runs `gen <args>` for `site`; a gen still running after 30 s (it
/// accepted the config and is serving) is killed and reported as such.
fn run_bounded(site: &Site, args: &[&str]) -> Run {
    let mut child = gen_command(&site.config_path(), site.root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run::from_output(child.wait_with_output().unwrap())
}

/// Every file under `dir`, symlinks not followed, as paths relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every command refuses the site with exit 2, naming each of `names`, and
/// the site folder holds exactly what it held before.
#[track_caller]
fn refused_by_every_command(site: &Site, names: &[&str]) {
    let before = tree(site.root());
    for args in [
        &["build"][..],
        &["check"],
        &["watch"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let run = run_bounded(site, args);
        run.expect_code(2);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
        for n in names {
            assert!(
                run.stderr.contains(n),
                "{args:?}: the message does not name {n:?}:\n{}",
                run.stderr
            );
        }
        assert_eq!(tree(site.root()), before, "{args:?} created files");
    }
    assert!(
        !before
            .iter()
            .any(|f| f.ends_with("session.key") || f.ends_with("last-good.json")),
        "{before:?}"
    );
}

fn site() -> Site {
    let site = Site::csv(PLAYERS);
    std::fs::create_dir(site.out()).unwrap();
    std::fs::write(site.out().join("index.html"), "old site").unwrap();
    site
}

#[test]
fn a_state_dir_symlinked_into_out_dir_is_refused() {
    // `.sheetgen` → `public/private`, a folder gen would create.
    let site = site();
    symlink(site.out().join("private"), site.state()).unwrap();
    refused_by_every_command(&site, &["state_dir", ".sheetgen", "public", "really"]);
    assert!(!site.out().join("private").exists());

    // `.sheetgen` → `public/private`, existing.
    std::fs::create_dir(site.out().join("private")).unwrap();
    refused_by_every_command(&site, &["state_dir", ".sheetgen", "public", "really"]);
    assert_eq!(
        std::fs::read_dir(site.out().join("private"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_state_dir_under_a_symlinked_folder_is_refused() {
    // state_dir = "data/state", where `data` → `public`.
    let site = site();
    symlink(site.out(), site.root().join("data")).unwrap();
    site.write_config(
        &csv_config("", "").replace("state_dir = \".sheetgen\"", "state_dir = \"data/state\""),
    );
    refused_by_every_command(&site, &["state_dir", "data/state", "public"]);
    assert!(!site.out().join("state").exists());
}

#[test]
fn out_dir_symlinked_onto_the_site_folder_is_refused() {
    // `public` → the folder holding site.toml and players.csv.
    let site = Site::csv(PLAYERS);
    symlink(site.root(), site.out()).unwrap();
    refused_by_every_command(&site, &["out_dir", "public", "really"]);
    assert!(!site.root().join("index.html").exists());
}

#[test]
fn a_roster_symlinked_from_inside_out_dir_is_refused() {
    // players.csv is a link to a file that lives in out_dir: served.
    let site = Site::new();
    site.write_config(&csv_config("", ""));
    site.write("public/data/players.csv", PLAYERS);
    symlink(
        site.out().join("data/players.csv"),
        site.root().join("players.csv"),
    )
    .unwrap();
    refused_by_every_command(&site, &["out_dir", "players.csv", "served"]);
}

#[test]
fn separate_folders_reached_through_symlinks_are_accepted() {
    // Symlinks are fine when they lead to separate places.
    let site = Site::csv(PLAYERS);
    let real = Site::new();
    std::fs::create_dir(real.root().join("state")).unwrap();
    symlink(real.root().join("state"), site.state()).unwrap();
    site.build_ok();
    // The build's own state (its manifest) went through the link.
    assert!(
        std::fs::read_dir(real.root().join("state"))
            .unwrap()
            .count()
            > 0,
        "nothing written to the linked state_dir"
    );
    assert!(site.out().join("index.html").exists());
}

#[test]
fn a_service_account_key_inside_out_dir_is_refused() {
    // The key reads the sheet, PINs and all: never in the served tree,
    // named directly or through a link.
    let site = site();
    std::fs::write(site.out().join("key.json"), "{}").unwrap();
    symlink(site.out().join("key.json"), site.root().join("key.json")).unwrap();
    let google =
        "kind = \"google\"\nspreadsheet_id = \"1SheetId\"\napi_base = \"http://127.0.0.1:9\"\n";
    for credentials in ["public/key.json", "key.json"] {
        site.write_config(&site_config(
            "FC Test",
            None,
            &format!("{google}credentials = \"{credentials}\"\n"),
            "",
        ));
        refused_by_every_command(&site, &["out_dir", "key.json", "served"]);
    }
}
