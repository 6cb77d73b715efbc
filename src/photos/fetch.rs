//! Downloads of one image: the HTTP client (redirects followed by reqwest
//! under a policy that puts every hop through [`super::guard`], names
//! resolved by the guarding resolver), the conditional GET, and the caps on
//! what comes back (size, content type). Returns bytes; decoding is
//! [`super::process`]'s job, storing is [`super::cache`]'s.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

use super::guard::{self, GuardedResolver, Refused};
use crate::config::Secret;
use crate::source::http::header_string;

/// One image, redirects included.
pub(crate) const IMAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies are read up to this and abandoned past it.
pub(crate) const MAX_BYTES: usize = 10 * 1024 * 1024;
pub(crate) const MAX_REDIRECTS: usize = 5;

const WEB_PAGE: &str = "got a web page, not an image (a Drive file must be shared as \"Anyone with the link\", or with the service account)";

/// The validators of the cached copy, sent so an unchanged image costs a
/// 304.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Validators<'a> {
    pub(crate) etag: Option<&'a str>,
    pub(crate) last_modified: Option<&'a str>,
}

/// A finished download.
pub(crate) enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// The photo HTTP client and the allow-list it was made for.
#[derive(Clone)]
pub(crate) struct ImageClient {
    client: reqwest::Client,
    allow: Arc<Vec<String>>,
}

impl std::fmt::Debug for ImageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageClient")
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

impl ImageClient {
    pub(crate) fn new(allow: &[String]) -> Result<ImageClient, String> {
        let allow = Arc::new(allow.to_vec());
        let hop_allow = allow.clone();
        let hops = reqwest::redirect::Policy::custom(move |attempt| {
            // `previous` holds the first URL and every hop so far.
            if attempt.previous().len() > MAX_REDIRECTS {
                let message = format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)");
                return attempt.error(Refused(message));
            }
            match guard::check(attempt.url(), &hop_allow) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(IMAGE_TIMEOUT)
            .redirect(hops)
            // The previous hop's URL (a Drive file id, a token in a query)
            // is nobody else's business.
            .referer(false)
            // A proxy would resolve the target itself, past our checks.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .user_agent(concat!("sheetgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the photo HTTP client: {e}"))?;
        Ok(ImageClient { client, allow })
    }

    /// True when this client was made for `allow`.
    pub(crate) fn allows(&self, allow: &[String]) -> bool {
        self.allow.as_slice() == allow
    }

    /// GET `url`, conditional on `validators`. The bearer token goes to
    /// the first host only: reqwest drops it on a hop to another host.
    pub(crate) async fn get(
        &self,
        url: &str,
        validators: Validators<'_>,
        token: Option<&Secret>,
    ) -> Result<Fetched, String> {
        let url = Url::parse(url).map_err(|_| "not a web address (URL)".to_string())?;
        guard::check(&url, &self.allow).map_err(|r| r.0)?;
        let mut request = self.client.get(url);
        if let Some(etag) = validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, lm);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        let mut response = request.send().await.map_err(describe)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_redirection() {
            return Err(unfollowed(&response, &self.allow));
        }
        if !status.is_success() {
            return Err(match status.as_u16() {
                401 | 403 => format!(
                    "HTTP {}: not shared publicly (on Drive: share as \"Anyone with the link\", or with the service account)",
                    status.as_u16()
                ),
                404 => "HTTP 404: no such file".into(),
                s => format!("HTTP {s}"),
            });
        }
        let header = |name| header_string(&response, name);
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        if is_web_page(&content_type, &[]) {
            return Err(WEB_PAGE.into());
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_web_page(&content_type, &bytes) {
            return Err(WEB_PAGE.into());
        }
        Ok(Fetched::Body {
            bytes,
            etag,
            last_modified,
        })
    }
}

/// Why a redirect answer came back instead of being followed: no Location,
/// one that is no address, or one the HTTP stack cannot even represent
/// (`file:///…`), which the guard then names.
fn unfollowed(response: &reqwest::Response, allow: &[String]) -> String {
    let status = response.status().as_u16();
    let Some(location) = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return format!("HTTP {status} without a Location");
    };
    match response.url().join(location) {
        Err(_) => "a redirect to an invalid address".into(),
        Ok(next) => match guard::check(&next, allow) {
            Err(refused) => refused.0,
            Ok(()) => format!("HTTP {status}"),
        },
    }
}

fn too_large() -> String {
    format!("larger than {} MB", MAX_BYTES / (1024 * 1024))
}

/// An HTML answer where an image was expected: Drive's sign-in or
/// virus-scan page.
fn is_web_page(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("text/html") || ct.starts_with("application/xhtml") {
        return true;
    }
    let start: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    start.starts_with(b"<!doctype html")
        || start.starts_with(b"<html")
        || start.starts_with(b"<head")
}

/// A transport error in words that carry no URL: the guard's refusal alone
/// when it stopped the request, else reqwest's cause chain.
fn describe(e: reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return refused.0.clone();
        }
        source = s.source();
    }
    if e.is_timeout() {
        return "timed out".into();
    }
    crate::error::chain(&e.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_sniffed() {
        assert!(is_web_page("text/html; charset=utf-8", b""));
        assert!(is_web_page(
            "application/octet-stream",
            b"\n  <!DOCTYPE html><html>"
        ));
        assert!(!is_web_page("image/jpeg", b"\xff\xd8\xff"));
    }
}
