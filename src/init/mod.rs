//! `gen init`: a first `site.toml` from a Google Sheet, a folder of CSV
//! files or a workbook. It lists the tabs and reads their header rows
//! through the source stage (for Google: one `spreadsheets.get` and one
//! `values:batchGet` of the first rows), guesses from French and English
//! column names which tab holds the players and what each column is, and
//! writes a commented config, never over an existing file. What it cannot
//! tell is written as a placeholder marked TODO. It reads no secret into
//! the file: keys stay in the environment or in their own files.
//!
//! [`read`] gets the tabs and header rows, [`guess`] decides, [`draft`]
//! writes the text; this module writes the file and tells what comes next.

mod draft;
mod guess;
mod read;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::config::{Config, Env};
use crate::error::{ConfigError, Error};
use crate::i18n::{Arg, Words};
use draft::Draft;
use guess::{Lang, Pick, Plan};
use read::Read;

/// What `gen init` wrote, for the advice after the check.
#[derive(Debug)]
pub(crate) struct Written {
    /// The config as the organiser named it (`--config`), for commands.
    config: PathBuf,
    google: Option<GoogleAccess>,
    todos: usize,
    /// The site's language: the words of what follows.
    lang: crate::config::Lang,
}

/// How the sheet was read, which decides the advice.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GoogleAccess {
    ServiceAccount { client_email: String },
    ApiKey,
}

/// Writes the config for `args.source` at `config_path`, or explains why
/// not (an existing file is never replaced: exit 2).
pub(crate) fn write(config_path: &Path, args: &InitArgs) -> Result<Written, Error> {
    if config_path.symlink_metadata().is_ok() {
        return Err(already_exists(config_path));
    }
    let dir = folder_of(config_path);
    let base = dir.canonicalize().map_err(|e| {
        usage(
            config_path,
            format!("cannot write here: the folder {} ({e})", dir.display()),
        )
    })?;
    let env = Env::from_process();
    let read = read::read_source(&args.source, args, &env, &base)?;
    let plan = guess::guess(&read.tabs).ok_or_else(|| {
        usage(
            Path::new(&args.source),
            "found no tab with a header row (the column names are read from the first non-empty row)".into(),
        )
    })?;
    let templates = read::theme(args.templates.as_deref(), &base);
    let lang = match args.lang.as_deref() {
        Some("fr") => Lang::Fr { guessed: false },
        Some(_) => Lang::En { guessed: false },
        None => guess::guess_lang(&read.tabs),
    };
    let from = read.described.english();
    let text = draft::render(&Draft {
        from: &from,
        title: args.title.as_deref(),
        lang,
        templates: &templates,
        source: &read.source,
        plan: &plan,
    });
    // The file must load as it is written: a guess that the config refuses
    // is a bug here, and the organiser gets the reason, not a broken file.
    Config::parse(&text, config_path, &env)?;
    write_new(config_path, &base, text.as_bytes())?;

    let todos = text.lines().filter(|l| l.contains("# TODO")).count();
    let lang = match lang {
        Lang::Fr { .. } => crate::config::Lang::Fr,
        Lang::En { .. } => crate::config::Lang::En,
    };
    print_summary(config_path, &read, &plan, todos, crate::i18n::words(lang));
    Ok(Written {
        config: config_path.to_path_buf(),
        google: read.google,
        todos,
        lang,
    })
}

/// After `gen check` ran on the new config: what to do next, in plain
/// words, whatever the check said; its outcome is the command's. The
/// check's error is printed here, before the steps that refer to it,
/// rather than by `main` after them.
pub(crate) fn finish(written: Option<&Written>, checked: Result<(), Error>) -> Result<(), Error> {
    let Some(written) = written else {
        return checked;
    };
    let _ = std::io::stdout().flush();
    if let Err(e) = &checked {
        eprintln!("{}", crate::i18n::errors::line(e));
    }
    println!();
    print!("{}", next_steps(written, checked.is_ok()));
    checked.map_err(|e| Error::Reported(Box::new(e)))
}

fn already_exists(path: &Path) -> Error {
    usage(
        path,
        "will not overwrite this file: it already exists. Move it away, or write the new config elsewhere with --config new-site.toml".into(),
    )
}

/// A bad argument of `gen init` (exit 2), naming the path it is about.
fn usage(path: &Path, message: String) -> Error {
    Error::Config(ConfigError::Invalid {
        path: path.to_path_buf(),
        key: "gen init".into(),
        message,
    })
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

/// Creates `path` with `bytes`, atomically and never over an existing
/// file (one created meanwhile included): a temp file in its folder,
/// linked into place only if the name is free.
fn write_new(path: &Path, dir: &Path, bytes: &[u8]) -> Result<(), Error> {
    let failed =
        |e: std::io::Error| Error::Runtime(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::Builder::new()
        .prefix(".site.toml-")
        .tempfile_in(dir)
        .map_err(failed)?;
    tmp.write_all(bytes).map_err(failed)?;
    // No secret in it; gen's service user reads it.
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(failed)?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            already_exists(path)
        } else {
            failed(e.error)
        }
    })?;
    Ok(())
}

