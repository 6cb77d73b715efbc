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
//!   `17/05/1990`, `987.654`, `98 76 54`: see [`numbers`]), the whole
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

use std::collections::HashMap;
use std::fmt;

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
    /// Secrets with a letter, folded ([`fold`]), in the same forms.
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

/// Needles found as whole tokens (see the module doc).
#[derive(Clone, Default)]
struct Tokens {
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

/// The secrets made of digits.
#[derive(Clone, Default)]
struct Digits {
    /// Digits → the first row with that PIN.
    rows: HashMap<Vec<u8>, usize>,
    shortest: usize,
    longest: usize,
    /// The lengths of [`INSIDE_MIN_DIGITS`] digits or more, ascending:
    /// looked for inside longer numbers too.
    inside: Vec<usize>,
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

// ---- numbers: digits written with separators --------------------------------

/// The character an HTML character reference at the start of `rest`
/// (`&#x2f;`, `&#47;`, `&nbsp;`) stands for, and its length in bytes.
/// Only the references a separator can be written with are known by name.
fn entity(rest: &[u8]) -> Option<(char, usize)> {
    let end = rest.iter().take(12).position(|&b| b == b';')?;
    let body = std::str::from_utf8(rest.get(1..end)?).ok()?;
    let c = match body.strip_prefix('#') {
        Some(number) => {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
        None => match body {
            "nbsp" | "NonBreakingSpace" => '\u{a0}',
            "thinsp" | "ThinSpace" => '\u{2009}',
            "period" => '.',
            "comma" => ',',
            "sol" => '/',
            "dash" | "hyphen" => '-',
            _ => return None,
        },
    };
    Some((c, end + 1))
}

/// The length in bytes of the separator (a [`NUMBER_SEPARATORS`] character,
/// as is or as an HTML reference) at byte `i`, if there is one.
fn separator_at(text: &[u8], i: usize) -> Option<usize> {
    let rest = text.get(i..)?;
    match *rest.first()? {
        b' ' | b'.' | b'-' | b'/' | b',' => Some(1),
        // U+00A0
        0xc2 if rest.get(1) == Some(&0xa0) => Some(2),
        // U+202F, U+2009
        0xe2 if rest.get(1) == Some(&0x80) && matches!(rest.get(2), Some(0xaf | 0x89)) => Some(3),
        b'&' => entity(rest)
            .filter(|(c, _)| NUMBER_SEPARATORS.contains(c))
            .map(|(_, len)| len),
        _ => None,
    }
}

const SOFT_BREAKS: [&[u8]; 3] = [b"<wbr>", b"<wbr/>", b"<wbr />"];

/// Past any line-break opportunities (`<wbr>`, as the `soft_breaks`
/// filter writes them) at byte `i`: they show nothing.
fn past_soft_breaks(text: &[u8], mut i: usize) -> usize {
    loop {
        let rest = text.get(i..).unwrap_or_default();
        // Most tags after a number are `</td>` or `<td>`.
        if rest.get(1).is_none_or(|b| !b.eq_ignore_ascii_case(&b'w')) {
            return i;
        }
        match SOFT_BREAKS
            .iter()
            .find(|tag| rest.len() >= tag.len() && rest[..tag.len()].eq_ignore_ascii_case(tag))
        {
            Some(tag) => i += tag.len(),
            None => return i,
        }
    }
}

/// A number as a text writes it: groups of ASCII digits, each joined to
/// the next by one separator (`06 12 34 56 78`, `17&#x2f;05&#x2f;1990`).
/// Two separators in a row end it (`2026, 14` is two numbers), and so does
/// anything else.
pub(crate) struct Number<'a> {
    text: &'a [u8],
    /// Bytes of the text from its first digit to its last.
    pub start: usize,
    pub end: usize,
    /// Its digits, separators left out.
    pub digits: &'a [u8],
}

impl Number<'_> {
    /// A letter touches it (`p0042`, `12px`, `x482913`): part of a word,
    /// not a number shown.
    pub(crate) fn glued(&self) -> bool {
        let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
        letter(char_before(self.text, self.start)) || letter(char_at(self.text, self.end))
    }
}

/// Where the next group of a number starts when a separator (or a soft
/// break) at byte `i` joins one: the byte of its first digit.
fn next_group(text: &[u8], i: usize) -> Option<usize> {
    let &b = text.get(i)?;
    if !matches!(
        b,
        b' ' | b'.' | b'-' | b'/' | b',' | b'&' | b'<' | 0xc2 | 0xe2
    ) {
        return None;
    }
    let mut j = past_soft_breaks(text, i);
    if let Some(len) = separator_at(text, j) {
        j = past_soft_breaks(text, j + len);
    }
    (j > i && text.get(j).is_some_and(u8::is_ascii_digit)).then_some(j)
}

/// The digits of a number of several groups: on the stack up to the
/// length of any phone number or date (a cycle reads millions of them),
/// in a `Vec` beyond.
#[derive(Default)]
struct Joined {
    small: [u8; 24],
    len: usize,
    spilled: Vec<u8>,
}

impl Joined {
    fn clear(&mut self) {
        self.len = 0;
        self.spilled.clear();
    }

