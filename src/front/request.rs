//! Reading one request whole from a client (head, then exactly its body,
//! within the caps) and rewriting its head for tiny_http, or refusing it.

use std::net::IpAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{HOP_BY_HOP, MAX_HEAD, MAX_HEADERS, PLAYERS_AUTH_ROUTE};
use crate::answer::MAX_BODY;

/// A request refused before tiny_http sees it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) status: u16,
    pub(super) text: &'static str,
    /// Refused on `/api/auth`, which may only answer 204, 401 or 403.
    pub(super) auth_route: bool,
}

impl Refusal {
    pub(super) fn new(status: u16, text: &'static str) -> Refusal {
        Refusal {
            status,
            text,
            auth_route: false,
        }
    }
}

/// A complete request, ready to forward.
#[derive(Debug)]
pub(super) struct Forward {
    /// Request line and headers, rewritten for tiny_http (see [`parse_head`]).
    pub(super) head: Vec<u8>,
    pub(super) body: Vec<u8>,
    /// A `HEAD` request: its answer has headers only.
    pub(super) head_only: bool,
    /// The client may send another request on this connection.
    pub(super) keep_alive: bool,
    /// An `/api/auth` request, answered here.
    pub(super) auth: Option<AuthAsk>,
}

/// What an `/api/auth` request carries that its answer depends on.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct AuthAsk {
    pub(super) cookies: Vec<String>,
    /// `X-Player-Slug` on `/api/auth` (`""` when absent); `None` on
    /// [`PLAYERS_AUTH_ROUTE`], which ignores that header.
    pub(super) slug: Option<String>,
}

pub(super) enum ReadError {
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
pub(super) async fn read_request<S>(
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

pub(super) struct ParsedHead {
    pub(super) head: Vec<u8>,
    pub(super) head_len: usize,
    pub(super) body_len: usize,
    pub(super) expects_continue: bool,
    pub(super) head_only: bool,
    pub(super) keep_alive: bool,
    pub(super) auth: Option<AuthAsk>,
}

/// `Ok(None)`: the head is not complete yet.
pub(super) fn parse_head(buf: &[u8], peer: Option<IpAddr>) -> Result<Option<ParsedHead>, Refusal> {
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
