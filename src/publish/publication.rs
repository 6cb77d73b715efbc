//! A [`Publication`]: artifacts checked and compared as they come, then
//! written in order (assets, players, other pages, the index last) through
//! temp files renamed into place, and what the site no longer has removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rayon::prelude::*;

use super::manifest::published_files;
use super::prune::{prune_assets, prune_index_pages, remove_if_present};
use super::symlinks::remove_symlink;
use super::twins::{file_matches, gunzip, gz_matches};
use super::{
    PUBLIC_MODE, PublishOptions, PublishReport, Reach, SecretGate, gzip, io_err, is_compressible,
    is_safe_rel_path, player_removals, player_slug, symlinks_under, unlink_symlinked_folders,
    unsafe_path,
};
use crate::error::PublishError;
use crate::render::{Artifact, ArtifactKind};

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
    /// included (for [`write_manifest_of`](super::write_manifest_of)).
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
