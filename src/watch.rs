//! `gen watch`: the server loop. A cycle at start, then every `refresh_secs`,
//! at once on a local change (notify, debounced) or a push
//! (`POST /api/refresh`). Cycles never overlap; triggers during a cycle
//! collapse into one follow-up. A failed cycle keeps the last good site and
//! snapshot and backs off; the last good data is persisted so a restart can
//! check logins before Google answers. SIGTERM/SIGINT end it within 5 s.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tracing::{error, info, warn};

use crate::api::{self, ApiOptions};
use crate::config::{Config, ListenAddr};
use crate::cycle::{self, CycleMemory, CycleOptions};
use crate::error::{ConfigError, Error};
use crate::organiser;
use crate::persist;
use crate::source::Fetcher;
use crate::state::{AppState, observe};

/// Local changes closer together than this make one cycle.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest wait between two attempts while the source keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long a stop waits for a cycle in progress before abandoning it.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What a running watch is told from outside its loop.
#[derive(Default)]
struct Signals {
    config_changed: AtomicBool,
}

/// Runs until SIGTERM/SIGINT (Ok) or until the API listener dies (Err).
pub(crate) async fn run(
    config_path: PathBuf,
    mut config: Config,
    fetcher: Fetcher,
    listen_override: Option<String>,
    preview: Option<crate::preview::Preview>,
) -> Result<(), Error> {
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let state = AppState::new(config.site.refresh);
    let mut board = organiser::Board::default();
    state.set_visibility(config.site.visibility);
    if config.site.visibility == crate::config::Visibility::Players {
        info!(
            event = "visibility",
            "site.visibility = \"players\": the roster and photos are for logged-in players only; nginx enforces it only with the config `gen nginx` prints for this setting"
        );
    }
    restore_last_good(&config, &state, &mut board);

    // `gen serve --listen` parses as `api.listen` does, and is named so.
    let listen = match listen_override {
        Some(text) => ListenAddr::parse(&text).map_err(|message| ConfigError::Invalid {
            path: config.path.clone(),
            key: "api.listen".into(),
            message,
        })?,
        None => config.api.listen.clone(),
    };
    let listener = api::bind(&listen)
        .map_err(|e| Error::Runtime(format!("cannot listen on {listen}: {e}")))?;
    info!(event = "listening", addr = %listener.local, "API listening on {}", listener.local);
    let api_opts = ApiOptions::new(&config, preview).map_err(Error::Runtime)?;
    // The API runs beside the cycles until gen stops; it ends the process
    // (Err) if its listener dies.
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut api = tokio::spawn(api::run(listener, state.clone(), api_opts, async move {
        let _ = api_stopped.await;
    }));
    let _stop_api_on_return = StopOnDrop(Some(api_stop));

    let signals = Arc::new(Signals::default());
    let mut _watcher = watch_local_files(&config_path, &config, &state, &signals);

    let mut memory = CycleMemory::default();
    let mut failures: u32 = 0;
    loop {
        if signals.config_changed.swap(false, Ordering::SeqCst) {
            match Config::load(&config_path) {
                Ok(new) => {
                    if new.api.listen != config.api.listen {
                        warn!(
                            "api.listen changed: restart gen to listen on {}",
                            new.api.listen
                        );
                    }
                    if new.site.visibility != config.site.visibility {
                        warn!(
                            event = "visibility_changed",
                            "site.visibility changed from \"{}\" to \"{}\" in {}: gen serve applies it now, but nginx keeps the old rule until you run `gen nginx` again, install its output (e.g. /etc/nginx/conf.d/sheetgen.conf) and reload nginx (`nginx -t && systemctl reload nginx`), or run deploy.sh again",
                            config.site.visibility.word(),
                            new.site.visibility.word(),
                            config_path.display()
                        );
                    }
                    config = new;
                    state.set_refresh(config.site.refresh);
                    state.set_visibility(config.site.visibility);
                    _watcher = watch_local_files(&config_path, &config, &state, &signals);
                    info!(
                        event = "config_reloaded",
                        "config reloaded from {}",
                        config_path.display()
                    );
                }
                Err(e) => error!(event = "config_invalid", "{e}; keeping the previous config"),
            }
        }

        let cycle = run_cycle(&config, &fetcher, &mut memory, &state, &mut board);
        tokio::pin!(cycle);
        let ok = tokio::select! {
            ok = &mut cycle => ok,
            _ = &mut stop => {
                info!("stopping: letting the cycle in progress finish");
                let _ = tokio::time::timeout(STOP_GRACE, &mut cycle).await;
                return Ok(());
            }
            ended = &mut api => return Err(api_ended(ended)),
        };
        failures = if ok { 0 } else { failures.saturating_add(1) };
        let wait = next_wait(config.site.refresh, failures);

        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.cycle_requested() => {}
            _ = &mut stop => {
                info!("stopping");
                return Ok(());
            }
            ended = &mut api => return Err(api_ended(ended)),
        }
    }
}

