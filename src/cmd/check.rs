//! `gen check`: fetch and validate, print every problem once with a
//! summary first, write nothing.

use crate::config::{self, Config};
use crate::error::{self, Error};
use crate::i18n::{self, Words};
use crate::model::{self, Severity};
use crate::{cycle, findings, publish, render, source};

/// `gen check`: every problem once, a summary first (what would be
/// published, whether `gen build` would refuse, who cannot log in and
/// why, how many warnings and errors), then the problems grouped by tab.
/// Every missing column is named in one run (issue 16).
pub(crate) async fn check(config: &Config, fetcher: &source::Fetcher) -> Result<(), Error> {
    let w = i18n::words(config.site.lang);
    let path = config.path.display().to_string();
    println!("{}", w.say("check-config", &[("path", path.into())]));
    println!(
        "{}",
        w.say(
            "check-source",
            &[("source", source_words(config, w).into())]
        )
    );
    if let config::Source::Google(g) = &config.source {
        let auth = source::google::auth_description(g);
        println!("{}", w.say("check-auth", &[("auth", auth.into())]));
    }
    let checked = match cycle::dry_run(config, fetcher).await {
        Ok(checked) => checked,
        // Nothing to sum up (the data could not be read as it is: a quote
        // that swallowed rows, an unreachable source…), but still a verdict.
        Err(e) => {
            println!("{}", w.say("check-verdict-unread", &[]));
            return Err(e);
        }
    };
    let site = match checked {
        cycle::Checked::MissingColumns { errors, tab_rows } => {
            print_tab_rows(&tab_rows, w);
            return Err(missing_columns(errors));
        }
        cycle::Checked::Site(site) => site,
    };
    let cycle::CheckedSite {
        snapshot,
        artifacts,
        tab_rows,
        removals,
        symlinks,
    } = *site;
    print_tab_rows(&tab_rows, w);
    let public_secrets = (!snapshot.credentials.is_empty())
        .then(|| source::google::public_secret_warning(config))
        .flatten();
    let problems = findings::distinct(snapshot.problems.clone());
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count()
        + usize::from(removals.refused);
    let warnings = problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .count()
        + usize::from(public_secrets.is_some())
        + symlinks.len();
    let publishable = errors == 0 && !snapshot.players.is_empty();

    println!();
    println!("{}", w.say("check-summary", &[]));
    if let Some(warning) = &public_secrets {
        // Loud on purpose: the first line of the summary.
        let warning = warning.as_str().into();
        println!("{}", w.say("check-public-secrets", &[("warning", warning)]));
    }
    print_published(&snapshot, &artifacts, config);
    print_removals(&removals, w);
    print_symlinks(&symlinks, w);
    print_logins(&snapshot, &problems, config);
    let args = [("errors", errors.into()), ("warnings", warnings.into())];
    println!("{}", w.say("check-problems", &args));
    if !problems.is_empty() {
        let kinds = findings::kinds_line(&problems, w).into();
        println!("{}", w.say("check-by-kind", &[("kinds", kinds)]));
    }
    if publishable {
        println!("{}", w.say("check-verdict-ok", &[]));
    } else if snapshot.players.is_empty() {
        println!("{}", w.say("check-verdict-no-players", &[]));
    } else {
        let args = [("errors", errors.into())];
        println!("{}", w.say("check-verdict-errors", &args));
    }

    print_by_tab(problems, config);
    if !publishable {
        return Err(Error::CheckFailed(errors.max(1)));
    }
    println!();
    println!("{}", w.say("check-ok", &[("warnings", warnings.into())]));
    Ok(())
}

/// Where the data comes from, in the words of `w`.
fn source_words(config: &Config, w: &Words) -> String {
    let (id, arg) = match &config.source {
        config::Source::Google(g) => ("source-google", i18n::Arg::from(g.spreadsheet_id.as_str())),
        config::Source::CsvFiles { files, .. } => ("source-csv-files", files.len().into()),
        config::Source::CsvUrls { urls, .. } => ("source-csv-urls", urls.len().into()),
        config::Source::Workbook { path } => ("source-workbook", path.display().to_string().into()),
    };
    w.say(id, &[("value", arg)])
}

