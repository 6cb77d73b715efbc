//! When the data last changed (issue 17): the time the pages' "data as
//! of" line shows. It moves only when the fetched data's digest does, so
//! a cycle, a `gen build` or a restarted `gen watch` that fetches the same
//! data renders the same pages and writes nothing. Kept in
//! `state_dir/data-changed.json` (0600): a digest and a time, a few dozen
//! bytes read at start, where the last good data (`persist`) is tens of MB
//! and only `gen watch` writes it. A leaf: imports only [`crate::files`].

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

const FILE: &str = "data-changed.json";

#[derive(Serialize, Deserialize)]
struct Stored {
    /// Hex SHA-256 of the data as fetched (`RawTables::digest`).
    digest: String,
    /// Unix seconds of the first fetch that saw this data.
    changed_at: u64,
}

/// The digest and time a previous pass recorded, if any (an unreadable
/// file counts as none: the next change time is then the fetch's).
fn read(state_dir: &Path) -> Option<([u8; 32], SystemTime)> {
    let bytes = std::fs::read(state_dir.join(FILE)).ok()?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(&stored.digest, &mut digest).ok()?;
    Some((digest, UNIX_EPOCH + Duration::from_secs(stored.changed_at)))
}

/// Whole seconds: what the file keeps, so that a time read back equals
/// the one rendered before.
fn whole_seconds(at: SystemTime) -> SystemTime {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// What a pass remembers for the next one, so that a loop of cycles reads
/// the file once.
pub(crate) type Memory = Option<([u8; 32], SystemTime)>;

/// When the data of `digest` first appeared: the time recorded with the
/// same digest (in `memory`, else in `state_dir`), or else `now`, which is
/// then recorded when `record` (a build or watch; `gen check` writes
/// nothing). A failed write is logged: the next pass then moves the time
/// once more, which costs a rewrite, never a wrong page.
pub(crate) fn changed_at(
    state_dir: &Path,
    digest: [u8; 32],
    now: SystemTime,
    memory: &mut Memory,
    record: bool,
) -> SystemTime {
    if let Some((seen, at)) = *memory
        && seen == digest
    {
        return at;
    }
    if let Some((seen, at)) = read(state_dir)
        && seen == digest
    {
        *memory = Some((digest, at));
        return at;
    }
    let at = whole_seconds(now);
    if record {
        let stored = Stored {
            digest: hex::encode(digest),
            changed_at: at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        };
        let written = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                crate::files::create_private_dir(state_dir)?;
                crate::files::write_private(state_dir, FILE, &bytes)
            });
        if let Err(e) = written {
            tracing::warn!(
                event = "persist_failed",
                "cannot record when the data changed in {}: {e}",
                state_dir.join(FILE).display()
            );
        }
        *memory = Some((digest, at));
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_moves_only_with_the_digest_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let t = |s| UNIX_EPOCH + Duration::from_millis(s);
        let mut memory = None;
        let first = changed_at(&state, [1; 32], t(1_000_500), &mut memory, true);
        assert_eq!(first, t(1_000_000), "whole seconds");
        assert_eq!(
            changed_at(&state, [1; 32], t(9_000_000), &mut memory, true),
            first
        );
        // A restart: no memory, the file says when.
        let mut fresh = None;
        assert_eq!(
            changed_at(&state, [1; 32], t(9_000_000), &mut fresh, true),
            first
        );
        // New data: now, recorded.
        assert_eq!(
            changed_at(&state, [2; 32], t(5_000_000), &mut fresh, true),
            t(5_000_000)
        );
        assert_eq!(
            changed_at(&state, [2; 32], t(7_000_000), &mut None, true),
            t(5_000_000)
        );
        // `gen check` records nothing.
        assert_eq!(
            changed_at(&state, [3; 32], t(8_000_000), &mut None, false),
            t(8_000_000)
        );
        assert_eq!(
            changed_at(&state, [2; 32], t(9_000_000), &mut None, false),
            t(5_000_000)
        );
    }
}
