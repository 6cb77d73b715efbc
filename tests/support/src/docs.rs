//! The snippets of `docs/` that tests run (issue 24): a config example or
//! a balancer's config is read from the page a reader copies it from, so
//! the page and what is tested cannot drift apart.

use crate::site::repo;

/// The first fenced code block after the first line of `docs/<page>`
/// that contains `after`, without its fences. Panics, naming the page,
/// when there is none: a test that needs it fails.
#[track_caller]
pub fn block(page: &str, after: &str) -> String {
    let path = repo().join("docs").join(page);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines().skip_while(|l| !l.contains(after));
    assert!(
        lines.next().is_some(),
        "docs/{page} has no line with {after:?}"
    );
    let mut lines = lines.skip_while(|l| !l.trim_start().starts_with("```"));
    assert!(
        lines.next().is_some(),
        "docs/{page}: no code block after {after:?}"
    );
    let mut out = String::new();
    for line in lines.take_while(|l| !l.trim_start().starts_with("```")) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `text` with `from` replaced by `to`, asserting `from` is there: a
/// snippet that changed under a test fails it, never runs half-adapted.
#[track_caller]
pub fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the snippet no longer holds {from:?}:\n{text}"
    );
    text.replace(from, to)
}
