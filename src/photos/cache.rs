//! The photo cache in `state_dir/photos/` (owner-only, like all of
//! `state_dir`): per URL a `<key>.json` entry (validators, when it was
//! last asked, the processed image or why it failed), and per processed
//! image `<stem>-320.jpg` and `<stem>-64.jpg`. Every file is written whole
//! through [`crate::files`]; nothing here touches the network or `out_dir`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::process::{Jpegs, Processed};
use crate::files;
use crate::photo_view::{PAGE_SIZE, THUMB_SIZE};

/// What the cache knows about one URL (`<key>.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) url: String,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    /// Unix seconds of the last answer (or failure).
    pub(crate) checked: u64,
    pub(crate) image: Option<Processed>,
    /// Why the last attempt failed (the image, if any, is an older one).
    pub(crate) error: Option<String>,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The entry name of a URL.
pub(crate) fn url_key(url: &str) -> String {
    format!("{:x}", Sha256::digest(url.as_bytes()))[..32].to_string()
}

pub(crate) fn page_file(stem: &str) -> String {
    format!("{stem}-{PAGE_SIZE}.jpg")
}

pub(crate) fn thumb_file(stem: &str) -> String {
    format!("{stem}-{THUMB_SIZE}.jpg")
}

impl Cache {
    /// The cache of `state_dir`, created owner-only when missing.
    pub(crate) fn open(state_dir: &Path) -> std::io::Result<Cache> {
        let dir = state_dir.join("photos");
        files::create_private_dir(&dir)?;
        Ok(Cache { dir })
    }

    /// Where a cached file is.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The entry of `url`, if the cache has one.
    pub(crate) fn entry(&self, key: &str, url: &str) -> Option<Entry> {
        self.read_entry(key).filter(|e| e.url == url)
    }

    fn read_entry(&self, key: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.dir.join(format!("{key}.json"))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Records an attempt; a cache that cannot be written is logged, not
    /// fatal (the download is simply tried again later).
    pub(crate) fn write_entry(&self, key: &str, entry: &Entry) {
        let result = serde_json::to_vec(entry)
            .map_err(std::io::Error::other)
            .and_then(|bytes| files::write_private(&self.dir, &format!("{key}.json"), &bytes));
        if let Err(e) = result {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the photo cache");
        }
    }

    /// True when both images of `p` are on disk.
    pub(crate) fn has_images(&self, p: &Processed) -> bool {
        self.dir.join(page_file(&p.stem)).is_file() && self.dir.join(thumb_file(&p.stem)).is_file()
    }

    /// Stores both images of a processed photo.
    pub(crate) fn store(&self, p: &Processed, jpegs: &Jpegs) -> std::io::Result<()> {
        files::write_private(&self.dir, &page_file(&p.stem), &jpegs.page)?;
        files::write_private(&self.dir, &thumb_file(&p.stem), &jpegs.thumb)
    }

    /// Removes entries of URLs not in `keep` (no sheet cell names them any
    /// more), and image files no kept entry references.
    pub(crate) fn prune(&self, keep: &HashSet<String>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut stems = HashSet::new();
        let mut images = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(key) = name.strip_suffix(".json") {
                if keep.contains(key) {
                    if let Some(p) = self.read_entry(key).and_then(|e| e.image) {
                        stems.insert(p.stem);
                    }
                } else {
                    let _ = std::fs::remove_file(entry.path());
                }
            } else if name.ends_with(".jpg") {
                images.push((name, entry.path()));
            }
        }
        for (name, path) in images {
            let stem = name.split('-').next().unwrap_or_default();
            if !stems.contains(stem) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
