//! The only writer under `out_dir`. Every artifact is compared with what is
//! really on disk; only changed bytes are written, each through a temp file on
//! the same filesystem (outside the served tree) renamed into place: assets,
//! player pages, other pages, the index last, removals after. A reader sees
//! the old file or the new one, never a torn one. No per-file fsync: the site
//! is derived data and the next cycle repairs whatever a crash left behind.
//!
//! A [`Publication`] takes artifacts one at a time, as they are rendered, and
//! keeps only what must be written, gzipped: a 10,000-player site is never
//! held in memory whole (issue 15). Nothing under `out_dir` changes before
//! [`Publication::finish`] has seen every artifact pass the secret gate.
//!
//! gen writes no symlink, so a symlink under `out_dir` was planted there:
//! a publish removes it (never following it) with a warning, and never
//! writes through a symlinked folder (issue 23, [`symlinks_under`]).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rayon::prelude::*;

use crate::error::PublishError;
use crate::model::SecretIndex;
use crate::render::{Artifact, ArtifactKind};

/// Extensions that get a pre-compressed `.gz` twin for nginx `gzip_static`.
const COMPRESSIBLE: [&str; 8] = [
    "html",
    "css",
    "js",
    "svg",
    "json",
    "txt",
    "xml",
    "webmanifest",
];

/// Old fingerprinted assets stay this long, so a page loaded just before a
/// theme change still finds its stylesheet.
const ASSET_GRACE: Duration = Duration::from_secs(3600);

/// Published files are read by the web server.
pub(crate) const PUBLIC_MODE: u32 = 0o644;

#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub out_dir: PathBuf,
    /// Where temp files are written: on the same filesystem as `out_dir`,
    /// not served.
    pub tmp_dir: PathBuf,
    pub allow_mass_removal: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Files written (an `.html` and its `.gz` count as two).
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Picks the temp folder: `state_dir/tmp` when it is on `out_dir`'s
/// filesystem (rename needs that), else a dot-folder in `out_dir` that
/// neither nginx nor the preview serve.
pub fn tmp_dir_for(out_dir: &Path, state_dir: &Path) -> PathBuf {
    let dev = |p: &Path| std::fs::metadata(p).ok().map(|m| m.dev());
    match (dev(out_dir), dev(state_dir)) {
        (Some(a), Some(b)) if a == b => state_dir.join("tmp"),
        _ => out_dir.join(".sheetgen-tmp"),
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A relative path we are willing to write: `[A-Za-z0-9._-]` components, none
/// empty or starting with a dot. Slugs are already safe; this is the last
/// line of defence should a template or a theme asset try otherwise.
fn is_safe_rel_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

fn unsafe_path(path: &str) -> PublishError {
    PublishError::Unsafe(format!(
        "refusing to write {path:?}: not a plain relative path"
    ))
}

pub fn is_compressible(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| COMPRESSIBLE.contains(&ext))
}

/// gzip at the best level with a fixed header (no name, mtime 0), so equal
/// input gives equal bytes and an unchanged page keeps its ETag.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3 + 64),
        Compression::best(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The bytes that `gz` (made by [`gzip`]) holds.
fn gunzip(gz: &[u8], len: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

/// True when the `.gz` on disk decompresses to exactly `expected`.
fn gz_matches(path: &Path, expected: &[u8]) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut out = Vec::with_capacity(expected.len());
    // One byte more than expected is enough to tell "longer".
    let limit = expected.len() as u64 + 1;
    match GzDecoder::new(file).take(limit).read_to_end(&mut out) {
        Ok(_) => out == expected,
        Err(_) => false,
    }
}

/// True when the file at `path` holds exactly `expected`. A file of another
/// length is not read.
fn file_matches(path: &Path, expected: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == expected.len() as u64)
        && std::fs::read(path).is_ok_and(|disk| disk == expected)
}

/// Player slugs that have a folder under `out_dir/p/`.
fn existing_player_slugs(out_dir: &Path) -> Result<BTreeSet<String>, PublishError> {
    let dir = out_dir.join("p");
    let mut out = BTreeSet::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(&dir))?;
        if entry.file_type().map_err(io_err(&dir))?.is_dir()
            && let Ok(name) = entry.file_name().into_string()
            && is_safe_rel_path(&name)
        {
            out.insert(name);
        }
    }
    Ok(out)
}

