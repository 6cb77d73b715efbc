//! The API's front door (issue 14): owns the listening socket, reads each
//! request whole — with a deadline and size caps — and only then hands it to
//! tiny_http over private unix-socket connections it keeps alive.
//!
//! tiny_http 0.12 has no timeouts and spawns a thread per connection
//! (docs/design.md), so 8 clients sending half a body froze every route and a
//! herd of nginx subrequests drove gen to ~5,900 threads. Here a slow or
//! stuck client costs one tokio task until [`REQUEST_DEADLINE`], never a
//! thread; tiny_http only ever sees complete requests from us, on at most
//! [`RELAY_SLOTS`] kept-alive connections, so its threads have a fixed
//! bound. Refusals
//! (oversize, `Transfer-Encoding`, a slow client) are answered here without
//! reading further. This module parses HTTP with `httparse`. It knows two
//! routes, `/api/auth` and [`PLAYERS_AUTH_ROUTE`], which nginx asks for
//! every uncached private page: those it answers itself, on the
//! connection's task, through the [`AuthCheck`] the API gives it (a
//! signature and a lookup, no I/O), so that a herd of them never queues
//! behind the relay. Every other route stays in [`crate::api`].
//!
//! Clients hold one of a fixed number of slots. A kept-alive client waiting
//! for its next request holds one too, so when slots run short the oldest
//! such idle client is closed (issue 23: 4,600 idle ones kept new
//! connections waiting seconds); a client in the middle of a request never is.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, oneshot};
use tokio::time::{Instant, timeout, timeout_at};

use crate::answer::MAX_BODY;

/// From accept to the last byte of the body: a client slower than this is
/// answered 408 and dropped. nginx buffers whole requests before passing
/// them on, so a real client needs a few milliseconds.
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(2);

/// Request line and headers at most (nginx's default large buffers are
/// 4 × 8 KiB; a session cookie is about 100 bytes).
const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// Client connections held open at once (fewer if the process may not
/// open that many files: see [`client_slots`]). When all are taken, the
/// oldest kept-alive client waiting for its next request is closed to make
/// room; with none idle, new ones wait in the kernel's backlog until a
/// request ends (at most [`REQUEST_DEADLINE`] later for a client that sends
/// nothing).
const MAX_CONNECTIONS: usize = 4096;

/// Descriptors kept for everything but clients: both ends of the relay's
/// unix sockets, tiny_http's, the files a cycle reads and writes, photo
/// downloads, the log.
const OTHER_DESCRIPTORS: usize = 512;

/// With every slot taken and the oldest idle client told to close, how
/// long to wait for a slot before looking for an idle client again (the
/// one told may have begun a request just then, and is served).
const SLOT_RETRY: Duration = Duration::from_millis(20);

/// Requests inside tiny_http at once: each one is a tiny_http thread.
pub(crate) const RELAY_SLOTS: usize = 32;

/// How long a kept-alive connection may wait for its next request.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);

/// How long tiny_http's handlers may take to answer (they never wait on
/// the network), and how long a client may take to read the answer.
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Answers larger than this (only `gen serve`'s static files could be) are
/// refused rather than buffered.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// Headers that describe the client's connection, not the request: the
/// front decides those (keep-alive with the client, `100 Continue` sent
/// here).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "expect",
    "upgrade",
    "te",
];

/// The socket clients connect to.
pub(crate) enum ClientListener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

/// Answers `/api/auth` from the values of its `Cookie` headers and its
/// `X-Player-Slug` (`Some`; no header is `Some("")`), or
/// `/api/auth/players` from its cookies alone (`None`: is this any valid
/// session?): 204, 401 or 403, and how long nginx may use the answer.
pub(crate) type AuthCheck = Box<dyn Fn(&[String], Option<&str>) -> (u16, AuthLife) + Send + Sync>;

