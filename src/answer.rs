//! How gen answers HTTP (a leaf): what every HTTP surface of gen shares,
//! reading a request's headers and its bounded body, and writing answers
//! with the headers every answer of ours carries. The API's routes
//! ([`crate::api`]), logins ([`crate::auth`]) and `gen serve`'s static
//! files ([`crate::preview`]) all answer through here; none of them reads a
//! request without a bound. (Asking Google is the other side:
//! [`crate::source::http`].)

use std::io::Read;

use tiny_http::{Header, Request, Response, StatusCode};

/// Bodies above this are refused (413) without being read
/// ([`crate::front`] refuses them before tiny_http sees them).
pub(crate) const MAX_BODY: u64 = 4 * 1024;

/// The Content-Security-Policy of every page: nginx sends it (`gen nginx`)
/// and so does `gen serve`.
pub(crate) const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The value of the first header called `name` (any case).
pub(crate) fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The values of every header called `name` (any case), in order.
pub(crate) fn headers<'a>(
    request: &'a Request,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    request
        .headers()
        .iter()
        .filter(move |h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The body, if it is at most [`MAX_BODY`]. The front door has already
/// received all of it within its deadline, so this never waits on a client.
pub(crate) fn read_body(request: &mut Request) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .ok()?;
    (body.len() as u64 <= MAX_BODY).then_some(body)
}

/// Header values here are ASCII we build ourselves; a value tiny_http would
/// refuse (non-ASCII) is dropped rather than sent.
fn header_line(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// An answer with a body and the headers every answer of ours carries.
/// API answers are never cached by browsers (`no-store`).
pub(crate) fn respond(
    request: Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) {
    respond_with_cache(request, status, content_type, body, "no-store", extra);
}

/// [`respond`] with another `Cache-Control`.
pub(crate) fn respond_with_cache(
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
        if let Some(h) = header_line(name, value) {
            response.add_header(h);
        }
    }
    // The client may be gone; nothing to do about it.
    let _ = request.respond(response);
}

/// A plain-text answer: `text` and a line end.
pub(crate) fn respond_text(request: Request, status: u16, text: &str, extra: &[(&str, &str)]) {
    respond(
        request,
        status,
        "text/plain; charset=utf-8",
        format!("{text}\n").into_bytes(),
        extra,
    );
}
