//! The file helpers every writer uses (a leaf: imports nothing of ours).
//! A file is never written in place: a temp file on the same filesystem is
//! filled, given its mode, then renamed over the target, so a reader sees
//! the old bytes or the new ones, never a torn file. Private folders and
//! files (everything under `state_dir`) are created 0700 and 0600.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its missing parents) owner-only, if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Writes `dir/name` with mode 0600 through a temp file in `dir`.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    replace(&dir.join(name), bytes, dir, 0o600)
}

/// Writes `target` with `mode` through a temp file made in `temp_dir`,
/// which must be on the same filesystem as `target` (a rename never
/// crosses filesystems). The temp file never shows up under a served
/// folder when `temp_dir` is outside it.
pub(crate) fn replace(
    target: &Path,
    bytes: &[u8],
    temp_dir: &Path,
    mode: u32,
) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(temp_dir)?;
    tmp.write_all(bytes)?;
    // tempfile creates 0600; published files are read by nginx.
    if mode != 0o600 {
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_folders_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/photos");
        create_private_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        write_private(&dir, "key", b"one").unwrap();
        write_private(&dir, "key", b"two").unwrap();
        assert_eq!(std::fs::read(dir.join("key")).unwrap(), b"two");
        assert_eq!(mode(&dir.join("key")), 0o600);
        // Nothing left behind but the file.
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1);
        replace(&root.path().join("page.html"), b"x", root.path(), 0o644).unwrap();
        assert_eq!(mode(&root.path().join("page.html")), 0o644);
    }
}
