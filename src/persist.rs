//! The last good data, kept in `state_dir` so that a restarted `gen watch`
//! can check logins before its first fetch succeeds (Google may be down at
//! boot). The file holds PINs: it is created 0600, written whole through a
//! temp file and a rename, and never placed under `out_dir`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::table::RawTables;

const FILE: &str = "last-good.json";
const VERSION: u32 = 1;

#[derive(Deserialize)]
struct Stored {
    version: u32,
    /// Unix seconds of the fetch.
    fetched_at: u64,
    tables: RawTables,
}

pub(crate) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The bytes [`save`] writes, made while the raw tables still exist (the
/// snapshot takes them over).
pub(crate) fn encode(raw: &RawTables, fetched_at: SystemTime) -> Vec<u8> {
    #[derive(Serialize)]
    struct StoredRef<'a> {
        version: u32,
        fetched_at: u64,
        tables: &'a RawTables,
    }
    serde_json::to_vec(&StoredRef {
        version: VERSION,
        fetched_at: fetched_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        tables: raw,
    })
    .unwrap_or_default()
}

/// Writes the last good data (bytes from [`encode`]; 0600, atomically).
pub(crate) fn save(state_dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::write_private(state_dir, FILE, bytes)
}

/// Reads the last good data, if there is a readable one.
pub(crate) fn load(state_dir: &Path) -> Result<Option<(RawTables, SystemTime)>, String> {
    let p = path(state_dir);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| {
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
