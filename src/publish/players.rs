//! The players' folders under `out_dir/p/`: which pages a publish removes,
//! and when that is a mass removal to refuse.

use std::collections::BTreeSet;
use std::path::Path;

use super::{io_err, is_safe_rel_path};
use crate::error::PublishError;
use crate::render::ArtifactKind;

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
