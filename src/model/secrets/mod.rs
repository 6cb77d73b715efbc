//! [`SecretIndex`]: every secret of one snapshot, searchable in one pass
//! over a text, in the forms a page may show it. The last gate before
//! publish scans every artifact with it, the model asks it about every cell
//! a page would show (and withholds the cells it names), and row problems
//! are scrubbed with it, so a PIN that reached a page or a message by any
//! path (a stray quote, a PIN typed in the wrong column, a phone number
//! that is the PIN) is caught there (issues 14 and 23). It never shows a
//! secret, not even in `Debug`.
//!
//! A secret is found:
//! - as typed, HTML-escaped or with soft line breaks, as a whole token: PIN
//!   `123456` is not found in `0123456` or `x123456`;
//! - with its letters in any case and without accents (`BLUEFOX42` and
//!   `Eloise-2024` show `BlueFox42` and `Éloïse-2024`), as a whole token
//!   of the text folded the way login names are;
//! - when it is made of digits (6 or more, separators aside): as the
//!   digits of a number written with separators (`06 12 34 56 78`,
//!   `17/05/1990`, `987.654`, `98 76 54`: see [`numbers()`]), the whole
//!   number, or any part of it when the PIN has
//!   [`INSIDE_MIN_DIGITS`] digits or more (`+33 6 12 34 56 78` holds PIN
//!   `612345678`). A PIN starting with 0 is found without its zeros too
//!   (`+33 6 12 34 56 78` shows PIN `0612345678`: an international number
//!   drops the 0, and so does a column formatted as numbers). A shorter PIN inside a longer number is not looked for
//!   on a page: at 10,000 players, one 6-digit number in 100 is someone's
//!   PIN, and dates and scores would refuse cycles by chance. The model
//!   looks for a player's own PIN inside any number of their own cells
//!   ([`SecretIndex::cell_shows`]), where chance plays no part.
//!
//! One pass whatever the number of secrets: the text is cut into runs of
//! ASCII letters and digits ("words"), each secret is filed under its
//! longest word, and only a word that is some secret's anchor is compared
//! further; a number is one hash look-up (plus one per window for long
//! PINs). 10,000 players × every page stays a hash look-up per word.
//!
//! The rooms: [`tokens`] (whole tokens), [`numbers`](mod@numbers) (digits
//! written with separators), [`fold`](mod@fold) (case and accents), [`text`]
//! (words and characters of a page); this file holds [`SecretIndex`], which
//! files every secret in all of them.

mod fold;
mod numbers;
#[cfg(test)]
mod tests;
mod text;
mod tokens;

use std::collections::HashMap;
use std::fmt;

use fold::{bare, fold};
pub(crate) use numbers::pin_digits;
use numbers::{Digits, number_holds, numbers, without_zeros};
pub(crate) use text::with_soft_breaks;
use tokens::Tokens;

/// Shorter secrets are not searched: a 4-digit PIN is also a year, a score
/// or a price on some page, and the gate could never tell them apart. For
/// a PIN of digits, its digits count (separators aside).
pub const MIN_SECRET_CHARS: usize = 6;

/// A PIN of this many digits or more is also looked for inside longer
/// numbers on every page (see the module doc): 10,000 PINs of 8 digits are
/// one 8-digit string in 10,000, so a number holds one by chance about as
/// rarely as a 10-digit phone number does.
pub const INSIDE_MIN_DIGITS: usize = 8;

/// What separates digit groups in a number as people and spreadsheets
/// write it: a space, a no-break space, a narrow no-break space (French in
/// Google Sheets), a thin space, `.`, `-`, `/` and `,`. The same as
/// `pins.rs` reads in a PIN cell, plus the dash and slash of phone numbers
/// and dates.
pub(crate) const NUMBER_SEPARATORS: [char; 8] =
    [' ', '\u{a0}', '\u{202f}', '\u{2009}', '.', '-', '/', ','];

