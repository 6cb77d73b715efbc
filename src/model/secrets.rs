//! [`SecretIndex`]: every secret of one snapshot, searchable as whole tokens
//! in one pass over a text. The last gate before publish scans every
//! artifact with it, and row problems are scrubbed with it, so a PIN that
//! reached a page or a message by any path (a stray quote, a PIN typed in
//! the wrong column) is caught there (issue 14). It never shows a secret,
//! not even in `Debug`.
//!
//! A secret counts only as a whole token: PIN `123456` is not found in
//! `0123456` or `x123456`. One pass whatever the number of secrets: the text
//! is cut into runs of ASCII letters and digits ("words"), each secret is
//! filed under its longest word, and only a word that is some secret's
//! anchor is compared further (10,000 players × every page stays a hash
//! lookup per word, not a substring search per secret).

use std::collections::HashMap;
use std::fmt;

/// Shorter secrets are not searched: a 4-digit PIN is also a year, a score
/// or a price on some page, and the gate could never tell them apart.
pub const MIN_SECRET_CHARS: usize = 6;

#[derive(Clone, Default)]
pub struct SecretIndex {
    needles: Vec<Needle>,
    /// Anchor word → (needle, byte offset of the word in the needle).
    anchors: HashMap<Vec<u8>, Vec<(usize, usize)>>,
    /// `anchor_len[n]`: some anchor is `n` bytes long. Words of other
    /// lengths (most of HTML: `div`, `class`) skip the hash lookup.
    anchor_len: Vec<bool>,
    /// Needles without an ASCII letter or digit (rare): searched directly.
    unanchored: Vec<usize>,
    /// Distinct secrets, for [`SecretIndex::len`].
    secrets: usize,
}

#[derive(Clone)]
struct Needle {
    bytes: Vec<u8>,
    row: usize,
}

/// Where a secret was found, and whose it is (its spreadsheet row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretHit {
    pub start: usize,
    pub end: usize,
    pub row: usize,
}

