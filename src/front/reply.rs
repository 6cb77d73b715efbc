//! The bytes the front door answers itself: `/api/auth`'s bodiless answers
//! and refusals.

use super::AuthLife;
use super::request::Refusal;

/// The answer to `/api/auth`: a status and no body, for nginx's cache of
/// auth answers only (nginx never passes it on), which uses it as `life`
/// says. `Cache-Control` alone says it: beside an `X-Accel-Expires`, nginx
/// reads `stale-if-error` or not depending on the headers' order.
pub(super) fn auth_answer(status: u16, life: AuthLife) -> Vec<u8> {
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
pub(super) fn refusal_bytes(refusal: &Refusal) -> Vec<u8> {
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
