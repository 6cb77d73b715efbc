//! One pass of the pipeline: source → model → photos → render → publish.
//! [`load`] is the one way a pass builds its [`Snapshot`] ([`snapshot_from`]
//! also serves the restart from the last good data); [`run`] renders and
//! publishes it (`gen build` once, `gen watch` on every trigger), [`dry_run`]
//! stops at the last gate, before any write (`gen check`). When neither the
//! data, the theme nor the config changed since the last pass, nothing is
//! rendered and nothing is written.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, ModelError, PublishError};
use crate::model::{Problem, Snapshot};
use crate::persist;
use crate::photos::{PhotoSet, Photos};
use crate::publish::{self, Publication, PublishOptions, PublishReport, SecretGate};
use crate::render::{self, Artifact, Theme};
use crate::source::{Fetcher, RawTables};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CycleOptions {
    pub allow_mass_removal: bool,
    /// Hand back the fetched data for `state_dir` when it changed (watch).
    pub persist: bool,
}

/// How long a `gen watch` cycle waits for photo downloads: downloads go on
/// in the background and a later cycle publishes them (issue 8).
pub(crate) const WATCH_PHOTO_WAIT: Duration = Duration::from_secs(2);
/// `gen build` has no later cycle: it waits longer (each image is bounded
/// by `photos::IMAGE_TIMEOUT` anyway).
pub(crate) const BUILD_PHOTO_WAIT: Duration = Duration::from_secs(30);

/// What the previous successful pass saw, to skip work when nothing changed,
/// and the photo downloader that outlives a pass.
#[derive(Debug)]
pub(crate) struct CycleMemory {
    inputs: Option<[u8; 32]>,
    raw: Option<[u8; 32]>,
    /// When the data last changed ([`crate::as_of`]).
    changed: crate::as_of::Memory,
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
            changed: None,
            files: 0,
            photos: None,
            photo_wait: WATCH_PHOTO_WAIT,
        }
    }
}

impl CycleMemory {
    /// For a single cycle (`gen build`): waits for photo downloads longer.
    pub(crate) fn one_shot() -> Self {
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
pub(crate) struct CycleReport {
    /// What the API serves from now on ([`Snapshot::into_served`]).
    pub snapshot: Arc<Snapshot>,
    /// What was wrong with rows (the served snapshot no longer has them).
    pub problems: Vec<Problem>,
    /// The data as fetched, staged in `state_dir` for
    /// [`crate::persist::Staged::save`], when it differs from the previous
    /// pass's and persisting was asked for.
    pub persist: Option<persist::Staged>,
    /// False when nothing changed and nothing was rendered or written.
    pub rendered: bool,
    pub publish: PublishReport,
    pub fetch: Duration,
    pub render: Duration,
    pub write: Duration,
}

/// The stages up to a complete [`Snapshot`]: fetched, modelled, with its
/// photos' problems on the players' rows. Built by [`load`] only.
pub(crate) struct Loaded {
    pub snapshot: Snapshot,
    photos: PhotoSet,
    raw_digest: [u8; 32],
    /// See [`CycleReport::persist`].
    persist: Option<persist::Staged>,
    fetch: Duration,
}

/// Data rows each tab has as read, before any row was skipped.
fn tab_rows(raw: &RawTables) -> Vec<(String, usize)> {
    raw.tabs
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                t.rows.iter().filter(|r| !r.is_blank()).count(),
            )
        })
        .collect()
}

/// What photos may do while loading.
#[derive(Debug, Clone, Copy)]
enum PhotoMode {
    /// Start due downloads and wait for them at most this long.
    Sync(Duration),
}

/// The model from data already at hand: the one way a [`Snapshot`] is
/// made, for fetched data ([`load`]) and for the last good data a restart
/// reads back (`gen watch`).
pub(crate) fn snapshot_from(
    config: &Config,
    raw: RawTables,
    fetched_at: SystemTime,
) -> Result<Snapshot, Error> {
    let mut snapshot = Snapshot::build(config, raw)?;
    snapshot.fetched_at = fetched_at;
    snapshot.changed_at = fetched_at;
    // Weak and damaged PINs: the same warnings in every command's output
    // and log as in `gen check` (issue 26).
    let pins = crate::findings::pin_warnings(&snapshot, config);
    snapshot.problems.extend(pins);
    snapshot
        .problems
        .sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
    Ok(snapshot)
}