/// How long nginx may use an answer to `/api/auth`, in seconds (its
/// `Cache-Control`, which nginx honours, issue 23): `max_age` as it is;
/// then `stale_while_revalidate` more, only for requests that arrive while
/// another is asking gen for the same cookie; `stale_if_error` more, only
/// while gen cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthLife {
    pub max_age: u8,
    pub stale_while_revalidate: u8,
    pub stale_if_error: u8,
}

/// nginx's question for `[site] visibility = "players"`: may this cookie
/// read the roster and photos (any valid session)? A route of its own,
/// not a header: nginx passes a client's headers on to its auth
/// subrequests, and the path is the one thing a client can't choose.
pub(crate) const PLAYERS_AUTH_ROUTE: &str = "/api/auth/players";

/// What the front needs to run: where tiny_http listens (a unix socket in a
/// 0700 folder that only this process's user can enter), and how to answer
/// `/api/auth`.
pub(crate) struct Front {
    inner: PathBuf,
    auth: AuthCheck,
    connections: Arc<Semaphore>,
    relays: Arc<Semaphore>,
    /// Kept-alive connections to tiny_http, each served by one tiny_http
    /// thread: a new connection per request cost an accept and a hand-off
    /// to tiny_http's pool, which halved the logins per second.
    idle: std::sync::Mutex<Vec<UnixStream>>,
    /// Kept-alive clients between two requests, which may be closed to
    /// make room.
    idle_clients: IdleClients,
    /// New connections to tiny_http are made one at a time, each serving
    /// its first request before the next is made: tiny_http's pool hands a
    /// connection to a thread it believes idle, and two connections made
    /// together can both go to one thread, which then serves the first for
    /// as long as it lives while the second waits forever.
    connecting: tokio::sync::Mutex<()>,
}

/// A request refused before tiny_http sees it.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    status: u16,
    text: &'static str,
    /// Refused on `/api/auth`, which may only answer 204, 401 or 403.
    auth_route: bool,
}

impl Refusal {
    fn new(status: u16, text: &'static str) -> Refusal {
        Refusal {
            status,
            text,
            auth_route: false,
        }
    }
}

/// A complete request, ready to forward.
#[derive(Debug)]
struct Forward {
    /// Request line and headers, rewritten for tiny_http (see [`parse_head`]).
    head: Vec<u8>,
    body: Vec<u8>,
    /// A `HEAD` request: its answer has headers only.
    head_only: bool,
    /// The client may send another request on this connection.
    keep_alive: bool,
    /// An `/api/auth` request, answered here.
    auth: Option<AuthAsk>,
}

/// What an `/api/auth` request carries that its answer depends on.
#[derive(Debug, Default, PartialEq, Eq)]
struct AuthAsk {
    cookies: Vec<String>,
    /// `X-Player-Slug` on `/api/auth` (`""` when absent); `None` on
    /// [`PLAYERS_AUTH_ROUTE`], which ignores that header.
    slug: Option<String>,
}

/// Kept-alive client connections waiting for their next request, in the
/// order they began to wait, each with the way to tell it to close.
/// A connection is listed only between two requests, so closing one never
/// cuts a request short.
#[derive(Default)]
struct IdleClients(std::sync::Mutex<IdleList>);

#[derive(Default)]
struct IdleList {
    next: u64,
    waiting: BTreeMap<u64, oneshot::Sender<()>>,
}

impl IdleClients {
    fn list(&self) -> std::sync::MutexGuard<'_, IdleList> {
        // Nothing panics while it is held: a poisoned list is still whole.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lists a client that begins to wait; its number, and what says
    /// "close now".
    fn park(&self) -> (u64, oneshot::Receiver<()>) {
        let (close, closing) = oneshot::channel();
        let mut list = self.list();
        let id = list.next;
        list.next += 1;
        list.waiting.insert(id, close);
        (id, closing)
    }

    fn unpark(&self, id: u64) {
        self.list().waiting.remove(&id);
    }

    /// Tells the client that has waited longest to close, if any waits.
    fn close_oldest(&self) {
        let mut list = self.list();
        while let Some((_, close)) = list.waiting.pop_first() {
            // A failed send: that client has just stopped waiting (its
            // request is served); the next one, then.
            if close.send(()).is_ok() {
                return;
            }
        }
    }
}

