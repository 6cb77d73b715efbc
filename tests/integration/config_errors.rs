//! A bad `site.toml` stops `gen` with exit 2 and names the key (or the
//! column and tab) at fault, before anything is written.

use sheetgen_test_support::site::{Run, Site, csv_config, roster};
use sheetgen_test_support::tree;

const PLAYERS: &str = "id,name,pin,team,points,email\na1,Alice,483920,Red,3,alice@example.org\nb2,Bob,572913,Blue,5,bob@example.org\n";

fn site_with(config: &str) -> Site {
    let site = Site::csv(PLAYERS);
    site.write_config(config);
    site
}

/// Runs `build` and `check`: both must refuse with exit 2, write nothing,
/// and print an `error:` naming every one of `names`.
#[track_caller]
fn refused(site: &Site, names: &[&str]) -> Run {
    let mut last = None;
    for cmd in ["build", "check"] {
        let run = site.run(&[cmd]);
        run.expect_code(2);
        assert!(run.stderr.contains("error:"), "{cmd}: {}", run.stderr);
        for n in names {
            assert!(
                run.stderr.contains(n),
                "{cmd}: stderr does not name {n:?}:\n{}",
                run.stderr
            );
        }
        assert!(!site.out().exists(), "{cmd} created out_dir");
        assert!(!site.state().exists(), "{cmd} created state_dir");
        last = Some(run);
    }
    last.unwrap()
}

#[test]
fn the_usual_config_is_accepted() {
    // The baseline the other tests break one key of.
    let site = site_with(&csv_config("", ""));
    site.build_ok();
    assert_eq!(tree::player_slugs(&site.out()).len(), 2);
}

#[test]
fn an_unknown_key_is_named() {
    let config = csv_config("", "").replace(
        "title = \"FC Test\"",
        "title = \"FC Test\"\ntitel = \"FC Typo\"",
    );
    let run = refused(&site_with(&config), &["titel", "site.toml"]);
    assert!(run.stderr.contains("unknown"), "{}", run.stderr);
}

#[test]
fn an_unknown_section_is_named() {
    let config = csv_config("", "[indexx]\nper_page = 10\n");
    refused(&site_with(&config), &["indexx"]);
}

#[test]
fn a_missing_players_section_is_named() {
    let config = csv_config("", "");
    let start = config.find("[players]").unwrap();
    let config = format!("{}\n", &config[..start]);
    refused(&site_with(&config), &["players"]);
}

#[test]
fn a_secret_column_that_is_not_in_the_sheet_is_named_with_its_tab() {
    let config = csv_config("", "").replace("secret = \"pin\"", "secret = \"code\"");
    let run = refused(
        &site_with(&config),
        &["\"code\"", "Players", "players.secret"],
    );
    // It lists what is there, so the organiser sees the real name…
    assert!(run.stderr.contains("pin"), "{}", run.stderr);
    // …but never a PIN value.
    assert!(!run.stderr.contains("483920"), "{}", run.stderr);
}

#[test]
fn a_missing_login_column_is_named() {
    let config = csv_config("", "").replace("login = \"name\"", "login = \"Nom\"");
    refused(
        &site_with(&config),
        &["\"Nom\"", "Players", "players.login"],
    );
}

#[test]
fn a_table_without_a_file_is_named() {
    let config = csv_config("", "[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n");
    refused(&site_with(&config), &["Matches", "source.files"]);
}

#[test]
fn a_table_key_that_is_not_a_column_is_named() {
    let config = csv_config("", "[[tables]]\ntab = \"Matches\"\nkey = \"player\"\n").replace(
        "Players = \"players.csv\"",
        "Players = \"players.csv\"\nMatches = \"matches.csv\"",
    );
    let site = site_with(&config);
    site.write("matches.csv", "player_id,date\na1,2026-01-01\n");
    refused(&site, &["\"player\"", "Matches", "tables.key"]);
}

#[test]
fn a_bad_value_is_named() {
    for (from, to, key) in [
        ("lang = \"en\"", "lang = \"de\"", "lang"),
        ("kind = \"csv\"", "kind = \"excel\"", "kind"),
        ("title = \"FC Test\"", "title = \"  \"", "site.title"),
        (
            "[source]",
            "[source]\nencoding = \"ebcdic\"",
            "source.encoding",
        ),
    ] {
        let config = csv_config("", "").replace(from, to);
        refused(&site_with(&config), &[key]);
    }
    let config = csv_config("", "[index]\nper_page = 0\n");
    refused(&site_with(&config), &["index.per_page"]);
}