/// How many players, logins, joined rows and pages would be published.
fn print_published(snapshot: &model::Snapshot, artifacts: &[render::Artifact], config: &Config) {
    let w = i18n::words(config.site.lang);
    let counts = [
        ("players", snapshot.players.len().into()),
        ("can", snapshot.credentials.len().into()),
        ("pages", artifacts.len().into()),
    ];
    println!("{}", w.say("check-players", &counts));
    for t in &snapshot.tables {
        let rows: usize = t.rows.iter().map(Vec::len).sum();
        let args = [("tab", t.name.as_str().into()), ("rows", rows.into())];
        println!("{}", w.say("check-joined", &args));
    }
    let player_pages = artifacts
        .iter()
        .filter(|a| publish::player_slug(&a.path, a.kind).is_some())
        .count();
    let args = [
        ("player_pages", player_pages.into()),
        ("files", artifacts.len().into()),
        ("dir", config.site.out_dir.display().to_string().into()),
    ];
    println!("{}", w.say("check-would-publish", &args));
}

/// Every problem once, grouped by tab in row order.
fn print_by_tab(problems: Vec<model::Problem>, config: &Config) {
    let w = i18n::words(config.site.lang);
    for (tab, list) in findings::by_tab(problems, config) {
        let n = |severity| list.iter().filter(|p| p.severity == severity).count();
        println!();
        let args = [
            ("tab", tab.as_str().into()),
            ("warnings", n(Severity::Warning).into()),
            ("errors", n(Severity::Error).into()),
        ];
        println!("{}", w.say("check-tab", &args));
        for p in &list {
            let level = match p.severity {
                Severity::Warning => "check-warning",
                Severity::Error => "check-error",
            };
            let args = [("where", p.place(w).into()), ("message", p.say(w).into())];
            println!("{}", w.say(level, &args));
        }
    }
}

fn print_tab_rows(tab_rows: &[(String, usize)], w: &Words) {
    for (tab, rows) in tab_rows {
        let args = [("tab", tab.as_str().into()), ("rows", (*rows).into())];
        println!("{}", w.say("check-tab-rows", &args));
    }
}

/// Every missing column, each on stderr as the error it is; one alone is
/// that error, as `gen build` reports it.
fn missing_columns(mut errors: Vec<error::ModelError>) -> Error {
    if errors.len() == 1
        && let Some(only) = errors.pop()
    {
        return Error::Model(only);
    }
    let errors: Vec<Error> = errors.into_iter().map(Error::Model).collect();
    for e in &errors {
        eprintln!("{}", i18n::errors::line(e));
    }
    Error::CheckFailed(errors.len())
}

/// Whether `gen build` would remove player pages, and refuse to.
fn print_removals(removals: &cycle::Removals, w: &Words) {
    let cycle::Removals {
        removing,
        existing,
        refused,
    } = *removals;
    let args = [("removing", removing.into()), ("existing", existing.into())];
    let id = if refused {
        "check-removal-refused"
    } else if removing > 0 {
        "check-removal"
    } else {
        "check-removal-none"
    };
    println!("{}", w.say(id, &args));
}

/// Who cannot log in, by reason with their rows, then who probably
/// cannot (a PIN that lost its leading zero).
fn print_logins(snapshot: &model::Snapshot, problems: &[model::Problem], config: &Config) {
    let w = i18n::words(config.site.lang);
    let blocks = findings::login_blocks(snapshot, problems, config);
    let blocked: usize = blocks.iter().map(|(_, rows)| rows.len()).sum();
    if blocked == 0 {
        println!("{}", w.say("check-nobody-blocked", &[]));
    } else {
        println!("{}", w.say("check-blocked", &[("count", blocked.into())]));
    }
    for (reason, rows) in &blocks {
        let args = [
            ("count", rows.len().into()),
            ("reason", reason.describe(w).into()),
            ("rows", findings::rows_list(rows, w).into()),
        ];
        println!("{}", w.say("check-blocked-reason", &args));
    }
    let lost = findings::lost_zero_rows(problems, config);
    if !lost.is_empty() {
        let args = [
            ("count", lost.len().into()),
            ("rows", findings::rows_list(&lost, w).into()),
        ];
        println!("{}", w.say("check-lost-zero", &args));
    }
}

/// The symlinks under `out_dir`, which `gen build` removes (issue 23):
/// warnings, not errors, as the build removes them and publishes.
fn print_symlinks(symlinks: &[std::path::PathBuf], w: &Words) {
    if symlinks.is_empty() {
        return;
    }
    let names: Vec<String> = symlinks.iter().map(|l| l.display().to_string()).collect();
    let args = [
        ("count", symlinks.len().into()),
        ("names", names.join(", ").into()),
    ];
    println!("{}", w.say("check-symlinks", &args));
}
