//! The shared handle of a running `gen watch`: the current [`Snapshot`], the
//! health of the cycles and the metrics counters. Cheap to clone; no lock is
//! held across an `.await` or while a request is answered (the snapshot is an
//! `Arc` swapped whole, so a reader sees the old one or the new one).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::Notify;

use crate::config::Visibility;
use crate::model::Snapshot;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    health: Mutex<Health>,
    metrics: Metrics,
    /// Wakes the watch loop for a cycle now; several wake-ups before the loop
    /// gets to them collapse into one.
    trigger: Notify,
    started: SystemTime,
    /// `[site] visibility = "players"` in the config in force (watch sets
    /// it at start and on every reload): `gen serve` reads it per request.
    players_only: AtomicBool,
}

#[derive(Debug, Clone, Default)]
struct Health {
    last_success: Option<SystemTime>,
    last_error: Option<String>,
    last_error_at: Option<SystemTime>,
    cycles: u64,
    failures: u64,
    refresh: Duration,
    problems: BTreeMap<&'static str, usize>,
}

/// Counters and gauges for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub cycles: AtomicU64,
    pub failures: AtomicU64,
    pub cycles_unchanged: AtomicU64,
    pub pages_written: AtomicU64,
    pub pages_removed: AtomicU64,
    pub fetch_micros_total: AtomicU64,
    pub render_micros_total: AtomicU64,
    pub publish_micros_total: AtomicU64,
    pub last_fetch_micros: AtomicU64,
    pub last_render_micros: AtomicU64,
    pub last_publish_micros: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_rate_limited: AtomicU64,
    /// Failed logins answered without checking the PIN: the name was
    /// locked for that client (issue 23).
    pub logins_name_locked: AtomicU64,
    /// Times the site-wide login failure budget was spent (once per episode).
    pub login_budget_spent: AtomicU64,
}

/// What `GET /healthz` answers.
#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub status: &'static str,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub staleness_secs: u64,
    pub players: usize,
    pub cycles: u64,
    pub failures: u64,
    /// The last data's problems, counted by kind (the organiser's page's
    /// kinds: `row_skipped`, `cannot_log_in`…).
    pub problems: BTreeMap<&'static str, usize>,
}

