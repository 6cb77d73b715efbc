//! Numbers: digits written with separators (`06 12 34 56 78`,
//! `17/05/1990`), and the secrets made of digits found in them.

use std::collections::HashMap;

use super::text::{char_at, char_before};
use super::{INSIDE_MIN_DIGITS, MIN_SECRET_CHARS, NUMBER_SEPARATORS, SecretHit};

/// The secrets made of digits.
#[derive(Clone, Default)]
pub(super) struct Digits {
    /// Digits → the first row with that PIN.
    rows: HashMap<Vec<u8>, usize>,
    shortest: usize,
    longest: usize,
    /// The lengths of [`INSIDE_MIN_DIGITS`] digits or more, ascending:
    /// looked for inside longer numbers too.
    inside: Vec<usize>,
}

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
pub(super) fn without_zeros(digits: &[u8]) -> Option<&[u8]> {
    let rest = &digits[digits.iter().take_while(|&&d| d == b'0').count()..];
    (rest.len() < digits.len() && rest.len() >= MIN_SECRET_CHARS).then_some(rest)
}

/// Whether `digits` (one number's) hold `pin`, or `pin` without its
/// leading zeros.
pub(super) fn number_holds(digits: &[u8], pin: &[u8]) -> bool {
    let holds =
        |pin: &[u8]| pin.len() >= MIN_SECRET_CHARS && digits.windows(pin.len()).any(|w| w == pin);
    holds(pin) || without_zeros(pin).is_some_and(holds)
}

impl Digits {
    pub(super) fn add(&mut self, row: usize, digits: Vec<u8>) {
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
    pub(super) fn find(&self, digits: &[u8]) -> Option<usize> {
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
    pub(super) fn scan(&self, text: &[u8], on_hit: &mut dyn FnMut(SecretHit) -> bool) -> bool {
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
