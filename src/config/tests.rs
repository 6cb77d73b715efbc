//! The config's unit tests: parsing, validation and the wording of refusals.

use super::explain::{leaf_of, settings_under};
use super::raw::RawConfig;
use super::settings::{SETTINGS, Shape};
use super::*;

const SITE: &str = r#"
[site]
title = "FC Test"
[source]
kind = "csv"
path = "players.csv"
[players]
[api]
session_hours = 168
"#;

fn parse_with(text: &str, env: &Env) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/nonexistent-sheetgen-test/site.toml"), env)
}

fn parse(text: &str) -> Config {
    parse_with(text, &Env::default()).unwrap()
}

fn invalid_key(err: ConfigError) -> String {
    match err {
        ConfigError::Invalid { key, .. } => key,
        other => panic!("not an invalid key: {other}"),
    }
}

#[test]
fn render_digest_follows_what_pages_show_and_nothing_else() {
    let base = parse(SITE).render_digest();
    assert_eq!(parse(SITE).render_digest(), base, "deterministic");
    // SITE with `line` added under `section`.
    let with = |section: &str, line: &str| {
        assert!(SITE.contains(section), "{section}");
        parse(&SITE.replace(section, &format!("{section}\n{line}"))).render_digest()
    };
    for (section, line) in [
        ("[site]", "lang = \"fr\""),
        ("[site]", "out_dir = \"www\""),
        ("[site]", "templates = \"t2\""),
        ("[players]", "private = [\"email\"]"),
        ("[players]", "photo = \"photo\""),
        ("[players]", "admin = \"admin\""),
        ("[players]", "login = \"nickname\""),
        ("[players]", "[index]\nper_page = 10"),
        ("[players]", "[index]\nsort_by = \"points\""),
        ("[players]", "[index]\ncolumns = []"),
        ("[site]", "timezone = \"America/New_York\""),
        ("[players]", "[player_page]\nfields = [\"team\"]"),
        ("[players]", "[labels]\npoints = \"Pts\""),
        ("[site]", "contact = \"coach@club.example\""),
        ("[players]", "[index]\nfilters = [\"team\"]"),
    ] {
        assert_ne!(with(section, line), base, "{line} must change the digest");
    }
    let retitled = parse(&SITE.replace("FC Test", "FC Other")).render_digest();
    assert_ne!(retitled, base, "the title must change the digest");
    for (section, line) in [
        ("[site]", "refresh_secs = 5"),
        ("[site]", "state_dir = \"st\""),
        ("[players]", "photo_recheck_hours = 1.0"),
        ("[source]", "encoding = \"windows-1252\""),
        ("[api]", "insecure_http = true"),
        ("[api]", "listen = \"127.0.0.1:9999\""),
        ("[api]", "login_failures_per_address = 0"),
    ] {
        assert_eq!(with(section, line), base, "{line} must not change it");
    }
    let shorter = SITE.replace("session_hours = 168", "session_hours = 24");
    assert_eq!(parse(&shorter).render_digest(), base, "api.session_hours");
    let env = Env {
        session_key: Some(Secret::new("k".repeat(40))),
        refresh_token: Some(Secret::new("token".into())),
        http_timeout_ms: Some("300".into()),
        ..Env::default()
    };
    assert_eq!(parse_with(SITE, &env).unwrap().render_digest(), base);
}

#[test]
fn the_time_zone_is_an_iana_name_and_a_wrong_one_is_named() {
    assert_eq!(parse(SITE).site.timezone_name, "Europe/Paris");
    let ny = parse(&SITE.replace("[site]", "[site]\ntimezone = \"America/New_York\""));
    assert_eq!(ny.site.timezone.iana_name(), Some("America/New_York"));
    let err = parse_with(
        &SITE.replace("[site]", "[site]\ntimezone = \"Europe/Pari\""),
        &Env::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("site.timezone"), "{text}");
    assert!(text.contains("did you mean \"Europe/Paris\"?"), "{text}");
    assert_eq!(invalid_key(err), "site.timezone");
    // The copy built into gen knows every zone, whatever the system has.
    let bundled = jiff::tz::TimeZoneDatabase::bundled();
    assert!(bundled.get("America/New_York").is_ok());
    assert!(bundled.get("Europe/Paris").is_ok());
}

