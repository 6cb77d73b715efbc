//! The middle layer: the pipeline through the library, in memory, with a
//! config from [`csv_config`] and the repo's theme. Faster and more
//! precise than the binary for what never touches disk.

use std::path::Path;

use sheetgen::config::{Config, Env, Source};

use sheetgen::error::{ConfigError, Error};
use sheetgen::model::Snapshot;
use sheetgen::render::{Artifact, ArtifactKind, Theme};
use sheetgen_test_support::site::{Site, csv_config};
use sheetgen_test_support::tree;

const PLAYERS: &str = "id,name,pin,team,points,email\n\
    a1,Alice,CANARY-4821,Red,3,alice@example.org\n\
    b2,Bob,CANARY-5930,Blue,5,bob@example.org\n\
    c3,Chloé,CANARY-6047,Green,4,chloe@example.org\n";

fn site(extra: &str) -> (Site, Config) {
    let site = Site::csv(PLAYERS);
    let text = csv_config("", extra).replace(
        "secret = \"pin\"",
        "secret = \"pin\"\nprivate = [\"email\"]",
    );
    site.write_config(&text);
    let config = Config::parse(&text, &site.config_path(), &Env::default()).unwrap();
    (site, config)
}

/// source → model → render, in memory (the sync pieces of a cycle).
fn prepare(config: &Config) -> (Snapshot, Vec<Artifact>) {
    let Source::CsvFiles { files, encoding } = &config.source else {
        panic!("not a CSV config");
    };
    let raw = sheetgen::source::file::read_csv_files(files, *encoding, &config.tabs()).unwrap();
    let snapshot = Snapshot::build(config, raw).unwrap();
    let theme = Theme::load(&config.site.templates, config.site.lang.code()).unwrap();
    let artifacts = sheetgen::render::render(&theme, &snapshot, config).unwrap();
    (snapshot, artifacts)
}

#[test]
fn prepared_artifacts_hold_no_secret_and_only_safe_paths() {
    let (_site, config) = site("");
    let (snapshot, artifacts) = prepare(&config);
    assert_eq!(snapshot.players.len(), 3);
    assert_eq!(snapshot.credentials.len(), 3);
    assert!(
        !snapshot.columns.iter().any(|c| c == "pin"),
        "{:?}",
        snapshot.columns
    );

    let players = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Player)
        .count();
    assert_eq!(players, 3);
    assert_eq!(
        artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Index)
            .count(),
        1
    );
    for a in &artifacts {
        assert!(
            a.path
                .split('/')
                .all(|c| !c.is_empty() && c != ".." && !c.starts_with('.')),
            "{}",
            a.path
        );
        assert!(
            !tree::contains(&a.bytes, b"CANARY"),
            "{} holds a PIN",
            a.path
        );
    }
    let index = artifacts.iter().find(|a| a.path == "index.html").unwrap();
    assert!(
        !tree::contains(&index.bytes, b"alice@example.org"),
        "private column on the index"
    );
    let alice = artifacts
        .iter()
        .find(|a| a.path == "p/a1/index.html")
        .unwrap();
    // Long values carry line-break hints (`<wbr>`, issue 17).
    let alice = String::from_utf8_lossy(&alice.bytes).replace("<wbr>", "");
    assert!(alice.contains("alice@example.org"), "{alice}");
    assert!(!alice.contains("bob@example.org"), "another player's data");
}

#[test]
fn debug_output_of_a_snapshot_never_shows_a_pin() {
    let (_site, config) = site("");
    let (snapshot, _) = prepare(&config);
    let debug = format!("{snapshot:?}");
    assert!(
        !debug.contains("CANARY"),
        "a PIN in Debug output (it could reach a log)"
    );
    let cred = snapshot.credentials.find("  chloe ").unwrap();
    assert_eq!(cred.secret.expose(), "CANARY-6047");
    assert_eq!(snapshot.players[cred.player].id, "c3");
}

#[test]
fn prepare_is_deterministic() {
    let (_site, config) = site("[index]\nsort_by = \"points\"\ndescending = true\n");
    let (a, first) = prepare(&config);
    let (b, second) = prepare(&config);
    assert_eq!(a.hash, b.hash);
    assert_eq!(first, second);
}

#[test]
fn config_errors_name_the_key() {
    let path = Path::new("/nowhere/site.toml");
    let text = csv_config("", "[index]\nsort_by = \"pin\"\n");
    match Config::parse(&text, path, &Env::default()) {
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "index"),
        other => panic!("{other:?}"),
    }
    let err = Error::from(Config::parse("[site]\n", path, &Env::default()).unwrap_err());
    assert_eq!(err.exit_code(), 2);
    // Relative paths resolve against the config's folder.
    let config = Config::parse(&csv_config("", ""), path, &Env::default()).unwrap();
    assert_eq!(config.site.out_dir, Path::new("/nowhere/public"));
    assert_eq!(
        config.source.local_files(),
        [Path::new("/nowhere/players.csv")]
    );
}
