//! The API of `gen watch`: routes answered by tiny_http's handler threads
//! (a fixed pool) from [`AppState`] only; it never calls the source.
//! Clients never reach tiny_http directly: [`crate::front`] owns the socket,
//! reads each request whole within a deadline and caps, then relays it over
//! a private unix socket. Every route still goes through [`guard`]: bounded
//! bodies, no `Transfer-Encoding`, only the route's methods. If a listener
//! dies the process must exit non-zero so systemd restarts it, rather than
//! live on deaf: [`run`] then returns the error.

use std::net::TcpListener;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tiny_http::{Method, Request, Server};

use crate::answer::{MAX_BODY, header, respond, respond_text};
use crate::auth::Auth;
use crate::config::{ListenAddr, Secret};
use crate::front::ClientListener;
use crate::state::AppState;

/// Connections the kernel queues before `accept`: Rust's default of 128
/// overflowed under 1,000 connections (docs/design.md).
const LISTEN_BACKLOG: i32 = 4096;

/// Handler threads pulling requests from tiny_http.
pub const HANDLER_THREADS: usize = 8;

/// gen's threads at most, whatever clients do (issue 14): main; the
/// runtime's 2 workers and at most 16 blocking threads (the cycle, DNS);
/// a cycle step's rayon pool, one thread per core (render, gzip), counted
/// twice since the previous step's threads may still be ending; tiny_http's accept thread and its
/// connection threads, at most [`crate::front::RELAY_SLOTS`] busy plus the
/// 4 it keeps; the handlers; and a few more (notify, signals). Clients cost
/// tokio tasks, not threads.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    1 + 2 + 16 + 2 * cores + 1 + (crate::front::RELAY_SLOTS + 4) + HANDLER_THREADS + 8
}

/// What the handlers need besides the state.
#[derive(Clone)]
pub struct ApiOptions {
    /// SHA-256 of `GEN_REFRESH_TOKEN`; `None` disables `POST /api/refresh`.
    pub refresh_token_digest: Option<[u8; 32]>,
    pub auth: Arc<Auth>,
    /// `gen serve`: also serve this folder like nginx would.
    pub preview: Option<Arc<crate::preview::Preview>>,
}

impl ApiOptions {
    /// The API for `config`: its session key and login limits, the push
    /// token, and `gen serve`'s static files when `preview` is given.
    pub fn new(
        config: &crate::config::Config,
        preview: Option<crate::preview::Preview>,
    ) -> Result<ApiOptions, String> {
        let auth = Auth::new(config)?;
        if config.api.insecure_http {
            tracing::warn!(
                event = "insecure_http",
                "api.insecure_http = true: the session cookie is sent without Secure, readable on any network between players and this server; use HTTPS (certbot) and remove the setting"
            );
        }
        let opts = ApiOptions {
            refresh_token_digest: refresh_token_digest(config.api.refresh_token.as_ref()),
            auth: Arc::new(auth),
            preview: preview.map(Arc::new),
        };
        if opts.refresh_token_digest.is_none() {
            tracing::info!(
                "push refresh disabled (GEN_REFRESH_TOKEN is not set); polling every {}s",
                config.site.refresh.as_secs()
            );
        }
        Ok(opts)
    }
}

/// SHA-256 of `GEN_REFRESH_TOKEN` (the config's `api.refresh_token`), if set.
pub fn refresh_token_digest(token: Option<&Secret>) -> Option<[u8; 32]> {
    token.map(|t| Sha256::digest(t.expose().as_bytes()).into())
}

/// A bound, not yet serving, listener.
pub struct Listener {
    socket: crate::front::ClientListener,
    pub local: String,
}

/// Binds with a deep backlog. Port 0 picks a free port (tests).
pub fn bind(addr: &ListenAddr) -> std::io::Result<Listener> {
    match addr {
        ListenAddr::Tcp(sa) => {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(*sa),
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            socket.set_reuse_address(true)?;
            socket.bind(&(*sa).into())?;
            socket.listen(LISTEN_BACKLOG)?;
            let listener: TcpListener = socket.into();
            let local = listener.local_addr()?.to_string();
            Ok(Listener {
                socket: ClientListener::Tcp(listener),
                local,
            })
        }
        ListenAddr::Unix(path) => {
            // A stale socket file from a previous run would fail the bind.
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                std::fs::remove_file(path)?;
            }
            let listener = std::os::unix::net::UnixListener::bind(path)?;
            Ok(Listener {
                socket: ClientListener::Unix(listener),
                local: format!("unix:{}", path.display()),
            })
        }
    }
}

