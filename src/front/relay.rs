//! Relaying a complete request to tiny_http over the kept-alive unix
//! connections, one exchange at a time per connection, with deadlines and a
//! cap on the answer.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::time::timeout;

use super::request::{Forward, Refusal};
use super::{ANSWER_DEADLINE, Front, MAX_ANSWER, MAX_HEAD};

impl Front {
    /// Hands a complete request to tiny_http; its whole answer.
    pub(super) async fn relay(&self, forward: &Forward) -> Result<Vec<u8>, Refusal> {
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
pub(super) enum Exchange {
    /// Closed before any byte of an answer.
    Silent,
    TooLarge,
    Io,
    Malformed,
}

/// Writes one request on a connection to tiny_http and reads its answer,
/// framed by `Content-Length` (the forwarded `TE: identity` makes tiny_http
/// always send one). Also whether the connection may serve another.
pub(super) async fn exchange(
    inner: &mut UnixStream,
    forward: &Forward,
) -> Result<(Vec<u8>, bool), Exchange> {
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
