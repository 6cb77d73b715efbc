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
//!
//! The rooms: [`publication`] (add, compare, finish: the writes),
//! [`twins`] (gzip and comparing with the disk), [`gate`] (secrets),
//! [`players`] (removed player pages), [`symlinks`], [`prune`] (old index
//! pages and assets), [`manifest`] (skipping an unchanged site).

mod gate;
mod manifest;
mod players;
mod prune;
mod publication;
mod symlinks;
#[cfg(test)]
mod tests;
mod twins;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::PublishError;
use crate::render::Artifact;

pub use gate::{SecretGate, refuse_secrets};
pub use manifest::{forget_manifest, manifest_matches, write_manifest_of};
pub(crate) use players::{player_removals, player_slug};
pub use publication::{Publication, Published};
pub(crate) use symlinks::{Reach, symlinks_under, unlink_symlinked_folders};
pub use twins::{gzip, is_compressible};

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

/// Publishes `artifacts` to `opts.out_dir` (see the module doc).
pub fn publish(
    artifacts: &[Artifact],
    opts: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let publication = Publication::new(opts, None);
    artifacts.par_iter().try_for_each(|a| publication.add(a))?;
    Ok(publication.finish()?.report)
}
