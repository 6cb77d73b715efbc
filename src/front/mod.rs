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
//!
//! The rooms: [`request`] (reading and parsing a request, refusals),
//! [`relay`] (to tiny_http and back), [`reply`] (the bytes answered here),
//! [`idle`] (idle clients closed to make room); this file holds the figures,
//! the accept loop and each connection's task.

mod idle;
mod relay;
mod reply;
mod request;
#[cfg(test)]
mod tests;

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::{Instant, timeout, timeout_at};

use idle::IdleClients;
use reply::{auth_answer, refusal_bytes};
use request::{ReadError, Refusal, read_request};

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
