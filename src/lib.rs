//! sheetgen turns a club's roster (a Google Sheet, CSV files or a workbook)
//! into a static, pre-gzipped website that nginx serves to any number of
//! players. Data flows one way:
//!
//! ```text
//! config → source → model → render → publish → out_dir (public/)
//!             photos ──┘ (a stage beside: cells in, images and problems out)
//!                    └──→ state (Arc<Snapshot> + health) ← api: front → auth, preview
//! ```
//!
//! The stages, in the order a pass runs them ([`cycle`]):
//! - [`config`]: `site.toml` and the environment, parsed then validated
//!   into a [`config::Config`] (paths resolved, `api.listen` parsed).
//! - [`source`]: reads every configured tab in one pass (CSV, workbooks,
//!   published CSV, one Sheets API `batchGet`); the only reader of the data.
//! - [`model`]: raw tables → an immutable [`model::Snapshot`]: players with
//!   safe slugs, joined tables, credentials kept apart from anything
//!   renderable, cells that would show a PIN withheld, problems by tab,
//!   row and column.
//! - [`photos`]: player photos: links, SSRF guard, fetch, processing and
//!   the cache in `state_dir/photos/`, one file each; yields a `PhotoSet`.
//! - [`render`]: minijinja templates over secret-free views → in-memory
//!   artifacts; touches no disk.
//! - [`publish`]: the only writer of `out_dir`: gzip twins, compare with
//!   disk, temp file + rename, guarded removals, the last gate for secrets,
//!   symlinks planted there removed.
//! - [`cycle`]: one pass: [`cycle::run`] (build, watch), [`cycle::check`]
//!   (stops before writing), and the one way a snapshot is built;
//!   [`check`]: the extra warnings of `gen check`.
//! - [`organiser`]: the organiser's page (`/admin/`), written after every
//!   cycle, the failed ones included (the one file those may change).
//!
//! Serving, which reads the shared state and never calls a stage:
//! - [`state`]: the current snapshot and health, a cheap-clone handle.
//! - [`watch`]: `gen watch`/`gen serve`: timer, file watcher, push trigger,
//!   the API beside the cycles.
//! - [`front`]: the API's front door: reads each request whole within a
//!   deadline and caps, answers nginx's `/api/auth` itself (through
//!   [`auth`]), and relays every other route to tiny_http ([`api`]).
//! - [`api`]: the routes (`/healthz`, `/metrics`, `/api/*`), run by
//!   [`api::run`] on a listener until a shutdown signal.
//! - [`auth`]: logins, sessions, logouts and their limits.
//! - [`preview`]: `gen serve`'s static files, with nginx's rules.
//! - [`nginx`]: `gen nginx`'s conf.d file.
//! - [`init`]: `gen init`'s first config, guessed from the header rows.
//!
//! Leaves, which import no stage: [`table`] and [`cells`] (the data as
//! read), [`photo_view`] (what a page shows in a photo's place),
//! [`http`] (answers, headers, bounded bodies), [`files`] (private folders,
//! temp + rename), [`persist`] (the last good data in `state_dir`),
//! [`as_of`] (when the data last changed, for the pages' "data as of"),
//! [`suggest`] ("did you mean": the nearest tab, column or config key),
//! [`redact`] (URLs in messages), [`error`] (one error enum per stage), and
//! [`cli`].

pub mod api;
pub(crate) mod as_of;
pub mod auth;
pub mod cells;
pub(crate) mod check;
pub mod cli;
pub mod config;
pub(crate) mod cycle;
pub mod error;
pub(crate) mod files;
pub(crate) mod front;
pub(crate) mod http;
pub(crate) mod init;
pub mod model;
pub(crate) mod nginx;
pub(crate) mod organiser;
pub(crate) mod persist;
pub(crate) mod photo_view;
pub(crate) mod photos;
pub(crate) mod preview;
pub mod publish;
pub(crate) mod redact;
pub mod render;
pub mod source;
pub(crate) mod state;
pub(crate) mod suggest;
pub mod table;
pub(crate) mod watch;

