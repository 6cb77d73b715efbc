//! The text of the config `gen init` writes: every choice with a comment
//! that says why, every unknown a placeholder marked TODO. No secret is
//! ever in it: keys stay in the environment or in their own files.

use super::guess::{Join, Lang, Pick, Plan, PlayersPlan};
use super::read::{CredentialsFrom, SourceDraft};
use crate::config::Encoding;

pub(super) struct Draft<'a> {
    pub(super) from: &'a str,
    pub(super) title: Option<&'a str>,
    pub(super) lang: Lang,
    pub(super) templates: &'a Option<String>,
    pub(super) source: &'a SourceDraft,
    pub(super) plan: &'a Plan,
}

/// A TOML string (quotes and escapes included).
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        toml_string(s)
    }
}

fn toml_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", items.join(", "))
}

/// A comment's text on one line, whatever a column name holds.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// `key = value`, with its comment aligned after it.
fn line(out: &mut String, assignment: &str, comment: &str) {
    if comment.is_empty() {
        out.push_str(assignment);
    } else {
        out.push_str(&format!("{assignment:<30} # {}", one_line(comment)));
    }
    out.push('\n');
}

fn pick_line(out: &mut String, key: &str, pick: &Pick, comment: &str) {
    match pick {
        Pick::Column(c) => line(out, &format!("{key} = {}", toml_string(c)), comment),
        Pick::Todo { placeholder, why } => line(
            out,
            &format!("{key} = {}", toml_string(placeholder)),
            &format!("TODO: {why}"),
        ),
    }
}

pub(super) fn render(d: &Draft<'_>) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Written by `gen init` from {}.\n\
         # Every key is described in docs/organiser.md (\"The config\"). Comments say\n\
         # why each column was chosen, and what gen init could not tell.\n\
         # No key or password belongs in this file: they stay in the environment\n\
         # (GEN_GOOGLE_API_KEY) or in their own file (credentials).\n\n",
        one_line(d.from)
    ));

    out.push_str("[site]\n");
    match d.title {
        Some(t) => line(&mut out, &format!("title = {}", toml_string(t)), ""),
        None => line(
            &mut out,
            "title = \"Our club\"",
            "TODO: the club's name, shown on every page",
        ),
    }
    let (code, guessed) = match d.lang {
        Lang::En { guessed } => ("en", guessed),
        Lang::Fr { guessed } => ("fr", guessed),
    };
    line(
        &mut out,
        &format!("lang = \"{code}\""),
        if guessed {
            "\"en\" | \"fr\": guessed from the column names"
        } else {
            "\"en\" | \"fr\""
        },
    );
    line(
        &mut out,
        "out_dir = \"public\"",
        "what nginx serves; nothing else may live in it",
    );
    match d.templates {
        Some(t) => line(
            &mut out,
            &format!("templates = {}", toml_string(t)),
            "the theme",
        ),
        None => line(
            &mut out,
            "# templates = \"theme\"",
            "your own theme files over the one built into gen: `gen theme export theme` starts one",
        ),
    }
    line(
        &mut out,
        "state_dir = \".sheetgen\"",
        "session key, last good data (0600 files)",
    );
    line(&mut out, "refresh_secs = 30", "how often the sheet is read");
    line(
        &mut out,
        "timezone = \"Europe/Paris\"",
        "the pages' \"data as of\" time is shown in it",
    );
    line(
        &mut out,
        "# contact = \"coach@club.example\"",
        "shown on the login page under \"Forgot your PIN?\"",
    );
    line(
        &mut out,
        "visibility = \"public\"",
        "or \"players\": only logged-in players see the roster and photos",
    );
    out.push('\n');

    render_source(&mut out, d.source);
    render_players(&mut out, &d.plan.players);
    render_tables(&mut out, &d.plan.joins);

    out.push_str("[api]\n");
    line(
        &mut out,
        "listen = \"127.0.0.1:8787\"",
        "loopback only: nginx sits in front",
    );
    line(&mut out, "session_hours = 168", "a login lasts a week");
    out
}