/// Tells the API to stop when `gen watch` returns, whichever way.
struct StopOnDrop(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

/// Why the API ended before gen was asked to stop.
fn api_ended(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> Error {
    Error::Runtime(match ended {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(())) => "the API stopped".into(),
        Err(e) => format!("the API failed: {e}"),
    })
}

/// The refresh interval, or after `failures` failures in a row an
/// exponential backoff with ±20% jitter, at most [`MAX_BACKOFF`].
fn next_wait(refresh: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return refresh;
    }
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    let base = refresh.saturating_mul(factor).min(MAX_BACKOFF.max(refresh));
    base.mul_f64(0.8 + 0.4 * fastrand::f64())
}

/// One cycle with its log line, health, metrics and the organiser's page.
/// Returns success.
async fn run_cycle(
    config: &Config,
    fetcher: &Fetcher,
    memory: &mut CycleMemory,
    state: &AppState,
    board: &mut organiser::Board,
) -> bool {
    let opts = CycleOptions {
        allow_mass_removal: false,
        persist: true,
    };
    match cycle::run(config, fetcher, memory, opts).await {
        Ok(report) => {
            let m = state.metrics();
            observe(&m.fetch_micros_total, &m.last_fetch_micros, report.fetch);
            if report.rendered {
                observe(&m.render_micros_total, &m.last_render_micros, report.render);
                observe(
                    &m.publish_micros_total,
                    &m.last_publish_micros,
                    report.write,
                );
            } else {
                m.cycles_unchanged.fetch_add(1, Ordering::Relaxed);
            }
            m.pages_written
                .fetch_add(report.publish.written as u64, Ordering::Relaxed);
            m.pages_removed
                .fetch_add(report.publish.removed as u64, Ordering::Relaxed);
            if report.rendered {
                for p in &report.problems {
                    warn!(
                        event = "row_problem",
                        kind = p.kind.key(),
                        tab = %p.tab,
                        row = p.row,
                        column = p.column.as_deref(),
                        "{p}"
                    );
                }
                state.record_problems(crate::findings::kind_counts(&report.problems));
            }
            if let Some(staged) = report.persist {
                if let Err(e) = staged.save() {
                    warn!(
                        event = "persist_failed",
                        "cannot save the last good data in {}: {e}",
                        config.site.state_dir.display()
                    );
                }
            }
            state.set_snapshot(Arc::clone(&report.snapshot));
            state.record_success(SystemTime::now());
            board.succeeded(config, &report.snapshot, &report.problems, report.rendered);
            board.publish_logged(config, Some(&report.snapshot));
            info!(
                event = "cycle",
                source = %config.source.describe(),
                changed = report.rendered,
                fetch_ms = report.fetch.as_millis() as u64,
                render_ms = report.render.as_millis() as u64,
                publish_ms = report.write.as_millis() as u64,
                players = report.snapshot.players.len(),
                written = report.publish.written,
                removed = report.publish.removed,
                unchanged = report.publish.unchanged,
                "cycle ok"
            );
            true
        }
        Err(e) => {
            let message = e.to_string();
            error!(event = "cycle_failed", error = %message, "cycle failed; the previous site and logins stay in force");
            state.record_failure(message);
            board.failed(config, &e);
            board.publish_logged(config, state.snapshot().as_deref());
            false
        }
    }
}