/// Source → model → photos: fetches once, builds the snapshot once.
async fn load(
    config: &Config,
    fetcher: &Fetcher,
    memory: &mut CycleMemory,
    photo_mode: PhotoMode,
    persist: bool,
) -> Result<Loaded, Error> {
    let started = Instant::now();
    let raw = fetcher.fetch(config).await?;
    let fetch = started.elapsed();
    let raw_digest = raw.digest();
    let raw_changed = memory.raw != Some(raw_digest);
    let fetched_at = SystemTime::now();
    let config_owned = config.clone();
    let (mut snapshot, persist) = blocking(move || {
        let state_dir = &config_owned.site.state_dir;
        // Staged while the raw tables exist (the snapshot takes them over),
        // written as encoded so the data is never held twice. Best effort,
        // as saving it is: a cycle does not fail for it.
        let persist = (persist && raw_changed)
            .then(|| persist::stage(state_dir, &raw, fetched_at))
            .and_then(|staged| {
                staged
                    .map_err(|e| {
                        tracing::warn!(
                            event = "persist_failed",
                            "cannot save the last good data in {}: {e}",
                            state_dir.display()
                        )
                    })
                    .ok()
            });
        Ok((snapshot_from(&config_owned, raw, fetched_at)?, persist))
    })
    .await?;
    // Recorded once the data makes a snapshot: a refused config or sheet
    // leaves `state_dir` as it was.
    snapshot.changed_at = crate::as_of::changed_at(
        &config.site.state_dir,
        raw_digest,
        fetched_at,
        &mut memory.changed,
        true,
    );
    let photos = match photo_mode {
        PhotoMode::Sync(wait) => sync_photos(config, fetcher, memory, wait, &mut snapshot).await?,
    };
    Ok(Loaded {
        snapshot,
        photos,
        raw_digest,
        persist,
        fetch,
    })
}

/// What the cache has after waiting a bounded time for due downloads;
/// their problems become warnings on the player's row.
async fn sync_photos(
    config: &Config,
    fetcher: &Fetcher,
    memory: &mut CycleMemory,
    wait: Duration,
    snapshot: &mut Snapshot,
) -> Result<PhotoSet, Error> {
    let Some(column) = &config.players.photo else {
        return Ok(PhotoSet::default());
    };
    let mut cells: Vec<String> = snapshot
        .players
        .iter()
        .filter_map(|p| p.photo.as_deref().map(|c| c.trim().to_string()))
        .collect();
    cells.sort();
    cells.dedup();
    let set = memory
        .photos(config)?
        .sync(config, fetcher, &cells, wait)
        .await;
    let problems: Vec<Problem> = snapshot
        .players
        .iter()
        .filter_map(|p| {
            let kind = set.problem(p.photo.as_deref()?)?;
            let mut problem =
                Problem::warning(&config.players.tab, Some(p.row), Some(column), kind);
            problem.redact(snapshot.secrets());
            Some(problem)
        })
        .collect();
    snapshot.problems.extend(problems);
    snapshot
        .problems
        .sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
    Ok(set)
}

/// The theme and the digest of everything that decides the output.
fn inputs(config: &Config, loaded: &Loaded) -> Result<(Theme, [u8; 32]), Error> {
    let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
    let digest = inputs_digest(&loaded.snapshot, &theme, config, loaded.photos.images());
    Ok((theme, digest))
}

/// The photos' files, as artifacts to publish under `assets/photos/`.
fn photo_artifacts(photos: &PhotoSet) -> Result<Vec<Artifact>, Error> {
    Ok(photos
        .read_files()?
        .into_iter()
        .map(|f| Artifact {
            path: f.path,
            kind: render::ArtifactKind::Asset,
            bytes: f.bytes,
        })
        .collect())
}

/// What `gen check` looks at: everything rendered in memory, nothing written.
pub(crate) enum Checked {
    /// The config names tabs or columns the data does not have: every one
    /// of them (issue 16). Nothing was modelled or rendered.
    MissingColumns {
        errors: Vec<ModelError>,
        /// Data rows each tab had as read.
        tab_rows: Vec<(String, usize)>,
    },
    Site(Box<CheckedSite>),
}

