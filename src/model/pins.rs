//! What a PIN cell means, and the form a PIN is compared in at login. A
//! sheet whose PIN column is formatted as a number shows `739 164`,
//! `739,164`, `1234.0` or `1.23457E+11` where a PIN was typed (issue 16).
//! Digit groups and a decimal part of zeros keep every digit, so the digits
//! alone are the PIN; scientific notation has dropped digits, so nobody can
//! type that PIN. Pure functions: the model words the problems, and nothing
//! here ever shows a PIN.

use sha2::{Digest, Sha256};

/// What goes between groups of three digits in the number formats of the
/// locales a sheet may use: a space (en-IN, typed by hand), a no-break
/// space (fr in Excel), a narrow no-break space (fr in Google Sheets), a
/// thin space, a comma (en), a dot (de, es, it).
const GROUP_SEPARATORS: [char; 6] = [' ', '\u{a0}', '\u{202f}', '\u{2009}', ',', '.'];

/// How a number-formatted PIN cell was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberShape {
    /// Digits in groups of three with a separator: `739 164`, `739,164`.
    Grouped,
    /// A decimal part of zeros: `1234.0`, `1234,00`.
    ZeroDecimal,
    /// Both: `739,164.00`, `739 164,0`.
    GroupedZeroDecimal,
}

/// A PIN cell, read. Its `Debug` never shows the PIN.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PinCell {
    Empty,
    /// Anything else: the PIN is the cell as typed (trimmed).
    Text(String),
    /// A number shown with digit groups or zero decimals: every digit is
    /// there, and `digits` is the PIN.
    Number {
        digits: String,
        shape: NumberShape,
    },
    /// Scientific notation (`1.23457E+11`): the sheet kept only the first
    /// digits, so the PIN the player was given is lost.
    Scientific,
}

impl std::fmt::Debug for PinCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinCell::Empty => f.write_str("Empty"),
            PinCell::Text(_) => f.write_str("Text(***)"),
            PinCell::Number { shape, .. } => write!(f, "Number(***, {shape:?})"),
            PinCell::Scientific => f.write_str("Scientific"),
        }
    }
}

