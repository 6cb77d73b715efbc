//! The last good data, kept in `state_dir` so that a restarted `gen watch`
//! can check logins before its first fetch succeeds (Google may be down at
//! boot). The file holds PINs: it is created 0600, written whole through a
//! temp file and a rename, and never placed under `out_dir`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::table::RawTables;

const FILE: &str = "last-good.json";
const VERSION: u32 = 1;
/// Temp files of [`stage`]; one left by a killed process is removed by the
/// next [`stage`].
const TEMP_PREFIX: &str = ".last-good-";

#[derive(Deserialize)]
struct Stored {
    version: u32,
    /// Unix seconds of the fetch.
    fetched_at: u64,
    tables: RawTables,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    version: u32,
    fetched_at: u64,
    tables: &'a RawTables,
}

impl<'a> StoredRef<'a> {
    fn new(raw: &'a RawTables, fetched_at: SystemTime) -> StoredRef<'a> {
        StoredRef {
            version: VERSION,
            fetched_at: fetched_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            tables: raw,
        }
    }
}

pub(crate) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The bytes [`stage`] writes, whole (tests compare them).
#[cfg(test)]
fn encode(raw: &RawTables, fetched_at: SystemTime) -> Vec<u8> {
    serde_json::to_vec(&StoredRef::new(raw, fetched_at)).unwrap_or_default()
}

/// The last good data of a cycle in progress, already on disk in a temp
/// file (0600) next to its place: [`Staged::save`] renames it there once
/// the cycle succeeded; dropped, it is removed. Staging writes the JSON
/// as it is encoded, so the data is never held twice in memory (at 10,000
/// players its JSON is tens of MB; issue 15).
#[derive(Debug)]
pub(crate) struct Staged {
    temp: tempfile::TempPath,
    target: PathBuf,
}

/// Writes `raw` to a temp file in `state_dir` (see [`Staged`]), made while
/// the raw tables still exist (the snapshot takes them over).
pub(crate) fn stage(
    state_dir: &Path,
    raw: &RawTables,
    fetched_at: SystemTime,
) -> std::io::Result<Staged> {
    crate::files::create_private_dir(state_dir)?;
    remove_stale_temps(state_dir);
    // tempfile creates files 0600, which is what this file must be.
    let temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(state_dir)?;
    let mut out = std::io::BufWriter::new(temp);
    serde_json::to_writer(&mut out, &StoredRef::new(raw, fetched_at))?;
    out.flush()?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    Ok(Staged {
        temp: temp.into_temp_path(),
        target: path(state_dir),
    })
}

impl Staged {
    /// Puts the staged data in place of the last good data.
    pub(crate) fn save(self) -> std::io::Result<()> {
        self.temp.persist(&self.target).map_err(|e| e.error)
    }
}

/// Temp files a killed gen left behind (one gen per `state_dir`).
fn remove_stale_temps(state_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Reads the last good data, if there is a readable one.
pub(crate) fn load(state_dir: &Path) -> Result<Option<(RawTables, SystemTime)>, String> {
    let p = path(state_dir);
    let file = match std::fs::File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    // Parsed as it is read: the file is not held in memory next to the
    // tables it decodes to.
    let stored: Stored = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
        format!(
            "{}: not a snapshot this version can read ({e})",
            p.display()
        )
    })?;
    if stored.version != VERSION {
        return Err(format!(
            "{}: unknown version {}",
            p.display(),
            stored.version
        ));
    }
    Ok(Some((
        stored.tables,
        UNIX_EPOCH + Duration::from_secs(stored.fetched_at),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawTables {
        let table = crate::source::table_from_rows(
            "Players",
            "players.csv",
            [
                (1, vec!["id".to_string(), "pin".into()]),
                (2, vec!["a1".into(), "482913".into()]),
            ],
        );
        RawTables {
            tabs: [("Players".to_string(), table)].into(),
        }
    }

    #[test]
    fn staged_data_is_private_and_in_place_only_once_saved() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let state = root.path().join("state");
        let at = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let staged = stage(&state, &raw(), at).unwrap();
        assert!(load(&state).unwrap().is_none(), "in place before save");
        staged.save().unwrap();
        let (tables, fetched_at) = load(&state).unwrap().unwrap();
        assert_eq!(tables.tabs, raw().tabs);
        assert_eq!(fetched_at, at);
        let mode = std::fs::metadata(path(&state))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        // Same bytes as `encode`, nothing left beside the file.
        assert_eq!(std::fs::read(path(&state)).unwrap(), encode(&raw(), at));
        drop(stage(&state, &raw(), at).unwrap());
        let names: Vec<_> = std::fs::read_dir(&state).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
