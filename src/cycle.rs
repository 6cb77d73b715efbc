//! One pass of the pipeline: source → model → render → publish. `gen build`
//! runs it once, `gen watch` on every trigger, `gen check` stops before
//! publishing. When neither the data, the theme nor the config changed since
//! the last pass, nothing is rendered and nothing is written.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, PublishError};
use crate::model::Snapshot;
use crate::persist;
use crate::publish::{self, PublishOptions, PublishReport};
use crate::render::{self, Artifact, Theme};
use crate::source::Fetcher;

#[derive(Debug, Clone, Copy, Default)]
pub struct CycleOptions {
    pub allow_mass_removal: bool,
    /// Hand back the fetched data for `state_dir` when it changed (watch).
    pub persist: bool,
}

/// What the previous successful pass saw, to skip work when nothing changed.
#[derive(Debug, Default)]
pub struct CycleMemory {
    inputs: Option<[u8; 32]>,
    raw: Option<[u8; 32]>,
    /// Files the site had after that pass.
    files: usize,
}

/// What one cycle did, for the log line and the caller.
#[derive(Debug)]
pub struct CycleReport {
    pub snapshot: Arc<Snapshot>,
    /// The data as fetched, encoded for [`crate::persist::save`], when it
    /// differs from the previous pass's and persisting was asked for.
    pub persist: Option<Vec<u8>>,
    /// False when nothing changed and nothing was rendered or written.
    pub rendered: bool,
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
    let fetched = started.elapsed();
    let config = config.clone();
    let (snapshot, artifacts) = blocking(move || {
        let snapshot = Snapshot::build(&config, raw)?;
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        let artifacts = render::render(&theme, &snapshot, &config)?;
        Ok((snapshot, artifacts))
    })
    .await?;
    Ok((snapshot, artifacts, fetched, started.elapsed() - fetched))
}

/// Runs CPU- and disk-bound work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Runtime(format!("a cycle's worker failed: {e}")))?
}

/// One full cycle: fetch → model → render → publish.
pub async fn run(
    config: &Config,
    fetcher: &Fetcher,
    memory: &mut CycleMemory,
    opts: CycleOptions,
) -> Result<CycleReport, Error> {
    let started = Instant::now();
    let raw = fetcher.fetch(config).await?;
    let fetch = started.elapsed();
    let raw_digest = raw.digest();
    let config_owned = config.clone();
    let previous_inputs = memory.inputs;
    let previous_files = memory.files;
    let raw_changed = memory.raw != Some(raw_digest);

    let render_started = Instant::now();
    let outcome = blocking(move || {
        let config = config_owned;
        let fetched_at = SystemTime::now();
        let persist = (opts.persist && raw_changed).then(|| persist::encode(&raw, fetched_at));
        let mut snapshot = Snapshot::build(&config, raw)?;
        snapshot.fetched_at = fetched_at;
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        let inputs = inputs_digest(&snapshot, &theme, &config);
        let (out_dir, state_dir) = (&config.site.out_dir, &config.site.state_dir);
        if previous_inputs == Some(inputs) {
            return Ok((snapshot, persist, inputs, Err(previous_files)));
        }
        if let Some(files) = publish::manifest_matches(state_dir, out_dir, &hex(&inputs)) {
            return Ok((snapshot, persist, inputs, Err(files)));
        }
        let artifacts = render::render(&theme, &snapshot, &config)?;
        let rendered_in = render_started.elapsed();
        let report = publish_artifacts(&config, &artifacts, opts)?;
        publish::write_manifest(state_dir, out_dir, &hex(&inputs), &artifacts);
        Ok((snapshot, persist, inputs, Ok((report, rendered_in))))
    })
    .await?;
    let (snapshot, persist, inputs, published) = outcome;
    memory.inputs = Some(inputs);
    memory.raw = Some(raw_digest);
    let total_render = render_started.elapsed();
    // Err: nothing rendered; the site on disk already is this pass's, with
    // that many files.
    let (publish, render, write, rendered) = match published {
        Ok((report, render)) => (report, render, total_render - render, true),
        Err(files) => {
            let report = PublishReport {
                unchanged: files,
                ..PublishReport::default()
            };
            (report, total_render, Duration::ZERO, false)
        }
    };
    memory.files = publish.written + publish.unchanged;
    Ok(CycleReport {
        snapshot: Arc::new(snapshot),
        persist,
        rendered,
        publish,
        fetch,
        render,
        write,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything that decides the output: the snapshot, the theme and the
/// config (its `Debug` form hides secrets, which do not change pages).
fn inputs_digest(snapshot: &Snapshot, theme: &Theme, config: &Config) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(snapshot.hash.as_bytes());
    h.update(theme.hash.as_bytes());
    h.update(format!("{config:?}").as_bytes());
    h.finalize().into()
}

fn publish_artifacts(
    config: &Config,
    artifacts: &[Artifact],
    opts: CycleOptions,
) -> Result<PublishReport, Error> {
    let out_dir = &config.site.out_dir;
    let state_dir = &config.site.state_dir;
    create_private_dir(state_dir)?;
    std::fs::create_dir_all(out_dir).map_err(|source| PublishError::Io {
        path: out_dir.clone(),
        source,
    })?;
    publish::forget_manifest(state_dir);
    Ok(publish::publish(
        artifacts,
        &PublishOptions {
            out_dir: out_dir.clone(),
            tmp_dir: publish::tmp_dir_for(out_dir, state_dir),
            allow_mass_removal: opts.allow_mass_removal,
        },
    )?)
}

/// `state_dir` holds the session key and the last snapshot: owner-only.
pub fn create_private_dir(dir: &std::path::Path) -> Result<(), PublishError> {
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
