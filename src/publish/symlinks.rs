//! Symlinks under `out_dir`: gen is the only writer of `out_dir` (issue
//! 23), so each one was planted; found without following, and removed.

use std::path::{Path, PathBuf};

use super::io_err;
use crate::error::PublishError;

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
pub(super) fn remove_symlink(out_dir: &Path, rel: &Path) -> Result<bool, PublishError> {
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
