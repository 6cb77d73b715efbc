//! `gen check`: fetch and validate, print every problem once with a
//! summary first, write nothing.

use crate::config::{self, Config};
use crate::error::{self, Error};
use crate::model::{self, Severity};
use crate::{cycle, findings, publish, source};

/// `gen check`: every problem once, a summary first (what would be
/// published, whether `gen build` would refuse, who cannot log in and
/// why, how many warnings and errors), then the problems grouped by tab.
/// Every missing column is named in one run (issue 16).
pub(crate) async fn check(config: &Config, fetcher: &source::Fetcher) -> Result<(), Error> {
    println!("config: {}", config.path.display());
    println!("source: {}", config.source.describe());
    if let config::Source::Google(g) = &config.source {
        println!("auth: {}", source::google::auth_description(g));
    }
    let checked = match cycle::dry_run(config, fetcher).await {
        Ok(checked) => checked,
        // Nothing to sum up (the data could not be read as it is: a quote
        // that swallowed rows, an unreachable source…), but still a verdict.
        Err(e) => {
            println!("verdict: NOT publishable: see the error below");
            return Err(e);
        }
    };
    let site = match checked {
        cycle::Checked::MissingColumns { errors, tab_rows } => {
            print_tab_rows(&tab_rows);
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
    print_tab_rows(&tab_rows);
    let public_secrets = (!snapshot.credentials.is_empty())
        .then(|| source::google::public_secret_warning(config))
        .flatten();
    let mut problems = snapshot.problems.clone();
    problems.extend(findings::pin_warnings(&snapshot, config));
    let problems = findings::distinct(problems);
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
    println!("== summary ==");
    if let Some(warning) = &public_secrets {
        // Loud on purpose: the first line of the summary.
        println!("WARNING: {warning}");
    }
    println!(
        "players: {} ({} can log in), {} pages render",
        snapshot.players.len(),
        snapshot.credentials.len(),
        artifacts.len()
    );
    for t in &snapshot.tables {
        let rows: usize = t.rows.iter().map(Vec::len).sum();
        println!("tab \"{}\": {rows} rows joined to players", t.name);
    }
    let player_pages = artifacts
        .iter()
        .filter(|a| publish::player_slug(&a.path, a.kind).is_some())
        .count();
    println!(
        "would publish: {player_pages} player page(s), {} file(s) in all, to {}",
        artifacts.len(),
        config.site.out_dir.display()
    );
    print_removals(&removals);
    print_symlinks(&symlinks);
    print_logins(&snapshot, &problems, config);
    println!("problems: {errors} error(s), {warnings} warning(s)");
    if !problems.is_empty() {
        println!("  by kind: {}", findings::kinds_line(&problems));
    }
    if publishable {
        println!("verdict: publishable");
    } else if snapshot.players.is_empty() {
        println!("verdict: NOT publishable: no player row to publish");
    } else {
        println!("verdict: NOT publishable: {errors} error(s) above and below");
    }

    print_by_tab(problems, config);
    if !publishable {
        return Err(Error::CheckFailed(errors.max(1)));
    }
    println!();
    println!("ok: publishable ({warnings} warning(s))");
    Ok(())
}

/// Every problem once, grouped by tab in row order.
fn print_by_tab(problems: Vec<model::Problem>, config: &Config) {
    for (tab, list) in findings::by_tab(problems, config) {
        let n = |severity| list.iter().filter(|p| p.severity == severity).count();
        println!();
        println!(
            "== tab \"{tab}\": {} warning(s), {} error(s) ==",
            n(Severity::Warning),
            n(Severity::Error)
        );
        for p in &list {
            let level = match p.severity {
                Severity::Warning => "warning",
                Severity::Error => "error",
            };
            println!("{level}: {p}");
        }
    }
}

fn print_tab_rows(tab_rows: &[(String, usize)]) {
    for (tab, rows) in tab_rows {
        println!("tab \"{tab}\": {rows} data rows");
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
    for e in &errors {
        eprintln!("error: {e}");
    }
    Error::CheckFailed(errors.len())
}

/// Whether `gen build` would remove player pages, and refuse to.
fn print_removals(removals: &cycle::Removals) {
    let cycle::Removals {
        removing,
        existing,
        refused,
    } = *removals;
    if refused {
        println!(
            "build would REFUSE: it would remove {removing} of the {existing} player pages \
             already published (more than half). If the sheet really lost those players, \
             run `gen build --allow-mass-removal`; if not, fix the sheet first"
        );
    } else if removing > 0 {
        println!("build would remove {removing} of the {existing} player pages already published");
    } else {
        println!("build would remove no player page");
    }
}

/// Who cannot log in, by reason with their rows, then who probably
/// cannot (a PIN that lost its leading zero).
fn print_logins(snapshot: &model::Snapshot, problems: &[model::Problem], config: &Config) {
    let blocks = findings::login_blocks(snapshot, problems, config);
    let blocked: usize = blocks.iter().map(|(_, rows)| rows.len()).sum();
    if blocked == 0 {
        println!("cannot log in: nobody");
    } else {
        println!("cannot log in: {blocked} player(s)");
    }
    for (reason, rows) in &blocks {
        println!(
            "  {} {}: {}",
            rows.len(),
            reason.describe(),
            findings::rows_list(rows)
        );
    }
    let lost = findings::lost_zero_rows(problems, config);
    if !lost.is_empty() {
        println!(
            "probably cannot log in: {} player(s) whose PIN looks like it lost a leading zero: {}",
            lost.len(),
            findings::rows_list(&lost)
        );
    }
}

/// The symlinks under `out_dir`, which `gen build` removes (issue 23):
/// warnings, not errors, as the build removes them and publishes.
fn print_symlinks(symlinks: &[std::path::PathBuf]) {
    if symlinks.is_empty() {
        return;
    }
    let names: Vec<String> = symlinks.iter().map(|l| l.display().to_string()).collect();
    println!(
        "warning: out_dir holds {} symlink(s), which build would remove (gen is the only \
         writer of out_dir, and a symlink there would serve a file from elsewhere): {}",
        symlinks.len(),
        names.join(", ")
    );
}
