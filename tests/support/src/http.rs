//! A tiny HTTP/1.1 client over `std::net::TcpStream`: exact bytes on the
//! wire, every header kept, several `Set-Cookie` included, keep-alive
//! connections ([`Conn`]), and the requests the tests make of gen's API
//! (a form, a login, nginx's auth subrequest).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The session cookie gen sets (`__Host-`: HTTPS only, no Domain).
pub const COOKIE: &str = "__Host-gen_session";

// ---------------------------------------------------------------- responses

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The status line and headers as received (without the blank line).
    pub head: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header `name`, in order.
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body, gunzipped when `Content-Encoding: gzip`.
    pub fn decoded(&self) -> Vec<u8> {
        if self
            .header("Content-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"))
        {
            gunzip(&self.body)
        } else {
            self.body.clone()
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.head, self.text()))
    }

    /// The value of cookie `name` from the `Set-Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .and_then(|sc| sc.split(';').next())
            .and_then(|pair| pair.trim().split_once('='))
            .map(|(_, v)| v.to_string())
    }

    /// The whole `Set-Cookie` header for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers_all("Set-Cookie")
            .into_iter()
            .find(|sc| sc.trim_start().starts_with(&format!("{name}=")))
    }

    /// Status line and headers without the ones that legitimately differ
    /// between two identical answers (`Date`).
    pub fn head_without_date(&self) -> String {
        self.head
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// Whether the server will keep the connection open.
    fn keeps_alive(&self) -> bool {
        !self
            .header("Connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }
}

#[track_caller]
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("not valid gzip ({} bytes): {e}", bytes.len()));
    out
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

// ---------------------------------------------------------------- requests

/// The bytes of one request. A `Host` header is added unless given;
/// `Content-Length` is added for a non-empty body unless given.
pub fn request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    if !has("Host") {
        out.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if (!body.is_empty() || method == "POST") && !has("Content-Length") && !has("Transfer-Encoding")
    {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one response. `head_only`: the request was `HEAD` (no body).
pub fn read_response(reader: &mut impl BufRead, head_only: bool) -> std::io::Result<Response> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed after {:?}", head),
            ));
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let head = head.trim_end_matches(['\r', '\n']).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        if get("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
            loop {
                let mut size_line = String::new();
                reader.read_line(&mut size_line)?;
                let size = usize::from_str_radix(
                    size_line.trim().split(';').next().unwrap_or("").trim(),
                    16,
                )
                .map_err(|e| std::io::Error::other(format!("bad chunk size: {e}")))?;
                if size == 0 {
                    // Trailers, then the blank line.
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l)? == 0 || l == "\r\n" || l == "\n" {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0; size];
                reader.read_exact(&mut chunk)?;
                body.extend_from_slice(&chunk);
                let mut crlf = [0u8; 2];
                reader.read_exact(&mut crlf)?;
            }
        } else if let Some(len) = get("Content-Length") {
            let len: usize = len
                .parse()
                .map_err(|e| std::io::Error::other(format!("bad Content-Length: {e}")))?;
            body = vec![0; len];
            reader.read_exact(&mut body)?;
        } else {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(Response {
        status,
        head,
        headers,
        body,
    })
}

/// One connection, reusable for several requests (keep-alive).
pub struct Conn {
    pub addr: String,
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            addr: addr.to_string(),
            reader: BufReader::new(stream),
        })
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn set_read_timeout(&self, t: Duration) {
        self.stream().set_read_timeout(Some(t)).unwrap();
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(bytes)?;
        self.reader.get_mut().flush()
    }

    pub fn read(&mut self, head_only: bool) -> std::io::Result<Response> {
        read_response(&mut self.reader, head_only)
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let bytes = request_bytes(&self.addr, method, path, headers, body);
        self.send_raw(&bytes)?;
        self.read(method == "HEAD")
    }
}

/// Sends `raw` (a whole request, as it is) on a fresh connection and reads
/// the answer (no body if `raw` is a `HEAD`).
pub fn raw_request(addr: &str, raw: &[u8]) -> std::io::Result<Response> {
    let mut conn = Conn::open(addr)?;
    conn.send_raw(raw)?;
    conn.read(raw.starts_with(b"HEAD "))
}

/// One request on a fresh connection, closed afterwards.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Connection"))
    {
        all.push(("Connection", "close"));
    }
    let mut conn = Conn::open(addr)?;
    let response = conn.request(method, path, &all, body)?;
    let _ = response.keeps_alive();
    Ok(response)
}

#[track_caller]
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

#[track_caller]
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", path, headers, b"")
}

/// `GET /api/auth` as nginx asks it: the status gen gives session `token`
/// for the page of `slug`.
#[track_caller]
pub fn auth_status(addr: &str, token: &str, slug: &str) -> u16 {
    let cookie = format!("{COOKIE}={token}");
    get(
        addr,
        "/api/auth",
        &[("Cookie", &cookie), ("X-Player-Slug", slug)],
    )
    .status
}

/// `POST` of a form.
#[track_caller]
pub fn post_form(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Response {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Type", "application/x-www-form-urlencoded"));
    request(addr, "POST", path, &all, &form(fields))
}

/// A login as nginx forwards it (HTTPS, from 127.0.0.1); true when it
/// succeeds (303 + a session cookie).
#[track_caller]
pub fn login_succeeds(addr: &str, name: &str, pin: &str) -> bool {
    let r = post_form(
        addr,
        "/api/login",
        &[("X-Real-IP", "127.0.0.1"), ("X-Forwarded-Proto", "https")],
        &[("name", name), ("pin", pin)],
    );
    r.status == 303
        && r.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("Set-Cookie") && v.contains("gen_session="))
}
