//! The environment a config is resolved in: every variable gen reads
//! besides logging's `RUST_LOG`.

use std::path::PathBuf;

use super::Secret;

/// The environment a config is resolved in: every variable gen reads
/// (besides logging's `RUST_LOG`), so tests
/// do not depend on the process environment.
#[derive(Debug, Default, Clone)]
pub struct Env {
    /// `GEN_GOOGLE_API_KEY`, when not blank.
    pub google_api_key: Option<Secret>,
    /// `GOOGLE_APPLICATION_CREDENTIALS`, when not blank.
    pub google_credentials: Option<PathBuf>,
    /// `GEN_SESSION_KEY` whenever set, even blank: a blank key is refused
    /// as too short rather than silently replaced by the key file.
    pub session_key: Option<Secret>,
    /// `GEN_REFRESH_TOKEN`, when not blank.
    pub refresh_token: Option<Secret>,
    /// `GEN_HTTP_TIMEOUT_MS`, as set.
    pub http_timeout_ms: Option<String>,
}

impl Env {
    pub fn from_process() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Env {
            google_api_key: non_empty("GEN_GOOGLE_API_KEY").map(Secret::new),
            google_credentials: non_empty("GOOGLE_APPLICATION_CREDENTIALS").map(PathBuf::from),
            session_key: std::env::var("GEN_SESSION_KEY").ok().map(Secret::new),
            refresh_token: non_empty("GEN_REFRESH_TOKEN").map(Secret::new),
            http_timeout_ms: std::env::var("GEN_HTTP_TIMEOUT_MS").ok(),
        }
    }
}