#[derive(Clone, Default)]
pub struct SecretIndex {
    /// Each secret as typed, HTML-escaped and with soft breaks.
    exact: Tokens,
    /// Secrets with a letter, folded ([`fold()`]), in the same forms.
    folded: Tokens,
    /// Secrets with a letter, folded, letters and digits only → row: a
    /// cell that is one of these, whatever its spaces and punctuation
    /// (`Blue Fox 42` for `bluefox42`), shows it.
    bare: HashMap<Vec<u8>, usize>,
    /// Secrets of digits, by their digits.
    digits: Digits,
    /// Distinct secrets, for [`SecretIndex::len`].
    secrets: usize,
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

impl SecretIndex {
    /// Indexes each `(row, secret)` of [`MIN_SECRET_CHARS`] or more
    /// characters, as typed and as the templates escape it for HTML
    /// (`a<b` is on the page as `a&lt;b`), folded when it has a letter,
    /// and by its digits when it is made of digits.
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
            let broken = with_soft_breaks(&escaped);
            let mut forms = vec![secret];
            for form in [&escaped, &broken] {
                if !forms.contains(&form.as_str()) {
                    forms.push(form);
                }
            }
            for form in &forms {
                index.exact.add(row, form.as_bytes());
            }
            if let Some(digits) = pin_digits(secret) {
                if let Some(short) = without_zeros(&digits) {
                    index.digits.add(row, short.to_vec());
                }
                index.digits.add(row, digits);
            }
            if secret.chars().any(char::is_alphabetic) {
                let mut folded: Vec<Vec<u8>> = Vec::new();
                for form in &forms {
                    let f = fold(form, None);
                    if !folded.contains(&f) {
                        index.folded.add(row, &f);
                        folded.push(f);
                    }
                }
                let bare = bare(secret);
                if bare.len() >= MIN_SECRET_CHARS {
                    let first = index.bare.entry(bare).or_insert(row);
                    *first = (*first).min(row);
                }
            }
        }
        index
    }

    /// How many secrets are searched for.
    pub fn len(&self) -> usize {
        self.secrets
    }

    pub fn is_empty(&self) -> bool {
        self.secrets == 0
    }

    /// Every occurrence of a secret in `text`, in text order (they may
    /// overlap: one form inside a number that shows another).
    pub fn find_all(&self, text: &[u8]) -> Vec<SecretHit> {
        let mut hits = Vec::new();
        self.scan(text, true, &mut |h| {
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
        self.scan(text, false, &mut |h| {
            found = Some(h);
            false
        });
        found
    }

    /// Calls `on_hit` for each occurrence until it returns false. A hit of
    /// the folded text is placed in `text` when `placed` (else only its
    /// row is right).
    fn scan(&self, text: &[u8], placed: bool, on_hit: &mut dyn FnMut(SecretHit) -> bool) {
        if self.secrets == 0
            || !self.exact.scan(text, on_hit)
            || !self.digits.scan(text, on_hit)
            || self.folded.is_empty()
        {
            return;
        }
        let text = String::from_utf8_lossy(text);
        let mut spans = Vec::new();
        let folded = fold(&text, placed.then_some(&mut spans));
        self.folded.scan(&folded, &mut |h| {
            let (start, end) = match (
                spans.get(h.start),
                h.end.checked_sub(1).and_then(|e| spans.get(e)),
            ) {
                (Some(&(start, _)), Some(&(_, end))) => (start, end),
                _ => (h.start, h.end),
            };
            on_hit(SecretHit { start, end, ..h })
        });
    }

    /// The row of the PIN that a cell would show, if any: any secret as
    /// [`SecretIndex::find_any`] finds it on a page, a cell that is a text
    /// PIN whatever its spaces and punctuation, or, with `own` (the row of
    /// the player the cell belongs to, and their PIN's digits), that PIN
    /// inside any number of the cell.
    pub(crate) fn cell_shows(&self, cell: &str, own: Option<(usize, &[u8])>) -> Option<usize> {
        if cell.len() < MIN_SECRET_CHARS && cell.is_ascii() {
            return None;
        }
        let bytes = cell.as_bytes();
        let mut found = None;
        // Most cells (names, scores) have too few digits for any PIN of
        // digits: their numbers are not even read.
        if bytes.iter().filter(|b| b.is_ascii_digit()).count() >= MIN_SECRET_CHARS {
            numbers(bytes, &mut |n| {
                found = match own {
                    Some((row, pin)) if number_holds(n.digits, pin) => Some(row),
                    _ if n.glued() => None,
                    _ => self.digits.find(n.digits),
                };
                found.is_none()
            });
        }
        if found.is_some() {
            return found;
        }
        let mut first = |h: SecretHit| {
            found = Some(h.row);
            false
        };
        let not_found = self.exact.scan(bytes, &mut first)
            && (self.folded.is_empty() || self.folded.scan(&fold(cell, None), &mut first));
        if not_found && !self.bare.is_empty() {
            return self.bare.get(&bare(cell)).copied();
        }
        found
    }

    /// `text` with every secret in it replaced by `…` (a number showing
    /// one, whole).
    pub fn redact(&self, text: &str) -> String {
        let hits = self.find_all(text.as_bytes());
        if hits.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut hits = hits.into_iter().peekable();
        while let Some(h) = hits.next() {
            if h.start < at {
                continue; // inside a hit already hidden
            }
            // Hits that overlap this one are hidden with it.
            let mut end = h.end;
            while let Some(next) = hits.next_if(|n| n.start < end) {
                end = end.max(next.end);
            }
            out.push_str(text.get(at..h.start).unwrap_or(""));
            out.push('…');
            at = end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        out
    }
}
