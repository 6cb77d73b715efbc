//! One pass of the pipeline: source → model → render → publish. `gen build`
//! runs it once; `gen check` stops before publishing.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Error, PublishError};
use crate::model::Snapshot;
use crate::publish::{self, PublishOptions, PublishReport};
use crate::render::{self, Artifact, Theme};
use crate::source::Fetcher;

#[derive(Debug, Clone, Copy, Default)]
pub struct CycleOptions {
    pub allow_mass_removal: bool,
}

/// What one cycle did, for the log line and the caller.
#[derive(Debug)]
pub struct CycleReport {
    pub snapshot: Snapshot,
    pub publish: PublishReport,
    pub fetch: Duration,
    pub render: Duration,
    pub write: Duration,
}

/// Fetches, validates and renders everything in memory; writes nothing.
pub async fn prepare(
    config: &Config,
    fetcher: &Fetcher,
) -> Result<(Snapshot, Vec<Artifact>, Duration, Duration), Error> {
    let started = Instant::now();
    let raw = fetcher.fetch(config).await?;
    let snapshot = Snapshot::build(config, &raw)?;
    let fetched = started.elapsed();
    let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
    let artifacts = render::render(&theme, &snapshot, config)?;
    Ok((snapshot, artifacts, fetched, started.elapsed() - fetched))
}

/// One full cycle: fetch → model → render → publish.
pub async fn run(
    config: &Config,
    fetcher: &Fetcher,
    opts: CycleOptions,
) -> Result<CycleReport, Error> {
    let (snapshot, artifacts, fetch, render) = prepare(config, fetcher).await?;
    let started = Instant::now();
    let out_dir = &config.site.out_dir;
    let state_dir = &config.site.state_dir;
    create_private_dir(state_dir)?;
    std::fs::create_dir_all(out_dir).map_err(|source| PublishError::Io {
        path: out_dir.clone(),
        source,
    })?;
    let publish = publish::publish(
        &artifacts,
        &PublishOptions {
            out_dir: out_dir.clone(),
            tmp_dir: publish::tmp_dir_for(out_dir, state_dir),
            allow_mass_removal: opts.allow_mass_removal,
        },
    )?;
    Ok(CycleReport {
        snapshot,
        publish,
        fetch,
        render,
        write: started.elapsed(),
    })
}

/// `state_dir` holds the session key and the last snapshot: owner-only.
fn create_private_dir(dir: &std::path::Path) -> Result<(), PublishError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| PublishError::Io {
            path: dir.to_path_buf(),
            source,
        })
}