/// Stale when the last success is older than this many refresh intervals.
const STALE_AFTER_INTERVALS: u32 = 3;

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl AppState {
    pub fn new(refresh: Duration) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                snapshot: RwLock::new(None),
                health: Mutex::new(Health {
                    refresh,
                    ..Health::default()
                }),
                metrics: Metrics::default(),
                trigger: Notify::new(),
                started: SystemTime::now(),
                players_only: AtomicBool::new(false),
            }),
        }
    }

    /// The snapshot in force, if any.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        match self.inner.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `snapshot` in force (after its pages are published).
    pub fn set_snapshot(&self, snapshot: Arc<Snapshot>) {
        match self.inner.snapshot.write() {
            Ok(mut guard) => *guard = Some(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Some(snapshot),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.inner
            .health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set_refresh(&self, refresh: Duration) {
        self.health().refresh = refresh;
    }

    /// Who may read the roster and photos, per the config in force.
    pub fn visibility(&self) -> Visibility {
        if self.inner.players_only.load(Ordering::Relaxed) {
            Visibility::Players
        } else {
            Visibility::Public
        }
    }

    pub fn set_visibility(&self, visibility: Visibility) {
        self.inner
            .players_only
            .store(visibility == Visibility::Players, Ordering::Relaxed);
    }

    /// A snapshot loaded from disk at start: its data is as old as its fetch.
    pub fn restore(&self, snapshot: Arc<Snapshot>) {
        self.health().last_success = Some(snapshot.fetched_at);
        self.set_snapshot(snapshot);
    }

    pub fn record_success(&self, at: SystemTime) {
        let mut h = self.health();
        h.cycles += 1;
        h.last_success = Some(at);
        self.inner.metrics.cycles.fetch_add(1, Ordering::Relaxed);
    }

    /// The problems of the data now published, counted by kind.
    pub(crate) fn record_problems(&self, counts: Vec<(crate::findings::Kind, usize)>) {
        self.health().problems = counts.into_iter().map(|(k, n)| (k.key(), n)).collect();
    }

    /// `message` must already be free of secrets (errors are built so).
    pub fn record_failure(&self, message: String) {
        let mut h = self.health();
        h.cycles += 1;
        h.failures += 1;
        h.last_error = Some(message);
        h.last_error_at = Some(SystemTime::now());
        self.inner.metrics.cycles.fetch_add(1, Ordering::Relaxed);
        self.inner.metrics.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn health_report(&self) -> HealthReport {
        let h = self.health().clone();
        let now = SystemTime::now();
        let since = h.last_success.unwrap_or(self.inner.started);
        let staleness = now.duration_since(since).unwrap_or_default();
        let stale = staleness > h.refresh * STALE_AFTER_INTERVALS;
        HealthReport {
            status: match (stale, h.last_success) {
                (true, _) => "stale",
                (false, None) => "starting",
                (false, Some(_)) => "ok",
            },
            last_success: h.last_success.map(rfc3339),
            last_error: h.last_error,
            last_error_at: h.last_error_at.map(rfc3339),
            staleness_secs: staleness.as_secs(),
            players: self.snapshot().map_or(0, |s| s.players.len()),
            cycles: h.cycles,
            failures: h.failures,
            problems: h.problems,
        }
    }

    /// Asks the watch loop for a cycle now.
    pub fn trigger_cycle(&self) {
        self.inner.trigger.notify_one();
    }

    /// Resolves when a cycle was asked for.
    pub async fn cycle_requested(&self) {
        self.inner.trigger.notified().await;
    }
}

type Row = (&'static str, &'static str, &'static str, String);

impl Metrics {
    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self, players: usize) -> String {
        let mut out = String::with_capacity(2048);
        let players: Row = (
            "players",
            "gauge",
            "Players in the snapshot in force.",
            players.to_string(),
        );
        let rows = self.cycle_rows().into_iter().chain(self.login_rows());
        for (name, kind, help, value) in rows.chain([players]) {
            out.push_str(&format!(
                "# HELP sheetgen_{name} {help}\n# TYPE sheetgen_{name} {kind}\nsheetgen_{name} {value}\n"
            ));
        }
        out
    }

    /// Cycles and their stages.
    fn cycle_rows(&self) -> Vec<Row> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let secs = |c: &AtomicU64| get(c) as f64 / 1e6;
        vec![
            (
                "cycles_total",
                "counter",
                "Cycles run (fetch, render, publish).",
                get(&self.cycles).to_string(),
            ),
            (
                "cycle_failures_total",
                "counter",
                "Cycles that failed; the previous site stayed.",
                get(&self.failures).to_string(),
            ),
            (
                "cycles_unchanged_total",
                "counter",
                "Cycles whose data, templates and config had not changed: nothing rendered or written.",
                get(&self.cycles_unchanged).to_string(),
            ),
            (
                "pages_written_total",
                "counter",
                "Files written under out_dir (a page and its .gz count two).",
                get(&self.pages_written).to_string(),
            ),
            (
                "pages_removed_total",
                "counter",
                "Files removed under out_dir.",
                get(&self.pages_removed).to_string(),
            ),
            (
                "fetch_seconds_total",
                "counter",
                "Time spent fetching the source.",
                secs(&self.fetch_micros_total).to_string(),
            ),
            (
                "render_seconds_total",
                "counter",
                "Time spent rendering.",
                secs(&self.render_micros_total).to_string(),
            ),
            (
                "publish_seconds_total",
                "counter",
                "Time spent publishing.",
                secs(&self.publish_micros_total).to_string(),
            ),
            (
                "last_fetch_seconds",
                "gauge",
                "Duration of the last fetch.",
                secs(&self.last_fetch_micros).to_string(),
            ),
            (
                "last_render_seconds",
                "gauge",
                "Duration of the last render.",
                secs(&self.last_render_micros).to_string(),
            ),
            (
                "last_publish_seconds",
                "gauge",
                "Duration of the last publish.",
                secs(&self.last_publish_micros).to_string(),
            ),
        ]
    }

    /// Logins and their limits.
    fn login_rows(&self) -> Vec<Row> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            (
                "logins_total",
                "counter",
                "Successful logins.",
                get(&self.logins_ok).to_string(),
            ),
            (
                "login_failures_total",
                "counter",
                "Failed logins (unknown name or wrong PIN).",
                get(&self.logins_failed).to_string(),
            ),
            (
                "login_rate_limited_total",
                "counter",
                "Logins refused by a rate limit.",
                get(&self.logins_rate_limited).to_string(),
            ),
            (
                "login_name_locked_total",
                "counter",
                "Failed logins answered without checking the PIN, the name being locked for that client after too many failures (counted in login_failures_total too).",
                get(&self.logins_name_locked).to_string(),
            ),
            (
                "login_budget_spent_total",
                "counter",
                "Times failed logins across the site spent the 15-minute budget (a spray of PINs over many names).",
                get(&self.login_budget_spent).to_string(),
            ),
        ]
    }
}

/// Adds a duration to a pair of (total, last) microsecond counters.
pub(crate) fn observe(total: &AtomicU64, last: &AtomicU64, d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    total.fetch_add(micros, Ordering::Relaxed);
    last.store(micros, Ordering::Relaxed);
}
