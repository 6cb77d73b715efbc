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
    let text = draft::render(&Draft {
        from: &read.described,
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
    print_summary(config_path, &read, &plan, todos);
    Ok(Written {
        config: config_path.to_path_buf(),
        google: read.google,
        todos,
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

fn print_summary(config_path: &Path, read: &Read, plan: &Plan, todos: usize) {
    let tabs: Vec<String> = read
        .tabs
        .iter()
        .map(|t| format!("{} ({} columns)", quoted(&t.name), t.header.len()))
        .collect();
    println!("read {}: {}", read.described, tabs.join(", "));
    for (tab, why) in &read.skipped {
        println!("left out tab {}: {why}", quoted(tab));
    }
    let p = &plan.players;
    let mut players = format!(
        "players: tab {}, id {}, login {}, PIN {}",
        quoted(&p.tab),
        quoted(p.id.value()),
        quoted(p.login.value()),
        quoted(p.secret.value())
    );
    if !p.private.is_empty() {
        players.push_str(&format!(", private: {}", p.private.join(", ")));
    }
    println!("wrote {}", config_path.display());
    println!("  {players}");
    for j in &plan.joins {
        match &j.key {
            Pick::Column(key) => println!("  joined: tab {} by {}", quoted(&j.tab), quoted(key)),
            Pick::Todo { .. } => println!(
                "  not joined: tab {} (no column holding the player's id; see the TODO)",
                quoted(&j.tab)
            ),
        }
    }
    if todos > 0 {
        println!("  {todos} TODO(s) in the file need you");
    }
    println!();
    println!("checking it, as `gen check` does:");
}

/// The advice after the check: what is left to do, in order.
fn next_steps(w: &Written, checked: bool) -> String {
    let command = if w.config == Path::new("site.toml") {
        "gen".to_string()
    } else {
        format!("gen --config {}", w.config.display())
    };
    let mut steps = Vec::new();
    if w.todos > 0 {
        steps.push(format!(
            "Open {} and settle the {} line(s) marked TODO.",
            w.config.display(),
            w.todos
        ));
    }
    match &w.google {
        Some(GoogleAccess::ServiceAccount { client_email }) => {
            steps.push(format!(
                "In the sheet, Share it with {client_email} (as Viewer), and with nobody but the organisers: the PINs are in it."
            ));
            steps.push(
                "Format the PIN column as plain text in the sheet (Format → Number → Plain text), or Google drops leading zeros."
                    .into(),
            );
        }
        Some(GoogleAccess::ApiKey) => {
            steps.push(
                "With an API key the sheet must be readable by anyone with its link, PINs included. For a private site, make a service account (Google Cloud console: IAM → Service accounts → Keys → Add key, JSON), share the sheet with its e-mail only, and run gen init again with --credentials key.json. Keep GEN_GOOGLE_API_KEY set for every gen command until then."
                    .into(),
            );
            steps.push(
                "Format the PIN column as plain text in the sheet (Format → Number → Plain text), or Google drops leading zeros."
                    .into(),
            );
        }
        None => {}
    }
    if checked {
        steps.push(format!("After any change: `{command} check`."));
    } else {
        steps.push(format!(
            "Fix what the check said above (in the sheet or in {}), then run `{command} check` again.",
            w.config.display()
        ));
    }
    steps.push(format!(
        "Try the site on this computer: `{command} serve`, then open http://127.0.0.1:8080/ and log in as a player."
    ));
    steps.push(format!(
        "Put it online: on a Debian/Ubuntu server, sheetgen's `bash deploy.sh --server-name your.domain` installs it all (from a checkout of sheetgen's source), then `certbot --nginx -d your.domain` for HTTPS. With gen alone: run `{command} watch` as a service, and `{command} nginx --server-name your.domain` prints nginx's site config (`gen nginx --help`). Keys go in the service's environment or a key file, never in site.toml."
    ));
    let mut out = String::from("next steps:\n");
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
        };
        let text = next_steps(&sa, true);
        assert!(
            text.contains("Share it with gen@p.iam.gserviceaccount.com"),
            "{text}"
        );
        assert!(
            text.contains("`gen serve`") && text.contains("deploy.sh"),
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