use cli::{Cli, Command};
use config::Config;
use error::Error;
use model::Severity;

/// Logs go to stderr, one event a line (text or JSON); `RUST_LOG` filters.
pub fn init_logging(format: cli::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    match format {
        cli::LogFormat::Text => builder.init(),
        cli::LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), Error> {
    // Asked before any site.toml exists (deploy.sh's first install).
    if let Command::Nginx(args) = &cli.command
        && args.main_values
    {
        print!("{}", nginx::MAIN_VALUES.to_lines());
        return Ok(());
    }
    // `gen init` writes the config that the rest of this run checks.
    let written = match &cli.command {
        Command::Init(args) => Some(init::write(&cli.config, args)?),
        _ => None,
    };
    let config = Config::load(&cli.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Part of gen's fixed thread bound (issue 14, api::MAX_THREADS):
        // blocking work is the cycle's and DNS look-ups, never per client.
        .max_blocking_threads(16)
        // A blocking thread ends 1 s after its last task (tokio's default
        // is 10 s): with it goes what the allocator kept for it (see
        // `cycle::blocking`).
        .thread_keep_alive(std::time::Duration::from_secs(1))
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let fetcher = source::Fetcher::new(&config)?;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Build(args) => build(&config, &fetcher, args.allow_mass_removal).await,
            Command::Check => check(&config, &fetcher).await,
            Command::Watch => {
                watch::run(cli.config.clone(), config.clone(), fetcher, None, None).await
            }
            Command::Serve(args) => serve(&cli.config, &config, fetcher, args).await,
            Command::Nginx(args) => nginx(&config, args),
            Command::Init(_) => init::finish(written.as_ref(), check(&config, &fetcher).await),
        }
    });
    // A cycle abandoned at stop must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn build(
    config: &Config,
    fetcher: &source::Fetcher,
    allow_mass_removal: bool,
) -> Result<(), Error> {
    let ran = cycle::run(
        config,
        fetcher,
        &mut cycle::CycleMemory::one_shot(),
        cycle::CycleOptions {
            allow_mass_removal,
            persist: false,
        },
    )
    .await;
    // The organiser's page says what this build did, failed or not.
    let mut board = organiser::Board::default();
    let report = match ran {
        Ok(report) => {
            board.succeeded(config, &report.snapshot, &report.problems, true);
            board.publish_logged(config, Some(&report.snapshot));
            report
        }
        Err(e) => {
            if config.site.out_dir.is_dir() {
                board.failed(&e);
                board.publish_logged(config, None);
            }
            return Err(e);
        }
    };
    for p in &report.problems {
        eprintln!("warning: {p}");
    }
    let weak = check::pin_warnings(&report.snapshot, config).len();
    if weak > 0 {
        eprintln!("warning: {weak} weak or damaged PIN(s); `gen check` lists them");
    }
    let r = report.publish;
    println!(
        "published {} players to {}: {} files written, {} unchanged, {} removed ({} ms)",
        report.snapshot.players.len(),
        config.site.out_dir.display(),
        r.written,
        r.unchanged,
        r.removed,
        (report.fetch + report.render + report.write).as_millis(),
    );
    println!(
        "open {} (or serve that folder with nginx)",
        config.site.out_dir.join("index.html").display()
    );
    Ok(())
}

/// `gen serve`: the watch loop with the site and the API on one local port.
async fn serve(
    config_path: &std::path::Path,
    config: &Config,
    fetcher: source::Fetcher,
    args: cli::ServeArgs,
) -> Result<(), Error> {
    if args.listen.ends_with(":0") {
        // The port is chosen when gen listens: the log's "API listening on"
        // line says which.
        println!(
            "previewing {} on a free port: see \"API listening on\" below",
            config.site.title
        );
    } else {
        println!(
            "previewing {} on http://{}/",
            config.site.title, args.listen
        );
    }
    if let Some(name) = demo_login_hint(config) {
        println!("{name}");
    }
    println!("stop with Ctrl-C; for players, deploy behind nginx (gen nginx, deploy.sh)");
    let preview = preview::Preview::new(config.site.out_dir.clone());
    watch::run(
        config_path.to_path_buf(),
        config.clone(),
        fetcher,
        Some(args.listen),
        Some(preview),
    )
    .await
}

