//! Keeping each map (addresses, names, devices) under [`MAX_ENTRIES`],
//! evicting first what an attacker's flood made.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

use super::MAX_ENTRIES;

/// What [`entry`] needs of an entry: how to make one, and when it
/// expires.
pub(super) trait Tracked {
    /// An entry with nothing held yet, made at `now`.
    fn new(now: Instant) -> Self;

    /// When it has nothing left to remember (stale from then on); the
    /// ones that expire soonest go first when a map is full.
    fn expires(&self) -> Instant;
}

/// Keeps a map under [`MAX_ENTRIES`]: stale entries first, then the tenth
/// that would be forgotten soonest. By that order, an attacker who floods
/// a map with fresh entries (invented names, new addresses) evicts their
/// own before a locked name or a player's networks, which they would need
/// as many long-held entries to outlast.
fn make_room<K: Eq + Hash + Clone, E: Tracked>(map: &mut HashMap<K, E>, now: Instant) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, e| e.expires() > now);
    if map.len() >= MAX_ENTRIES {
        let mut by_expiry: Vec<(Instant, K)> =
            map.iter().map(|(k, e)| (e.expires(), k.clone())).collect();
        by_expiry.sort_by_key(|(expires, _)| *expires);
        for (_, k) in by_expiry.into_iter().take(MAX_ENTRIES / 10) {
            map.remove(&k);
        }
    }
}

/// The entry for `key`, to update: made (after making room) when absent.
/// Every map (addresses, names, devices) gains entries only through here.
pub(super) fn entry<K: Eq + Hash + Clone, E: Tracked>(
    map: &mut HashMap<K, E>,
    key: K,
    now: Instant,
) -> &mut E {
    if !map.contains_key(&key) {
        make_room(map, now);
    }
    map.entry(key).or_insert_with(|| E::new(now))
}