/// A site `gen check` rendered in memory.
pub(crate) struct CheckedSite {
    pub snapshot: Snapshot,
    pub artifacts: Vec<Artifact>,
    /// Data rows each tab had as read, before any row was skipped.
    pub tab_rows: Vec<(String, usize)>,
    /// What publishing these artifacts would do to the player pages on
    /// disk, by the rule `gen build` applies ([`publish::player_removals`]).
    pub removals: Removals,
    /// The symlinks under `out_dir`, which `gen build` would remove
    /// ([`publish::symlinks_under`]).
    pub symlinks: Vec<std::path::PathBuf>,
}

/// The player pages a publish would remove from `out_dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Removals {
    pub removing: usize,
    /// Player pages on disk now.
    pub existing: usize,
    /// More than half: `gen build` refuses without `--allow-mass-removal`.
    pub refused: bool,
}

/// `gen check`: the pipeline up to the last gate; writes nothing (photos
/// are not downloaded, so their problems show in build and watch only).
/// Unlike a cycle, it looks for every missing column before modelling, so
/// that one run names them all.
pub(crate) async fn dry_run(config: &Config, fetcher: &Fetcher) -> Result<Checked, Error> {
    let raw = fetcher.fetch(config).await?;
    let tab_rows = tab_rows(&raw);
    let now = SystemTime::now();
    let changed_at =
        crate::as_of::changed_at(&config.site.state_dir, raw.digest(), now, &mut None, false);
    let config = config.clone();
    blocking(move || {
        let errors = crate::model::missing_columns(&config, &raw);
        if !errors.is_empty() {
            return Ok(Checked::MissingColumns { errors, tab_rows });
        }
        let mut snapshot = snapshot_from(&config, raw, now)?;
        snapshot.changed_at = changed_at;
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        // No photo is fetched: pages show what they show without one.
        let artifacts =
            render::render_with_photos(&theme, &snapshot, &config, PhotoSet::default().images())?;
        refuse_secrets(&artifacts, &snapshot, &config)?;
        let removals = {
            let slugs: BTreeSet<&str> = artifacts
                .iter()
                .filter_map(|a| publish::player_slug(&a.path, a.kind))
                .collect();
            let r = publish::player_removals(&config.site.out_dir, &slugs)?;
            Removals {
                removing: r.gone.len(),
                existing: r.existing,
                refused: r.is_mass(),
            }
        };
        Ok(Checked::Site(Box::new(CheckedSite {
            artifacts,
            snapshot,
            tab_rows,
            removals,
            symlinks: publish::symlinks_under(&config.site.out_dir, publish::Reach::Everywhere),
        })))
    })
    .await
}

/// Runs CPU- and disk-bound work off the async workers, its parallel parts
/// (render, gzip, the secret gate) on a rayon pool of its own. The pool's
/// threads end with the step, and the allocator hands back what they held:
/// mimalloc returns a thread's freed memory when the thread allocates again
/// or ends, and a long-lived pool would keep a cycle's garbage until the
/// next cycle (an idle `gen watch` of 1,000 players measured 35–39 MB
/// instead of 24–28; issue 15).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(move || {
        match rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("cycle-{i}"))
            .build()
        {
            Ok(pool) => pool.install(f),
            // Out of threads: rayon's global pool does the same work.
            Err(_) => f(),
        }
    })
    .await
    .map_err(|e| Error::Runtime(format!("a cycle's worker failed: {e}")))?
}

/// What a pass did to the site on disk.
enum Outcome {
    /// The site on disk already is this pass's, with that many files.
    Unchanged { files: usize },
    Published {
        report: PublishReport,
        render: Duration,
    },
}

