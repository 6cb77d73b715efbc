//! The site-wide failure budget: failures of the whole site over the last
//! [`WINDOW`](super::WINDOW), counted by minute.

use std::time::Instant;

use super::{BUDGET_FLOOR, MINUTES, PLAYERS_PER_BUDGET_FAILURE};

/// Failures of the whole site over the last [`WINDOW`](super::WINDOW), by minute.
pub(super) struct Budget {
    origin: Instant,
    /// (minute since `origin`, failures in it), indexed by minute modulo
    /// [`MINUTES`].
    minutes: [(u64, u32); MINUTES],
    /// Spent, until failures are back under half of it.
    pub(super) spent: bool,
}

impl Budget {
    pub(super) fn new(origin: Instant) -> Budget {
        Budget {
            origin,
            minutes: [(0, 0); MINUTES],
            spent: false,
        }
    }

    fn minute(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs() / 60
    }

    pub(super) fn total(&self, now: Instant) -> u32 {
        let m = self.minute(now);
        self.minutes
            .iter()
            .filter(|(k, _)| k + MINUTES as u64 > m)
            .fold(0u32, |sum, (_, n)| sum.saturating_add(*n))
    }

    pub(super) fn record(&mut self, now: Instant) {
        let m = self.minute(now);
        let slot = &mut self.minutes[(m % MINUTES as u64) as usize];
        if slot.0 != m {
            *slot = (m, 0);
        }
        slot.1 = slot.1.saturating_add(1);
    }
}

/// The site-wide budget of failures per [`WINDOW`](super::WINDOW) for a roster this size.
pub fn budget_for(players: usize) -> u32 {
    u32::try_from(players / PLAYERS_PER_BUDGET_FAILURE)
        .unwrap_or(u32::MAX)
        .max(BUDGET_FLOOR)
}
