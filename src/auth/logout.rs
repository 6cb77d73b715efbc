//! Logouts that end sessions (issue 14). Session cookies are stateless, so
//! a logout records, per player, "sessions issued up to now are over", and
//! every session check consults it: the player's cookies on every device
//! stop working at once. Kept in `state_dir/logouts.json` (0600, written
//! whole through a temp file and a rename) so a restart keeps them. Bounded:
//! one entry per player at most, each dropped once every session it ends
//! has expired anyway. Holds player ids and times, never a token or a PIN.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::session::{Claims, unix_nanos};

const FILE: &str = "logouts.json";
const VERSION: u32 = 1;
/// Entries at most. Only a token we signed can add one, so in practice this
/// is the number of players who logged out within a session lifetime; the
/// cap only guards the file's size (about 80 bytes an entry).
const MAX_ENTRIES: usize = 100_000;

/// One player's logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Ended {
    /// Sessions issued at or before this Unix nanosecond are over.
    before: u64,
    /// Unix seconds after which every session it ends has expired: the
    /// entry can go.
    until: u64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    /// Player id → logout.
    players: BTreeMap<String, Ended>,
}

pub struct Logouts {
    path: PathBuf,
    state_dir: PathBuf,
    ended: RwLock<BTreeMap<String, Ended>>,
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Logouts {
    /// The logouts kept in `state_dir`, those still meaningful at `now`.
    pub fn load(state_dir: &Path, now: SystemTime) -> Result<Logouts, String> {
        let path = state_dir.join(FILE);
        let mut ended = match std::fs::read(&path) {
            Ok(bytes) => {
                let stored: Stored = serde_json::from_slice(&bytes)
                    .ok()
                    .filter(|s: &Stored| s.version == VERSION)
                    .ok_or_else(|| {
                        format!(
                            "{} is not a logout list this version can read; delete it to start \
                             over (sessions ended by a logout would work again until they expire)",
                            path.display()
                        )
                    })?;
                stored.players
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let now = unix_secs(now);
        ended.retain(|_, e| e.until > now);
        Ok(Logouts {
            path,
            state_dir: state_dir.to_path_buf(),
            ended: RwLock::new(ended),
        })
    }

    /// Whether a logout ended the session `claims` stand for.
    pub fn ended(&self, claims: &Claims) -> bool {
        let ended = self
            .ended
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ended
            .get(&claims.id)
            .is_some_and(|e| claims.issued <= e.before)
    }

    /// Ends every session of `claims`' player issued up to `now`, for
    /// sessions lasting `lifetime`. In force at once; the error says the
    /// file could not be written (then a restart would forget it).
    pub fn record(
        &self,
        claims: &Claims,
        lifetime: Duration,
        now: SystemTime,
    ) -> Result<(), String> {
        let secs = unix_secs(now);
        // Sessions issued before now expire by now + lifetime, or later if
        // the lifetime was longer when they were issued (this one's says).
        let until = claims.expires.max(secs.saturating_add(lifetime.as_secs()));
        let mut ended = self
            .ended
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = Ended {
            before: unix_nanos(now),
            until,
        };
        let merged = match ended.get(&claims.id) {
            Some(old) => Ended {
                before: old.before.max(entry.before),
                until: old.until.max(entry.until),
            },
            None => entry,
        };
        ended.insert(claims.id.clone(), merged);
        ended.retain(|_, e| e.until > secs);
        if ended.len() > MAX_ENTRIES {
            // The ones whose sessions expire soonest go first.
            let mut by_until: Vec<(u64, String)> =
                ended.iter().map(|(k, e)| (e.until, k.clone())).collect();
            by_until.sort();
            let excess = ended.len() - MAX_ENTRIES;
            for (_, k) in by_until.into_iter().take(excess) {
                ended.remove(&k);
            }
        }
        // Written while the lock is held, so files land in logout order.
        let bytes = serde_json::to_vec(&Stored {
            version: VERSION,
            players: ended.clone(),
        })
        .map_err(|e| e.to_string())?;
        self.save(&bytes)
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn save(&self, bytes: &[u8]) -> std::io::Result<()> {
        crate::files::create_private_dir(&self.state_dir)?;
        // 0600, and the new list appears whole or not at all.
        crate::files::write_private(&self.state_dir, FILE, bytes)
    }

    /// Entries kept (tests, bounds).
    pub fn len(&self) -> usize {
        self.ended
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::auth::session::SessionKey;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn claims(key: &SessionKey, id: &str, at: SystemTime) -> Claims {
        key.open(&key.issue(id, "482913", DAY, at), at).unwrap()
    }

    #[test]
    fn a_logout_ends_earlier_sessions_only_and_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let key = SessionKey::from_bytes([3; 32]);
        let t = SystemTime::now();
        let logouts = Logouts::load(dir.path(), t).unwrap();
        let phone = claims(&key, "zoe", t);
        let laptop = claims(&key, "zoe", t + Duration::from_secs(1));
        let other = claims(&key, "bob", t);
        assert!(!logouts.ended(&phone));
        logouts
            .record(&laptop, DAY, t + Duration::from_secs(2))
            .unwrap();
        assert!(logouts.ended(&phone) && logouts.ended(&laptop));
        assert!(!logouts.ended(&other));
        let again = claims(&key, "zoe", t + Duration::from_secs(3));
        assert!(!logouts.ended(&again));

        let reloaded = Logouts::load(dir.path(), t + Duration::from_secs(4)).unwrap();
        assert!(reloaded.ended(&phone) && !reloaded.ended(&again) && !reloaded.ended(&other));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Once every session it ended has expired, the entry goes.
        let later = Logouts::load(dir.path(), t + DAY * 2).unwrap();
        assert!(later.is_empty());
    }

    #[test]
    fn tokens_from_before_issue_14_end_at_their_players_logout() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        use hmac::Mac;
        let dir = tempfile::tempdir().unwrap();
        let key_bytes = [5; 32];
        let key = SessionKey::from_bytes(key_bytes);
        let t = SystemTime::now();
        // A token as made before issue 14: (id, expires, fingerprint).
        let current = key.issue("zoe", "482913", DAY, t);
        let fields: Vec<serde_json::Value> =
            serde_json::from_slice(&B64.decode(current.split_once('.').unwrap().0).unwrap())
                .unwrap();
        assert_eq!(fields.len(), 4);
        let payload = B64.encode(serde_json::to_vec(&fields[..3]).unwrap());
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key_bytes).unwrap();
        mac.update(b"sheetgen session v1\0");
        mac.update(payload.as_bytes());
        let old = format!("{payload}.{}", B64.encode(mac.finalize().into_bytes()));
        let old = key.open(&old, t).expect("an old token still opens");
        assert_eq!(old.issued, 0);
        let logouts = Logouts::load(dir.path(), t).unwrap();
        assert!(!logouts.ended(&old));
        logouts.record(&claims(&key, "zoe", t), DAY, t).unwrap();
        assert!(logouts.ended(&old));
    }

    #[test]
    fn a_damaged_file_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let err = Logouts::load(dir.path(), SystemTime::now()).err().unwrap();
        assert!(
            err.contains("logouts.json") && err.contains("delete it"),
            "{err}"
        );
    }

    #[test]
    fn the_list_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let key = SessionKey::from_bytes([3; 32]);
        let t = SystemTime::now();
        let logouts = Logouts::load(dir.path(), t).unwrap();
        // Entries past their sessions' lifetime are dropped at each write.
        for i in 0..50 {
            let at = t + Duration::from_secs(i * 3600);
            logouts
                .record(&claims(&key, &format!("p{i}"), at), DAY, at)
                .unwrap();
        }
        assert!(logouts.len() <= 25, "{} entries", logouts.len());
        let size = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
        assert!(size < 25 * 100, "{size} bytes");
    }
}