impl PinCell {
    /// The PIN a player can log in with, if any.
    pub(crate) fn pin(&self) -> Option<&str> {
        match self {
            PinCell::Text(s) => Some(s),
            PinCell::Number { digits, .. } => Some(digits),
            PinCell::Empty | PinCell::Scientific => None,
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `s` as digit groups (`739 164`, `1.234.567`): a first group of one to
/// three digits, then at least one separator + three digits, one separator
/// throughout. Its digits, or `None`.
fn grouped(s: &str) -> Option<(String, char)> {
    let sep = s.chars().find(|c| !c.is_ascii_digit())?;
    if !GROUP_SEPARATORS.contains(&sep) {
        return None;
    }
    let mut groups = s.split(sep);
    let first = groups.next()?;
    if !all_digits(first) || first.len() > 3 {
        return None;
    }
    let mut digits = first.to_string();
    let mut more = 0;
    for g in groups {
        if !all_digits(g) || g.len() != 3 {
            return None;
        }
        digits.push_str(g);
        more += 1;
    }
    (more > 0).then_some((digits, sep))
}

/// `s` as a whole number with a decimal part of zeros (`1234.0`,
/// `739,164.00`, `739 164,0`): its digits and whether they were grouped.
fn zero_decimal(s: &str) -> Option<(String, bool)> {
    let (int, frac) = s.rsplit_once(['.', ','])?;
    let point = s[int.len()..].chars().next()?;
    if frac.is_empty() || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    if all_digits(int) {
        return Some((int.to_string(), false));
    }
    match grouped(int) {
        Some((digits, sep)) if sep != point => Some((digits, true)),
        _ => None,
    }
}

/// A number in scientific notation as spreadsheets show it: one digit, an
/// optional decimal part, `E`, a sign, the exponent (`1.23457E+11`,
/// `1,2E+05`). The sign is required: a text PIN such as `12e45` is left
/// alone.
fn scientific(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once(['E', 'e']) else {
        return false;
    };
    let mantissa_ok = match mantissa.split_once(['.', ',']) {
        Some((int, frac)) => int.len() == 1 && all_digits(int) && all_digits(frac),
        None => mantissa.len() == 1 && all_digits(mantissa),
    };
    let exponent_ok = exponent
        .strip_prefix(['+', '-'])
        .is_some_and(|e| all_digits(e) && e.len() <= 3);
    mantissa_ok && exponent_ok
}

/// Reads a PIN cell (surrounding spaces, including no-break ones, do not
/// count).
pub(crate) fn read_pin(cell: &str) -> PinCell {
    let cell = cell.trim();
    // Only invisible characters: no one could type it.
    if cell.chars().all(is_space) {
        return PinCell::Empty;
    }
    if scientific(cell) {
        return PinCell::Scientific;
    }
    if let Some((digits, _)) = grouped(cell) {
        return PinCell::Number {
            digits,
            shape: NumberShape::Grouped,
        };
    }
    if let Some((digits, was_grouped)) = zero_decimal(cell) {
        let shape = if was_grouped {
            NumberShape::GroupedZeroDecimal
        } else {
            NumberShape::ZeroDecimal
        };
        return PinCell::Number { digits, shape };
    }
    PinCell::Text(cell.to_string())
}

/// The form a PIN is compared in, typed or from the sheet: a number shown
/// with digit groups or zero decimals is its digits, and spaces of any kind
/// (ASCII, no-break, narrow, thin, zero-width…) do not count. So `739 164`, `739,164`
/// and `739164` are one PIN, and so are `blue fox` and `bluefox`.
pub(crate) fn login_form(pin: &str) -> String {
    match read_pin(pin) {
        PinCell::Number { digits, .. } => digits,
        _ => pin.chars().filter(|&c| !is_space(c)).collect(),
    }
}

/// Whitespace of any kind, and the zero-width spaces a copy and paste
/// brings along.
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{2060}' | '\u{feff}')
}

/// The digest a login compares: SHA-256 of [`login_form`], so that every
/// comparison is of 32 bytes whatever the PIN's length.
pub(crate) fn login_digest(pin: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"sheetgen pin v1\0");
    h.update(login_form(pin).as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(cell: &str) -> Option<(String, NumberShape)> {
        match read_pin(cell) {
            PinCell::Number { digits, shape } => Some((digits, shape)),
            _ => None,
        }
    }

    #[test]
    fn digit_groups_and_zero_decimals_keep_every_digit() {
        use NumberShape::*;
        for (cell, want, shape) in [
            ("739 164", "739164", Grouped),
            ("739\u{a0}164", "739164", Grouped),
            ("739\u{202f}164", "739164", Grouped),
            ("739\u{2009}164", "739164", Grouped),
            ("739,164", "739164", Grouped),
            ("739.164", "739164", Grouped),
            (" 1,234,567 ", "1234567", Grouped),
            ("12 345", "12345", Grouped),
            ("012 345", "012345", Grouped),
            ("1234.0", "1234", ZeroDecimal),
            ("739164,00", "739164", ZeroDecimal),
            ("739,164.00", "739164", GroupedZeroDecimal),
            ("739\u{202f}164,0", "739164", GroupedZeroDecimal),
            ("739.164,0", "739164", GroupedZeroDecimal),
        ] {
            assert_eq!(
                digits(cell),
                Some((want.to_string(), shape)),
                "{cell:?} ({:?})",
                read_pin(cell)
            );
        }
    }

    #[test]
    fn other_cells_are_text_as_typed() {
        for cell in [
            "739164",
            "blue fox 42",
            "12 34 56",
            "7391 64",
            "739,16",
            "739,1640",
            "739 164.5",
            "1234.5",
            "739.164,164",
            "739,164.164",
            "739,164 164",
            "739..164",
            ".164",
            "739.",
            "abc,def",
            "1e5",
            "12e45",
            "x1.2E+11",
            "-739,164",
        ] {
            assert_eq!(
                read_pin(cell),
                PinCell::Text(cell.trim().to_string()),
                "{cell:?}"
            );
        }
        assert_eq!(read_pin(" \u{a0} "), PinCell::Empty);
        assert_eq!(read_pin("\u{200b}"), PinCell::Empty);
    }

    #[test]
    fn scientific_notation_has_lost_digits() {
        for cell in ["1.23457E+11", "1,23457E+11", "4.2e+05", "7E+09", "1.2E-05"] {
            assert_eq!(read_pin(cell), PinCell::Scientific, "{cell:?}");
            assert_eq!(read_pin(cell).pin(), None);
        }
    }

    #[test]
    fn logins_compare_digits_and_ignore_every_kind_of_space() {
        let same = [
            "739164",
            "739 164",
            "739\u{a0}164",
            "739\u{202f}164",
            "7 3 9 1 6 4",
            "739,164",
            " 739.164 ",
            "739164.0",
        ];
        for typed in same {
            assert_eq!(login_form(typed), "739164", "{typed:?}");
            assert_eq!(login_digest(typed), login_digest("739164"), "{typed:?}");
        }
        assert_eq!(login_form("blue fox"), "bluefox");
        assert_eq!(login_form("\u{200b}739164\u{feff}"), "739164");
        assert_ne!(login_digest("739165"), login_digest("739164"));
        assert_ne!(login_digest("0739164"), login_digest("739164"));
        assert_eq!(login_form(""), "");
    }

    #[test]
    fn debug_never_shows_the_pin() {
        for cell in ["739 164", "secret-pin"] {
            let debug = format!("{:?}", read_pin(cell));
            assert!(
                !debug.contains("739") && !debug.contains("secret"),
                "{debug}"
            );
        }
    }
}
