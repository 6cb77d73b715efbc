//! The one HTTP client of the source stage and its discipline: timeouts,
//! retries of transient failures only (connect errors, timeouts, 429, 5xx)
//! with exponential backoff and jitter, never past the cycle's deadline.
//! URLs reach its messages and logs only as [`crate::redact`] shows them.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::SourceError;

/// Timeouts and backoff. Production defaults; tests shorten the timeout
/// through `GEN_HTTP_TIMEOUT_MS` (see [`HttpOptions::for_config`]).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// The whole request, body included.
    pub timeout: Duration,
    /// The first retry waits about this long; each later one twice as long.
    pub backoff_base: Duration,
    pub max_attempts: u32,
    pub max_redirects: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            backoff_base: Duration::from_millis(200),
            max_attempts: 6,
            max_redirects: 5,
        }
    }
}

impl HttpOptions {
    /// The defaults, with the config's `http_timeout` (`GEN_HTTP_TIMEOUT_MS`:
    /// whole request, and connect when shorter) for tests that simulate a
    /// hanging server.
    pub fn for_config(config: &Config) -> Self {
        let mut opts = HttpOptions::default();
        if let Some(timeout) = config.http_timeout {
            opts.timeout = timeout;
            opts.connect_timeout = opts.connect_timeout.min(timeout);
        }
        opts
    }
}

/// The client every request of a [`super::Fetcher`] goes through (one
/// connection pool for the life of the process).
pub fn client(opts: &HttpOptions) -> Result<reqwest::Client, SourceError> {
    reqwest::Client::builder()
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .gzip(true)
        .user_agent(concat!("sheetgen/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(opts.max_redirects))
        .build()
        .map_err(|e| SourceError::Remote(format!("cannot set up the HTTP client: {e}")))
}

/// A response header as text, if present and visible ASCII.
pub fn header_string(
    response: &reqwest::Response,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An HTTP answer, whatever its status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// How many requests it took (for messages).
    pub attempts: u32,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What a request is, for messages: its redacted URL.
pub struct Target<'a> {
    pub url: &'a str,
    pub deadline: Instant,
}

/// Sends the request `make` builds, again after a transient failure, until
/// it gets an answer that is not transient, runs out of attempts, or the next
/// try would end past `target.deadline`. Returns the last answer (which may
/// be a 429 or 5xx when retries ran out), or the transport error.
pub async fn send_with_retry(
    opts: &HttpOptions,
    target: &Target<'_>,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, SourceError> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let remaining = target.deadline.saturating_duration_since(Instant::now());
        let outcome = if remaining.is_zero() {
            Err(Failure::Timeout)
        } else {
            send_once(make().timeout(opts.timeout.min(remaining))).await
        };
        let (retry_after, failure) = match outcome {
            Ok((answer, _)) if !is_transient(answer.status) => {
                return Ok(Answer {
                    attempts: attempt,
                    ..answer
                });
            }
            Ok((answer, retry_after)) => (
                retry_after,
                Transient::Answer(Answer {
                    attempts: attempt,
                    ..answer
                }),
            ),
            Err(failure) => (None, Transient::Failure(failure)),
        };
        let delay = backoff(opts.backoff_base, attempt).max(retry_after.unwrap_or_default());
        let past_deadline = Instant::now() + delay >= target.deadline;
        if attempt >= opts.max_attempts || past_deadline {
            return match failure {
                Transient::Answer(answer) => Ok(answer),
                Transient::Failure(f) => Err(SourceError::Network {
                    url: target.url.to_string(),
                    attempts: attempt,
                    message: f.describe(opts),
                }),
            };
        }
        let why = match &failure {
            Transient::Answer(answer) => format!("HTTP {}", answer.status),
            Transient::Failure(f) => f.describe(opts),
        };
        tracing::warn!(
            url = %target.url,
            attempt,
            retry_in_ms = delay.as_millis() as u64,
            error = %why,
            "transient failure, retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// 429 and 5xx: Google asks us to come back later.
fn is_transient(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// `base × 2^(attempt-1)`, plus up to half of that again as jitter so that
/// replicas started together do not retry in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).min(16));
    let half = exp.as_millis() as u64 / 2;
    let jitter = if half == 0 {
        0
    } else {
        // RandomState is seeded randomly per instance: enough for jitter.
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            % half
    };
    exp + Duration::from_millis(jitter)
}

/// What may be worth another try.
enum Transient {
    Answer(Answer),
    Failure(Failure),
}

/// A request that got no HTTP answer.
#[derive(Debug)]
enum Failure {
    Timeout,
    Connect(String),
    Other(String),
}

impl Failure {
    fn describe(&self, opts: &HttpOptions) -> String {
        match self {
            Failure::Timeout => {
                format!("no answer within {} ms (timeout)", opts.timeout.as_millis())
            }
            Failure::Connect(m) => format!("cannot connect: {m}"),
            Failure::Other(m) => format!("connection failed: {m}"),
        }
    }
}

async fn send_once(
    request: reqwest::RequestBuilder,
) -> Result<(Answer, Option<Duration>), Failure> {
    let response = request.send().await.map_err(classify)?;
    let status = response.status().as_u16();
    let header = |name| header_string(&response, name);
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    // Only the delta-seconds form; Google sends none on 429 anyway.
    let retry_after = header(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // Without a copy: a 10,000-player batchGet is about 20 MB.
    let body = Vec::from(response.bytes().await.map_err(classify)?);
    Ok((
        Answer {
            status,
            content_type,
            body,
            attempts: 1,
        },
        retry_after,
    ))
}

/// Turns a reqwest error into words that carry no URL (it may hold a key).
fn classify(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let connect = e.is_connect();
    let message = crate::error::chain(&e.without_url());
    if connect {
        Failure::Connect(message)
    } else {
        Failure::Other(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let base = Duration::from_millis(200);
        for attempt in 1..=4 {
            let exp = 200u64 << (attempt - 1);
            let d = backoff(base, attempt).as_millis() as u64;
            assert!((exp..exp + exp / 2).contains(&d), "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn only_429_and_5xx_are_transient() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_transient(s));
        }
        for s in [200, 301, 400, 401, 403, 404] {
            assert!(!is_transient(s));
        }
    }
}