/// `"name"`, for messages and comments.
fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

fn print_summary(config_path: &Path, read: &Read, plan: &Plan, todos: usize, w: &Words) {
    let tabs: Vec<String> = read
        .tabs
        .iter()
        .map(|t| {
            let args = [
                ("tab", t.name.as_str().into()),
                ("columns", t.header.len().into()),
            ];
            w.say("init-tab", &args)
        })
        .collect();
    let args = [
        ("what", read.described.say(w).into()),
        ("tabs", tabs.join(", ").into()),
    ];
    println!("{}", w.say("init-read", &args));
    for (tab, why) in &read.skipped {
        let args = [
            ("tab", tab.as_str().into()),
            ("why", w.say(why.key(), &[]).into()),
        ];
        println!("{}", w.say("init-left-out", &args));
    }
    let p = &plan.players;
    let private = if p.private.is_empty() {
        String::new()
    } else {
        w.say("init-private", &[("columns", p.private.join(", ").into())])
    };
    let path = config_path.display().to_string();
    println!("{}", w.say("init-wrote", &[("path", path.into())]));
    let args = [
        ("tab", p.tab.as_str().into()),
        ("id", p.id.value().into()),
        ("login", p.login.value().into()),
        ("pin", p.secret.value().into()),
        ("private", private.into()),
    ];
    println!("{}", w.say("init-players", &args));
    for j in &plan.joins {
        let line = match &j.key {
            Pick::Column(key) => w.say(
                "init-joined",
                &[("tab", j.tab.as_str().into()), ("key", key.as_str().into())],
            ),
            Pick::Todo { .. } => w.say("init-not-joined", &[("tab", j.tab.as_str().into())]),
        };
        println!("{line}");
    }
    if todos > 0 {
        println!("{}", w.say("init-todos", &[("count", todos.into())]));
    }
    println!();
    println!("{}", w.say("init-checking", &[]));
}

/// What to do next, in plain words, numbered.
fn next_steps(written: &Written, checked: bool) -> String {
    let w = crate::i18n::words(written.lang);
    let command = if written.config == Path::new("site.toml") {
        "gen".to_string()
    } else {
        format!("gen --config {}", written.config.display())
    };
    let config = written.config.display().to_string();
    let mut steps = Vec::new();
    if written.todos > 0 {
        let args = [
            ("path", config.as_str().into()),
            ("count", written.todos.into()),
        ];
        steps.push(w.say("step-todos", &args));
    }
    match &written.google {
        Some(GoogleAccess::ServiceAccount { client_email }) => {
            steps.push(w.say("step-share", &[("email", client_email.as_str().into())]));
            steps.push(w.say("step-plain-text", &[]));
        }
        Some(GoogleAccess::ApiKey) => {
            steps.push(w.say("step-api-key", &[]));
            steps.push(w.say("step-plain-text", &[]));
        }
        None => {}
    }
    let cmd = || Arg::from(command.as_str());
    if checked {
        steps.push(w.say("step-check", &[("command", cmd())]));
    } else {
        let args = [("command", cmd()), ("path", config.as_str().into())];
        steps.push(w.say("step-fix", &args));
    }
    steps.push(w.say("step-serve", &[("command", cmd())]));
    steps.push(w.say("step-online", &[("command", cmd())]));
    let mut out = w.say("steps", &[]);
    out.push('\n');
    for (i, step) in steps.iter().enumerate() {
        out.push_str(&format!("  {}. {step}\n", i + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_follow_the_way_in() {
        let sa = Written {
            config: "site.toml".into(),
            google: Some(GoogleAccess::ServiceAccount {
                client_email: "gen@p.iam.gserviceaccount.com".into(),
            }),
            todos: 0,
            lang: crate::config::Lang::En,
        };
        let text = next_steps(&sa, true);
        assert!(
            text.contains("Share it with gen@p.iam.gserviceaccount.com"),
            "{text}"
        );
        assert!(
            text.contains("`gen serve`") && text.contains("sheetgen-deploy"),
            "{text}"
        );
        assert!(!text.contains("TODO"), "{text}");
        assert!(
            !text.contains("Fix what"),
            "a good check needs no fix:\n{text}"
        );
        let key = Written {
            config: "club/site.toml".into(),
            google: Some(GoogleAccess::ApiKey),
            todos: 2,
            lang: crate::config::Lang::En,
        };
        let text = next_steps(&key, false);
        assert!(text.contains("Fix what the check said above"), "{text}");
        assert!(text.contains("anyone with its link"), "{text}");
        assert!(text.contains("2 line(s) marked TODO"), "{text}");
        assert!(
            text.contains("`gen --config club/site.toml check` again"),
            "{text}"
        );
        assert!(
            text.contains("`gen --config club/site.toml serve`"),
            "{text}"
        );
        // Only what gen alone has: no file of sheetgen's source to read.
        for w in [&sa, &key] {
            for checked in [true, false] {
                let text = next_steps(w, checked);
                assert!(!text.contains("docs/"), "{text}");
            }
        }
    }
}