fn render_source(out: &mut String, source: &SourceDraft) {
    out.push_str("[source]\n");
    match source {
        SourceDraft::Google {
            spreadsheet_id,
            api_base,
            credentials,
        } => {
            line(out, "kind = \"google\"", "");
            line(
                out,
                &format!("spreadsheet_id = {}", toml_string(spreadsheet_id)),
                "from the sheet's URL",
            );
            if let Some(base) = api_base {
                line(out, &format!("api_base = {}", toml_string(base)), "");
            }
            match credentials {
                Some((path, from)) => line(
                    out,
                    &format!("credentials = {}", toml_string(path)),
                    match from {
                        CredentialsFrom::Flag => {
                            "the service account's key file: share the sheet with its e-mail only"
                        }
                        CredentialsFrom::Env => {
                            "from GOOGLE_APPLICATION_CREDENTIALS; share the sheet with its e-mail only"
                        }
                    },
                ),
                None => {
                    out.push_str(
                        "# The API key is read from the environment (GEN_GOOGLE_API_KEY), never from here.\n\
                         # With an API key, anyone with the sheet's link can read the PINs: for a private\n\
                         # sheet, use a service account: credentials = \"/etc/sheetgen/service-account.json\"\n",
                    );
                }
            }
        }
        SourceDraft::Csv { files, encoding } => {
            line(out, "kind = \"csv\"", "one file per tab");
            if *encoding == Encoding::Windows1252 {
                line(
                    out,
                    "encoding = \"windows-1252\"",
                    "the files are not UTF-8 (saved by Excel on Windows)",
                );
            }
            out.push_str("[source.files]\n");
            for (tab, path) in files {
                line(
                    out,
                    &format!("{} = {}", toml_key(tab), toml_string(path)),
                    "",
                );
            }
        }
        SourceDraft::Workbook { path } => {
            line(out, "kind = \"xlsx\"", "tabs are the workbook's sheets");
            line(out, &format!("path = {}", toml_string(path)), "");
        }
    }
    out.push('\n');
}

fn render_players(out: &mut String, p: &PlayersPlan) {
    out.push_str("[players]\n");
    let tab_comment = match &p.tab_note {
        Ok(note) => note.clone(),
        Err(todo) => format!("TODO: {todo}"),
    };
    line(out, &format!("tab = {}", toml_string(&p.tab)), &tab_comment);
    let id_comment = if p.id_is_login {
        "TODO: no id column found, so the name is the id: a renamed player gets a new page address. Add a column that is unique and never changes, and name it here".to_string()
    } else {
        "unique; the page address derives from it".to_string()
    };
    pick_line(out, "id", &p.id, &id_comment);
    let login_comment = match &p.login_note {
        Some(note) => format!("TODO: {note}"),
        None => "what a player types to log in".to_string(),
    };
    pick_line(out, "login", &p.login, &login_comment);
    pick_line(
        out,
        "secret",
        &p.secret,
        "the PIN: never shown, never written under out_dir",
    );
    if p.private.is_empty() {
        line(
            out,
            "# private = [\"email\"]",
            "columns shown on the player's own page only",
        );
    } else {
        line(
            out,
            &format!("private = {}", toml_list(&p.private)),
            "contact details: on the player's own page only",
        );
    }
    match &p.photo {
        Some(c) => line(
            out,
            &format!("photo = {}", toml_string(c)),
            "an image URL or a Google Drive link per player",
        ),
        None => line(out, "# photo = \"photo\"", "no photo column found"),
    }
    if let Some(c) = &p.admin {
        line(
            out,
            &format!("# admin = {}", toml_string(c)),
            "TODO: uncomment to let the rows marked yes/oui/x read every player's page and the organiser's page /admin/",
        );
    }
    out.push('\n');

    out.push_str("[index]\n");
    if p.public.is_empty() {
        line(
            out,
            "# columns = []",
            "the public roster's columns; default: every public column",
        );
    } else {
        line(
            out,
            &format!("# columns = {}", toml_list(&p.public)),
            "the public roster's columns (these are the default)",
        );
    }
    match &p.sort_by {
        Some(c) => {
            line(out, &format!("sort_by = {}", toml_string(c)), "");
            line(out, "descending = true", "the most points first");
        }
        None => line(
            out,
            "# sort_by = \"points\"",
            "no points column found: sorted by name",
        ),
    }
    out.push('\n');
}

