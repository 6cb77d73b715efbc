//! Whole tokens: needles anchored on their longest word, found only
//! between non-word characters.

use std::collections::HashMap;

use super::SecretHit;
use super::text::{alnum, char_at, char_before, words};

/// Needles found as whole tokens (see the module doc).
#[derive(Clone, Default)]
pub(super) struct Tokens {
    needles: Vec<Needle>,
    /// Anchor word → (needle, byte offset of the word in the needle).
    anchors: HashMap<Vec<u8>, Vec<(usize, usize)>>,
    /// `anchor_len[n]`: some anchor is `n` bytes long. Words of other
    /// lengths (most of HTML: `div`, `class`) skip the hash lookup.
    anchor_len: Vec<bool>,
    /// Needles without an ASCII letter or digit (rare): searched directly.
    unanchored: Vec<usize>,
}

#[derive(Clone)]
struct Needle {
    bytes: Vec<u8>,
    row: usize,
}

impl Tokens {
    pub(super) fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    pub(super) fn add(&mut self, row: usize, bytes: &[u8]) {
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

    /// Calls `on_hit` for each occurrence until it returns false; false
    /// when stopped.
    pub(super) fn scan(&self, text: &[u8], on_hit: &mut dyn FnMut(SecretHit) -> bool) -> bool {
        if self.needles.is_empty() {
            return true;
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
                    return false;
                }
            }
        }
        for &n in &self.unanchored {
            let len = self.needles[n].bytes.len();
            for start in 0..text.len().saturating_sub(len - 1) {
                if let Some(hit) = self.hit_at(text, n, start)
                    && !on_hit(hit)
                {
                    return false;
                }
            }
        }
        true
    }
}