/// For the embedded demo only: one login to try. A real roster's PINs are
/// never printed.
fn demo_login_hint(config: &Config) -> Option<String> {
    let config::Source::CsvFiles { files, .. } = &config.source else {
        return None;
    };
    let players = files.get(&config.players.tab)?;
    if !players.to_string_lossy().contains("examples/demo/") {
        return None;
    }
    let text = std::fs::read_to_string(players).ok()?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (login, secret) = (col(&config.players.login)?, col(&config.players.secret)?);
    let admin = config.players.admin.as_deref().and_then(col);
    let rows: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    let row = rows.first()?;
    let mut hint = format!(
        "demo login: name \"{}\", PIN {} (fictional player from examples/demo/)",
        row.get(login)?,
        row.get(secret)?
    );
    let organiser = admin.and_then(|a| {
        rows.iter().find(|r| {
            r.get(a)
                .is_some_and(|v| model::ADMIN_YES.contains(&v.trim().to_lowercase().as_str()))
        })
    });
    if let Some(r) = organiser {
        hint.push_str(&format!(
            "\norganiser's page /admin/: name \"{}\", PIN {}",
            r.get(login)?,
            r.get(secret)?
        ));
    }
    Some(hint)
}

fn nginx(config: &Config, args: cli::NginxArgs) -> Result<(), Error> {
    let text = nginx::render(
        config,
        &nginx::NginxOptions {
            listen: args.listen,
            server_name: args.server_name,
            cache_dir: args.cache_dir,
            login_rate_per_minute: args.login_rate,
            login_burst: args.login_burst,
            behind: args.behind,
        },
    )
    .map_err(|message| error::ConfigError::Invalid {
        path: config.path.clone(),
        key: "api.listen".into(),
        message,
    })?;
    print!("{text}");
    Ok(())
}

/// `gen check`: every problem once, a summary first (what would be
/// published, whether `gen build` would refuse, who cannot log in and
/// why, how many warnings and errors), then the problems grouped by tab.
/// Every missing column is named in one run (issue 16).
async fn check(config: &Config, fetcher: &source::Fetcher) -> Result<(), Error> {
    println!("config: {}", config.path.display());
    println!("source: {}", config.source.describe());
    if let config::Source::Google(g) = &config.source {
        println!("auth: {}", source::google::auth_description(g));
    }
    let checked = match cycle::check(config, fetcher).await {
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
    problems.extend(check::pin_warnings(&snapshot, config));
    let problems = check::distinct(problems);
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
        println!("  by kind: {}", check::kinds_line(&problems, config));
    }
    if publishable {
        println!("verdict: publishable");
    } else if snapshot.players.is_empty() {
        println!("verdict: NOT publishable: no player row to publish");
    } else {
        println!("verdict: NOT publishable: {errors} error(s) above and below");
    }

    for (tab, list) in check::by_tab(problems, config) {
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
    if !publishable {
        return Err(Error::CheckFailed(errors.max(1)));
    }
    println!();
    println!("ok: publishable ({warnings} warning(s))");
    Ok(())
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

/// Who cannot log in, by reason with their rows, then who probably
/// cannot (a PIN that lost its leading zero).
fn print_logins(snapshot: &model::Snapshot, problems: &[model::Problem], config: &Config) {
    let blocks = check::login_blocks(snapshot, problems, config);
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
            check::rows_list(rows)
        );
    }
    let lost = check::lost_zero_rows(problems, config);
    if !lost.is_empty() {
        println!(
            "probably cannot log in: {} player(s) whose PIN looks like it lost a leading zero: {}",
            lost.len(),
            check::rows_list(&lost)
        );
    }
}