/// The slug of a player page artifact (`p/<slug>/index.html`).
pub(crate) fn player_slug(path: &str, kind: ArtifactKind) -> Option<&str> {
    if kind != ArtifactKind::Player {
        return None;
    }
    path.strip_prefix("p/")?.strip_suffix("/index.html")
}

/// The player pages on disk that a publish removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlayerRemovals {
    /// Slugs under `out_dir/p/` the new site has no page for.
    pub gone: Vec<String>,
    /// Player pages under `out_dir/p/` now.
    pub existing: usize,
}

impl PlayerRemovals {
    /// More than half of the player pages: a publish refuses it unless
    /// `--allow-mass-removal` (a sheet emptied by mistake must not empty
    /// the site).
    pub(crate) fn is_mass(&self) -> bool {
        self.existing > 0 && self.gone.len() * 2 > self.existing
    }
}

/// The player pages under `out_dir/p/` that a site with the pages of
/// `new_slugs` removes. Reads only: `gen check` asks it too, to say
/// beforehand what `gen build` will do.
pub(crate) fn player_removals(
    out_dir: &Path,
    new_slugs: &BTreeSet<&str>,
) -> Result<PlayerRemovals, PublishError> {
    let existing = existing_player_slugs(out_dir)?;
    Ok(PlayerRemovals {
        existing: existing.len(),
        gone: existing
            .into_iter()
            .filter(|s| !new_slugs.contains(s.as_str()))
            .collect(),
    })
}

// ---- symlinks: gen is the only writer of out_dir (issue 23) ---------------

/// Where [`symlinks_under`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Every folder: what a publish, `gen build` and `gen check` walk.
    Everywhere,
    /// Every folder but the inside of the players' folders (`p/<slug>/`,
    /// whose files only that player and the admins may read): one folder
    /// listing instead of 10,000, for the cycles of `gen watch` that find
    /// nothing changed (a full walk of 10,000 player folders measured
    /// 130–200 ms, most of it in the kernel).
    OutsidePlayerFolders,
}

/// Every symlink under `out_dir`, relative to it, none followed. gen
/// writes none, so each was planted, and a web server (nginx's
/// `disable_symlinks if_not_owner` aside) would serve what it leads to: a
/// link to `state_dir`'s last good data would serve every PIN. Folders
/// that cannot be read are passed over: a write there fails on its own.
pub(crate) fn symlinks_under(out_dir: &Path, reach: Reach) -> Vec<PathBuf> {
    let player_folders = Path::new("p");
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(out_dir.join(&rel)) else {
            continue;
        };
        let descend = reach == Reach::Everywhere || rel != player_folders;
        for entry in entries.flatten() {
            // The entry's own type, as the folder lists it: never followed.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                found.push(rel.join(entry.file_name()));
            } else if kind.is_dir() && descend {
                stack.push(rel.join(entry.file_name()));
            }
        }
    }
    found.sort();
    found
}

