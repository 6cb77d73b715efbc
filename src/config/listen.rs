//! `api.listen`: a loopback address or a unix socket, since the API must
//! sit behind nginx.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the API listens: `127.0.0.1:8787` or `unix:/run/sheetgen.sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    /// As written: a relative path is relative to gen's working folder.
    Unix(PathBuf),
}

impl ListenAddr {
    /// `api.listen` and `gen serve --listen`: a loopback address or a unix
    /// socket, since the API must sit behind nginx.
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            return Ok(ListenAddr::Unix(path.into()));
        }
        let addr: SocketAddr = s
            .parse()
            .map_err(|_| format!("\"{s}\" is not an address like 127.0.0.1:8787 or unix:/path"))?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "\"{s}\" is not a loopback address: the API must sit behind nginx (use 127.0.0.1)"
            ));
        }
        Ok(ListenAddr::Tcp(addr))
    }
}

/// As it would be written in `api.listen`.
impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(addr) => write!(f, "{addr}"),
            ListenAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}
