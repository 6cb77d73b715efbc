//! The API of `gen watch`: routes answered by tiny_http's handler threads
//! (a fixed pool) from [`AppState`] only; it never calls the source.
//! Clients never reach tiny_http directly: [`crate::front`] owns the socket,
//! reads each request whole within a deadline and caps, then relays it over
//! a private unix socket. Every route still goes through [`guard`]: bounded
//! bodies, no `Transfer-Encoding`, only the route's methods. If a listener
//! dies the process must exit non-zero so systemd restarts it, rather than
//! live on deaf: [`serve`] reports that through `on_fatal`.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::auth::Auth;
use crate::config::{ListenAddr, Secret};
use crate::front::ClientListener;
use crate::state::AppState;

/// Bodies above this are refused (413) without being read (by the front).
pub const MAX_BODY: u64 = 4 * 1024;

/// Connections the kernel queues before `accept`: Rust's default of 128
/// overflowed under 1,000 connections (DESIGN.md).
const LISTEN_BACKLOG: i32 = 4096;

/// Handler threads pulling requests from tiny_http.
pub const HANDLER_THREADS: usize = 8;

/// gen's threads at most, whatever clients do (issue 14): main; the
/// runtime's 2 workers and at most 16 blocking threads (the cycle, DNS);
/// rayon's one per core (render, gzip); tiny_http's accept thread and its
/// connection threads, at most [`crate::front::RELAY_SLOTS`] busy plus the
/// 4 it keeps; the handlers; and a few more (notify, signals). Clients cost
/// tokio tasks, not threads.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    1 + 2 + 16 + cores + 1 + (crate::front::RELAY_SLOTS + 4) + HANDLER_THREADS + 8
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

/// Starts serving: the front door on `listener` (a tokio task: call from
/// within the runtime), tiny_http behind it on a unix socket in a private
/// folder, and the handler threads. `on_fatal` runs once if either
/// listener dies. The returned folder holds tiny_http's socket: keep it for
/// as long as the API serves.
pub fn serve(
    listener: Listener,
    state: AppState,
    opts: ApiOptions,
    on_fatal: impl Fn(String) + Send + Sync + 'static,
) -> std::io::Result<tempfile::TempDir> {
    // 0700: only this process's user may reach tiny_http directly.
    let private = tempfile::Builder::new().prefix("gen-api.").tempdir()?;
    let inner = private.path().join("api.sock");
    let server = Server::from_listener(std::os::unix::net::UnixListener::bind(&inner)?, None)
        .map_err(std::io::Error::other)?;
    let server = Arc::new(server);
    let on_fatal = Arc::new(on_fatal);
    for i in 0..HANDLER_THREADS {
        let server = Arc::clone(&server);
        let state = state.clone();
        let opts = opts.clone();
        let on_fatal = Arc::clone(&on_fatal);
        std::thread::Builder::new()
            .name(format!("api-{i}"))
            .spawn(move || {
                loop {
                    match server.recv() {
                        Ok(request) => handle(request, &state, &opts),
                        Err(e) => {
                            on_fatal(format!("the API's internal listener failed: {e}"));
                            // Wake the other handlers so they end too.
                            server.unblock();
                            return;
                        }
                    }
                }
            })?;
    }
    let front = Arc::new(crate::front::Front::new(&inner));
    tokio::spawn(async move {
        let e = front.run(listener.socket).await;
        on_fatal(format!("the API listener failed: {e}"));
    });
    Ok(private)
}

/// Header values here are ASCII we build ourselves; a value tiny_http would
/// refuse (non-ASCII) is dropped rather than sent.
fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// A response with a body and the headers every answer of ours carries.
/// API answers are never cached by browsers (`no-store`).
pub fn respond(
    request: Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) {
    respond_with_cache(request, status, content_type, body, "no-store", extra);
}

pub fn respond_with_cache(
    request: Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    cache_control: &str,
    extra: &[(&str, &str)],
) {
    let mut response = Response::from_data(body).with_status_code(StatusCode(status));
    let common = [
        ("Content-Type", content_type),
        ("Cache-Control", cache_control),
        ("X-Content-Type-Options", "nosniff"),
    ];
    for (name, value) in common.iter().chain(extra) {
        if let Some(h) = header(name, value) {
            response.add_header(h);
        }
    }
    // The client may be gone; nothing to do about it.
    let _ = request.respond(response);
}

fn respond_text(request: Request, status: u16, text: &str, extra: &[(&str, &str)]) {
    respond(
        request,
        status,
        "text/plain; charset=utf-8",
        format!("{text}\n").into_bytes(),
        extra,
    );
}

/// The framing checks every route needs. Returns the request when it may
/// proceed, having answered it otherwise.
fn guard(request: Request, allowed: &[Method]) -> Option<Request> {
    let has = |name: &str| {
        request
            .headers()
            .iter()
            .any(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
    };
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

/// Reads a body already known to be at most [`MAX_BODY`].
pub fn read_body(request: &mut Request) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .ok()?;
    (body.len() as u64 <= MAX_BODY).then_some(body)
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
        // nginx's auth_request: only 204, 401 or 403, whatever was sent.
        "/api/auth" => opts.auth.check(request, state),
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
    let presented = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .and_then(|h| {
            let v = h.value.as_str();
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
