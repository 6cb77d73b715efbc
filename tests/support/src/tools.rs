//! The programs the tests need from the machine (a missing one fails the
//! test naming its Debian package, never skips it) and the tails of their
//! logs, printed when a test fails.

use std::path::{Path, PathBuf};

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The last `n` lines of the file at `path` (none if it cannot be read).
pub fn tail_file(path: &Path, n: usize) -> String {
    tail(&std::fs::read_to_string(path).unwrap_or_default(), n)
}

/// A command from PATH or the usual system folders, if installed.
pub fn find_tool(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
}

/// A command the test needs, or a failure naming its Debian package: a
/// missing tool never skips a test.
#[track_caller]
pub fn tool(command: &str, package: &str) -> PathBuf {
    find_tool(command).unwrap_or_else(|| {
        panic!(
            "`{command}` is not installed: this test needs the Debian package \
             `{package}` (apt-get install {package}; tests/run.sh installs it as root)"
        )
    })
}