/// Loads the data persisted by the last good cycle, so logins work before
/// the first fetch (and the organiser's page knows what is published).
fn restore_last_good(config: &Config, state: &AppState, board: &mut organiser::Board) {
    match persist::load(&config.site.state_dir) {
        Ok(Some((raw, fetched_at))) => match cycle::snapshot_from(config, raw, fetched_at) {
            Ok(snapshot) => {
                info!(
                    event = "restored",
                    players = snapshot.players.len(),
                    "loaded the last good data from {}",
                    persist::path(&config.site.state_dir).display()
                );
                board.restored(config, &snapshot);
                state.restore(Arc::new(snapshot.into_served()));
            }
            Err(e) => warn!("the last good data no longer fits the config: {e}"),
        },
        Ok(None) => {}
        Err(e) => warn!("ignoring the last good data: {e}"),
    }
}

/// Installs the SIGTERM and SIGINT handlers at once (a signal that arrives
/// before the loop first waits on them must still stop gen cleanly) and
/// returns a future that resolves on either.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind| {
        signal(kind).map_err(|e| Error::Runtime(format!("cannot install signal handlers: {e}")))
    };
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// What a changed path means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Config,
    Theme,
    Source,
}

/// `path` made absolute without requiring it to exist.
fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (
        abs.parent().and_then(|p| p.canonicalize().ok()),
        abs.file_name(),
    ) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => abs,
    }
}

/// Watches the config file, the theme and local source files; a change
/// triggers a cycle after [`DEBOUNCE`]. Returns the watcher to keep alive
/// (`None` when the platform gives none: the timer still runs).
fn watch_local_files(
    config_path: &Path,
    config: &Config,
    state: &AppState,
    signals: &Arc<Signals>,
) -> Option<notify::RecommendedWatcher> {
    let config_file = absolute(config_path);
    // The built-in theme changes only with gen itself.
    let theme_dir = config.site.templates.as_deref().map(absolute);
    let sources: Vec<PathBuf> = config
        .source
        .local_files()
        .iter()
        .map(|p| absolute(p))
        .collect();
    let classify = {
        let (config_file, theme_dir, sources) =
            (config_file.clone(), theme_dir.clone(), sources.clone());
        move |path: &Path| -> Option<Change> {
            let name = path.file_name()?.to_string_lossy();
            if crate::render::is_editor_temp(&name) {
                return None;
            }
            if path == config_file {
                Some(Change::Config)
            } else if theme_dir.as_ref().is_some_and(|t| path.starts_with(t)) {
                Some(Change::Theme)
            } else if sources.iter().any(|s| s == path) {
                Some(Change::Source)
            } else {
                None
            }
        }
    };

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Change>();
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        for path in &event.paths {
            if let Some(change) = classify(path) {
                let _ = tx.send(change);
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            warn!("cannot watch local files ({e}); changes show at the next refresh");
            return None;
        }
    };
    let mut dirs: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    if let Some(parent) = config_file.parent() {
        dirs.insert((parent.to_path_buf(), false));
    }
    if let Some(theme_dir) = theme_dir {
        dirs.insert((theme_dir, true));
    }
    for s in &sources {
        if let Some(parent) = s.parent() {
            dirs.insert((parent.to_path_buf(), false));
        }
    }
    for (dir, recursive) in dirs {
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        if let Err(e) = watcher.watch(&dir, mode) {
            warn!("cannot watch {}: {e}", dir.display());
        }
    }

    let state = state.clone();
    let signals = Arc::clone(signals);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut changes = vec![first];
            tokio::time::sleep(DEBOUNCE).await;
            while let Ok(more) = rx.try_recv() {
                changes.push(more);
            }
            if changes.contains(&Change::Config) {
                signals.config_changed.store(true, Ordering::SeqCst);
            }
            info!(event = "local_change", ?changes, "local change: cycle now");
            state.trigger_cycle();
        }
    });
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let r = Duration::from_secs(30);
        assert_eq!(next_wait(r, 0), r);
        for failures in 1..40 {
            let w = next_wait(r, failures);
            assert!(
                w >= r.mul_f64(0.8) && w <= MAX_BACKOFF.mul_f64(1.2),
                "{failures}: {w:?}"
            );
        }
        assert!(next_wait(r, 3) > next_wait(r, 1).mul_f64(2.0));
    }
}