/// How many clients the front door holds at once: [`MAX_CONNECTIONS`],
/// fewer if this process may not open that many files. The soft limit is
/// raised first, as far as the hard one allows (systemd's `LimitNOFILE`;
/// deploy.sh sets 65,536). Past the limit `accept` fails instead of a slot
/// running short, and no idle client would be closed to make room.
pub(crate) fn client_slots() -> usize {
    let wanted = u64::try_from(MAX_CONNECTIONS + OTHER_DESCRIPTORS).unwrap_or(u64::MAX);
    let limit = match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        // Unknown: assume enough, as before this check.
        Err(_) => return MAX_CONNECTIONS,
    };
    let slots = limit
        .saturating_sub(OTHER_DESCRIPTORS)
        .clamp(RELAY_SLOTS, MAX_CONNECTIONS);
    if slots < MAX_CONNECTIONS {
        tracing::warn!(
            event = "few_descriptors",
            limit,
            slots,
            "gen may open only {limit} files: the API holds {slots} connections at once instead of {MAX_CONNECTIONS}; raise LimitNOFILE (deploy.sh's unit sets 65536)"
        );
    }
    slots
}

impl Front {
    /// The front door for tiny_http at `inner`, holding at most `slots`
    /// clients at once ([`client_slots`]).
    pub(crate) fn new(inner: &Path, auth: AuthCheck, slots: usize) -> Front {
        Front {
            inner: inner.to_path_buf(),
            auth,
            connections: Arc::new(Semaphore::new(slots)),
            relays: Arc::new(Semaphore::new(RELAY_SLOTS)),
            idle: std::sync::Mutex::new(Vec::with_capacity(RELAY_SLOTS)),
            idle_clients: IdleClients::default(),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// A slot for a client just accepted: a free one, else one freed by
    /// closing the oldest idle kept-alive client. A client in the middle
    /// of a request is never closed: with none idle, this waits until a
    /// request ends or a client begins to idle. `None`: the gate is closed.
    async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        loop {
            match Arc::clone(&self.connections).try_acquire_owned() {
                Ok(permit) => return Some(permit),
                Err(TryAcquireError::Closed) => return None,
                Err(TryAcquireError::NoPermits) => {}
            }
            self.idle_clients.close_oldest();
            match timeout(SLOT_RETRY, Arc::clone(&self.connections).acquire_owned()).await {
                Ok(Ok(permit)) => return Some(permit),
                Ok(Err(_)) => return None,
                Err(_) => {}
            }
        }
    }

    /// Accepts clients until the listener fails for good; returns that
    /// error. Transient failures (out of descriptors, a connection reset
    /// before accept) pause accepting briefly instead of ending it.
    pub(crate) async fn run(self: Arc<Self>, listener: ClientListener) -> io::Error {
        let listener = match listener {
            ClientListener::Tcp(l) => l
                .set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(l))
                .map(Accepting::Tcp),
            ClientListener::Unix(l) => l
                .set_nonblocking(true)
                .and_then(|()| UnixListener::from_std(l))
                .map(Accepting::Unix),
        };
        let listener = match listener {
            Ok(l) => l,
            Err(e) => return e,
        };
        loop {
            // Accepted first, then given a slot: a slot is made by closing
            // an idle client only for a client that is really there.
            let accepted = match &listener {
                Accepting::Tcp(l) => l.accept().await.map(|(s, peer)| {
                    let _ = s.set_nodelay(true);
                    Accepted::Tcp(s, peer.ip())
                }),
                Accepting::Unix(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
            };
            let client = match accepted {
                Ok(client) => client,
                Err(e) if is_transient(&e) => {
                    tracing::warn!(event = "accept_failed", error = %e, "API accept failed; pausing 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => return e,
            };
            let Some(permit) = self.slot().await else {
                return io::Error::other("the connection gate was closed");
            };
            let front = Arc::clone(&self);
            tokio::spawn(async move {
                match client {
                    Accepted::Tcp(s, peer) => front.connection(s, Some(peer)).await,
                    Accepted::Unix(s) => front.connection(s, None).await,
                }
                drop(permit);
            });
        }
    }

    /// One client connection: requests answered one after the other until
    /// the client closes, asks to close, idles past [`KEEPALIVE_IDLE`], or
    /// is refused.
    async fn connection<S>(&self, mut client: S, peer: Option<IpAddr>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut pending = Vec::new();
        let mut kept_alive = false;
        loop {
            // The deadline runs from the request's first byte.
            if pending.is_empty() {
                let mut first = [0u8; 4096];
                let read = if kept_alive {
                    self.next_request(&mut client, &mut first).await
                } else {
                    timeout(REQUEST_DEADLINE, client.read(&mut first))
                        .await
                        .ok()
                        .and_then(Result::ok)
                };
                match read {
                    Some(n) if n > 0 => pending.extend_from_slice(&first[..n]),
                    _ => return,
                }
            }
            let deadline = Instant::now() + REQUEST_DEADLINE;
            let read = timeout_at(deadline, read_request(&mut client, &mut pending, peer)).await;
            let (answer, keep_alive) = match read {
                Err(_) => (
                    Err(Refusal::new(408, "request not received in time")),
                    false,
                ),
                Ok(Err(ReadError::Closed)) => return,
                Ok(Err(ReadError::Refused(r))) => (Err(r), false),
                Ok(Ok(forward)) => match &forward.auth {
                    Some(ask) => {
                        let (status, life) = (self.auth)(&ask.cookies, ask.slug.as_deref());
                        (Ok(auth_answer(status, life)), forward.keep_alive)
                    }
                    None => (self.relay(&forward).await, forward.keep_alive),
                },
            };
            let keep_alive = keep_alive && answer.is_ok();
            let bytes = answer.unwrap_or_else(|refusal| refusal_bytes(&refusal));
            let written = timeout(WRITE_DEADLINE, async {
                client.write_all(&bytes).await?;
                if !keep_alive {
                    client.shutdown().await?;
                }
                io::Result::Ok(())
            })
            .await;
            if !keep_alive || !matches!(written, Ok(Ok(()))) {
                return;
            }
            kept_alive = true;
        }
    }

    /// The first bytes of a kept-alive client's next request, waited for
    /// at most [`KEEPALIVE_IDLE`] among the idle clients that
    /// [`Front::slot`] may close. `None`: closed, silent, or closed to make
    /// room.
    async fn next_request<S>(&self, client: &mut S, buf: &mut [u8]) -> Option<usize>
    where
        S: AsyncRead + Unpin,
    {
        let (id, closing) = self.idle_clients.park();
        let read = tokio::select! {
            // Bytes that arrived are a request begun: served, even if this
            // client was chosen to close meanwhile.
            biased;
            read = timeout(KEEPALIVE_IDLE, client.read(buf)) => read.ok().and_then(Result::ok),
            _ = closing => None,
        };
        self.idle_clients.unpark(id);
        read
    }

    /// Hands a complete request to tiny_http; its whole answer.
    async fn relay(&self, forward: &Forward) -> Result<Vec<u8>, Refusal> {
        let busy = Refusal::new(503, "the login service is busy; try again");
        let Ok(Ok(_slot)) = timeout(ANSWER_DEADLINE, self.relays.acquire()).await else {
            return Err(busy);
        };
        // A kept connection tiny_http has closed fails before any answer
        // byte: then once more on a fresh one.
        for _ in 0..2 {
            let pop = || self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let kept = pop();
            let reused = kept.is_some();
            let outcome = timeout(ANSWER_DEADLINE, async {
                let (mut inner, _one_at_a_time) = match kept {
                    Some(c) => (c, None),
                    None => {
                        let guard = self.connecting.lock().await;
                        // One may have come back while this one waited.
                        match pop() {
                            Some(c) => (c, None),
                            None => (
                                UnixStream::connect(&self.inner)
                                    .await
                                    .map_err(|_| Exchange::Io)?,
                                Some(guard),
                            ),
                        }
                    }
                };
                let answer = exchange(&mut inner, forward).await?;
                Ok::<_, Exchange>((inner, answer))
            })
            .await;
            match outcome {
                Ok(Ok((inner, (answer, keep)))) => {
                    if keep && let Ok(mut idle) = self.idle.lock() {
                        idle.push(inner);
                    }
                    return Ok(answer);
                }
                Ok(Err(Exchange::Silent)) if reused => continue,
                Ok(Err(Exchange::TooLarge)) => {
                    return Err(Refusal::new(502, "answer too large"));
                }
                Ok(Err(_)) | Err(_) => break,
            }
        }
        tracing::warn!(
            event = "relay_failed",
            "the API's handlers did not answer a request"
        );
        Err(busy)
    }
}

/// Why an exchange with tiny_http failed.
enum Exchange {
    /// Closed before any byte of an answer.
    Silent,
    TooLarge,
    Io,
    Malformed,
}

/// Writes one request on a connection to tiny_http and reads its answer,
/// framed by `Content-Length` (the forwarded `TE: identity` makes tiny_http
/// always send one). Also whether the connection may serve another.
async fn exchange(inner: &mut UnixStream, forward: &Forward) -> Result<(Vec<u8>, bool), Exchange> {
    inner
        .write_all(&forward.head)
        .await
        .map_err(|_| Exchange::Io)?;
    inner
        .write_all(&forward.body)
        .await
        .map_err(|_| Exchange::Io)?;
    let mut answer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 8192];
    loop {
        let n = inner.read(&mut chunk).await.map_err(|_| Exchange::Io)?;
        if n == 0 {
            return Err(if answer.is_empty() {
                Exchange::Silent
            } else {
                Exchange::Malformed
            });
        }
        answer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&answer) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if answer.len() < MAX_HEAD => continue,
            _ => return Err(Exchange::Malformed),
        };
        let status = response.code.unwrap_or(0);
        let value = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        let declared = value("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or(Exchange::Malformed)?;
        let keep = !value("connection").is_some_and(|v| v.contains("close"));
        let body_len = if forward.head_only || matches!(status, 100..=199 | 204 | 304) {
            0
        } else {
            declared
        };
        let total = head_len.saturating_add(body_len);
        if total > MAX_ANSWER {
            return Err(Exchange::TooLarge);
        }
        while answer.len() < total {
            let n = inner.read(&mut chunk).await.map_err(|_| Exchange::Io)?;
            if n == 0 {
                return Err(Exchange::Malformed);
            }
            answer.extend_from_slice(&chunk[..n]);
        }
        // More than the answer: out of step, so never reused.
        let keep = keep && answer.len() == total;
        answer.truncate(total);
        return Ok((answer, keep));
    }
}

enum Accepting {
    Tcp(TcpListener),
    Unix(UnixListener),
}

enum Accepted {
    Tcp(tokio::net::TcpStream, IpAddr),
    Unix(UnixStream),
}

fn is_transient(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut | OutOfMemory
    ) || matches!(
        e.raw_os_error(),
        // EMFILE, ENFILE, ENOBUFS, ENOMEM: wait for descriptors to free.
        Some(24 | 23 | 105 | 12)
    )
}

