//! `gen init`: the real binary writes a first, commented `site.toml` from a
//! folder of CSV files, a workbook, and a Google Sheet (the fake Google,
//! through an API key and a service account), all holding the demo's
//! roster; `gen check` accepts what it wrote. An existing config is never
//! replaced, what cannot be guessed is a TODO, and no key or token ever
//! reaches the file or the output.

use std::collections::BTreeMap;
use std::path::Path;

use sheetgen_test_support::fake_google::{CLIENT_EMAIL, FakeGoogle, SPREADSHEET_ID, TOKEN_PREFIX};
use sheetgen_test_support::site::{DEMO, Run, Site, TEMPLATES, gen_command};
use sheetgen_test_support::tree;

/// Must never appear in the config or in any output.
const CANARY_KEY: &str = "AIzaCANARY-init-key-7d2c";

/// `gen --config site.toml init <args…> --templates <the repo's theme>`,
/// run from the site folder, with `env`.
fn init(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = gen_command(Path::new("site.toml"), site.root());
    cmd.arg("init").args(args).args(["--templates", TEMPLATES]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from_output(cmd.output().unwrap())
}

/// The config `gen init` wrote, as text and as TOML.
#[track_caller]
fn written(site: &Site) -> (String, toml::Table) {
    let text = std::fs::read_to_string(site.config_path())
        .unwrap_or_else(|e| panic!("gen init wrote no site.toml: {e}"));
    let table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, table)
}

