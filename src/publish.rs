//! The only writer under `out_dir`. Every artifact is compared with what is
//! really on disk; only changed bytes are written, each through a temp file on
//! the same filesystem (outside the served tree) renamed into place: assets,
//! player pages, other pages, the index last, removals after. A reader sees
//! the old file or the new one, never a torn one. No per-file fsync: the site
//! is derived data and the next cycle repairs whatever a crash left behind.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
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

/// A file to write: the page's own bytes are borrowed from its artifact,
/// only the gzip twin is new memory.
struct PendingWrite<'a> {
    rel: Cow<'a, str>,
    kind: ArtifactKind,
    bytes: Cow<'a, [u8]>,
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

/// The last gate before anything is written (issue 14): no artifact may
/// hold a secret of `secrets` as a whole token. Text artifacts are scanned
/// as rendered; their `.gz` twins are `gzip` of exactly those bytes (see
/// [`plan_one`]), so scanning the plain bytes covers both, and a deflate
/// stream would hide a PIN from a byte scan anyway. Binary artifacts
/// (re-encoded photos) are skipped: they hold pixels, and megabytes of JPEG
/// would sooner or later contain six digit bytes between two non-letters by
/// chance and refuse every cycle. On a hit, `Err` names the pages and the
/// rows of `tab` whose secret they hold.
pub fn refuse_secrets(
    artifacts: &[Artifact],
    secrets: &SecretIndex,
    tab: &str,
    column: &str,
) -> Result<(), PublishError> {
    if secrets.is_empty() {
        return Ok(());
    }
    let mut hits: Vec<(&str, usize)> = artifacts
        .par_iter()
        .filter(|a| is_compressible(&a.path) || std::str::from_utf8(&a.bytes).is_ok())
        .filter_map(|a| Some((a.path.as_str(), secrets.find_any(&a.bytes)?.row)))
        .collect();
    if hits.is_empty() {
        return Ok(());
    }
    hits.sort();
    const SHOWN: usize = 5;
    let mut pages: Vec<&str> = hits.iter().map(|(p, _)| *p).take(SHOWN).collect();
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
        tab: tab.to_string(),
        rows: rows_text,
        column: column.to_string(),
    })
}