    fn extend(&mut self, digits: &[u8]) {
        if self.spilled.is_empty() && self.len + digits.len() <= self.small.len() {
            self.small[self.len..self.len + digits.len()].copy_from_slice(digits);
            self.len += digits.len();
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.small[..self.len]);
            }
            self.spilled.extend_from_slice(digits);
        }
    }

    fn as_slice(&self) -> &[u8] {
        if self.spilled.is_empty() {
            &self.small[..self.len]
        } else {
            &self.spilled
        }
    }
}

/// Calls `on` for each number of `text`, in order, until it returns false.
/// Returns false when stopped. A number of one group is handed over as it
/// is in `text` (no copy): most of a page's numbers.
pub(crate) fn numbers(text: &[u8], on: &mut dyn FnMut(&Number<'_>) -> bool) -> bool {
    let mut joined = Joined::default();
    let mut i = 0;
    while let Some(skip) = text
        .get(i..)
        .and_then(|t| t.iter().position(u8::is_ascii_digit))
    {
        let start = i + skip;
        let digits_end = |from: usize| {
            from + text[from..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(text.len() - from)
        };
        let mut end = digits_end(start);
        let mut groups = 1;
        while let Some(next) = next_group(text, end) {
            if groups == 1 {
                joined.clear();
                joined.extend(&text[start..end]);
            }
            groups += 1;
            end = digits_end(next);
            joined.extend(&text[next..end]);
        }
        let number = Number {
            text,
            start,
            end,
            digits: if groups == 1 {
                &text[start..end]
            } else {
                joined.as_slice()
            },
        };
        if !on(&number) {
            return false;
        }
        i = end;
    }
    true
}

/// The digits of a PIN made of digits and separators (`0612345678`,
/// `06 12 34 56 78`, `+33 6 12 34 56 78`), when it has
/// [`MIN_SECRET_CHARS`] digits or more.
pub(crate) fn pin_digits(pin: &str) -> Option<Vec<u8>> {
    let pin = pin.trim();
    let pin = pin.strip_prefix('+').unwrap_or(pin);
    let mut digits = Vec::with_capacity(pin.len());
    for c in pin.chars() {
        if c.is_ascii_digit() {
            digits.push(c as u8);
        } else if !NUMBER_SEPARATORS.contains(&c) {
            return None;
        }
    }
    (digits.len() >= MIN_SECRET_CHARS).then_some(digits)
}

/// `digits` without their leading zeros, when [`MIN_SECRET_CHARS`] digits
/// or more remain and there were some: how an international phone number
/// (`+33 6…` for `06…`) or a number-formatted cell shows a PIN.
fn without_zeros(digits: &[u8]) -> Option<&[u8]> {
    let rest = &digits[digits.iter().take_while(|&&d| d == b'0').count()..];
    (rest.len() < digits.len() && rest.len() >= MIN_SECRET_CHARS).then_some(rest)
}

/// Whether `digits` (one number's) hold `pin`, or `pin` without its
/// leading zeros.
fn number_holds(digits: &[u8], pin: &[u8]) -> bool {
    let holds =
        |pin: &[u8]| pin.len() >= MIN_SECRET_CHARS && digits.windows(pin.len()).any(|w| w == pin);
    holds(pin) || without_zeros(pin).is_some_and(holds)
}

impl Digits {
    fn add(&mut self, row: usize, digits: Vec<u8>) {
        let len = digits.len();
        if self.rows.is_empty() {
            (self.shortest, self.longest) = (len, len);
        }
        self.shortest = self.shortest.min(len);
        self.longest = self.longest.max(len);
        if len >= INSIDE_MIN_DIGITS && !self.inside.contains(&len) {
            self.inside.push(len);
            self.inside.sort_unstable();
        }
        let first = self.rows.entry(digits).or_insert(row);
        *first = (*first).min(row);
    }

    /// The row of a PIN that `digits` (a whole number) shows.
    fn find(&self, digits: &[u8]) -> Option<usize> {
        let n = digits.len();
        if (self.shortest..=self.longest).contains(&n)
            && let Some(&row) = self.rows.get(digits)
        {
            return Some(row);
        }
        for &len in self.inside.iter().take_while(|&&len| len < n) {
            if let Some(row) = digits.windows(len).find_map(|w| self.rows.get(w)) {
                return Some(*row);
            }
        }
        None
    }

    /// Calls `on_hit` for each number of `text` that shows a PIN, until it
    /// returns false; false when stopped.
    fn scan(&self, text: &[u8], on_hit: &mut dyn FnMut(SecretHit) -> bool) -> bool {
        if self.rows.is_empty() {
            return true;
        }
        numbers(text, &mut |n| {
            if n.digits.len() < self.shortest || n.glued() {
                return true;
            }
            match self.find(n.digits) {
                Some(row) => on_hit(SecretHit {
                    start: n.start,
                    end: n.end,
                    row,
                }),
                None => true,
            }
        })
    }
}

// ---- folding: case and accents ------------------------------------------------

/// `text` as logins compare names: lowercase, accents and other scripts
/// transliterated (`Éloïse` → `eloise`, deunicode). With `spans`, the
/// bytes of `text` that each byte of the result comes from. Pages are
/// mostly ASCII: a run of it is copied lowercased at once.
fn fold(text: &str, mut spans: Option<&mut Vec<(usize, usize)>>) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        let ascii = bytes[at..].iter().take_while(|b| b.is_ascii()).count();
        if ascii > 0 {
            out.extend(bytes[at..at + ascii].iter().map(u8::to_ascii_lowercase));
            if let Some(spans) = spans.as_deref_mut() {
                spans.extend((at..at + ascii).map(|i| (i, i + 1)));
            }
            at += ascii;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|t| t.chars().next()) else {
            break;
        };
        let before = out.len();
        match deunicode::deunicode_char(c) {
            Some(ascii) => out.extend(ascii.bytes().map(|b| b.to_ascii_lowercase())),
            None => {
                let mut buf = [0; 4];
                for l in c.to_lowercase() {
                    out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if let Some(spans) = spans.as_deref_mut() {
            let span = (at, at + c.len_utf8());
            spans.extend(std::iter::repeat_n(span, out.len() - before));
        }
        at += c.len_utf8();
    }
    out
}

/// [`fold`], letters and digits only: `Blue Fox 42!` → `bluefox42`.
fn bare(text: &str) -> Vec<u8> {
    let mut folded = fold(text, None);
    folded.retain(u8::is_ascii_alphanumeric);
    folded
}

// ---- whole tokens -------------------------------------------------------------

impl Tokens {
    fn is_empty(&self) -> bool {
        self.needles.is_empty()
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
    fn scan(&self, text: &[u8], on_hit: &mut dyn FnMut(SecretHit) -> bool) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index(secrets: &[(usize, &str)]) -> SecretIndex {
        SecretIndex::new(secrets.iter().copied())
    }

    fn rows_in(ix: &SecretIndex, t: &str) -> Vec<usize> {
        ix.find_all(t.as_bytes()).iter().map(|h| h.row).collect()
    }

    #[test]
    fn only_whole_tokens_count() {
        let ix = index(&[(2, "482913"), (3, "blue-fox-42"), (4, "1234")]);
        assert_eq!(ix.len(), 2, "a 4-character PIN is not searched");
        let rows = |t: &str| rows_in(&ix, t);
        assert_eq!(rows("<td>482913</td>"), [2]);
        assert_eq!(rows("482913"), [2]);
        assert_eq!(rows("Team-482913!"), [2]);
        assert_eq!(
            rows("é482913é"),
            Vec::<usize>::new(),
            "letters bound a token"
        );
        for t in ["4829130", "x482913", "1482913", "48291", "1234"] {
            assert_eq!(rows(t), Vec::<usize>::new(), "{t}");
        }
        assert_eq!(rows("a blue-fox-42."), [3]);
        assert_eq!(rows("ablue-fox-42"), Vec::<usize>::new());
        assert_eq!(rows("blue-fox-421"), Vec::<usize>::new());
        assert_eq!(rows("482913 and blue-fox-42"), [2, 3]);
    }

    /// Issue 23: the forms a number is written in.
    #[test]
    fn a_pin_of_digits_is_found_in_a_number_written_with_separators() {
        let ix = index(&[
            (2, "0612345678"),
            (3, "17051990"),
            (9, "006543"),
            (4, "987654"),
            (5, "612345678"),
            (6, "73 91 64"),
        ]);
        let rows = |t: &str| rows_in(&ix, t);
        for (text, row) in [
            ("Tel. 06 12 34 56 78", 2),
            ("06.12.34.56.78", 2),
            ("06-12-34-56-78", 2),
            ("<dd>17&#x2f;05&#x2f;1990</dd>", 3),
            ("born 17/05/1990.", 3),
            ("17-05-1990", 3),
            ("987 654", 4),
            ("987-654", 4),
            ("987.654", 4),
            ("98 76 54", 4),
            ("987,654", 4),
            ("987\u{a0}654", 4),
            ("987\u{202f}654", 4),
            ("987\u{2009}654", 4),
            ("987&nbsp;654", 4),
            ("987&#160;654", 4),
            ("987<wbr>.654", 4),
            // Inside a longer number: only PINs of 8 digits or more.
            ("+33 6 12 34 56 78", 2),
            ("+33 (0)6 12 34 56 78", 2),
            ("(739164)", 6),
            ("7 3 9 1 6 4", 6),
        ] {
            assert_eq!(rows(text), [row], "{text:?}");
        }
        assert_eq!(rows("0033612345678"), [2], "without its 0, inside");
        for text in [
            // Leading zeros go only where 6 digits remain.
            "6543",
            // A shorter PIN inside a longer number is left to the model.
            "1987654",
            "987 6543",
            "19 87 65 43",
            // Two separators end a number; letters make it a word.
            "987, 654",
            "987 - 654",
            "p987654",
            "987654px",
            "Data as of 7 December 2026, 14:05",
            "2026-12-07T14:05",
        ] {
            assert_eq!(rows(text), Vec::<usize>::new(), "{text:?}");
        }
        let hits = ix.find_all("call 06 12 34 56 78 now".as_bytes());
        assert_eq!((hits[0].start, hits[0].end), (5, 19), "{hits:?}");
    }

    #[test]
    fn numbers_are_groups_joined_by_one_separator() {
        let all = |t: &str| {
            let mut out = Vec::new();
            numbers(t.as_bytes(), &mut |n| {
                out.push((String::from_utf8_lossy(n.digits).into_owned(), n.glued()));
                true
            });
            out
        };
        let n = |d: &str, glued: bool| (d.to_string(), glued);
        assert_eq!(
            all("a 12 34, 56 x7 y 1&#x2f;2, 3..4"),
            [
                n("1234", false),
                n("56", false),
                n("7", true),
                n("12", false),
                n("3", false),
                n("4", false)
            ]
        );
        assert_eq!(all("9<wbr>9<wbr />.9"), [n("999", false)]);
        assert_eq!(pin_digits(" 06 12 34 56 78 "), Some(b"0612345678".to_vec()));
        assert_eq!(
            pin_digits("+33 6 12 34 56 78"),
            Some(b"33612345678".to_vec())
        );
        assert_eq!(pin_digits("12 345"), None, "five digits");
        assert_eq!(pin_digits("12345a"), None);
        // A player's own PIN: inside any number, letters touching it or not.
        let none = SecretIndex::default();
        assert_eq!(
            none.cell_shows("p0612345678x", Some((2, b"612345"))),
            Some(2)
        );
        assert_eq!(
            none.cell_shows("06 12 34, 56 78", Some((2, b"345678"))),
            None
        );
    }

    #[test]
    fn a_text_pin_is_found_whatever_its_case_and_accents() {
        let ix = index(&[(2, "BlueFox42"), (3, "Éloïse-2024"), (4, "Æsir-Wolf")]);
        let rows = |t: &str| rows_in(&ix, t);
        for (text, row) in [
            ("bluefox42", 2),
            ("<td>BLUEFOX42</td>", 2),
            ("eloise-2024", 3),
            ("ÉLOÏSE-2024!", 3),
            ("aesir-wolf", 4),
        ] {
            assert_eq!(rows(text), [row], "{text:?}");
        }
        for text in ["bluefox421", "xbluefox42", "Eloise 2024", "zbluefox42"] {
            assert_eq!(rows(text), Vec::<usize>::new(), "{text:?}");
        }
        // A hit of the folded text hides the original characters.
        assert_eq!(ix.redact("pin: ÉLOÏSE-2024."), "pin: ….");
        assert_eq!(ix.redact("Æsir-Wolf!"), "…!");
        // A cell that is the PIN, spaces and punctuation aside.
        assert_eq!(ix.cell_shows("Blue Fox 42", None), Some(2));
        assert_eq!(ix.cell_shows("éloïse 2024", None), Some(3));
        assert_eq!(ix.cell_shows("Blue Fox", None), None);
    }

    #[test]
    fn a_cell_shows_its_own_players_pin_inside_any_number() {
        let ix = index(&[(2, "482913"), (3, "551204")]);
        // Another player's 6-digit PIN inside a longer number: chance.
        assert_eq!(ix.cell_shows("06 48 29 13 00", None), None);
        assert_eq!(
            ix.cell_shows("06 48 29 13 00", Some((2, b"482913"))),
            Some(2)
        );
        assert_eq!(
            ix.cell_shows("tel0648291300", Some((2, b"482913"))),
            Some(2)
        );
        assert_eq!(ix.cell_shows("55 12 04", Some((2, b"482913"))), Some(3));
        assert_eq!(ix.cell_shows("Red", Some((2, b"482913"))), None);
        assert_eq!(ix.cell_shows("2026-09-06", Some((2, b"482913"))), None);
    }

    #[test]
    fn escaped_and_symbol_only_secrets_are_found() {
        let ix = index(&[(5, "Bl<ue>&Red7"), (6, "!!##!!"), (7, "zoé123")]);
        let rows = |t: &str| rows_in(&ix, t);
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
        let ix = index(&[(2, "482913"), (3, "739164"), (4, "0612345678")]);
        assert_eq!(
            ix.redact("name \"482913\" is also on row 3 (739164)"),
            "name \"…\" is also on row 3 (…)"
        );
        assert_eq!(
            ix.redact("\"06 12 34 56 78\" is not a number; nor 739 164."),
            "\"…\" is not a number; nor …."
        );
        assert_eq!(ix.redact("nothing here"), "nothing here");
        let debug = format!("{ix:?}");
        assert!(
            !debug.contains("482913") && debug.contains("secrets: 3"),
            "{debug}"
        );
        assert!(ix.find_any(b"xx 739164").is_some());
        assert!(SecretIndex::default().find_any(b"482913").is_none());
    }
}