/// Serves the API until `shutdown` completes (`Ok`) or a listener fails
/// (`Err`: the caller must exit non-zero so that systemd restarts gen
/// rather than leave it deaf). The front door runs on this task; tiny_http
/// listens behind it on a unix socket in a private 0700 folder (removed on
/// return) and [`HANDLER_THREADS`] threads answer its requests. Tests run
/// it in-process on port 0 (as mini-redis's `server::run`).
pub async fn run(
    listener: Listener,
    state: AppState,
    opts: ApiOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let private = tempfile::Builder::new().prefix("gen-api.").tempdir()?;
    let inner = private.path().join("api.sock");
    let server = Server::from_listener(std::os::unix::net::UnixListener::bind(&inner)?, None)
        .map_err(std::io::Error::other)?;
    let server = Arc::new(server);
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut handlers = Vec::with_capacity(HANDLER_THREADS);
    for i in 0..HANDLER_THREADS {
        let (server_, stopping_) = (Arc::clone(&server), Arc::clone(&stopping));
        let state = state.clone();
        let opts = opts.clone();
        let failed = failed_tx.clone();
        let handler = std::thread::Builder::new()
            .name(format!("api-{i}"))
            .spawn(move || {
                loop {
                    match server_.recv() {
                        Ok(request) => handle(request, &state, &opts),
                        Err(e) => {
                            if !stopping_.load(std::sync::atomic::Ordering::SeqCst) {
                                let _ =
                                    failed.send(format!("the API's internal listener failed: {e}"));
                            }
                            return;
                        }
                    }
                }
            });
        match handler {
            Ok(h) => handlers.push(h),
            Err(e) => {
                stop_handlers(&server, &stopping, handlers);
                return Err(e);
            }
        }
    }
    let auth = Arc::clone(&opts.auth);
    let answer_auth: crate::front::AuthCheck = Box::new(move |cookies, slug| {
        let status = auth.check(cookies.iter().map(String::as_str), slug, &state);
        let max_age = crate::auth::auth_answer_ttl();
        let life = crate::front::AuthLife {
            max_age,
            stale_while_revalidate: crate::auth::AUTH_ANSWER_REVALIDATING,
            stale_if_error: crate::auth::AUTH_ANSWER_USE_WHILE_DOWN.saturating_sub(max_age),
        };
        (status, life)
    });
    let slots = crate::front::client_slots();
    let front = Arc::new(crate::front::Front::new(&inner, answer_auth, slots));
    let outcome = tokio::select! {
        e = front.run(listener.socket) => Err(std::io::Error::other(format!("the API listener failed: {e}"))),
        Some(message) = failed_rx.recv() => Err(std::io::Error::other(message)),
        () = shutdown => Ok(()),
    };
    stop_handlers(&server, &stopping, handlers);
    drop(private);
    outcome
}

/// Wakes every handler thread (one `unblock` each) and lets them end.
fn stop_handlers(
    server: &Server,
    stopping: &std::sync::atomic::AtomicBool,
    handlers: Vec<std::thread::JoinHandle<()>>,
) {
    stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in &handlers {
        server.unblock();
    }
    // A handler in the middle of an answer finishes it on its own; the
    // threads are not joined so that a stuck client can't hold shutdown.
    drop(handlers);
}

/// The framing checks every route needs. Returns the request when it may
/// proceed, having answered it otherwise.
fn guard(request: Request, allowed: &[Method]) -> Option<Request> {
    let has = |name: &str| header(&request, name).is_some();
    if has("Transfer-Encoding") {
        respond_text(request, 400, "Transfer-Encoding is not accepted here", &[]);
        return None;
    }
    if request.body_length().is_some_and(|n| n as u64 > MAX_BODY) {
        respond_text(request, 413, "request body too large", &[]);
        return None;
    }
    if !allowed.contains(request.method()) {
        let allow: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
        respond_text(
            request,
            405,
            "method not allowed",
            &[("Allow", &allow.join(", "))],
        );
        return None;
    }
    Some(request)
}