/// `table[section][key]` as a string.
#[track_caller]
fn get<'a>(table: &'a toml::Table, section: &str, key: &str) -> &'a str {
    table[section][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {section}.{key} in {table:#?}"))
}

/// The `[[tables]]` as (tab, key).
fn tables(table: &toml::Table) -> Vec<(String, String)> {
    table
        .get("tables")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["tab"].as_str().unwrap().to_string(),
                t["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The line of `text` that sets `assignment`, which must carry a comment
/// containing `comment`.
#[track_caller]
fn assert_commented(text: &str, assignment: &str, comment: &str) {
    let line = text
        .lines()
        .find(|l| l.starts_with(assignment))
        .unwrap_or_else(|| panic!("no line `{assignment}` in\n{text}"));
    let (_, said) = line
        .split_once(" # ")
        .unwrap_or_else(|| panic!("`{line}` has no comment"));
    assert!(said.contains(comment), "`{line}`: no \"{comment}\"");
}

/// The advice every successful init ends with.
#[track_caller]
fn assert_next_steps(run: &Run, command: &str) {
    // In the site's language (issue 26).
    let steps = run
        .stdout
        .split_once("next steps:\n")
        .or_else(|| run.stdout.split_once("la suite :\n"))
        .unwrap_or_else(|| panic!("no next steps in\n{}", run.stdout))
        .1;
    for expected in [
        format!("`{command} check`"),
        format!("`{command} serve`"),
        "http://127.0.0.1:8080/".to_string(),
        // The package's deploy (issue 25), HTTPS included.
        "sudo sheetgen-deploy --domain".to_string(),
        "certbot".to_string(),
    ] {
        assert!(steps.contains(&expected), "no {expected} in\n{steps}");
    }
}

/// A CSV file as rows of cells, its header first.
fn csv_rows(path: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The demo's tabs, as a sheet holds them.
fn demo_sheet() -> BTreeMap<String, Vec<Vec<String>>> {
    [
        ("Players", csv_rows(&format!("{DEMO}/players.csv"))),
        ("Matches", csv_rows(&format!("{DEMO}/matches.csv"))),
    ]
    .into_iter()
    .map(|(tab, rows)| (tab.to_string(), rows))
    .collect()
}

#[test]
fn a_csv_folder_of_the_demo_becomes_a_config_that_checks() {
    let site = Site::new();
    for f in ["players.csv", "matches.csv"] {
        site.write(
            &format!("data/{f}"),
            std::fs::read(format!("{DEMO}/{f}")).unwrap(),
        );
    }
    let run = init(&site, &["data"], &[]);
    run.expect_ok();

    let (text, toml) = written(&site);
    assert_eq!(get(&toml, "source", "kind"), "csv");
    let files = toml["source"]["files"].as_table().unwrap();
    assert_eq!(files["players"].as_str(), Some("data/players.csv"));
    assert_eq!(files["matches"].as_str(), Some("data/matches.csv"));
    assert_eq!(get(&toml, "players", "tab"), "players");
    assert_eq!(get(&toml, "players", "id"), "id");
    assert_eq!(get(&toml, "players", "login"), "name");
    assert_eq!(get(&toml, "players", "secret"), "pin");
    assert_eq!(
        toml["players"]["private"].as_array().unwrap(),
        &vec![toml::Value::from("email")]
    );
    assert_eq!(get(&toml, "index", "sort_by"), "points");
    assert_eq!(toml["index"]["descending"].as_bool(), Some(true));
    assert_eq!(get(&toml, "site", "lang"), "en");
    // Issue 17's settings, written out so the organiser sees them.
    assert_eq!(get(&toml, "site", "timezone"), "Europe/Paris");
    assert_eq!(get(&toml, "site", "visibility"), "public");
    assert!(text.contains("# contact = "), "{text}");
    assert_eq!(
        tables(&toml),
        [("matches".to_string(), "player_id".to_string())]
    );
    assert_commented(&text, "tab = \"players\"", "has a name and a PIN column");
    assert_commented(&text, "secret = \"pin\"", "never shown");
    assert_commented(&text, "key = \"player_id\"", "holds the player's id");
    assert_commented(&text, "lang = \"en\"", "guessed from the column names");
    // What it cannot know: the club's name, and whether the demo's admin
    // column should grant every page (left commented out on purpose).
    assert_commented(&text, "title = ", "TODO: the club's name");
    assert_commented(&text, "# admin = \"admin\"", "TODO: uncomment");
    assert_eq!(text.matches("TODO").count(), 2, "{text}");

    // It checked what it wrote, said so, and what comes next.
    assert!(run.stdout.contains("checking it"), "{}", run.stdout);
    assert!(run.stdout.contains("ok: publishable"), "{}", run.stdout);
    assert!(
        run.stdout.contains("2 line(s) marked TODO"),
        "{}",
        run.stdout
    );
    assert_next_steps(&run, "gen");
    assert!(!run.stdout.contains("Share it with"), "{}", run.stdout);

    let check = site.run(&["check"]);
    check.expect_ok();
    assert!(
        check.stdout.contains("players: 120 (120 can log in)"),
        "{}",
        check.stdout
    );
    assert!(
        !site.out().exists() && !site.state().exists(),
        "init wrote a site"
    );
}

/// The demo's roster as a French club's workbook: `Joueurs` and `Matchs`
/// with French column names, an empty `Notes` sheet and a chart sheet.
fn write_french_workbook(path: &Path) {
    use rust_xlsxwriter::{Chart, ChartType, Workbook};
    let french = |name: &str| -> String {
        match name {
            "id" => "N°",
            "name" => "Nom",
            "pin" => "Code",
            "team" => "Équipe",
            "position" => "Poste",
            "points" => "Points",
            "goals" => "Buts",
            "assists" => "Passes",
            "played" => "Joués",
            "email" => "Courriel",
            "admin" => "Organisateur",
            "player_id" => "N° joueur",
            "date" => "Date",
            "opponent" => "Adversaire",
            "venue" => "Lieu",
            "result" => "Résultat",
            "minutes" => "Minutes",
            other => panic!("no French name for the demo's column {other}"),
        }
        .to_string()
    };
    let mut wb = Workbook::new();
    for (sheet, file) in [("Joueurs", "players.csv"), ("Matchs", "matches.csv")] {
        let ws = wb.add_worksheet().set_name(sheet).unwrap();
        for (r, row) in csv_rows(&format!("{DEMO}/{file}")).iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let cell = if r == 0 { french(cell) } else { cell.clone() };
                ws.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    wb.add_worksheet().set_name("Notes").unwrap();
    let mut chart = Chart::new(ChartType::Column);
    chart.add_series().set_values("Joueurs!$F$2:$F$20");
    let chartsheet = wb.add_chartsheet().set_name("Graphique").unwrap();
    chartsheet.insert_chart(0, 0, &chart).unwrap();
    wb.save(path).unwrap();
}

#[test]
fn a_french_workbook_becomes_a_french_config_that_checks() {
    let site = Site::new();
    write_french_workbook(&site.root().join("effectif.xlsx"));
    let run = init(&site, &["effectif.xlsx", "--title", "FC Démo"], &[]);
    run.expect_ok();

    let (text, toml) = written(&site);
    assert_eq!(get(&toml, "source", "kind"), "xlsx");
    assert_eq!(get(&toml, "source", "path"), "effectif.xlsx");
    assert_eq!(get(&toml, "site", "title"), "FC Démo");
    assert_eq!(get(&toml, "site", "lang"), "fr");
    assert_eq!(get(&toml, "players", "tab"), "Joueurs");
    assert_eq!(get(&toml, "players", "id"), "N°");
    assert_eq!(get(&toml, "players", "login"), "Nom");
    assert_eq!(get(&toml, "players", "secret"), "Code");
    assert_eq!(
        toml["players"]["private"].as_array().unwrap(),
        &vec![toml::Value::from("Courriel")]
    );
    assert_eq!(get(&toml, "index", "sort_by"), "Points");
    assert_eq!(
        tables(&toml),
        [("Matchs".to_string(), "N° joueur".to_string())]
    );
    // The one thing left to decide: whether the admin column grants
    // every page (the title comes from the workbook's name).
    assert_commented(&text, "# admin = \"Organisateur\"", "TODO: uncomment");
    assert_eq!(text.matches("TODO").count(), 1, "{text}");
    assert!(
        run.stdout
            .contains("onglet « Notes » laissé de côté : vide"),
        "{}",
        run.stdout
    );
    assert!(!text.contains("Graphique"), "a chart is not a tab:\n{text}");
    assert!(
        run.stdout.contains("ok : publiable") && !run.stdout.contains("ok: publishable"),
        "{}",
        run.stdout
    );
    assert_next_steps(&run, "gen");

    site.run(&["check"]).expect_ok();
}

#[test]
fn a_google_sheet_read_with_an_api_key_never_holds_the_key() {
    let fake = FakeGoogle::start(CANARY_KEY, demo_sheet());
    fake.add_chart_sheet("Goals chart");
    let site = Site::new();
    let url = format!("https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit#gid=0");
    let env = [("GEN_GOOGLE_API_KEY", CANARY_KEY)];
    let run = init(&site, &[&url, "--api-base", &fake.base], &env);
    run.expect_ok();

    // One listing of the tabs, one batchGet of their first rows, then the
    // check's one batchGet of the whole tabs.
    assert_eq!(
        fake.metadata_queries(),
        [format!("fields=sheets.properties&key={CANARY_KEY}")]
    );
    let batches = fake.sheets_queries();
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert!(
        batches[0].starts_with("ranges=Matches%211%3A5&ranges=Players%211%3A5&"),
        "{batches:?}"
    );

    let (text, toml) = written(&site);
    assert_eq!(get(&toml, "source", "kind"), "google");
    assert_eq!(get(&toml, "source", "spreadsheet_id"), SPREADSHEET_ID);
    assert_eq!(get(&toml, "source", "api_base"), fake.base);
    assert!(toml["source"].get("api_key").is_none(), "{text}");
    assert!(text.contains("GEN_GOOGLE_API_KEY"), "{text}");
    assert_eq!(get(&toml, "players", "tab"), "Players");
    assert_eq!(get(&toml, "players", "secret"), "pin");
    assert_eq!(
        tables(&toml),
        [("Matches".to_string(), "player_id".to_string())]
    );
    assert!(!text.contains("Goals chart"), "{text}");
    assert!(
        run.stdout
            .contains("left out tab \"Goals chart\": a chart, not cells"),
        "{}",
        run.stdout
    );
    // The public path is said plainly, in the check and in the advice.
    assert!(
        run.stdout.contains("WARNING: the secret column"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("anyone with its link"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("plain text"), "{}", run.stdout);
    assert_next_steps(&run, "gen");
    for output in [&text, &run.stdout, &run.stderr] {
        assert!(
            !output.contains(CANARY_KEY),
            "the API key leaked:\n{output}"
        );
    }

    let check = site.run_env(&["check"], &env);
    check.expect_ok();
    assert!(!check.stdout.contains(CANARY_KEY) && !check.stderr.contains(CANARY_KEY));
}

#[test]
fn a_google_sheet_read_with_a_service_account_says_whom_to_share_with() {
    let fake = FakeGoogle::start(CANARY_KEY, demo_sheet());
    let site = Site::new();
    site.write("keys/sa.json", fake.key_file_json(false));
    let run = init(
        &site,
        &[
            SPREADSHEET_ID,
            "--credentials",
            "keys/sa.json",
            "--api-base",
            &fake.base,
        ],
        &[],
    );
    run.expect_ok();

    let (text, toml) = written(&site);
    assert_eq!(get(&toml, "source", "credentials"), "keys/sa.json");
    assert_commented(
        &text,
        "credentials = ",
        "share the sheet with its e-mail only",
    );
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains(TOKEN_PREFIX),
        "{text}"
    );
    assert!(
        run.stdout
            .contains(&format!("Share it with {CLIENT_EMAIL}")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("WARNING"), "{}", run.stdout);
    assert!(run.stdout.contains("ok: publishable"), "{}", run.stdout);
    assert_next_steps(&run, "gen");
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.contains(TOKEN_PREFIX) && !output.contains("PRIVATE KEY"),
            "a secret leaked:\n{output}"
        );
    }
    // One token for the listing and the header rows, one for the check.
    assert_eq!(fake.tokens(), 2);

    site.run(&["check"]).expect_ok();
}

#[test]
fn a_sheet_not_shared_with_the_service_account_writes_nothing_and_says_why() {
    let fake = FakeGoogle::start(CANARY_KEY, demo_sheet());
    fake.unshare();
    let site = Site::new();
    site.write("sa.json", fake.key_file_json(false));
    let run = init(
        &site,
        &[
            SPREADSHEET_ID,
            "--credentials",
            "sa.json",
            "--api-base",
            &fake.base,
        ],
        &[],
    );
    run.expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("share the sheet with {CLIENT_EMAIL}")),
        "{}",
        run.stderr
    );
    assert!(!site.config_path().exists(), "a config was written");
    assert_eq!(fake.metadata_queries().len(), 1);
    assert_eq!(fake.sheets(), 0);
}

#[test]
fn an_existing_config_is_never_overwritten() {
    let site = Site::new();
    site.copy_demo_roster();
    let mine = b"# the organiser's own config\n[site]\ntitle = \"Mine\"\n";
    site.write("site.toml", mine);
    let run = init(&site, &["."], &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(run.stderr.contains("--config"), "{}", run.stderr);
    assert_eq!(std::fs::read(site.config_path()).unwrap(), mine);
    assert!(!run.stdout.contains("wrote"), "{}", run.stdout);

    // Not through a dangling symlink either: its target is not created.
    let other = Site::new();
    other.copy_demo_roster();
    std::os::unix::fs::symlink(other.root().join("elsewhere.toml"), other.config_path()).unwrap();
    init(&other, &["."], &[]).expect_code(2);
    assert!(!other.root().join("elsewhere.toml").exists());

    // Nor for Google: refused before asking Google anything.
    let fake = FakeGoogle::start(CANARY_KEY, demo_sheet());
    let run = init(
        &site,
        &[SPREADSHEET_ID, "--api-base", &fake.base],
        &[("GEN_GOOGLE_API_KEY", CANARY_KEY)],
    );
    run.expect_code(2);
    assert!(fake.metadata_queries().is_empty());
    assert_eq!(std::fs::read(site.config_path()).unwrap(), mine);
}

#[test]
fn what_cannot_be_guessed_is_a_todo_and_the_check_says_what_is_wrong() {
    let site = Site::new();
    site.write(
        "export/Sheet1.csv",
        "Prénom,Nom,Téléphone\nAna,Lopez,0601020304\nBo,Ek,0605060708\n",
    );
    site.write("export/Présences.csv", "Joueur,Date\nLopez,2026-09-06\n");
    let run = init(&site, &["export"], &[]);
    // Written, then refused by the check: there is no PIN column.
    run.expect_code(2);
    let (text, toml) = written(&site);
    assert_eq!(get(&toml, "players", "tab"), "Sheet1");
    assert_commented(
        &text,
        "tab = \"Sheet1\"",
        "TODO: no tab has both a name and a PIN",
    );
    assert_commented(&text, "secret = \"pin\"", "TODO: no PIN column found");
    assert_commented(
        &text,
        "login = \"Nom\"",
        "TODO: players type this one column",
    );
    assert_commented(&text, "id = \"Nom\"", "TODO: no id column found");
    assert_eq!(get(&toml, "site", "lang"), "fr");
    // "Joueur" may hold names rather than ids: joined, and said so.
    assert_eq!(
        tables(&toml),
        [("Présences".to_string(), "Joueur".to_string())]
    );
    assert_commented(
        &text,
        "key = \"Joueur\"",
        "TODO: check that this column holds the player's id",
    );
    // A French site's check speaks French (issue 26).
    assert!(
        run.stderr.contains("pas de colonne « pin »") && !run.stderr.contains("no column"),
        "{}",
        run.stderr
    );
    // French columns: a French site, its init speaks French (issue 26).
    assert!(
        run.stdout.contains("6 lignes marquées TODO"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Corrigez ce que la vérification a dit ci-dessus"),
        "{}",
        run.stdout
    );
    assert_next_steps(&run, "gen");
}

#[test]
fn a_source_that_is_neither_files_nor_a_sheet_is_refused() {
    let site = Site::new();
    let run = init(&site, &["roster"], &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("no such file or folder"),
        "{}",
        run.stderr
    );
    let published = "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pub?output=csv";
    let run = init(&site, &[published], &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("published to the web"),
        "{}",
        run.stderr
    );
    let run = init(&site, &[SPREADSHEET_ID], &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("GEN_GOOGLE_API_KEY"), "{}", run.stderr);
    assert!(tree::files(site.root()).is_empty(), "init wrote a file");
}
