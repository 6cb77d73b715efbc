//! Removing what the site no longer produces: index pages beyond the last,
//! and fingerprinted assets and photos once past their grace time.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::io_err;
use crate::error::PublishError;

/// Old fingerprinted assets stay this long, so a page loaded just before a
/// theme change still finds its stylesheet.
const ASSET_GRACE: Duration = Duration::from_secs(3600);

pub(super) fn remove_if_present(path: &Path) -> Result<usize, PublishError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(1),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Removes `page/N/` index pages beyond the current page count.
pub(super) fn prune_index_pages(
    out_dir: &Path,
    produced: &BTreeSet<&str>,
) -> Result<usize, PublishError> {
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
pub(super) fn prune_assets(
    out_dir: &Path,
    current: &BTreeSet<&str>,
) -> Result<usize, PublishError> {
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
pub(super) fn looks_like_photo(name: &str) -> bool {
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
