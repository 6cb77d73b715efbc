//! sheetgen turns a club's roster (a Google Sheet, CSV files or a workbook)
//! into a static, pre-gzipped website that nginx serves to any number of
//! players. Data flows one way:
//!
//! ```text
//! config → source → model → render → publish → out_dir (public/)
//! ```
//!
//! - [`config`]: `site.toml`, parsed then validated into a [`config::Config`].
//! - [`source`]: reads every configured tab in one pass into raw text tables;
//!   the only module that reads the data.
//! - [`model`]: raw tables → an immutable [`model::Snapshot`]: players with
//!   safe slugs, joined tables, and the credentials kept apart from anything
//!   renderable.
//! - [`render`]: minijinja templates over secret-free views → in-memory
//!   artifacts; touches no disk.
//! - [`publish`]: the only writer: gzip twins, compare with disk, temp file +
//!   rename, guarded removals.
//! - [`cycle`]: one pass of the above; [`check`]: the extra warnings of
//!   `gen check`.

pub mod check;
pub mod cli;
pub mod config;
pub mod cycle;
pub mod error;
pub mod model;
pub mod publish;
pub mod render;
pub mod source;

use cli::{Cli, Command};
use config::Config;
use error::Error;
use model::Severity;

/// Logs go to stderr, one event a line; `RUST_LOG` filters.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), Error> {
    let config = Config::load(&cli.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let fetcher = source::Fetcher::new();
    runtime.block_on(async {
        match cli.command {
            Command::Build(args) => build(&config, &fetcher, args.allow_mass_removal).await,
            Command::Check => check(&config, &fetcher).await,
        }
    })
}

async fn build(
    config: &Config,
    fetcher: &source::Fetcher,
    allow_mass_removal: bool,
) -> Result<(), Error> {
    let report = cycle::run(config, fetcher, cycle::CycleOptions { allow_mass_removal }).await?;
    for p in &report.snapshot.problems {
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

async fn check(config: &Config, fetcher: &source::Fetcher) -> Result<(), Error> {
    println!("config: {}", config.path.display());
    println!("source: {}", config.source.describe());
    let (snapshot, artifacts, _, _) = cycle::prepare(config, fetcher).await?;
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
    let mut problems = snapshot.problems.clone();
    problems.extend(check::pin_warnings(&snapshot, config));
    for p in &problems {
        let level = match p.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        println!("{level}: {p}");
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 || snapshot.players.is_empty() {
        return Err(Error::CheckFailed(errors.max(1)));
    }
    println!("ok: publishable ({} warning(s))", problems.len());
    Ok(())
}