fn handle(request: Request, state: &AppState, opts: &ApiOptions) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    match path.as_str() {
        "/healthz" => {
            let Some(request) = guard(request, &[Method::Get, Method::Head]) else {
                return;
            };
            let report = state.health_report();
            let status = if report.status == "stale" { 503 } else { 200 };
            let body = serde_json::to_vec(&report).unwrap_or_default();
            respond(request, status, "application/json", body, &[]);
        }
        "/metrics" => {
            let Some(request) = guard(request, &[Method::Get, Method::Head]) else {
                return;
            };
            let players = state.snapshot().map_or(0, |s| s.players.len());
            let body = state.metrics().render(players).into_bytes();
            respond(
                request,
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                body,
                &[],
            );
        }
        "/api/refresh" => {
            let Some(request) = guard(request, &[Method::Post]) else {
                return;
            };
            refresh(request, state, opts);
        }
        "/api/login" => {
            if let Some(request) = guard(request, &[Method::Post]) {
                opts.auth.login(request, state);
            }
        }
        "/api/logout" => {
            if let Some(request) = guard(request, &[Method::Post]) {
                opts.auth.logout(request, state);
            }
        }
        // `/api/auth`, nginx's auth_request, never comes here: the front
        // door answers it (see `run`).
        _ => match &opts.preview {
            Some(preview) => preview.serve(request, state, &opts.auth),
            None => respond_text(request, 404, "not found", &[]),
        },
    }
}

/// `POST /api/refresh` with `Authorization: Bearer $GEN_REFRESH_TOKEN`.
fn refresh(request: Request, state: &AppState, opts: &ApiOptions) {
    let Some(expected) = opts.refresh_token_digest else {
        respond_text(
            request,
            403,
            "push refresh is disabled: set GEN_REFRESH_TOKEN in gen's environment",
            &[],
        );
        return;
    };
    let presented = header(&request, "Authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| -> [u8; 32] { Sha256::digest(t.trim().as_bytes()).into() });
    // Digests have a fixed length, so the comparison leaks nothing.
    let ok = presented.is_some_and(|p| bool::from(p.ct_eq(&expected)));
    if !ok {
        tracing::warn!(
            event = "refresh_refused",
            "POST /api/refresh with a missing or wrong token"
        );
        respond_text(
            request,
            401,
            "wrong or missing token",
            &[("WWW-Authenticate", "Bearer")],
        );
        return;
    }
    state.trigger_cycle();
    respond(
        request,
        202,
        "application/json",
        b"{\"status\":\"accepted\"}".to_vec(),
        &[],
    );
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::config::{Config, Env};

    fn get(addr: &str, path: &str) -> std::io::Result<String> {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// The API in-process on port 0: it answers, then stops on its
    /// shutdown signal and closes its port.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_in_process_on_port_0_until_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("players.csv"),
            "id,name,pin\na,Ann,123456\n",
        )
        .unwrap();
        let text = "[site]\ntitle = \"T\"\n[source]\nkind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\n[players]\n";
        let config =
            Config::parse(text, &dir.path().join("site.toml"), &Env::from_process()).unwrap();
        let listener = bind(&ListenAddr::parse("127.0.0.1:0").unwrap()).unwrap();
        let addr = listener.local.clone();
        let state = AppState::new(std::time::Duration::from_secs(30));
        let opts = ApiOptions::new(&config, None).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let api = tokio::spawn(run(listener, state, opts, async move {
            let _ = stopped.await;
        }));

        let a = addr.clone();
        let answer = tokio::task::spawn_blocking(move || get(&a, "/healthz"))
            .await
            .unwrap()
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
        assert!(answer.contains("\"status\""), "{answer}");
        let a = addr.clone();
        let answer = tokio::task::spawn_blocking(move || get(&a, "/nowhere"))
            .await
            .unwrap()
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");

        stop.send(()).unwrap();
        api.await.unwrap().unwrap();
        let refused = tokio::task::spawn_blocking(move || get(&addr, "/healthz"))
            .await
            .unwrap();
        assert!(
            refused.is_err(),
            "still answering after shutdown: {refused:?}"
        );
    }
}