/// One full cycle: load → render → publish (`gen build`, `gen watch`).
pub(crate) async fn run(
    config: &Config,
    fetcher: &Fetcher,
    memory: &mut CycleMemory,
    opts: CycleOptions,
) -> Result<CycleReport, Error> {
    let wait = memory.photo_wait;
    let loaded = load(config, fetcher, memory, PhotoMode::Sync(wait), opts.persist).await?;
    let fetch = loaded.fetch;
    let started = Instant::now();
    let (inputs_seen, files_seen) = (memory.inputs, memory.files);
    let config_owned = config.clone();
    let (loaded, inputs, outcome) = blocking(move || {
        let mut loaded = loaded;
        let config = config_owned;
        let (theme, inputs) = inputs(&config, &loaded)?;
        let (out_dir, state_dir) = (&config.site.out_dir, &config.site.state_dir);
        let (on_disk, reach) = if inputs_seen == Some(inputs) {
            // `gen watch` again, nothing changed: the cheap look.
            (Some(files_seen), publish::Reach::OutsidePlayerFolders)
        } else {
            let manifest = publish::manifest_matches(state_dir, out_dir, &hex::encode(inputs));
            (manifest, publish::Reach::Everywhere)
        };
        // A symlink planted in out_dir: a publish removes it and writes
        // again whatever was under it (issue 23).
        let on_disk = on_disk.filter(|_| publish::symlinks_under(out_dir, reach).is_empty());
        let outcome = match on_disk {
            Some(files) => Outcome::Unchanged { files },
            None => {
                // Read only to render: a cycle that changes nothing skips
                // it (the file is about 100 bytes per page).
                loaded.snapshot.page_times = Arc::new(crate::as_of::PageTimes::load(state_dir));
                let (report, render) =
                    publish_site(&config, &theme, &loaded, &hex::encode(inputs), opts)?;
                Outcome::Published { report, render }
            }
        };
        Ok((loaded, inputs, outcome))
    })
    .await?;
    memory.inputs = Some(inputs);
    memory.raw = Some(loaded.raw_digest);
    let total = started.elapsed();
    let (publish, render, write, rendered) = match outcome {
        Outcome::Published { report, render } => {
            (report, render, total.saturating_sub(render), true)
        }
        Outcome::Unchanged { files } => {
            let report = PublishReport {
                unchanged: files,
                ..PublishReport::default()
            };
            (report, total, Duration::ZERO, false)
        }
    };
    memory.files = publish.written + publish.unchanged;
    let mut snapshot = loaded.snapshot;
    Ok(CycleReport {
        problems: std::mem::take(&mut snapshot.problems),
        snapshot: Arc::new(snapshot.into_served()),
        persist: loaded.persist,
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
const PUBLISH_RULES: &[u8] = b"issue-23 secret gate: PIN forms, cells withheld, no symlink";

/// Everything that decides the output: the snapshot and when its data
/// changed ([`crate::as_of`]), the theme, the
/// config's rendering settings ([`Config::render_digest`]) and the
/// published photos.
fn inputs_digest(
    snapshot: &Snapshot,
    theme: &Theme,
    config: &Config,
    photos: &crate::photo_view::PhotoImages,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PUBLISH_RULES);
    h.update(photos.digest());
    h.update(snapshot.hash.as_bytes());
    // The "data as of" time every page shows.
    let changed = snapshot
        .changed_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    h.update(changed.to_le_bytes());
    h.update(theme.hash.as_bytes());
    h.update(config.render_digest());
    h.finalize().into()
}

/// Renders the site into a [`Publication`] page by page (a site is never
/// held in memory whole: issue 15), each page through the last gate, then
/// publishes it; the report and the time spent rendering.
fn publish_site(
    config: &Config,
    theme: &Theme,
    loaded: &Loaded,
    inputs: &str,
    opts: CycleOptions,
) -> Result<(PublishReport, Duration), Error> {
    let started = Instant::now();
    let (out_dir, state_dir) = (&config.site.out_dir, &config.site.state_dir);
    crate::files::create_private_dir(state_dir).map_err(|source| PublishError::Io {
        path: state_dir.clone(),
        source,
    })?;
    std::fs::create_dir_all(out_dir).map_err(|source| PublishError::Io {
        path: out_dir.clone(),
        source,
    })?;
    let publish_opts = PublishOptions {
        out_dir: out_dir.clone(),
        tmp_dir: publish::tmp_dir_for(out_dir, state_dir),
        allow_mass_removal: opts.allow_mass_removal,
    };
    let gate = SecretGate {
        secrets: loaded.snapshot.secrets(),
        tab: &config.players.tab,
        column: &config.players.secret,
    };
    let publication = Publication::new(&publish_opts, Some(gate));
    for artifact in photo_artifacts(&loaded.photos)? {
        publication.add(&artifact)?;
    }
    render::render_each(
        theme,
        &loaded.snapshot,
        config,
        loaded.photos.images(),
        |a| publication.add(&a).map_err(Error::from),
    )?;
    let rendered_in = started.elapsed();
    publish::forget_manifest(state_dir);
    let published = publication.finish()?;
    loaded.snapshot.page_times.save(state_dir);
    publish::write_manifest_of(state_dir, out_dir, inputs, &published);
    Ok((published.report, rendered_in))
}

// ---- the render settings' digest (its one caller is `inputs_digest` above) ----

impl Config {
    /// A digest of the settings that decide the published site, for the
    /// cycle's "nothing changed, render nothing" check; the data, the
    /// theme's files and the photos are digested apart. In it, each under
    /// its name:
    ///
    /// - `site.title`, `site.lang`, `site.timezone` (the "data as of"
    ///   time): on every page;
    /// - `site.out_dir`: the skip vouches for the site in that folder, so a
    ///   config reloaded with another folder publishes into it;
    /// - `site.templates`: which theme (its files are hashed by the theme);
    /// - `players`: `tab`, `id` (slugs), `login`, `secret` (the column kept
    ///   out of every page), `private`, `photo`, `admin`: which columns go
    ///   where;
    /// - `site.contact`: on the login page;
    /// - `index`: `columns`, `sort_by`, `descending`, `per_page`, `filters`;
    /// - `tables`: each `tab`, its `key`, `columns`, `sort_by` and
    ///   `descending`, in order;
    /// - `player_page.fields` and `[labels]` (issue 17).
    ///
    /// Left out, since no page shows them: the config's own path,
    /// `site.state_dir`, `site.refresh_secs` and `site.visibility` (who may
    /// read a page is nginx's and `gen serve`'s business); the source (its data is
    /// digested as fetched, its URLs and keys appear nowhere);
    /// `players.photo_recheck_hours` and `photo_allow` (the photos they let
    /// through are digested with the photos); `[api]`; the environment's
    /// secrets and timeout.
    pub fn render_digest(&self) -> [u8; 32] {
        let mut d = FieldDigest::new(b"sheetgen render settings v1");
        d.text("site.title", &self.site.title);
        d.text("site.lang", self.site.lang.code());
        d.text("site.timezone", &self.site.timezone_name);
        d.path("site.out_dir", &self.site.out_dir);
        d.path(
            "site.templates",
            self.site.templates.as_deref().unwrap_or(Path::new("")),
        );
        d.optional("site.contact", self.site.contact.as_deref());
        let p = &self.players;
        d.text("players.tab", &p.tab);
        d.text("players.id", &p.id);
        d.text("players.login", &p.login);
        d.text("players.secret", &p.secret);
        d.list("players.private", &p.private);
        d.optional("players.photo", p.photo.as_deref());
        d.optional("players.admin", p.admin.as_deref());
        let i = &self.index;
        match &i.columns {
            Some(columns) => d.list("index.columns", columns),
            None => d.bytes("index.columns", b"-"),
        }
        d.optional("index.sort_by", i.sort_by.as_deref());
        d.text("index.descending", if i.descending { "yes" } else { "no" });
        d.text("index.per_page", &i.per_page.to_string());
        d.list("index.filters", &i.filters);
        for t in &self.tables {
            d.text("tables.tab", &t.tab);
            d.text("tables.key", &t.key);
            match &t.columns {
                Some(columns) => d.list("tables.columns", columns),
                None => d.bytes("tables.columns", b"-"),
            }
            d.optional("tables.sort_by", t.sort_by.as_deref());
            d.text("tables.descending", if t.descending { "yes" } else { "no" });
        }
        match &self.player_page.fields {
            Some(fields) => d.list("player_page.fields", fields),
            None => d.bytes("player_page.fields", b"-"),
        }
        d.text("labels", &self.labels.len().to_string());
        for (column, label) in &self.labels {
            d.text("labels.column", column);
            d.text("labels.label", label);
        }
        d.finish()
    }
}

/// SHA-256 over named, length-prefixed fields, so that no two different
/// settings feed it the same bytes (`["a,b"]` and `["a", "b"]` differ).
struct FieldDigest(Sha256);

impl FieldDigest {
    fn new(version: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(version);
        FieldDigest(h)
    }

    fn bytes(&mut self, name: &str, value: &[u8]) {
        for part in [name.as_bytes(), value] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
    }

    fn text(&mut self, name: &str, value: &str) {
        self.bytes(name, value.as_bytes());
    }

    fn path(&mut self, name: &str, value: &Path) {
        self.bytes(name, value.as_os_str().as_bytes());
    }

    fn optional(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.bytes(name, format!("+{v}").as_bytes()),
            None => self.bytes(name, b"-"),
        }
    }

    /// The count first: never `-`, the mark of an absent list.
    fn list(&mut self, name: &str, values: &[String]) {
        self.text(name, &values.len().to_string());
        for v in values {
            self.text(name, v);
        }
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}