#[test]
fn a_toml_syntax_error_is_exit_2() {
    refused(&site_with("[site\ntitle = 1\n"), &["site.toml"]);
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let site = Site::new();
    let run = site.run(&["build"]);
    run.expect_error(
        2,
        &format!(
            "cannot read the config {}: No such file or directory (os error 2)",
            site.config_path().display()
        ),
    );
    assert!(run.stderr.contains("site.toml"), "{}", run.stderr);
}

#[test]
fn usage_errors_are_exit_2() {
    let site = Site::csv(roster(2));
    site.run(&["build", "--no-such-flag"]).expect_code(2);
    site.run(&["publish"]).expect_code(2);
    assert!(!site.out().exists());
}

/// The id becomes the page URL and the login name is shown on the index:
/// either one being the PIN column would publish every PIN.
#[track_caller]
fn secret_column_reused_as(key: &str, was: &str) {
    let config =
        csv_config("", "").replace(&format!("{key} = \"{was}\""), &format!("{key} = \"pin\""));
    let site = site_with(&config);
    let run = site.run(&["build"]);
    if site.out().exists() {
        tree::assert_absent(&site.out(), &["483920".into(), "572913".into()]);
    }
    run.expect_code(2);
    assert!(
        run.stderr.contains(&format!("players.{key}")),
        "{}",
        run.stderr
    );
}

#[test]
fn the_secret_column_cannot_be_the_id() {
    secret_column_reused_as("id", "id");
}

#[test]
fn the_secret_column_cannot_be_the_login() {
    secret_column_reused_as("login", "name");
}

#[test]
fn a_private_column_cannot_be_put_on_the_public_index() {
    let config = csv_config("", "[index]\ncolumns = [\"team\", \"email\"]\n").replace(
        "secret = \"pin\"",
        "secret = \"pin\"\nprivate = [\"email\"]",
    );
    let site = site_with(&config);
    let run = site.run(&["build"]);
    if site.out().exists() {
        let index = site.page("index.html");
        assert!(
            !index.contains("alice@example.org"),
            "the private e-mail is on the public index"
        );
    }
    run.expect_code(2);
    assert!(run.stderr.contains("email"), "{}", run.stderr);
}

#[test]
fn config_paths_resolve_against_the_config_folder() {
    // Run from elsewhere: relative paths still mean "next to site.toml".
    let site = Site::csv(roster(3));
    let other = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .arg("--config")
        .arg(site.config_path())
        .arg("build")
        .current_dir(other.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(tree::player_slugs(&site.out()).len(), 3);
    assert!(
        std::fs::read_dir(other.path()).unwrap().next().is_none(),
        "wrote into the cwd"
    );
}

#[test]
fn out_dir_must_not_contain_the_roster() {
    // out_dir = "." would serve players.csv, PINs and all.
    let config = csv_config("", "").replace("out_dir = \"public\"", "out_dir = \".\"");
    let site = site_with(&config);
    let run = site.run(&["build"]);
    let published = site.root().join("index.html").exists();
    run.expect_code(2);
    assert!(
        !published,
        "published into the folder that holds players.csv"
    );
    assert!(run.stderr.contains("out_dir"), "{}", run.stderr);
}

#[test]
fn state_dir_must_not_be_inside_out_dir() {
    // The session key lives in state_dir: it must never be served.
    let config =
        csv_config("", "").replace("state_dir = \".sheetgen\"", "state_dir = \"public/state\"");
    let site = site_with(&config);
    let run = site.run(&["build"]);
    run.expect_code(2);
    assert!(run.stderr.contains("state_dir"), "{}", run.stderr);
}

#[test]
fn an_api_listen_that_is_not_loopback_is_named() {
    // Parsed with the rest of the config (issue 15): build and check refuse
    // it too, not only watch when it binds.
    let config = csv_config("", "[api]\nlisten = \"0.0.0.0:8787\"");
    let run = refused(&site_with(&config), &["api.listen", "\"0.0.0.0:8787\""]);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    let config = csv_config("", "[api]\nlisten = \"localhost:8787\"");
    refused(
        &site_with(&config),
        &["api.listen", "127.0.0.1:8787 or unix:/path"],
    );
}

#[test]
fn a_serve_listen_that_is_not_loopback_is_named_as_api_listen() {
    // `gen serve --listen` parses as api.listen does, with the same words.
    let site = site_with(&csv_config("", ""));
    let run = site.run(&["serve", "--listen", "0.0.0.0:8080"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("api.listen") && run.stderr.contains("not a loopback address"),
        "{}",
        run.stderr
    );
}