enum ReadError {
    /// The client went away (or sent nothing): nothing to answer.
    Closed,
    Refused(Refusal),
}

impl From<Refusal> for ReadError {
    fn from(r: Refusal) -> ReadError {
        ReadError::Refused(r)
    }
}

/// Reads one request from `pending` (bytes already received) and the
/// client: its head (at most [`MAX_HEAD`]), then exactly the body its
/// `Content-Length` declares (at most [`MAX_BODY`]). Bytes past the body
/// (a pipelined request) stay in `pending`.
async fn read_request<S>(
    client: &mut S,
    pending: &mut Vec<u8>,
    peer: Option<IpAddr>,
) -> Result<Forward, ReadError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut chunk = [0u8; 4096];
    let parsed = loop {
        if let Some(parsed) = parse_head(pending, peer)? {
            break parsed;
        }
        if pending.len() >= MAX_HEAD {
            return Err(Refusal::new(431, "request header too large").into());
        }
        let n = client
            .read(&mut chunk)
            .await
            .map_err(|_| ReadError::Closed)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        pending.extend_from_slice(&chunk[..n]);
    };
    pending.drain(..parsed.head_len);
    let mut body = Vec::with_capacity(parsed.body_len);
    let from_pending = parsed.body_len.min(pending.len());
    body.extend(pending.drain(..from_pending));
    if body.len() < parsed.body_len && parsed.expects_continue {
        client
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .map_err(|_| ReadError::Closed)?;
    }
    while body.len() < parsed.body_len {
        let want = (parsed.body_len - body.len()).min(chunk.len());
        let n = client
            .read(&mut chunk[..want])
            .await
            .map_err(|_| ReadError::Closed)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Forward {
        head: parsed.head,
        body,
        head_only: parsed.head_only,
        keep_alive: parsed.keep_alive,
        auth: parsed.auth,
    })
}

