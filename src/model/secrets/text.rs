//! A page's bytes as text: its words (runs of ASCII letters and digits),
//! the characters around them, and soft line breaks.

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Maximal runs of ASCII letters and digits, as byte ranges.
pub(super) fn words(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && !is_word_byte(text[i]) {
            i += 1;
        }
        if i >= text.len() {
            return None;
        }
        let start = i;
        while i < text.len() && is_word_byte(text[i]) {
            i += 1;
        }
        Some((start, i))
    })
}

/// The character ending just before byte `i` (None at the start, or in
/// bytes that are not UTF-8).
pub(super) fn char_before(text: &[u8], i: usize) -> Option<char> {
    let from = i.saturating_sub(4);
    let tail = text.get(from..i)?;
    // The last char starts at the last byte that is not a continuation.
    let start = tail.iter().rposition(|b| b & 0xc0 != 0x80)?;
    std::str::from_utf8(&tail[start..]).ok()?.chars().next()
}

/// The character starting at byte `i`.
pub(super) fn char_at(text: &[u8], i: usize) -> Option<char> {
    let first = *text.get(i)?;
    let len = match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    std::str::from_utf8(text.get(i..i + len)?)
        .ok()?
        .chars()
        .next()
}

pub(super) fn alnum(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

/// Escaped HTML with line-break opportunities (`<wbr>`): after the first
/// `@` and before each `.` ahead of it, or before each `.` when there is
/// no `@`. How the `soft_breaks` template filter writes a long value (an
/// e-mail address wraps as `first.last@` / `example.org`, issue 17); here
/// so that the gate knows a secret in that form too.
pub(crate) fn with_soft_breaks(escaped: &str) -> String {
    match escaped.split_once('@') {
        Some((local, domain)) => format!("{}@<wbr>{domain}", local.replace('.', "<wbr>.")),
        None => escaped.replace('.', "<wbr>."),
    }
}
