//! In-memory login limits, bounded in size. Per client address: too many
//! failures in a window → 429 with `Retry-After`. Per login name: after a
//! few failures, a lock that grows; while it holds, every attempt on that
//! name (right PIN or not, existing name or not) answers exactly like a wrong
//! PIN, so the lock never reveals whether a name exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tracked addresses and names at most; older entries are dropped first.
const MAX_ENTRIES: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures on one name before it locks.
const NAME_FREE_FAILURES: u32 = 5;
const NAME_LOCK_BASE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

pub struct LoginLimits {
    /// Failures per address in a window before 429; 0 disables the limit
    /// (benchmarks).
    per_address: u32,
    addresses: Mutex<HashMap<String, Entry>>,
    names: Mutex<HashMap<String, Entry>>,
}

/// What to do with an attempt before checking the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// The name is locked: answer like a wrong PIN without checking.
    NameLocked,
    /// The address is over its limit: 429 with this many seconds to wait.
    AddressLimited(u64),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps a map within [`MAX_ENTRIES`]: expired windows first, then the
/// oldest.
fn make_room(map: &mut HashMap<String, Entry>, now: Instant) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, e| {
        now.duration_since(e.window_start) < WINDOW || e.locked_until.is_some_and(|t| t > now)
    });
    if map.len() >= MAX_ENTRIES {
        let mut ages: Vec<(Instant, String)> = map
            .iter()
            .map(|(k, e)| (e.window_start, k.clone()))
            .collect();
        ages.sort();
        for (_, k) in ages.into_iter().take(MAX_ENTRIES / 10) {
            map.remove(&k);
        }
    }
}

fn current(map: &HashMap<String, Entry>, key: &str, now: Instant) -> Option<Entry> {
    map.get(key).copied().filter(|e| {
        now.duration_since(e.window_start) < WINDOW || e.locked_until.is_some_and(|t| t > now)
    })
}

impl LoginLimits {
    pub fn new(per_address: u32) -> LoginLimits {
        LoginLimits {
            per_address,
            addresses: Mutex::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
        }
    }

    pub fn gate(&self, address: &str, name: &str, now: Instant) -> Gate {
        if self.per_address > 0
            && let Some(e) = current(&lock(&self.addresses), address, now)
            && e.failures >= self.per_address
        {
            let wait = WINDOW.saturating_sub(now.duration_since(e.window_start));
            return Gate::AddressLimited(wait.as_secs().max(1));
        }
        match current(&lock(&self.names), name, now) {
            Some(Entry {
                locked_until: Some(t),
                ..
            }) if t > now => Gate::NameLocked,
            _ => Gate::Open,
        }
    }

    pub fn failed(&self, address: &str, name: &str, now: Instant) {
        let bump = |map: &mut HashMap<String, Entry>, key: &str| -> Entry {
            let fresh = Entry {
                failures: 0,
                window_start: now,
                locked_until: None,
            };
            let e = current(map, key, now).unwrap_or(fresh);
            make_room(map, now);
            let e = Entry {
                failures: e.failures.saturating_add(1),
                ..e
            };
            map.insert(key.to_string(), e);
            e
        };
        if self.per_address > 0 {
            bump(&mut lock(&self.addresses), address);
        }
        let mut names = lock(&self.names);
        let e = bump(&mut names, name);
        if e.failures >= NAME_FREE_FAILURES {
            // 30 s, 60 s, 120 s… up to the window.
            let doublings = (e.failures - NAME_FREE_FAILURES).min(10);
            let lock_for = NAME_LOCK_BASE.saturating_mul(1 << doublings).min(WINDOW);
            names.insert(
                name.to_string(),
                Entry {
                    locked_until: Some(now + lock_for),
                    ..e
                },
            );
        }
    }

    /// A good login clears its name's failures (not the address's: one
    /// address may try many names).
    pub fn succeeded(&self, name: &str) {
        lock(&self.names).remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_limit_then_window_reset() {
        let l = LoginLimits::new(3);
        let t = Instant::now();
        for i in 0..3 {
            assert_eq!(l.gate("1.2.3.4", &format!("n{i}"), t), Gate::Open);
            l.failed("1.2.3.4", &format!("n{i}"), t);
        }
        assert!(matches!(l.gate("1.2.3.4", "x", t), Gate::AddressLimited(_)));
        assert_eq!(l.gate("5.6.7.8", "x", t), Gate::Open);
        assert_eq!(l.gate("1.2.3.4", "x", t + WINDOW), Gate::Open);
    }

    #[test]
    fn name_lock_grows_and_success_clears() {
        let l = LoginLimits::new(0);
        let t = Instant::now();
        for _ in 0..NAME_FREE_FAILURES {
            l.failed("a", "zoe", t);
        }
        assert_eq!(l.gate("b", "zoe", t), Gate::NameLocked);
        assert_eq!(l.gate("b", "zoe", t + NAME_LOCK_BASE), Gate::Open);
        l.failed("a", "zoe", t + NAME_LOCK_BASE);
        assert_eq!(l.gate("b", "zoe", t + NAME_LOCK_BASE * 2), Gate::NameLocked);
        l.succeeded("zoe");
        assert_eq!(l.gate("b", "zoe", t + NAME_LOCK_BASE * 2), Gate::Open);
    }
}
