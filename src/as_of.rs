//! When the data last changed (issue 17): the time the pages' "data as
//! of" line shows. It moves only when the fetched data's digest does, so
//! a cycle, a `gen build` or a restarted `gen watch` that fetches the same
//! data renders the same pages and writes nothing. Kept in
//! `state_dir/data-changed.json` (0600): a digest and a time, a few dozen
//! bytes read at start, where the last good data (`persist`) is tens of MB
//! and only `gen watch` writes it. A leaf: imports only [`crate::files`].
//!
//! Each page shows the time ITS content last changed ([`PageTimes`]): a
//! sheet edit that touches one player rewrites that player's page and the
//! roster pages it shows on, not every page of the site.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
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

const PAGES_FILE: &str = "page-times.json";

/// What each page's "data as of" says: per page (path under `out_dir`),
/// the digest of the page as rendered without its time, and the time that
/// page first showed that content. A page rendered again with the same
/// content keeps its time, so its bytes stay the same and it is not
/// rewritten; a page whose content changed shows when the data changed.
/// Kept in `state_dir/page-times.json` (0600), written after a publish
/// only when it changed.
#[derive(Debug, Default)]
pub(crate) struct PageTimes {
    before: HashMap<String, (String, u64)>,
    /// This pass's pages, filled as they render (from several threads).
    now: Mutex<HashMap<String, (String, u64)>>,
}

impl PageTimes {
    /// What the last publish recorded (none: every page takes the data's
    /// time).
    pub(crate) fn load(state_dir: &Path) -> PageTimes {
        let before = std::fs::read(state_dir.join(PAGES_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        PageTimes {
            before,
            now: Mutex::default(),
        }
    }

    /// The time page `path` shows for content `digest`: the time recorded
    /// with that digest, else `changed` (when the data changed).
    pub(crate) fn time_of(&self, path: &str, digest: &str, changed: SystemTime) -> SystemTime {
        let secs = match self.before.get(path) {
            Some((seen, secs)) if seen == digest => *secs,
            _ => whole_seconds(changed)
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_string(), (digest.to_string(), secs));
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Records this pass's pages once they are published, if they differ
    /// from what was recorded. Best effort, logged: a lost record moves
    /// the changed pages' time once more at the next render.
    pub(crate) fn save(&self, state_dir: &Path) {
        let now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *now == self.before || now.is_empty() {
            return;
        }
        let written = serde_json::to_vec(&*now)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                crate::files::create_private_dir(state_dir)?;
                crate::files::write_private(state_dir, PAGES_FILE, &bytes)
            });
        if let Err(e) = written {
            tracing::warn!(
                event = "persist_failed",
                "cannot record when each page changed in {}: {e}",
                state_dir.join(PAGES_FILE).display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_its_time_while_its_content_does() {
        let dir = tempfile::tempdir().unwrap();
        let t = |s| UNIX_EPOCH + Duration::from_secs(s);
        let first = PageTimes::load(dir.path());
        assert_eq!(first.time_of("p/a/index.html", "aaa", t(100)), t(100));
        assert_eq!(first.time_of("p/b/index.html", "bbb", t(100)), t(100));
        first.save(dir.path());
        let second = PageTimes::load(dir.path());
        // Same content: its first time; changed content: the new one.
        assert_eq!(second.time_of("p/a/index.html", "aaa", t(200)), t(100));
        assert_eq!(second.time_of("p/b/index.html", "BBB", t(200)), t(200));
        second.save(dir.path());
        let third = PageTimes::load(dir.path());
        assert_eq!(third.time_of("p/b/index.html", "BBB", t(300)), t(200));
    }

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
