//! Per name: the [`Allowance`]s a typed name's failures draw on (one for
//! everyone else, one per network it logged in from), and the digest the
//! maps key a name by.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::room::Tracked;
use super::{
    FORGET_EVERY, FREE_FAILURES, LOCK_BASE, LOCK_MAX, MOST_HELD, TRUST_NETWORK, TRUSTED_NETWORKS,
};

/// A typed name as the maps key it: a digest, so that an entry's size
/// does not depend on what was typed.
pub(super) type NameKey = [u8; 16];

pub(super) fn name_key(name: &str) -> NameKey {
    let digest = Sha256::digest(name.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The failures one scope (a name for everyone else, a name on one of its
/// networks, a name on one device) may make: [`FREE_FAILURES`], then a
/// lock after each failure, doubling from [`LOCK_BASE`] up to
/// [`LOCK_MAX`]; one failure forgotten every [`FORGET_EVERY`]. A leaky
/// bucket rather than a window, so that no pause resets it: a guesser
/// keeps at most [`GUESSES_PER_DAY`](super::GUESSES_PER_DAY) in any 24 hours however they time
/// their guesses (`limits::tests`, docs/security.md's figure).
#[derive(Debug, Clone, Copy)]
pub(super) struct Allowance {
    /// Failures held as of `since`.
    held: u32,
    /// One failure is forgotten at each [`FORGET_EVERY`] after this.
    since: Instant,
    locked_until: Option<Instant>,
}

impl Allowance {
    /// Forgotten failures by `now` since `since`.
    fn forgotten(&self, now: Instant) -> u32 {
        let periods = now.saturating_duration_since(self.since).as_secs() / FORGET_EVERY.as_secs();
        u32::try_from(periods).unwrap_or(u32::MAX)
    }

    pub(super) fn lock_left(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|&until| until > now)
            .map(|until| until - now)
    }

    /// A checked failure at `now`.
    pub(super) fn fail(&mut self, now: Instant) {
        if self.lock_left(now).is_some() {
            // Locked meanwhile by a concurrent attempt: attempts during a
            // lock never extend it.
            return;
        }
        let forgotten = self.forgotten(now);
        if forgotten >= self.held {
            self.held = 0;
            self.since = now;
        } else {
            self.held -= forgotten;
            self.since += FORGET_EVERY * forgotten;
        }
        self.held = (self.held + 1).min(MOST_HELD);
        if self.held >= FREE_FAILURES {
            // 30 s, 1, 2, 4… 32 minutes, then an hour.
            let doublings = self.held - FREE_FAILURES;
            self.locked_until = Some(now + LOCK_BASE.saturating_mul(1 << doublings).min(LOCK_MAX));
        }
    }
}

/// A network a name logged in from.
#[derive(Debug, Clone)]
struct OwnNetwork {
    network: String,
    last_login: Instant,
    allowance: Allowance,
}

/// What one typed name (normalised) has: the allowance everyone else
/// shares, and its own networks.
#[derive(Debug, Clone)]
pub(super) struct NameEntry {
    others: Allowance,
    /// The latest login first, at most [`TRUSTED_NETWORKS`].
    networks: Vec<OwnNetwork>,
}

impl NameEntry {
    /// The allowance an attempt from `network` draws on.
    pub(super) fn allowance(&mut self, network: &str, now: Instant) -> &mut Allowance {
        match self
            .networks
            .iter_mut()
            .find(|n| n.network == network && now < n.last_login + TRUST_NETWORK)
        {
            Some(own) => &mut own.allowance,
            None => &mut self.others,
        }
    }

    /// A login from `network`: it becomes (or stays) one of the name's
    /// own networks. Its allowance is kept as it is: a stranger inside
    /// that network could otherwise have it refilled by each of the
    /// player's logins.
    pub(super) fn logged_in_from(&mut self, network: &str, now: Instant) {
        self.networks.retain(|n| now < n.last_login + TRUST_NETWORK);
        let own = match self.networks.iter().position(|n| n.network == network) {
            Some(i) => self.networks.remove(i),
            None => OwnNetwork {
                network: network.to_string(),
                last_login: now,
                allowance: Allowance::new(now),
            },
        };
        self.networks.insert(
            0,
            OwnNetwork {
                last_login: now,
                ..own
            },
        );
        self.networks.truncate(TRUSTED_NETWORKS);
    }
}

impl Tracked for Allowance {
    fn new(now: Instant) -> Allowance {
        Allowance {
            held: 0,
            since: now,
            locked_until: None,
        }
    }

    /// Every failure forgotten and no lock.
    fn expires(&self) -> Instant {
        let forgotten = self.since + FORGET_EVERY * self.held;
        self.locked_until.map_or(forgotten, |t| t.max(forgotten))
    }
}

impl Tracked for NameEntry {
    fn new(now: Instant) -> NameEntry {
        NameEntry {
            others: Allowance::new(now),
            networks: Vec::new(),
        }
    }

    fn expires(&self) -> Instant {
        self.networks
            .iter()
            .map(|n| (n.last_login + TRUST_NETWORK).max(n.allowance.expires()))
            .fold(self.others.expires(), Instant::max)
    }
}
