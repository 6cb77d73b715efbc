//! The manifest: what the last complete publish left on disk, so that an
//! unchanged site can skip rendering.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rayon::prelude::*;

use super::{Published, is_compressible, is_safe_rel_path};

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
pub(super) fn published_files<'p>(paths: impl Iterator<Item = &'p str>) -> Vec<String> {
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

/// Records a complete publish, a [`Publication`](super::Publication)'s result (best effort:
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