#[test]
fn the_secret_column_is_never_a_player_page_field() {
    let err = parse_with(
        &format!("{SITE}[player_page]\nfields = [\"team\", \"pin\"]\n"),
        &Env::default(),
    )
    .unwrap_err();
    assert_eq!(invalid_key(err), "player_page.fields");
}

#[test]
fn render_digest_tells_lists_apart_from_their_joined_text() {
    let with_private = |list: &str| {
        parse(&SITE.replace("[players]", &format!("[players]\nprivate = {list}"))).render_digest()
    };
    assert_ne!(with_private("[\"a,b\"]"), with_private("[\"a\", \"b\"]"));
}

#[test]
fn api_listen_is_parsed_at_load_and_named_when_wrong() {
    assert_eq!(
        parse(SITE).api.listen,
        ListenAddr::Tcp("127.0.0.1:8787".parse().unwrap())
    );
    let unix = parse(&SITE.replace("[api]", "[api]\nlisten = \"unix:/run/gen.sock\""));
    assert_eq!(unix.api.listen, ListenAddr::Unix("/run/gen.sock".into()));
    assert_eq!(unix.api.listen.to_string(), "unix:/run/gen.sock");
    for bad in ["0.0.0.0:8787", "localhost", ""] {
        let text = SITE.replace("[api]", &format!("[api]\nlisten = \"{bad}\""));
        let err = parse_with(&text, &Env::default()).unwrap_err();
        assert!(err.to_string().contains(&format!("\"{bad}\"")), "{err}");
        assert_eq!(invalid_key(err), "api.listen");
    }
}

#[test]
fn the_environment_reaches_the_config_and_never_its_debug_output() {
    let env = Env {
        session_key: Some(Secret::new(
            "session-key-of-forty-characters-xxxxxxx".into(),
        )),
        refresh_token: Some(Secret::new("  refresh-me \n".into())),
        http_timeout_ms: Some(" 300 ".into()),
        ..Env::default()
    };
    let config = parse_with(SITE, &env).unwrap();
    assert_eq!(config.http_timeout, Some(Duration::from_millis(300)));
    assert_eq!(
        config.api.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-me")
    );
    assert!(config.api.session_key.is_some());
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("session-key") && !shown.contains("refresh-me"),
        "{shown}"
    );

    for ignored in ["0", "soon", "-5", ""] {
        let env = Env {
            http_timeout_ms: Some(ignored.into()),
            ..Env::default()
        };
        assert_eq!(
            parse_with(SITE, &env).unwrap().http_timeout,
            None,
            "{ignored}"
        );
    }
    let none = parse(SITE);
    assert!(none.api.session_key.is_none() && none.api.refresh_token.is_none());
}

