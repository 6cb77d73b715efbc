//! One pass of the pipeline: source → model → render → publish. `gen build`
//! runs it once, `gen watch` on every trigger, `gen check` stops before
//! publishing. When neither the data, the theme nor the config changed since
//! the last pass, nothing is rendered and nothing is written.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, PublishError};
use crate::model::{Problem, Severity, Snapshot};
use crate::persist;
use crate::photos::{self, PhotoSet, Photos};
use crate::publish::{self, PublishOptions, PublishReport};
use crate::render::{self, Artifact, Theme};
use crate::source::Fetcher;

#[derive(Debug, Clone, Copy, Default)]
pub struct CycleOptions {
    pub allow_mass_removal: bool,
    /// Hand back the fetched data for `state_dir` when it changed (watch).
    pub persist: bool,
}

/// How long a `gen watch` cycle waits for photo downloads: downloads go on
/// in the background and a later cycle publishes them (issue 8).
pub const WATCH_PHOTO_WAIT: Duration = Duration::from_secs(2);
/// `gen build` has no later cycle: it waits longer (each image is bounded
/// by [`photos::IMAGE_TIMEOUT`] anyway).
pub const BUILD_PHOTO_WAIT: Duration = Duration::from_secs(30);

/// What the previous successful pass saw, to skip work when nothing changed,
/// and the photo downloader that outlives a pass.
#[derive(Debug)]
pub struct CycleMemory {
    inputs: Option<[u8; 32]>,
    raw: Option<[u8; 32]>,
    /// Files the site had after that pass.
    files: usize,
    photos: Option<Photos>,
    photo_wait: Duration,
}

impl Default for CycleMemory {
    /// For a loop of cycles (`gen watch`).
    fn default() -> Self {
        CycleMemory {
            inputs: None,
            raw: None,
            files: 0,
            photos: None,
            photo_wait: WATCH_PHOTO_WAIT,
        }
    }
}

impl CycleMemory {
    /// For a single cycle (`gen build`): waits for photo downloads longer.
    pub fn one_shot() -> Self {
        CycleMemory {
            photo_wait: BUILD_PHOTO_WAIT,
            ..CycleMemory::default()
        }
    }

    /// The downloader for this config's allow-list.
    fn photos(&mut self, config: &Config) -> Result<&Photos, Error> {
        let allow = &config.players.photo_allow;
        if !self.photos.as_ref().is_some_and(|p| p.allows(allow)) {
            self.photos = Some(Photos::new(allow).map_err(Error::Runtime)?);
        }
        self.photos
            .as_ref()
            .ok_or_else(|| Error::Runtime("no photo downloader".into()))
    }
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

/// What `gen check` looks at: everything rendered in memory, nothing written.
pub struct Prepared {
    pub snapshot: Snapshot,
    pub artifacts: Vec<Artifact>,
    /// Data rows each tab had as read, before any row was skipped.
    pub tab_rows: Vec<(String, usize)>,
}

/// Fetches, validates and renders everything in memory; writes nothing.
pub async fn prepare(config: &Config, fetcher: &Fetcher) -> Result<Prepared, Error> {
    let raw = fetcher.fetch(config).await?;
    let tab_rows = raw
        .tabs
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                t.rows.iter().filter(|r| !r.is_blank()).count(),
            )
        })
        .collect();
    let config = config.clone();
    blocking(move || {
        let snapshot = Snapshot::build(&config, raw)?;
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        let artifacts = render::render(&theme, &snapshot, &config)?;
        refuse_secrets(&artifacts, &snapshot, &config)?;
        Ok(Prepared {
            snapshot,
            artifacts,
            tab_rows,
        })
    })
    .await
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
    let (mut snapshot, persist) = blocking(move || {
        let fetched_at = SystemTime::now();
        let persist = (opts.persist && raw_changed).then(|| persist::encode(&raw, fetched_at));
        let mut snapshot = Snapshot::build(&config_owned, raw)?;
        snapshot.fetched_at = fetched_at;
        Ok((snapshot, persist))
    })
    .await?;

    // Photos: what the cache has after waiting a bounded time for due
    // downloads; their problems are warnings on the player's row.
    let photo_set = match &config.players.photo {
        Some(column) => {
            let mut cells: Vec<String> = snapshot
                .players
                .iter()
                .filter_map(|p| p.photo.as_deref().map(|c| c.trim().to_string()))
                .collect();
            cells.sort();
            cells.dedup();
            let wait = memory.photo_wait;
            let set = memory
                .photos(config)?
                .sync(config, fetcher, &cells, wait)
                .await;
            let problems: Vec<Problem> = snapshot
                .players
                .iter()
                .filter_map(|p| {
                    let message = snapshot
                        .secrets()
                        .redact(&set.problem(p.photo.as_deref()?)?);
                    Some(Problem {
                        severity: Severity::Warning,
                        tab: config.players.tab.clone(),
                        row: Some(p.row),
                        column: Some(column.clone()),
                        message,
                    })
                })
                .collect();
            snapshot.problems.extend(problems);
            snapshot
                .problems
                .sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
            set
        }
        None => PhotoSet::default(),
    };

    let config_owned = config.clone();
    let outcome = blocking(move || {
        let config = config_owned;
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        let images = photos::images(&photo_set);
        let inputs = inputs_digest(&snapshot, &theme, &config, &images);
        let (out_dir, state_dir) = (&config.site.out_dir, &config.site.state_dir);
        if previous_inputs == Some(inputs) {
            return Ok((snapshot, persist, inputs, Err(previous_files)));
        }
        if let Some(files) = publish::manifest_matches(state_dir, out_dir, &hex(&inputs)) {
            return Ok((snapshot, persist, inputs, Err(files)));
        }
        let mut artifacts = photos::artifacts(&photo_set)?;
        artifacts.extend(render::render_with_photos(
            &theme, &snapshot, &config, &images,
        )?);
        let rendered_in = render_started.elapsed();
        refuse_secrets(&artifacts, &snapshot, &config)?;
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

/// The last gate: every artifact is final here and nothing is written yet.
fn refuse_secrets(
    artifacts: &[Artifact],
    snapshot: &Snapshot,
    config: &Config,
) -> Result<(), PublishError> {
    publish::refuse_secrets(
        artifacts,
        snapshot.secrets(),
        &config.players.tab,
        &config.players.secret,
    )
}

/// Bumped when what a publish lets through changes, so that a site
/// published by an older gen is rendered and checked again instead of
/// being trusted through the manifest.
const PUBLISH_RULES: &[u8] = b"issue-14 secret gate";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything that decides the output: the snapshot, the theme, the
/// config's rendering settings ([`Config::render_digest`]) and the
/// published photos.
fn inputs_digest(
    snapshot: &Snapshot,
    theme: &Theme,
    config: &Config,
    photos: &render::PhotoImages,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PUBLISH_RULES);
    h.update(photos.digest());
    h.update(snapshot.hash.as_bytes());
    h.update(theme.hash.as_bytes());
    h.update(config.render_digest());
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