fn render_tables(out: &mut String, joins: &[Join]) {
    for j in joins.iter().filter(|j| matches!(j.key, Pick::Column(_))) {
        out.push_str("[[tables]]\n");
        line(out, &format!("tab = {}", toml_string(&j.tab)), "");
        let comment = if j.unsure {
            "TODO: check that this column holds the player's id (not their name)"
        } else {
            "holds the player's id"
        };
        pick_line(out, "key", &j.key, comment);
        out.push('\n');
    }
    for j in joins.iter().filter(|j| matches!(j.key, Pick::Todo { .. })) {
        if let Pick::Todo { why, .. } = &j.key {
            out.push_str(&format!(
                "# TODO: {}; to show its rows on players' pages, uncomment and name that column:\n",
                one_line(why)
            ));
        }
        out.push_str(&format!(
            "# [[tables]]\n# tab = {}\n# key = \"player_id\"\n\n",
            toml_string(&j.tab)
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, Env};
    use crate::init::guess::{demo_tabs, guess};
    use crate::init::read::Tab;

    #[test]
    fn what_is_missing_becomes_a_todo_never_a_silent_guess() {
        let tabs = vec![Tab::new("Sheet1", &["Prénom", "Nom", "Téléphone"])];
        let plan = guess(&tabs).unwrap();
        let p = &plan.players;
        assert!(p.tab_note.is_err(), "no PIN: the tab is a TODO");
        assert_eq!(p.login, Pick::Column("Nom".into()));
        assert!(
            p.login_note
                .as_deref()
                .is_some_and(|n| n.contains("\"Prénom\""))
        );
        assert!(
            p.id_is_login,
            "no id column: the name stands in, with a TODO"
        );
        assert!(
            matches!(&p.secret, Pick::Todo { placeholder, why } if placeholder == "pin" && why.contains("\"Téléphone\""))
        );
        let text = render(&Draft {
            from: "test",
            title: None,
            lang: Lang::Fr { guessed: true },
            templates: &None,
            source: &SourceDraft::Workbook {
                path: "roster.xlsx".into(),
            },
            plan: &plan,
        });
        // Each line: the key's value, then the TODO that says why.
        for (start, todo) in [
            ("title = \"Our club\"", "# TODO: the club's name"),
            ("tab = \"Sheet1\"", "# TODO: no tab has both"),
            ("id = \"Nom\"", "# TODO: no id column found"),
            ("login = \"Nom\"", "# TODO: players type this one column"),
            ("secret = \"pin\"", "# TODO: no PIN column found"),
        ] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(start) && l.contains(todo)),
                "{start} … {todo}\n{text}"
            );
        }
        // The theme is built into gen: no line to settle about it.
        assert!(!text.lines().any(|l| l.starts_with("templates")), "{text}");
        assert!(text.contains("# templates = \"theme\""), "{text}");
        assert!(guess(&[]).is_none());
        // Still a config gen loads, so `gen check` can say what is wrong.
        let config = Config::parse(
            &text,
            Path::new("/nonexistent-init/site.toml"),
            &Env::default(),
        );
        assert!(config.is_ok(), "{config:?}\n{text}");
    }

    #[test]
    fn the_written_demo_config_loads_and_says_why() {
        let plan = guess(&demo_tabs()).unwrap();
        let source = SourceDraft::Csv {
            files: vec![
                ("players".into(), "data/players.csv".into()),
                ("matches".into(), "data/matches.csv".into()),
                // A tab name that is no bare TOML key.
                ("my notes".into(), "data/my notes.csv".into()),
            ],
            encoding: Encoding::Windows1252,
        };
        let text = render(&Draft {
            from: "the CSV files in data",
            title: Some("FC \"Test\""),
            lang: Lang::En { guessed: false },
            templates: &Some("/opt/theme".into()),
            source: &source,
            plan: &plan,
        });
        let config = Config::parse(
            &text,
            Path::new("/nonexistent-init/site.toml"),
            &Env::default(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.site.title, "FC \"Test\"");
        assert_eq!(config.players.private, ["email"]);
        assert_eq!(config.index.sort_by.as_deref(), Some("points"));
        assert!(config.index.descending);
        assert_eq!(config.tables.len(), 1);
        assert_eq!(config.tables[0].key, "player_id");
        assert!(
            text.contains("\"my notes\" = \"data/my notes.csv\""),
            "{text}"
        );
        assert!(text.contains("encoding = \"windows-1252\""), "{text}");
        assert!(!text.contains("TODO"), "{text}");
    }
}
