//! Stateless session tokens: HMAC-SHA256 over (player id, expiry, a keyed
//! fingerprint of that player's current secret, issue time). Any replica
//! with the same key verifies them; a PIN changed in the sheet or a removed
//! player makes them fail at the next snapshot, and a logout ends the ones
//! issued before it (`logout.rs`, by the issue time). The fingerprint is
//! keyed, so a leaked cookie does not let anyone brute-force the PIN
//! offline.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::model::Snapshot;

type HmacSha256 = Hmac<Sha256>;

const KEY_FILE: &str = "session.key";
/// Tokens longer than this are refused before any work.
const MAX_TOKEN: usize = 1024;
/// What a session token's signature is for (the same bytes as before
/// [`SessionKey::tag`] existed, so older tokens stay valid).
const SESSION_PURPOSE: &str = "sheetgen session v1";

/// A token's signed contents, the signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The player's id (not secret: the page slug derives from it).
    pub id: String,
    /// Unix seconds.
    pub expires: u64,
    /// Unix nanoseconds of the login; 0 for tokens made before logouts
    /// were recorded (issue 14).
    pub issued: u64,
    fingerprint: Vec<u8>,
}

/// The signed payload, a JSON array. Tokens issued before issue 14 lack
/// the issue time and stay valid until they expire or their player logs
/// out.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Payload {
    Current(String, u64, String, u64),
    BeforeIssue14(String, u64, String),
}

/// `t` in Unix nanoseconds (0 before 1970, saturating in 2554).
pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The 32-byte signing key. Its `Debug` shows nothing.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

impl SessionKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SessionKey {
        SessionKey(bytes)
    }

    /// `GEN_SESSION_KEY` if set (`configured`: the config's
    /// `api.session_key`), else `state_dir/session.key`, created 0600 with
    /// 32 random bytes on first use.
    pub fn load(state_dir: &Path, configured: Option<&Secret>) -> Result<SessionKey, String> {
        if let Some(value) = configured {
            return SessionKey::from_env_value(value.expose().trim());
        }
        let path = state_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    format!(
                        "{} is not a 32-byte key; delete it to make a new one (logs everyone out)",
                        path.display()
                    )
                })?;
                Ok(SessionKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::files::create_private_dir(state_dir)
                    .map_err(|e| format!("{}: {e}", state_dir.display()))?;
                let mut key = [0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| format!("no randomness for the session key: {e}"))?;
                // 0600 from the start, written whole, then renamed.
                let mut tmp = tempfile::Builder::new()
                    .prefix(".session-key-")
                    .tempfile_in(state_dir)
                    .map_err(|e| format!("{}: {e}", state_dir.display()))?;
                tmp.write_all(&key)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                // Another process may have created it meanwhile: keep theirs.
                match tmp.persist_noclobber(&path) {
                    Ok(_) => Ok(SessionKey(key)),
                    Err(_) => SessionKey::load(state_dir, None),
                }
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Replicas share the key by sharing this string; any string of 32+
    /// characters (e.g. `openssl rand -hex 32`) is hashed into the key.
    fn from_env_value(value: &str) -> Result<SessionKey, String> {
        if value.chars().count() >= 32 {
            return Ok(SessionKey(Sha256::digest(value.as_bytes()).into()));
        }
        Err(
            "GEN_SESSION_KEY is too short: use at least 32 characters (openssl rand -hex 32)"
                .into(),
        )
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; 32 bytes cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// A keyed fingerprint of a player's secret: changes when the PIN does.
    fn fingerprint(&self, id: &str, secret: &str) -> [u8; 16] {
        let mut mac = self.mac();
        mac.update(b"sheetgen secret fingerprint v1\0");
        mac.update(id.as_bytes());
        mac.update(b"\0");
        mac.update(secret.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// HMAC-SHA256 of `data` under this key, labelled with `purpose` so
    /// that a tag made for one use (a session, a device cookie) never
    /// passes for another's.
    pub(super) fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is [`SessionKey::tag`]'s for `purpose` and `data`,
    /// compared in constant time.
    pub(super) fn verify_tag(&self, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    /// A token for `id` whose secret is `secret`, valid for `lifetime`.
    pub fn issue(&self, id: &str, secret: &str, lifetime: Duration, now: SystemTime) -> String {
        let expires = now
            .checked_add(lifetime)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let fp = B64.encode(self.fingerprint(id, secret));
        let payload = Payload::Current(id.to_string(), expires, fp, unix_nanos(now));
        let payload = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let tag = self.tag(SESSION_PURPOSE, payload.as_bytes());
        format!("{payload}.{}", B64.encode(tag))
    }

    /// What an authentic, unexpired token of ours says; nothing about
    /// whether its player still exists (see [`SessionKey::player_of`]).
    pub fn open(&self, token: &str, now: SystemTime) -> Option<Claims> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let (payload, sig) = token.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        if !self.verify_tag(SESSION_PURPOSE, payload.as_bytes(), &sig) {
            return None;
        }
        let (id, expires, fp, issued) =
            match serde_json::from_slice(&B64.decode(payload).ok()?).ok()? {
                Payload::Current(id, expires, fp, issued) => (id, expires, fp, issued),
                // Issued before logouts were recorded, so before any of them.
                Payload::BeforeIssue14(id, expires, fp) => (id, expires, fp, 0),
            };
        let now_secs = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        if expires <= now_secs {
            return None;
        }
        Some(Claims {
            id,
            expires,
            issued,
            fingerprint: B64.decode(fp).ok()?,
        })
    }

    /// The player index `claims` stand for in `snapshot`, if that player
    /// still exists with the same secret.
    pub fn player_of(&self, claims: &Claims, snapshot: &Snapshot) -> Option<usize> {
        let (index, player) = snapshot.player_by_id(&claims.id)?;
        let credential = snapshot.credentials.for_player(index)?;
        let current = self.fingerprint(&player.id, credential.secret.expose());
        bool::from(claims.fingerprint.as_slice().ct_eq(current.as_slice())).then_some(index)
    }

    /// The player index the token stands for in `snapshot`, if the token is
    /// ours, unexpired, and its player still exists with the same secret.
    /// (Logouts are `Auth`'s to check.)
    pub fn verify(&self, token: &str, snapshot: &Snapshot, now: SystemTime) -> Option<usize> {
        self.player_of(&self.open(token, now)?, snapshot)
    }
}