/// serde's own list of a section's keys, from its "unknown field"
/// message: what the raw types really accept there.
fn accepted_keys(text: &str) -> std::collections::BTreeSet<String> {
    let err = toml::from_str::<RawConfig>(text).unwrap_err();
    let message = err.message();
    let (_, expected) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("{message}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// SITE with `line` in `section` ("" is the top of the file).
fn with_line(section: &str, line: &str) -> String {
    let header = format!("[{section}]\n");
    if section.is_empty() {
        format!("{line}\n{SITE}")
    } else if section == "tables" {
        format!("{SITE}[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n{line}\n")
    } else if SITE.contains(&header) {
        SITE.replace(&header, &format!("{header}{line}\n"))
    } else {
        format!("{SITE}{header}{line}\n")
    }
}

fn refusal(text: &str) -> String {
    parse_with(text, &Env::default()).unwrap_err().to_string()
}

#[test]
fn settings_name_every_key_the_raw_types_accept() {
    for section in [
        "",
        "site",
        "source",
        "players",
        "index",
        "tables",
        "player_page",
        "api",
    ] {
        let listed: std::collections::BTreeSet<String> = settings_under(section)
            .map(|s| leaf_of(s.key).to_string())
            .collect();
        assert_eq!(
            accepted_keys(&with_line(section, "zz_unknown = 1")),
            listed,
            "[{section}]"
        );
    }
    // Every example is a value its key accepts.
    for s in SETTINGS {
        let Some((section, leaf)) = s.key.rsplit_once('.') else {
            continue;
        };
        let text = match leaf {
            "*" => format!("{SITE}[{section}]\nPlayers = {}\n", s.example),
            _ if s.shape == Shape::Section => continue,
            _ if section == "tables" || SITE.contains(&format!("\n{leaf} = ")) => continue,
            _ => with_line(section, &format!("{leaf} = {}", s.example)),
        };
        if let Err(e) = toml::from_str::<RawConfig>(&text) {
            panic!("{}: the example {} is refused: {e}", s.key, s.example);
        }
    }
    for choice in ["en", "fr"] {
        parse(&with_line("site", &format!("lang = \"{choice}\"")));
    }
    assert_eq!(parse(SITE).site.visibility, Visibility::Public);
    for (choice, visibility) in [
        ("public", Visibility::Public),
        ("players", Visibility::Players),
    ] {
        let line = format!("visibility = \"{choice}\"");
        assert_eq!(parse(&with_line("site", &line)).site.visibility, visibility);
    }
    for choice in ["google", "csv", "xlsx"] {
        let text = SITE.replace("kind = \"csv\"", &format!("kind = \"{choice}\""));
        toml::from_str::<RawConfig>(&text).unwrap();
    }
}

#[test]
fn a_wrong_type_is_told_in_words_with_an_example_line_and_caret() {
    let e = refusal(&with_line("site", "refresh_secs = \"30\""));
    assert!(
            e.contains(
                "site.toml: line 3, column 16: `site.refresh_secs` must be a whole number of seconds, e.g. refresh_secs = 30; here it is in quotes: write refresh_secs = 30 without them"
            ),
            "{e}"
        );
    assert!(e.contains("3 | refresh_secs = \"30\"\n"), "{e}");
    assert!(e.ends_with("|                ^^^^"), "{e}");
    for rust in ["u64", "invalid type", "TOML parse error", "sequence"] {
        assert!(!e.contains(rust), "{rust}: {e}");
    }

    let e = refusal(&with_line("index", "columns = \"Name\""));
    assert!(
            e.contains(
                "`index.columns` must be a list of column names, e.g. columns = [\"Name\", \"Points\"]; here it is one name in quotes: put the names in square brackets, columns = [\"Name\"]"
            ),
            "{e}"
        );
    assert!(!e.contains("sequence"), "{e}");

    for (section, line, says) in [
        (
            "site",
            "lang = \"FR\"",
            "\"FR\" differs from \"fr\" only in case",
        ),
        ("site", "lang = \"de\"", "\"de\" is not one of them"),
        (
            "site",
            "visibility = \"private\"",
            "`site.visibility` must be \"public\" (anyone may read the roster and photos) or \"players\"",
        ),
        (
            "players",
            "tab = 1",
            "here it is a whole number: put it in double quotes",
        ),
        (
            "index",
            "descending = \"yes\"",
            "must be true or false, without quotes, e.g. descending = true; here it is text in quotes",
        ),
        (
            "index",
            "descending = \"true\"",
            "write descending = true without them",
        ),
        ("index", "per_page = -1", "-1 is below zero or too large"),
        ("players", "private = \"email\"", "private = [\"email\"]"),
        (
            "players",
            "photo_recheck_hours = \"6\"",
            "must be a number of hours",
        ),
        (
            "tables",
            "key = 3",
            "`tables[0].key` must be the name of the column",
        ),
        (
            "source.files",
            "Players = 3",
            "`source.files.Players` must be a file name",
        ),
    ] {
        let text = match section {
            "tables" => format!("{SITE}[[tables]]\ntab = \"Matches\"\n{line}\n"),
            _ => with_line(section, line),
        };
        let e = refusal(&text);
        assert!(e.contains(says), "{line}: {e}");
        assert!(e.contains(line), "{line} is not quoted: {e}");
    }
}

#[test]
fn an_unknown_key_gets_the_nearest_or_its_section() {
    for (section, line, says) in [
        (
            "site",
            "refesh_secs = 5",
            "unknown setting `refesh_secs` in [site]: did you mean `refresh_secs`? (the settings of [site] are title, lang, out_dir, templates, state_dir, refresh_secs, timezone, contact, visibility)",
        ),
        (
            "site",
            "Title = \"x\"",
            "`Title` differs from `title` only in case",
        ),
        (
            "api",
            "refresh_secs = 5",
            "`refresh_secs` belongs in [site]; move the line there",
        ),
        (
            "",
            "title = \"x\"",
            "unknown setting `title` in the top of site.toml (before any [section] line): `title` belongs in [site]",
        ),
        (
            "players",
            "zz = 1",
            "unknown setting `zz` in [players] (the settings of [players] are",
        ),
    ] {
        let e = refusal(&with_line(section, line));
        assert!(e.contains(says), "{line}: {e}");
    }
    let e = refusal(&format!("{SITE}[indexx]\nper_page = 1\n"));
    assert!(
            e.contains("unknown section [indexx]: did you mean [index]? (the sections are [site], [source], [players], [index], [[tables]], [player_page], [labels], [api])"),
            "{e}"
        );
}

#[test]
fn a_missing_key_is_named_with_its_section_and_an_example() {
    let e = refusal(&SITE.replace("title = \"FC Test\"\n", ""));
    assert!(
        e.contains(
            "[site] needs `title`: the site's name, in double quotes, e.g. title = \"FC Example\""
        ),
        "{e}"
    );
    let e = refusal(&format!("{SITE}[[tables]]\ntab = \"Matches\"\n"));
    assert!(e.contains("[[tables]] needs `key`"), "{e}");
    let e = refusal(&SITE.replace("[players]\n", ""));
    assert!(e.contains("site.toml needs a [players] section"), "{e}");
    let e = refusal(&format!("{SITE}[tables]\ntab = \"M\"\nkey = \"k\"\n"));
    assert!(e.contains("write [[tables]], with two"), "{e}");
}

#[test]
fn an_api_key_line_is_never_quoted_back() {
    for line in [
        "api_key = 123456789",
        "api_key = AIzaSyNotQuoted",
        "api_key = \"AIza-one\" x",
    ] {
        let e = refusal(&with_line("source", line));
        assert!(e.contains("api_key = (hidden)"), "{line}: {e}");
        for secret in ["123456789", "AIzaSyNotQuoted", "AIza-one"] {
            assert!(!e.contains(secret), "{line}: {e}");
        }
    }
}

#[test]
fn a_tab_without_a_file_gets_the_nearest_file_s_tab() {
    let text = format!("{SITE}[[tables]]\ntab = \"Matchs\"\nkey = \"player_id\"\n").replace(
        "[players]\n",
        "[source.files]\nMatches = \"m.csv\"\n[players]\n",
    );
    let e = refusal(&text);
    assert!(
        e.contains(
            "has no file for the tab \"Matchs\": did you mean \"Matches\"? If that is the same tab"
        ),
        "{e}"
    );
    let e = refusal(&text.replace("\"Matchs\"", "\"matches\""));
    assert!(
        e.contains("\"matches\" differs from the tab \"Matches\" only in case. If that"),
        "{e}"
    );
    let e = refusal(&text.replace("\"Matchs\"", "\"Results\""));
    assert!(
        e.contains("has no file for the tab \"Results\" (add Results = \"file.csv\""),
        "{e}"
    );
}