struct ParsedHead {
    head: Vec<u8>,
    head_len: usize,
    body_len: usize,
    expects_continue: bool,
    head_only: bool,
    keep_alive: bool,
    auth: Option<AuthAsk>,
}

/// `Ok(None)`: the head is not complete yet.
fn parse_head(buf: &[u8], peer: Option<IpAddr>) -> Result<Option<ParsedHead>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(431, "too many request headers"));
        }
        Err(_) => return Err(Refusal::new(400, "malformed request")),
    };
    let (Some(method), Some(path), Some(version)) = (request.method, request.path, request.version)
    else {
        return Err(Refusal::new(400, "malformed request"));
    };
    let route = path.split('?').next();
    let auth_route = matches!(route, Some("/api/auth" | PLAYERS_AUTH_ROUTE));
    let refuse = |status, text| Refusal {
        status,
        text,
        auth_route,
    };
    let bad = |text| refuse(400, text);
    let mut keep_alive = version == 1;
    let mut body_len: Option<usize> = None;
    let mut expects_continue = false;
    let mut has_real_ip = false;
    let mut auth = auth_route.then(|| AuthAsk {
        cookies: Vec::new(),
        slug: (route != Some(PLAYERS_AUTH_ROUTE)).then(String::new),
    });
    let mut head = Vec::with_capacity(head_len + 64);
    // HTTP/1.1 to tiny_http whatever the client spoke: the connection to
    // it is kept alive, and each answer framed by Content-Length.
    head.extend_from_slice(format!("{method} {path} HTTP/1.1\r\n").as_bytes());
    for h in request.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "transfer-encoding" => {
                return Err(bad("Transfer-Encoding is not accepted here"));
            }
            "content-length" => {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| bad("malformed Content-Length"))?;
                // Too many digits to parse is too large all the same.
                let n = n.parse::<u64>().unwrap_or(u64::MAX);
                if n > MAX_BODY {
                    return Err(refuse(413, "request body too large"));
                }
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if body_len.is_some_and(|m| m != n) {
                    return Err(bad("conflicting Content-Length headers"));
                }
                body_len = Some(n);
            }
            "expect" => {
                expects_continue = h.value.eq_ignore_ascii_case(b"100-continue");
            }
            "x-real-ip" => has_real_ip = true,
            // A header that isn't UTF-8 carries no session of ours.
            "cookie" => {
                if let (Some(ask), Ok(v)) = (auth.as_mut(), std::str::from_utf8(h.value)) {
                    ask.cookies.push(v.to_string());
                }
            }
            "x-player-slug" => {
                let slug = auth.as_mut().and_then(|ask| ask.slug.as_mut());
                if let (Some(slug), Ok(v)) = (slug, std::str::from_utf8(h.value)) {
                    v.clone_into(slug);
                }
            }
            "connection" => {
                let close = String::from_utf8_lossy(h.value)
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"));
                keep_alive &= !close;
            }
            _ => {}
        }
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        head.extend_from_slice(h.name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(h.value);
        head.extend_from_slice(b"\r\n");
    }
    // tiny_http sees a unix-socket peer; the client's address travels the
    // way nginx sends it.
    if let (false, Some(ip)) = (has_real_ip, peer) {
        head.extend_from_slice(format!("X-Real-IP: {ip}\r\n").as_bytes());
    }
    head.extend_from_slice(b"TE: identity\r\n\r\n");
    Ok(Some(ParsedHead {
        head,
        head_len,
        body_len: body_len.unwrap_or(0),
        expects_continue,
        head_only: method.eq_ignore_ascii_case("HEAD"),
        keep_alive,
        auth,
    }))
}