/// Publishes `artifacts` to `opts.out_dir` (see the module doc).
pub fn publish(
    artifacts: &[Artifact],
    opts: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let out_dir = &opts.out_dir;
    for a in artifacts {
        if !is_safe_rel_path(&a.path) {
            return Err(PublishError::Unsafe(format!(
                "refusing to write {:?}: not a plain relative path",
                a.path
            )));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;

    // Decide removals first: a refused mass removal must change nothing.
    let new_slugs: BTreeSet<&str> = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Player)
        .filter_map(|a| a.path.strip_prefix("p/")?.strip_suffix("/index.html"))
        .collect();
    let existing = existing_player_slugs(out_dir)?;
    let gone: Vec<&String> = existing
        .iter()
        .filter(|s| !new_slugs.contains(s.as_str()))
        .collect();
    if !opts.allow_mass_removal && !existing.is_empty() && gone.len() * 2 > existing.len() {
        return Err(PublishError::MassRemoval {
            removing: gone.len(),
            existing: existing.len(),
        });
    }

    // Compare with the disk and compress what changed, on every core.
    let planned: Vec<(Vec<PendingWrite<'_>>, usize)> =
        artifacts.par_iter().map(|a| plan_one(out_dir, a)).collect();
    let mut report = PublishReport::default();
    let mut writes = Vec::new();
    for (w, unchanged) in planned {
        report.unchanged += unchanged;
        writes.extend(w);
    }
    // Assets, players, other pages, the index last; files of one kind are
    // independent, so they are written on every core (creating files is
    // what a cold build spends its time on).
    writes.sort_by_key(|w| w.kind);
    if !writes.is_empty() {
        prepare_tmp_dir(&opts.tmp_dir)?;
    }
    for group in writes.chunk_by(|a, b| a.kind == b.kind) {
        group
            .par_iter()
            .try_for_each(|w| write_atomically(out_dir, &opts.tmp_dir, &w.rel, &w.bytes))?;
        report.written += group.len();
    }

    for slug in gone {
        let dir = out_dir.join("p").join(slug);
        for name in ["index.html", "index.html.gz"] {
            report.removed += remove_if_present(&dir.join(name))?;
        }
        // Anything else someone put there stays, and so does the folder.
        let _ = std::fs::remove_dir(&dir);
    }
    report.removed += prune_index_pages(out_dir, artifacts)?;
    report.removed += prune_assets(out_dir, artifacts)?;
    Ok(report)
}

/// What must be written for one artifact, and how many files were already
/// right on disk.
fn plan_one<'a>(out_dir: &Path, a: &'a Artifact) -> (Vec<PendingWrite<'a>>, usize) {
    let path = out_dir.join(&a.path);
    let same = std::fs::read(&path).is_ok_and(|disk| disk == a.bytes);
    let mut writes = Vec::new();
    let mut unchanged = 0;
    if same {
        unchanged += 1;
    } else {
        writes.push(PendingWrite {
            rel: Cow::Borrowed(&a.path),
            kind: a.kind,
            bytes: Cow::Borrowed(&a.bytes),
        });
    }
    if is_compressible(&a.path) {
        let gz_rel = format!("{}.gz", a.path);
        if same && gz_matches(&out_dir.join(&gz_rel), &a.bytes) {
            unchanged += 1;
        } else {
            // Either twin may be renamed first: each is whole, and the next
            // cycle compares both.
            writes.insert(
                0,
                PendingWrite {
                    rel: Cow::Owned(gz_rel),
                    kind: a.kind,
                    bytes: Cow::Owned(gzip(&a.bytes)),
                },
            );
        }
    }
    (writes, unchanged)
}

/// Creates the temp folder and clears what an interrupted run left there.
fn prepare_tmp_dir(tmp: &Path) -> Result<(), PublishError> {
    std::fs::create_dir_all(tmp).map_err(io_err(tmp))?;
    for entry in std::fs::read_dir(tmp).map_err(io_err(tmp))? {
        let entry = entry.map_err(io_err(tmp))?;
        if entry.file_name().to_string_lossy().starts_with(".publish-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn write_atomically(
    out_dir: &Path,
    tmp_dir: &Path,
    rel: &str,
    bytes: &[u8],
) -> Result<(), PublishError> {
    let dest = out_dir.join(rel);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".publish-")
        .tempfile_in(tmp_dir)
        .map_err(io_err(tmp_dir))?;
    tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
    // Temp files are created 0600; the web server must read what we publish.
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io_err(&dest))?;
    tmp.persist(&dest).map_err(|e| PublishError::Io {
        path: dest.clone(),
        source: e.error,
    })?;
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
fn prune_index_pages(out_dir: &Path, artifacts: &[Artifact]) -> Result<usize, PublishError> {
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
        if artifacts.iter().any(|a| a.path == rel) {
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
fn prune_assets(out_dir: &Path, artifacts: &[Artifact]) -> Result<usize, PublishError> {
    let current: BTreeSet<&str> = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Asset)
        .map(|a| a.path.as_str())
        .collect();
    let mut removed = 0;
    for (folder, fingerprinted) in [
        ("assets", looks_fingerprinted as fn(&str) -> bool),
        ("assets/photos", looks_like_photo),
    ] {
        removed += prune_folder(out_dir, folder, &current, fingerprinted)?;
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

fn published_files(artifacts: &[Artifact]) -> Vec<String> {
    artifacts
        .iter()
        .flat_map(|a| {
            let gz = is_compressible(&a.path).then(|| format!("{}.gz", a.path));
            std::iter::once(a.path.clone()).chain(gz)
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

/// Records a complete publish (best effort: without it the next run just
/// compares everything).
pub fn write_manifest(state_dir: &Path, out_dir: &Path, inputs: &str, artifacts: &[Artifact]) {
    let files: Option<Vec<_>> = published_files(artifacts)
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
    let Ok(mut tmp) = tempfile::Builder::new()
        .prefix(".published-")
        .tempfile_in(state_dir)
    else {
        return;
    };
    if tmp.write_all(&bytes).is_ok() {
        let _ = tmp.persist(state_dir.join(MANIFEST));
    }
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
