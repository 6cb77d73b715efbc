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
//!   artifacts; touches no disk but to read a theme folder. The default
//!   theme (`site-templates/`) is built into the binary; `[site] templates`
//!   overrides it file by file.
//! - [`publish`]: the only writer of `out_dir`: gzip twins, compare with
//!   disk, temp file + rename, guarded removals, the last gate for secrets,
//!   symlinks planted there removed.
//! - [`cycle`]: one pass: [`cycle::run`] (build, watch),
//!   [`cycle::dry_run`] (`gen check`: stops before writing), and the one
//!   way a snapshot is built; [`findings`]: the PIN warnings beyond row
//!   problems, and how reports sort and count problems.
//! - [`organiser`]: the organiser's page (`/admin/`), written after every
//!   cycle, the failed ones included (the one file those may change).
//!
//! The commands, one file each in [`cmd`] (`build`, `check`, `serve`,
//! `nginx`, `config`, `theme`; `watch` is [`watch::run`], `init` is [`init`]), are dispatched
//! by [`run`].
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
//! [`answer`] (gen's HTTP answers: headers, bounded bodies; not
//! [`source::http`], which asks Google), [`files`] (private folders,
//! temp + rename), [`persist`] (the last good data in `state_dir`),
//! [`as_of`] (when the data last changed, for the pages' "data as of"),
//! [`login_answers`] (what the login page answers, and the page for each),
//! [`suggest`] ("did you mean": the nearest tab, column or config key),
//! [`redact`] (URLs in messages), [`secret`] (values never shown), [`error`] (one error enum per stage), and
//! [`cli`].

pub(crate) mod answer;
pub mod api;
pub(crate) mod as_of;
pub mod auth;
pub mod cells;
pub mod cli;
pub(crate) mod cmd;
pub mod config;
pub(crate) mod cycle;
pub mod error;
pub(crate) mod files;
pub(crate) mod findings;
pub(crate) mod front;
pub mod i18n;
pub(crate) mod init;
pub mod login_answers;
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
pub(crate) mod secret;
pub mod source;
pub(crate) mod state;
pub mod suggest;
pub mod table;
pub(crate) mod watch;

use cli::{Cli, Command};
use config::Config;
use error::Error;

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
    // The built-in theme needs no config.
    if let Command::Theme(command) = &cli.command {
        return cmd::theme(command);
    }
    // `gen init` writes the config that the rest of this run checks.
    let written = match &cli.command {
        Command::Init(args) => {
            match args.lang.as_deref() {
                Some("fr") => i18n::errors::choose(config::Lang::Fr),
                Some("en") => i18n::errors::choose(config::Lang::En),
                _ => {}
            }
            Some(init::write(&cli.config, args)?)
        }
        _ => None,
    };
    let config = Config::load(&cli.config)?;
    i18n::errors::choose(config.site.lang);
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
            Command::Build(args) => cmd::build(&config, &fetcher, args.allow_mass_removal).await,
            Command::Check => cmd::check(&config, &fetcher).await,
            Command::Watch => {
                watch::run(cli.config.clone(), config.clone(), fetcher, None, None).await
            }
            Command::Serve(args) => cmd::serve(&cli.config, &config, fetcher, args).await,
            Command::Nginx(args) => cmd::nginx(&config, args),
            Command::Config(command) => cmd::config(&config, &command),
            Command::Theme(command) => cmd::theme(&command),
            Command::Init(_) => init::finish(written.as_ref(), cmd::check(&config, &fetcher).await),
        }
    });
    // A cycle abandoned at stop must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
