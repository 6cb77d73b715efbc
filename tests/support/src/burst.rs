//! Bursts of fresh connections opened at once, each timed to its complete
//! answer: how the tests show that a herd of clients (or a proxy's burst)
//! is answered within its bound.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::http::read_response;

// ---------------------------------------------------------------- bursts

/// What a burst of fresh connections saw.
#[derive(Debug)]
pub struct Burst {
    /// Per connection: time from the start of the burst to its complete
    /// answer, with its status; `Err` if it never came.
    pub results: Vec<Result<(Duration, u16), String>>,
}

impl Burst {
    pub fn answered_within(&self, limit: Duration) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r, Ok((d, _)) if *d <= limit))
            .count()
    }

    pub fn statuses(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in &self.results {
            let k = match r {
                Ok((_, s)) => s.to_string(),
                Err(e) => format!("error: {e}"),
            };
            *m.entry(k).or_insert(0) += 1;
        }
        m
    }

    /// `p50 / p90 / p99 / max` of the answered ones, and how many failed.
    pub fn summary(&self) -> String {
        let mut d: Vec<Duration> = self
            .results
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|(d, _)| *d))
            .collect();
        d.sort();
        let pct = |p: f64| {
            d.get(((d.len() as f64 - 1.0) * p).round() as usize)
                .map_or("-".to_string(), |x| format!("{} ms", x.as_millis()))
        };
        format!(
            "{} connections: {} answered within 1 s; latency p50 {}, p90 {}, p99 {}, max {}; statuses {:?}",
            self.results.len(),
            self.answered_within(Duration::from_secs(1)),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0),
            self.statuses()
        )
    }
}

/// Opens `n` fresh connections at once (one thread each, released together)
/// and sends one keep-alive request on each; every connection stays open
/// until all have finished or given up after `give_up`.
pub fn burst(addr: &str, n: usize, request: Vec<u8>, give_up: Duration) -> Burst {
    burst_each(addr, vec![request; n], give_up)
}

/// Like [`burst`], one connection per request in `requests` (each sends its
/// own).
pub fn burst_each(addr: &str, requests: Vec<Vec<u8>>, give_up: Duration) -> Burst {
    let n = requests.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let done = Arc::new(Barrier::new(n + 1));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (addr, barrier, done) = (addr.to_string(), Arc::clone(&barrier), Arc::clone(&done));
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let result = (|| -> std::io::Result<(Duration, u16)> {
                    let stream = TcpStream::connect(&addr)?;
                    stream.set_read_timeout(Some(give_up))?;
                    stream.set_nodelay(true)?;
                    let mut reader = BufReader::new(stream);
                    reader.get_mut().write_all(&request)?;
                    let r = read_response(&mut reader, false)?;
                    let elapsed = start.elapsed();
                    // Keep the connection open (keep-alive) until all are done.
                    done.wait();
                    drop(reader);
                    Ok((elapsed, r.status))
                })();
                match result {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        done.wait();
                        Err(e.to_string())
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    done.wait();
    Burst {
        results: handles.into_iter().map(|h| h.join().unwrap()).collect(),
    }
}

/// Like [`burst`] but the way a proxy opens connections: one thread
/// connects `n` sockets back to back, then writes the request on each,
/// then reads the answers (all within `give_up` of the
/// start). Latency is measured when each answer has been read.
pub fn burst_one_thread(addr: &str, n: usize, request: &[u8], give_up: Duration) -> Burst {
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let c = (|| -> std::io::Result<BufReader<TcpStream>> {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            Ok(BufReader::new(stream))
        })();
        conns.push(c);
    }
    // All connected first, then all requests written (as an event loop
    // does when the connects complete).
    for c in &mut conns {
        if let Ok(reader) = c {
            if let Err(e) = reader.get_mut().write_all(request) {
                *c = Err(e);
            }
        }
    }
    let deadline = start + give_up;
    let results = conns
        .iter_mut()
        .map(|c| {
            let reader = c.as_mut().map_err(|e| e.to_string())?;
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            reader
                .get_ref()
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let r = read_response(reader, false).map_err(|e| e.to_string())?;
            Ok((start.elapsed(), r.status))
        })
        .collect();
    // Every connection stayed open (keep-alive) until now.
    drop(conns);
    Burst { results }
}
