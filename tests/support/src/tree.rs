//! File trees as the tests inspect them: every file under a folder, its
//! bytes, gunzipped or not, what identifies its last write (to prove a
//! build rewrote nothing), and the checks every published tree must pass
//! (no secret in any file, `.gz` twins).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Every entry under `dir` (symlinks listed, not followed): its path
/// relative to `dir` (`/`-separated), its path, and whether it is a folder.
fn walk(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let is_dir = entry.file_type().unwrap().is_dir();
            if is_dir {
                stack.push(path.clone());
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path, is_dir));
        }
    }
    out
}

/// Every file under `dir`, by path relative to it (`/`-separated). Symlinks
/// are listed, not followed.
pub fn files(dir: &Path) -> BTreeMap<String, PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|(_, _, is_dir)| !is_dir)
        .map(|(rel, path, _)| (rel, path))
        .collect()
}

/// Every folder under `dir`, relative.
pub fn dirs(dir: &Path) -> BTreeSet<String> {
    walk(dir)
        .into_iter()
        .filter(|(_, _, is_dir)| *is_dir)
        .map(|(rel, _, _)| rel)
        .collect()
}

/// The organiser's page under `out_dir`: the one file a failed cycle may
/// update (issue 16), so the "nothing changed" checks of [`tree_bytes`]
/// and [`stamps`] leave it out; `organiser_page.rs` checks when it changes.
pub const ORGANISER_PAGE: &str = "admin/";

/// Every file under `dir` but the organiser's page ([`ORGANISER_PAGE`]).
fn player_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut all = files(dir);
    all.retain(|rel, _| !rel.starts_with(ORGANISER_PAGE));
    all
}

/// Every file under `dir` with its bytes (the organiser's page apart:
/// [`ORGANISER_PAGE`]).
pub fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    player_files(dir)
        .into_iter()
        .map(|(rel, path)| (rel, std::fs::read(path).unwrap()))
        .collect()
}

/// Whether the file at `path` exists and its text contains `text`.
pub fn file_contains(path: &Path, text: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(text))
}

/// What identifies a file's last write: (mtime s, mtime ns, inode, size).
pub type Stamp = (i64, i64, u64, u64);

/// The [`Stamp`] of every file under `dir` (the organiser's page apart:
/// [`ORGANISER_PAGE`]).
pub fn stamps(dir: &Path) -> BTreeMap<String, Stamp> {
    player_files(dir)
        .into_iter()
        .map(|(rel, path)| {
            let m = std::fs::symlink_metadata(&path).unwrap();
            (rel, (m.mtime(), m.mtime_nsec(), m.ino(), m.size()))
        })
        .collect()
}

/// The files whose stamp differs between `before` and `after`, plus the
/// ones that appeared or went away.
pub fn changed(
    before: &BTreeMap<String, Stamp>,
    after: &BTreeMap<String, Stamp>,
) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

#[track_caller]
pub fn gunzip(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{} is not valid gzip: {e}", path.display()));
    out
}

/// Every file under `dir` as a reader would get it: `.gz` files
/// decompressed, others as they are.
pub fn readable_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .map(|(rel, path)| {
            let bytes = if rel.ends_with(".gz") {
                gunzip(&path)
            } else {
                std::fs::read(&path).unwrap()
            };
            (rel, bytes)
        })
        .collect()
}

/// No file under `dir` (`.gz` decompressed) contains any of `needles`.
#[track_caller]
pub fn assert_absent(dir: &Path, needles: &[String]) {
    let contents = readable_contents(dir);
    assert!(!contents.is_empty(), "{} is empty", dir.display());
    for (rel, bytes) in &contents {
        for needle in needles {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{rel} contains the forbidden value {needle:?}"
            );
        }
        // The raw .gz bytes as well (a stored, uncompressed block would show).
        let raw = std::fs::read(dir.join(rel)).unwrap();
        for needle in needles {
            assert!(
                !contains(&raw, needle.as_bytes()),
                "{rel} (raw) contains the forbidden value {needle:?}"
            );
        }
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every `.html`/`.css`/`.js` has a `.gz` twin that gunzips to the same
/// bytes, and every `.gz` has its plain twin.
#[track_caller]
pub fn assert_gz_twins(dir: &Path) {
    let all = files(dir);
    let mut text = 0;
    for (rel, path) in &all {
        if let Some(plain) = rel.strip_suffix(".gz") {
            assert!(all.contains_key(plain), "{rel} has no plain twin");
            continue;
        }
        if [".html", ".css", ".js"].iter().any(|e| rel.ends_with(e)) {
            text += 1;
            let gz = format!("{rel}.gz");
            let gz_path = all
                .get(&gz)
                .unwrap_or_else(|| panic!("{rel} has no .gz twin"));
            assert!(
                gunzip(gz_path) == std::fs::read(path).unwrap(),
                "{gz} does not gunzip to the bytes of {rel}"
            );
        }
    }
    assert!(text > 0, "no text files under {}", dir.display());
}

/// The slugs that have a page: `p/<slug>/index.html`.
pub fn player_slugs(out: &Path) -> BTreeSet<String> {
    files(out)
        .keys()
        .filter_map(|rel| {
            rel.strip_prefix("p/")?
                .strip_suffix("/index.html")
                .map(str::to_string)
        })
        .collect()
}

/// `[a-z0-9-]+`, as a slug must be.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `chmod MODE PATH`.
pub fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