/// Removes the symlink `out_dir/rel` (the link, never what it leads to),
/// with a warning in the log. Returns whether there was one.
fn remove_symlink(out_dir: &Path, rel: &Path) -> Result<bool, PublishError> {
    let path = out_dir.join(rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            tracing::warn!(
                event = "symlink_removed",
                path = %rel.display(),
                "removed the symlink {} from out_dir {}: gen is the only writer of out_dir, \
                 and a symlink there would serve a file from elsewhere",
                rel.display(),
                out_dir.display()
            );
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Removes any symlink among the folders between `out_dir` and the file
/// `rel` (one planted since the publish began), so that nothing is written
/// through it; the folders are then made by the write.
pub(crate) fn unlink_symlinked_folders(out_dir: &Path, rel: &str) -> Result<(), PublishError> {
    let mut folders: Vec<&Path> = Path::new(rel)
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    // Outermost first: removing `p` settles `p/zoe` too.
    folders.reverse();
    for folder in folders {
        match std::fs::symlink_metadata(out_dir.join(folder)) {
            Ok(m) if m.file_type().is_symlink() => {
                remove_symlink(out_dir, folder)?;
            }
            Ok(_) => {}
            Err(_) => break, // missing: nothing further down exists either
        }
    }
    Ok(())
}

/// The last gate before anything is written (issue 14): no artifact may
/// hold a secret of `secrets` as a whole token. Text artifacts are scanned
/// as rendered; their `.gz` twins are `gzip` of exactly those bytes, so
/// scanning the plain bytes covers both, and a deflate stream would hide a
/// PIN from a byte scan anyway. Binary artifacts (re-encoded photos) are
/// skipped: they hold pixels, and megabytes of JPEG would sooner or later
/// contain six digit bytes between two non-letters by chance and refuse
/// every cycle.
#[derive(Debug, Clone, Copy)]
pub struct SecretGate<'a> {
    pub secrets: &'a SecretIndex,
    /// Where the secrets come from, for the refusal: the players' tab and
    /// its secret column.
    pub tab: &'a str,
    pub column: &'a str,
}

impl SecretGate<'_> {
    /// The spreadsheet row of a secret that `artifact` holds, if any.
    fn scan(&self, artifact: &Artifact) -> Option<usize> {
        let text = is_compressible(&artifact.path) || std::str::from_utf8(&artifact.bytes).is_ok();
        if self.secrets.is_empty() || !text {
            return None;
        }
        Some(self.secrets.find_any(&artifact.bytes)?.row)
    }

    /// `Err` naming the pages and the rows of `tab` whose secret they hold,
    /// when there is any hit (path, row).
    fn verdict(&self, mut hits: Vec<(String, usize)>) -> Result<(), PublishError> {
        if hits.is_empty() {
            return Ok(());
        }
        hits.sort();
        const SHOWN: usize = 5;
        let mut pages: Vec<&str> = hits.iter().map(|(p, _)| p.as_str()).take(SHOWN).collect();
        let more = hits.len() - pages.len();
        let more_text = format!("and {more} more file(s)");
        if more > 0 {
            pages.push(&more_text);
        }
        let mut rows: Vec<usize> = hits.iter().map(|(_, r)| *r).collect();
        rows.sort_unstable();
        rows.dedup();
        let rows_text = match rows.as_slice() {
            [one] => format!("row {one}"),
            many => format!(
                "rows {}",
                many.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Err(PublishError::SecretInArtifact {
            pages: pages.join(", "),
            tab: self.tab.to_string(),
            rows: rows_text,
            column: self.column.to_string(),
        })
    }
}

/// The last gate over artifacts already in memory (see [`SecretGate`]).
pub fn refuse_secrets(
    artifacts: &[Artifact],
    secrets: &SecretIndex,
    tab: &str,
    column: &str,
) -> Result<(), PublishError> {
    let gate = SecretGate {
        secrets,
        tab,
        column,
    };
    let hits = artifacts
        .par_iter()
        .filter_map(|a| Some((a.path.clone(), gate.scan(a)?)))
        .collect();
    gate.verdict(hits)
}

/// Publishes `artifacts` to `opts.out_dir` (see the module doc).
pub fn publish(
    artifacts: &[Artifact],
    opts: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let publication = Publication::new(opts, None);
    artifacts.par_iter().try_for_each(|a| publication.add(a))?;
    Ok(publication.finish()?.report)
}

/// A publish fed one artifact at a time, from any thread (see the module
/// doc). Each artifact is checked ([`SecretGate`], a safe path) and
/// compared with the disk as it comes; only what differs is kept, gzipped
/// when it is text. [`Publication::finish`] writes.
pub struct Publication<'a> {
    opts: &'a PublishOptions,
    gate: Option<SecretGate<'a>>,
    /// The symlinks under `out_dir` when the publish began, removed by
    /// [`Publication::finish`]; a file under one is written again.
    planted: BTreeSet<PathBuf>,
    ledger: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    /// Every artifact added, for removals, pruning and the manifest.
    produced: Vec<(String, ArtifactKind)>,
    pending: Vec<Pending>,
    unchanged: usize,
    /// (path, row) of every artifact that holds a secret.
    secret_hits: Vec<(String, usize)>,
}

/// Files of one artifact that differ from the disk.
struct Pending {
    rel: String,
    kind: ArtifactKind,
    body: Body,
    /// The file itself must be written (else only its `.gz` twin).
    plain: bool,
}

enum Body {
    /// A text file: its `.gz` twin, which is written, and from which the
    /// file's own bytes are recovered when they are written too (gzip is
    /// about a fifth of an HTML page, and both were to be made anyway).
    Gzipped { gz: Vec<u8>, len: usize },
    /// Anything else, as is.
    Raw(Vec<u8>),
}

/// What a finished publish did, and the files the site has from it.
#[derive(Debug)]
pub struct Published {
    pub report: PublishReport,
    /// Every file of this publish relative to `out_dir`, `.gz` twins
    /// included (for [`write_manifest_of`]).
    pub files: Vec<String>,
}

impl<'a> Publication<'a> {
    /// A publish to `opts.out_dir`; with a `gate`, any artifact holding a
    /// secret refuses the whole publish.
    pub fn new(opts: &'a PublishOptions, gate: Option<SecretGate<'a>>) -> Publication<'a> {
        Publication {
            opts,
            gate,
            planted: symlinks_under(&opts.out_dir, Reach::Everywhere)
                .into_iter()
                .collect(),
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// Whether `rel`, its `.gz` twin or a folder above them is a planted
    /// symlink: what is there now is not the site's.
    fn through_symlink(&self, rel: &str) -> bool {
        !self.planted.is_empty()
            && (Path::new(rel).ancestors().any(|a| self.planted.contains(a))
                || self.planted.contains(Path::new(&format!("{rel}.gz"))))
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks `artifact` and keeps what of it must be written. Reads the
    /// disk, writes nothing.
    pub fn add(&self, artifact: &Artifact) -> Result<(), PublishError> {
        if let Some(row) = self.gate.and_then(|g| g.scan(artifact)) {
            // Kept scanning: the refusal names every page that has one.
            self.ledger().secret_hits.push((artifact.path.clone(), row));
            return Ok(());
        }
        if !is_safe_rel_path(&artifact.path) {
            return Err(unsafe_path(&artifact.path));
        }
        let (pending, unchanged) = self.compare(artifact);
        let mut ledger = self.ledger();
        ledger.unchanged += unchanged;
        ledger.pending.extend(pending);
        ledger.produced.push((artifact.path.clone(), artifact.kind));
        Ok(())
    }

    /// What of `a` differs from the disk, and how many of its files (the
    /// page and its twin) are already right.
    fn compare(&self, a: &Artifact) -> (Option<Pending>, usize) {
        let out_dir = &self.opts.out_dir;
        let linked = self.through_symlink(&a.path);
        let same = !linked && file_matches(&out_dir.join(&a.path), &a.bytes);
        if !is_compressible(&a.path) {
            let pending = (!same).then(|| Pending {
                rel: a.path.clone(),
                kind: a.kind,
                body: Body::Raw(a.bytes.clone()),
                plain: true,
            });
            return (pending, usize::from(same));
        }
        let twin = out_dir.join(format!("{}.gz", a.path));
        if same && gz_matches(&twin, &a.bytes) {
            return (None, 2);
        }
        // Either twin may be renamed first: each is whole, and the next
        // cycle compares both.
        let pending = Pending {
            rel: a.path.clone(),
            kind: a.kind,
            body: Body::Gzipped {
                gz: gzip(&a.bytes),
                len: a.bytes.len(),
            },
            plain: !same,
        };
        (Some(pending), usize::from(same))
    }

    /// Refuses the publish on a secret or a mass removal (changing
    /// nothing), else writes what differs: assets, players, other pages,
    /// the index last; then removes what the site no longer has.
    pub fn finish(self) -> Result<Published, PublishError> {
        let Publication {
            opts,
            gate,
            planted,
            ledger,
        } = self;
        let ledger = ledger.into_inner().unwrap_or_else(PoisonError::into_inner);
        if let Some(gate) = gate {
            gate.verdict(ledger.secret_hits)?;
        }
        let Ledger {
            produced,
            mut pending,
            unchanged,
            ..
        } = ledger;
        let out_dir = &opts.out_dir;
        std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;

        // Decide removals first: a refused mass removal must change nothing.
        let new_slugs: BTreeSet<&str> = produced
            .iter()
            .filter_map(|(path, kind)| player_slug(path, *kind))
            .collect();
        let removals = player_removals(out_dir, &new_slugs)?;
        if !opts.allow_mass_removal && removals.is_mass() {
            return Err(PublishError::MassRemoval {
                removing: removals.gone.len(),
                existing: removals.existing,
            });
        }

        for link in &planted {
            remove_symlink(out_dir, link)?;
        }
        let mut report = PublishReport {
            unchanged,
            ..PublishReport::default()
        };
        // Files of one kind are independent, so they are written on every
        // core (creating files is what a cold build spends its time on).
        pending.sort_by_key(|p| p.kind);
        if !pending.is_empty() {
            prepare_tmp_dir(&opts.tmp_dir)?;
        }
        let mut pending = pending.into_iter().peekable();
        while let Some(kind) = pending.peek().map(|p| p.kind) {
            let mut group = Vec::new();
            while let Some(p) = pending.next_if(|p| p.kind == kind) {
                group.push(p);
            }
            report.written += group
                .into_par_iter()
                .map(|p| write_pending(out_dir, &opts.tmp_dir, p))
                .try_reduce(|| 0, |a, b| Ok(a + b))?;
        }

        for slug in removals.gone {
            let dir = out_dir.join("p").join(slug);
            for name in ["index.html", "index.html.gz"] {
                report.removed += remove_if_present(&dir.join(name))?;
            }
            // Anything else someone put there stays, and so does the folder.
            let _ = std::fs::remove_dir(&dir);
        }
        let paths: BTreeSet<&str> = produced.iter().map(|(p, _)| p.as_str()).collect();
        report.removed += prune_index_pages(out_dir, &paths)?;
        let assets: BTreeSet<&str> = produced
            .iter()
            .filter(|(_, kind)| *kind == ArtifactKind::Asset)
            .map(|(p, _)| p.as_str())
            .collect();
        report.removed += prune_assets(out_dir, &assets)?;
        let files = published_files(produced.iter().map(|(p, _)| p.as_str()));
        Ok(Published { report, files })
    }
}

/// Writes the files of `p` (twin first), each whole; returns how many.
fn write_pending(out_dir: &Path, tmp_dir: &Path, p: Pending) -> Result<usize, PublishError> {
    unlink_symlinked_folders(out_dir, &p.rel)?;
    let dest = out_dir.join(&p.rel);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let write = |path: &Path, bytes: &[u8]| {
        crate::files::replace(path, bytes, tmp_dir, PUBLIC_MODE).map_err(io_err(path))
    };
    match p.body {
        Body::Raw(bytes) => {
            write(&dest, &bytes)?;
            Ok(1)
        }
        Body::Gzipped { gz, len } => {
            write(&out_dir.join(format!("{}.gz", p.rel)), &gz)?;
            if !p.plain {
                return Ok(1);
            }
            let bytes = gunzip(&gz, len).map_err(io_err(&dest))?;
            drop(gz);
            write(&dest, &bytes)?;
            Ok(2)
        }
    }
}

/// Creates the temp folder and clears what an interrupted run left there:
/// temp files of [`crate::files::replace`], and of gen before it.
fn prepare_tmp_dir(tmp: &Path) -> Result<(), PublishError> {
    std::fs::create_dir_all(tmp).map_err(io_err(tmp))?;
    for entry in std::fs::read_dir(tmp).map_err(io_err(tmp))? {
        let entry = entry.map_err(io_err(tmp))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".tmp-") || name.starts_with(".publish-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<usize, PublishError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(1),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Removes `page/N/` index pages beyond the current page count.
fn prune_index_pages(out_dir: &Path, produced: &BTreeSet<&str>) -> Result<usize, PublishError> {
    let dir = out_dir.join("page");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.parse::<usize>().is_err() {
            continue;
        }
        let rel = format!("page/{name}/index.html");
        if produced.contains(rel.as_str()) {
            continue;
        }
        removed += remove_if_present(&out_dir.join(&rel))?;
        removed += remove_if_present(&out_dir.join(format!("{rel}.gz")))?;
        let _ = std::fs::remove_dir(entry.path());
    }
    Ok(removed)
}

/// Removes fingerprinted assets no longer produced, once past the grace
/// time: the theme's under `assets/`, photos and avatars under
/// `assets/photos/`.
fn prune_assets(out_dir: &Path, current: &BTreeSet<&str>) -> Result<usize, PublishError> {
    let mut removed = 0;
    for (folder, fingerprinted) in [
        ("assets", looks_fingerprinted as fn(&str) -> bool),
        ("assets/photos", looks_like_photo),
    ] {
        removed += prune_folder(out_dir, folder, current, fingerprinted)?;
    }
    Ok(removed)
}

fn prune_folder(
    out_dir: &Path,
    folder: &str,
    current: &BTreeSet<&str>,
    fingerprinted: fn(&str) -> bool,
) -> Result<usize, PublishError> {
    let Ok(entries) = std::fs::read_dir(out_dir.join(folder)) else {
        return Ok(0);
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let base = name.strip_suffix(".gz").unwrap_or(&name);
        if current.contains(format!("{folder}/{base}").as_str()) || !fingerprinted(base) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > ASSET_GRACE);
        if old {
            removed += remove_if_present(&entry.path())?;
        }
    }
    Ok(removed)
}

/// `name.0123456789.ext`: what [`crate::render::Theme`] produces.
fn looks_fingerprinted(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[parts.len() - 2].len() == 10
        && parts[parts.len() - 2]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
}

/// `<16 hex>-320.jpg`, `<16 hex>-64.jpg`, `avatar-<16 hex>.svg`: what
/// [`crate::photos`] produces.
fn looks_like_photo(name: &str) -> bool {
    let hex16 = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(stem) = name
        .strip_prefix("avatar-")
        .and_then(|s| s.strip_suffix(".svg"))
    {
        return hex16(stem);
    }
    name.strip_suffix(".jpg")
        .and_then(|s| s.split_once('-'))
        .is_some_and(|(stem, size)| hex16(stem) && size.bytes().all(|b| b.is_ascii_digit()))
}

// ---- the manifest: what the last complete publish left on disk ------------

const MANIFEST: &str = "published.json";

/// The digest of the inputs of the last complete publish, and the size,
/// mtime and inode of every file it left. When the inputs are the same and
/// every file still stats the same, the site on disk is that publish: a
/// one-shot `gen build` or a restarted `gen watch` can skip rendering. It
/// is removed before any write, so a publish cut short leaves none.
#[derive(serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct Manifest {
    inputs: String,
    files: Vec<(String, u64, i64, i64, u64)>,
}

fn stat(path: &Path) -> Option<(u64, i64, i64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
}

/// The files that artifacts at `paths` are published as: each, and its
/// `.gz` twin when it has one.
fn published_files<'p>(paths: impl Iterator<Item = &'p str>) -> Vec<String> {
    paths
        .flat_map(|path| {
            let gz = is_compressible(path).then(|| format!("{path}.gz"));
            std::iter::once(path.to_string()).chain(gz)
        })
        .collect()
}

/// The number of files of the last complete publish when it had these
/// `inputs` and its files are all still there, unchanged.
pub fn manifest_matches(state_dir: &Path, out_dir: &Path, inputs: &str) -> Option<usize> {
    let bytes = std::fs::read(state_dir.join(MANIFEST)).ok()?;
    let m = serde_json::from_slice::<Manifest>(&bytes).ok()?;
    let intact = m.inputs == inputs
        && m.files.par_iter().all(|(rel, len, s, ns, ino)| {
            is_safe_rel_path(rel) && stat(&out_dir.join(rel)) == Some((*len, *s, *ns, *ino))
        });
    intact.then_some(m.files.len())
}

/// Forgets the manifest: called before a publish writes anything.
pub fn forget_manifest(state_dir: &Path) {
    let _ = std::fs::remove_file(state_dir.join(MANIFEST));
}

/// Records a complete publish, a [`Publication`]'s result (best effort:
/// without it the next run just compares everything).
pub fn write_manifest_of(state_dir: &Path, out_dir: &Path, inputs: &str, published: &Published) {
    write_manifest_files(state_dir, out_dir, inputs, published.files.clone());
}

fn write_manifest_files(state_dir: &Path, out_dir: &Path, inputs: &str, files: Vec<String>) {
    let files: Option<Vec<_>> = files
        .into_par_iter()
        .map(|rel| {
            let (len, s, ns, ino) = stat(&out_dir.join(&rel))?;
            Some((rel, len, s, ns, ino))
        })
        .collect();
    let Some(files) = files else { return };
    let manifest = Manifest {
        inputs: inputs.to_string(),
        files,
    };
    let Ok(bytes) = serde_json::to_vec(&manifest) else {
        return;
    };
    let _ = crate::files::write_private(state_dir, MANIFEST, &bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_names_are_recognised() {
        assert!(looks_like_photo("0123456789abcdef-320.jpg"));
        assert!(looks_like_photo("0123456789abcdef-64.jpg"));
        assert!(looks_like_photo("avatar-0123456789abcdef.svg"));
        assert!(!looks_like_photo("me.jpg"));
        assert!(!looks_like_photo("avatar-me.svg"));
        assert!(!looks_like_photo("0123456789abcdef-big.jpg"));
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let a = gzip(b"<html>hello</html>");
        assert_eq!(a, gzip(b"<html>hello</html>"));
        // No mtime in the header (bytes 4..8), no name flag.
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        assert_eq!(a[3] & 0x08, 0);
        let mut out = Vec::new();
        GzDecoder::new(&a[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"<html>hello</html>");
    }

    #[test]
    fn a_publication_writes_nothing_until_every_artifact_passed_the_gate() {
        let root = tempfile::tempdir().unwrap();
        let opts = PublishOptions {
            out_dir: root.path().join("out"),
            tmp_dir: root.path().join("tmp"),
            allow_mass_removal: false,
        };
        let page = |path: &str, text: &str| Artifact {
            path: path.into(),
            kind: ArtifactKind::Page,
            bytes: text.as_bytes().to_vec(),
        };
        let secrets = SecretIndex::new([(2, "482913")]);
        let gate = SecretGate {
            secrets: &secrets,
            tab: "Players",
            column: "pin",
        };

        let refused = Publication::new(&opts, Some(gate));
        refused.add(&page("a.html", "<p>fine</p>")).unwrap();
        refused.add(&page("b.html", "<p>482913</p>")).unwrap();
        let err = refused.finish().unwrap_err().to_string();
        assert!(err.contains("b.html") && err.contains("row 2"), "{err}");
        assert!(!err.contains("482913"), "{err}");
        assert!(!opts.out_dir.join("a.html").exists());

        let fine = Publication::new(&opts, Some(gate));
        fine.add(&page("a.html", "<p>fine</p>")).unwrap();
        let done = fine.finish().unwrap();
        assert_eq!(done.report.written, 2);
        assert_eq!(done.files, ["a.html", "a.html.gz"]);
        assert_eq!(
            std::fs::read(opts.out_dir.join("a.html")).unwrap(),
            b"<p>fine</p>"
        );
        let gz = std::fs::read(opts.out_dir.join("a.html.gz")).unwrap();
        assert_eq!(gz, gzip(b"<p>fine</p>"));
        assert_eq!(std::fs::read_dir(&opts.tmp_dir).unwrap().count(), 0);

        let again = Publication::new(&opts, Some(gate));
        again.add(&page("a.html", "<p>fine</p>")).unwrap();
        let report = again.finish().unwrap().report;
        assert_eq!(
            report,
            PublishReport {
                written: 0,
                unchanged: 2,
                removed: 0
            }
        );

        // Only the twin is wrong: only the twin is written.
        std::fs::write(opts.out_dir.join("a.html.gz"), b"torn").unwrap();
        let twin = Publication::new(&opts, None);
        twin.add(&page("a.html", "<p>fine</p>")).unwrap();
        let report = twin.finish().unwrap().report;
        assert_eq!((report.written, report.unchanged), (1, 1));
        assert_eq!(std::fs::read(opts.out_dir.join("a.html.gz")).unwrap(), gz);
    }

    /// Issue 23: gen is the only writer of out_dir.
    #[test]
    fn planted_symlinks_are_removed_never_followed_nor_written_through() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let opts = PublishOptions {
            out_dir: out.clone(),
            tmp_dir: root.path().join("tmp"),
            allow_mass_removal: false,
        };
        let artifact = |path: &str, kind, text: &str| Artifact {
            path: path.into(),
            kind,
            bytes: text.as_bytes().to_vec(),
        };
        let site = [
            artifact("index.html", ArtifactKind::Index, "<p>roster</p>"),
            artifact("p/zoe/index.html", ArtifactKind::Player, "<p>Zoé</p>"),
            artifact("p/ann/index.html", ArtifactKind::Player, "<p>Ann</p>"),
        ];
        publish(&site, &opts).unwrap();
        let outside = root.path().join("outside");
        std::fs::create_dir_all(outside.join("zoe")).unwrap();
        std::fs::write(outside.join("secret.json"), "482913").unwrap();
        symlink(outside.join("secret.json"), out.join("leak.json")).unwrap();
        std::fs::remove_dir_all(out.join("p/zoe")).unwrap();
        symlink(outside.join("zoe"), out.join("p/zoe")).unwrap();
        let planted = [PathBuf::from("leak.json"), PathBuf::from("p/zoe")];
        assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);
        assert_eq!(symlinks_under(&out, Reach::OutsidePlayerFolders), planted);
        symlink(outside.join("secret.json"), out.join("p/ann/x.json")).unwrap();
        let planted = [
            PathBuf::from("leak.json"),
            PathBuf::from("p/ann/x.json"),
            PathBuf::from("p/zoe"),
        ];
        assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);
        assert_eq!(
            symlinks_under(&out, Reach::OutsidePlayerFolders),
            [PathBuf::from("leak.json"), PathBuf::from("p/zoe")]
        );

        // A refused publish changes nothing, the links included.
        let secrets = SecretIndex::new([(2, "482913")]);
        let gate = SecretGate {
            secrets: &secrets,
            tab: "Players",
            column: "pin",
        };
        let refused = Publication::new(&opts, Some(gate));
        refused
            .add(&artifact("index.html", ArtifactKind::Index, "482913"))
            .unwrap();
        assert!(refused.finish().is_err());
        assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);

        let report = publish(&site, &opts).unwrap();
        assert_eq!(
            symlinks_under(&out, Reach::Everywhere),
            Vec::<PathBuf>::new()
        );
        assert_eq!((report.written, report.unchanged), (2, 4));
        assert_eq!(
            std::fs::read(out.join("p/zoe/index.html")).unwrap(),
            "<p>Zoé</p>".as_bytes()
        );
        assert_eq!(std::fs::read_dir(outside.join("zoe")).unwrap().count(), 0);
        assert_eq!(
            std::fs::read_to_string(outside.join("secret.json")).unwrap(),
            "482913"
        );

        // A folder made a symlink after the walk is not written through.
        std::fs::remove_dir_all(out.join("p/zoe")).unwrap();
        symlink(outside.join("zoe"), out.join("p/zoe")).unwrap();
        unlink_symlinked_folders(&out, "p/zoe/index.html").unwrap();
        assert!(!out.join("p/zoe").exists());
        assert_eq!(std::fs::read_dir(outside.join("zoe")).unwrap().count(), 0);
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "../x",
            "p/../x",
            "/etc/passwd",
            "p//x",
            ".hidden",
            "a/.git/x",
            "a\\b",
        ] {
            assert!(!is_safe_rel_path(bad), "{bad}");
        }
        assert!(is_safe_rel_path("p/zoe-eloise/index.html"));
        assert!(is_safe_rel_path("assets/site.0123456789.css"));
    }
}
