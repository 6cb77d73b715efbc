//! Per client address: failures in a [`WINDOW`], and the names they were
//! on, so that a success on a name forgives that name's failures only.

use std::time::Instant;

use super::room::Tracked;
use super::{MAX_REMEMBERED, WINDOW, wait_secs};

#[derive(Debug, Clone)]
pub(super) struct AddressEntry {
    /// Start of the window the failures are counted in.
    window_start: Instant,
    failures: u32,
    /// Hashes of the names those failures were on (at most
    /// [`MAX_REMEMBERED`]), so a later success on one forgives it.
    failed_names: Vec<u64>,
    last_success: Option<Instant>,
}

impl AddressEntry {
    pub(super) fn failures_at(&self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.window_start) < WINDOW {
            self.failures
        } else {
            0
        }
    }

    pub(super) fn recent_success(&self, now: Instant) -> bool {
        self.last_success
            .is_some_and(|t| now.saturating_duration_since(t) < WINDOW)
    }

    /// Seconds until the counted failures fall out of the window.
    pub(super) fn wait(&self, now: Instant) -> u64 {
        wait_secs(WINDOW.saturating_sub(now.saturating_duration_since(self.window_start)))
    }

    pub(super) fn fail(&mut self, name: u64, now: Instant) {
        if self.failures_at(now) == 0 {
            self.window_start = now;
            self.failures = 0;
            self.failed_names.clear();
        }
        self.failures = self.failures.saturating_add(1);
        if self.failed_names.len() < MAX_REMEMBERED {
            self.failed_names.push(name);
        }
    }

    pub(super) fn succeed(&mut self, name: u64, now: Instant) {
        self.last_success = Some(now);
        let before = self.failed_names.len();
        self.failed_names.retain(|&n| n != name);
        let forgiven = u32::try_from(before - self.failed_names.len()).unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_sub(forgiven);
    }
}

impl Tracked for AddressEntry {
    fn new(now: Instant) -> AddressEntry {
        AddressEntry {
            window_start: now,
            failures: 0,
            failed_names: Vec::new(),
            last_success: None,
        }
    }

    fn expires(&self) -> Instant {
        let failures = self.window_start + WINDOW;
        self.last_success
            .map_or(failures, |t| failures.max(t + WINDOW))
    }
}