impl fmt::Debug for SecretIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretIndex")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Maximal runs of ASCII letters and digits, as byte ranges.
fn words(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
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
fn char_before(text: &[u8], i: usize) -> Option<char> {
    let from = i.saturating_sub(4);
    let tail = text.get(from..i)?;
    // The last char starts at the last byte that is not a continuation.
    let start = tail.iter().rposition(|b| b & 0xc0 != 0x80)?;
    std::str::from_utf8(&tail[start..]).ok()?.chars().next()
}

/// The character starting at byte `i`.
fn char_at(text: &[u8], i: usize) -> Option<char> {
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

fn alnum(c: Option<char>) -> bool {
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

impl SecretIndex {
    /// Indexes each `(row, secret)` of [`MIN_SECRET_CHARS`] or more
    /// characters, as typed and as the templates escape it for HTML
    /// (`a<b` is on the page as `a&lt;b`).
    pub fn new<'a>(secrets: impl IntoIterator<Item = (usize, &'a str)>) -> SecretIndex {
        let mut index = SecretIndex::default();
        let mut seen = std::collections::HashSet::new();
        for (row, secret) in secrets {
            let secret = secret.trim();
            if secret.chars().count() < MIN_SECRET_CHARS || !seen.insert((row, secret)) {
                continue;
            }
            index.secrets += 1;
            let escaped = minijinja::HtmlEscape(secret).to_string();
            index.add(row, secret.as_bytes());
            if escaped != secret {
                index.add(row, escaped.as_bytes());
            }
            let broken = with_soft_breaks(&escaped);
            if broken != escaped {
                index.add(row, broken.as_bytes());
            }
        }
        index
    }

    fn add(&mut self, row: usize, bytes: &[u8]) {
        let n = self.needles.len();
        self.needles.push(Needle {
            bytes: bytes.to_vec(),
            row,
        });
        match words(bytes).max_by_key(|(s, e)| e - s) {
            Some((s, e)) => {
                let len = e - s;
                if self.anchor_len.len() <= len {
                    self.anchor_len.resize(len + 1, false);
                }
                self.anchor_len[len] = true;
                self.anchors
                    .entry(bytes[s..e].to_vec())
                    .or_default()
                    .push((n, s));
            }
            None => self.unanchored.push(n),
        }
    }

    /// How many secrets are searched for.
    pub fn len(&self) -> usize {
        self.secrets
    }

    pub fn is_empty(&self) -> bool {
        self.secrets == 0
    }

    /// True when `needle` sits at `start..end` of `text` as a whole token:
    /// where the secret begins (ends) with a letter or digit, the text has
    /// none just before (after) it.
    fn bounded(text: &[u8], start: usize, end: usize, needle: &[u8]) -> bool {
        let first = char_at(needle, 0);
        let last = char_before(needle, needle.len());
        !(alnum(first) && alnum(char_before(text, start))
            || alnum(last) && alnum(char_at(text, end)))
    }

    fn hit_at(&self, text: &[u8], n: usize, start: usize) -> Option<SecretHit> {
        let needle = &self.needles[n];
        let end = start + needle.bytes.len();
        (text.get(start..end) == Some(&needle.bytes[..])
            && Self::bounded(text, start, end, &needle.bytes))
        .then_some(SecretHit {
            start,
            end,
            row: needle.row,
        })
    }

    /// Every whole-token occurrence of a secret in `text`, in text order.
    pub fn find_all(&self, text: &[u8]) -> Vec<SecretHit> {
        let mut hits = Vec::new();
        self.scan(text, &mut |h| {
            hits.push(h);
            true
        });
        hits.sort();
        hits.dedup();
        hits
    }

    /// The first occurrence found (not necessarily the leftmost): enough to
    /// refuse a page.
    pub fn find_any(&self, text: &[u8]) -> Option<SecretHit> {
        let mut found = None;
        self.scan(text, &mut |h| {
            found = Some(h);
            false
        });
        found
    }

    /// Calls `on_hit` for each occurrence until it returns false.
    fn scan(&self, text: &[u8], on_hit: &mut dyn FnMut(SecretHit) -> bool) {
        if self.needles.is_empty() {
            return;
        }
        for (ws, we) in words(text) {
            if !self.anchor_len.get(we - ws).copied().unwrap_or(false) {
                continue;
            }
            let Some(candidates) = self.anchors.get(&text[ws..we]) else {
                continue;
            };
            for &(n, offset) in candidates {
                if let Some(start) = ws.checked_sub(offset)
                    && let Some(hit) = self.hit_at(text, n, start)
                    && !on_hit(hit)
                {
                    return;
                }
            }
        }
        for &n in &self.unanchored {
            let len = self.needles[n].bytes.len();
            for start in 0..text.len().saturating_sub(len - 1) {
                if let Some(hit) = self.hit_at(text, n, start)
                    && !on_hit(hit)
                {
                    return;
                }
            }
        }
    }

    /// `text` with every secret in it replaced by `…`.
    pub fn redact(&self, text: &str) -> String {
        let hits = self.find_all(text.as_bytes());
        if hits.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for h in hits {
            if h.start < at {
                continue; // overlaps a hit already hidden
            }
            out.push_str(text.get(at..h.start).unwrap_or(""));
            out.push('…');
            at = h.end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(secrets: &[(usize, &str)]) -> SecretIndex {
        SecretIndex::new(secrets.iter().copied())
    }

    #[test]
    fn only_whole_tokens_count() {
        let ix = index(&[(2, "482913"), (3, "blue-fox-42"), (4, "1234")]);
        assert_eq!(ix.len(), 2, "a 4-character PIN is not searched");
        let rows =
            |t: &str| -> Vec<usize> { ix.find_all(t.as_bytes()).iter().map(|h| h.row).collect() };
        assert_eq!(rows("<td>482913</td>"), [2]);
        assert_eq!(rows("482913"), [2]);
        assert_eq!(rows("Team-482913!"), [2]);
        assert_eq!(
            rows("é482913é"),
            Vec::<usize>::new(),
            "letters bound a token"
        );
        for t in ["4829130", "x482913", "1482913", "48291", "482 913", "1234"] {
            assert_eq!(rows(t), Vec::<usize>::new(), "{t}");
        }
        assert_eq!(rows("a blue-fox-42."), [3]);
        assert_eq!(rows("ablue-fox-42"), Vec::<usize>::new());
        assert_eq!(rows("blue-fox-421"), Vec::<usize>::new());
        assert_eq!(rows("482913 and blue-fox-42"), [2, 3]);
    }

    #[test]
    fn escaped_and_symbol_only_secrets_are_found() {
        let ix = index(&[(5, "Bl<ue>&Red7"), (6, "!!##!!"), (7, "zoé123")]);
        let rows =
            |t: &str| -> Vec<usize> { ix.find_all(t.as_bytes()).iter().map(|h| h.row).collect() };
        assert_eq!(rows("<td>Bl&lt;ue&gt;&amp;Red7</td>"), [5]);
        assert_eq!(rows("raw Bl<ue>&Red7"), [5]);
        assert_eq!(rows("x !!##!! y"), [6]);
        assert_eq!(rows("(zoé123)"), [7]);
        assert_eq!(rows("zoé1234"), Vec::<usize>::new());
        assert_eq!(rows("azoé123"), Vec::<usize>::new());
        // As the `soft_breaks` filter writes a long value (issue 17).
        let ix = index(&[(8, "pass.word9")]);
        let broken = "<dd>me<wbr>.pass<wbr>.word9@<wbr>club.org</dd>";
        assert_eq!(ix.find_all(broken.as_bytes()).len(), 1);
    }

    #[test]
    fn redact_hides_every_secret_and_debug_shows_none() {
        let ix = index(&[(2, "482913"), (3, "739164")]);
        assert_eq!(
            ix.redact("name \"482913\" is also on row 3 (739164)"),
            "name \"…\" is also on row 3 (…)"
        );
        assert_eq!(ix.redact("nothing here"), "nothing here");
        let debug = format!("{ix:?}");
        assert!(
            !debug.contains("482913") && debug.contains("secrets: 2"),
            "{debug}"
        );
        assert!(ix.find_any(b"xx 739164").is_some());
        assert!(SecretIndex::default().find_any(b"482913").is_none());
    }
}