/// The answer to `/api/auth`: a status and no body, for nginx's cache of
/// auth answers only (nginx never passes it on), which uses it as `life`
/// says. `Cache-Control` alone says it: beside an `X-Accel-Expires`, nginx
/// reads `stale-if-error` or not depending on the headers' order.
fn auth_answer(status: u16, life: AuthLife) -> Vec<u8> {
    let (status, reason, length) = match status {
        204 => (204, "No Content", ""),
        403 => (403, "Forbidden", "Content-Length: 0\r\n"),
        _ => (401, "Unauthorized", "Content-Length: 0\r\n"),
    };
    let AuthLife {
        max_age,
        stale_while_revalidate,
        stale_if_error,
    } = life;
    format!(
        "HTTP/1.1 {status} {reason}\r\n{length}Content-Type: text/plain; charset=utf-8\r\n\
         Cache-Control: max-age={max_age}, stale-while-revalidate={stale_while_revalidate}, \
         stale-if-error={stale_if_error}\r\n\
         X-Content-Type-Options: nosniff\r\n\r\n"
    )
    .into_bytes()
}

/// The bytes of a refusal. `/api/auth` answers only 204, 401 or 403
/// (nginx turns anything else into a 500): a refused auth request is 401.
fn refusal_bytes(refusal: &Refusal) -> Vec<u8> {
    let auth_route = refusal.auth_route;
    let status = if auth_route { 401 } else { refusal.status };
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        _ => "Service Unavailable",
    };
    let body = if auth_route {
        String::new()
    } else {
        format!("{}\n", refusal.text)
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<Option<ParsedHead>, Refusal> {
        parse_head(
            raw.as_bytes(),
            Some("127.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))),
        )
    }

    #[test]
    fn the_forwarded_head_is_http_1_1_with_identity_bodies() {
        let Ok(Some(p)) = parsed(
            "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\
             Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        ) else {
            panic!("not parsed");
        };
        let head = String::from_utf8_lossy(&p.head).to_string();
        assert_eq!(
            head,
            "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\
             X-Real-IP: 127.0.0.1\r\nTE: identity\r\n\r\n"
        );
        assert_eq!(p.body_len, 3);
        assert!(p.expects_continue);
        assert!(p.keep_alive);
    }

    #[test]
    fn nginx_real_ip_is_kept() {
        let Ok(Some(p)) = parsed("GET /api/auth?x HTTP/1.0\r\nX-Real-IP: 203.0.113.9\r\n\r\n")
        else {
            panic!("not parsed");
        };
        let head = String::from_utf8_lossy(&p.head).to_string();
        assert!(head.starts_with("GET /api/auth?x HTTP/1.1\r\n"), "{head}");
        assert_eq!(head.matches("X-Real-IP").count(), 1, "{head}");
        assert!(!p.keep_alive, "HTTP/1.0 closes");
    }

    #[test]
    fn partial_heads_wait_and_refusals_are_named() {
        assert!(matches!(parsed("GET / HTTP/1.1\r\nHost"), Ok(None)));
        let status = |raw| parsed(raw).err().map(|r| r.status);
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n"),
            Some(413)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Some(413)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Some(400)
        );
        assert_eq!(status("GARBAGE\r\n\r\n"), Some(400));
    }

    #[test]
    fn auth_refusals_are_401_without_body() {
        let Err(refusal) = parsed("GET /api/auth HTTP/1.1\r\nContent-Length: 5000\r\n\r\n") else {
            panic!("not refused");
        };
        let bytes = refusal_bytes(&refusal);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("HTTP/1.1 401 "), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }

    #[test]
    fn auth_requests_carry_their_cookies_and_slug_and_nothing_else_does() {
        let Ok(Some(p)) = parsed(
            "GET /api/auth HTTP/1.1\r\nCookie: a=1\r\nX-Player-Slug: zoe\r\n\
             cookie: gen_session=t\r\n\r\n",
        ) else {
            panic!("not parsed");
        };
        assert_eq!(
            p.auth,
            Some(AuthAsk {
                cookies: vec!["a=1".to_string(), "gen_session=t".to_string()],
                slug: Some("zoe".to_string()),
            })
        );
        // No slug header: admins only, as before.
        let Ok(Some(bare)) = parsed("GET /api/auth HTTP/1.1\r\nCookie: a=1\r\n\r\n") else {
            panic!("not parsed");
        };
        assert_eq!(bare.auth.and_then(|a| a.slug), Some(String::new()));
        // The players' question ignores a slug, whoever set it.
        let Ok(Some(players)) =
            parsed("GET /api/auth/players HTTP/1.1\r\nCookie: a=1\r\nX-Player-Slug: zoe\r\n\r\n")
        else {
            panic!("not parsed");
        };
        assert_eq!(
            players.auth,
            Some(AuthAsk {
                cookies: vec!["a=1".to_string()],
                slug: None,
            })
        );
        let Ok(Some(login)) = parsed("POST /api/login HTTP/1.1\r\nCookie: a=1\r\n\r\n") else {
            panic!("not parsed");
        };
        assert_eq!(login.auth, None);
        let Ok(Some(other)) = parsed("GET /api/authx HTTP/1.1\r\n\r\n") else {
            panic!("not parsed");
        };
        assert_eq!(other.auth, None);
    }

    #[test]
    fn the_idle_client_that_waited_longest_is_closed_first() {
        let idle = IdleClients::default();
        let (first, mut first_closing) = idle.park();
        let (second, mut second_closing) = idle.park();
        let (_, mut third_closing) = idle.park();
        // The first begins a request: no longer idle, never closed.
        idle.unpark(first);
        idle.close_oldest();
        assert!(first_closing.try_recv().is_err());
        assert_eq!(second_closing.try_recv(), Ok(()));
        assert!(third_closing.try_recv().is_err());
        // A client that stopped waiting without unparking yet (its request
        // just began) is passed over.
        idle.unpark(second);
        drop(third_closing);
        let (_, mut fourth_closing) = idle.park();
        idle.close_oldest();
        assert_eq!(fourth_closing.try_recv(), Ok(()));
        idle.close_oldest();
        assert!(idle.list().waiting.is_empty());
    }

    #[test]
    fn auth_answers_are_bodiless_and_say_how_long_nginx_may_use_them() {
        let life = AuthLife {
            max_age: 25,
            stale_while_revalidate: 5,
            stale_if_error: 95,
        };
        for (status, line) in [
            (204, "HTTP/1.1 204 No Content\r\n"),
            (403, "HTTP/1.1 403 Forbidden\r\n"),
            (401, "HTTP/1.1 401 Unauthorized\r\n"),
            (500, "HTTP/1.1 401 Unauthorized\r\n"),
        ] {
            let bytes = auth_answer(status, life);
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.starts_with(line), "{text}");
            assert!(
                text.contains(
                    "\r\nCache-Control: max-age=25, stale-while-revalidate=5, stale-if-error=95\r\n"
                ),
                "{text}"
            );
            assert!(!text.contains("X-Accel-Expires"), "{text}");
            assert!(text.ends_with("\r\n\r\n"), "{text}");
            assert_eq!(text.contains("Content-Length: 0"), status != 204, "{text}");
        }
    }
}
