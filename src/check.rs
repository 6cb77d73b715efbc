//! `gen check`'s own findings beyond row problems: PINs that are easy to
//! guess or that look damaged by a spreadsheet. Messages name the row, never
//! the PIN. A PIN cell shown as a number (digit groups, decimals, scientific
//! notation) is the model's to read and report; what it reads as digits is
//! measured here with the others, so a number that also lost its leading
//! zero is flagged here too.

use std::collections::HashMap;

use crate::config::Config;
use crate::model::{PLAIN_TEXT_ADVICE, Problem, Severity, Snapshot};

/// PINs people pick first; a guesser tries these before anything else.
const COMMON_PINS: [&str; 24] = [
    "0000", "1111", "1234", "12345", "123456", "654321", "000000", "111111", "121212", "123123",
    "112233", "222222", "666666", "696969", "777777", "888888", "999999", "123321", "159753",
    "1234567", "12345678", "password", "azerty", "qwerty",
];

const MIN_PIN_LEN: usize = 6;

/// Weak, common and truncated-looking PINs, one problem per row.
pub(crate) fn pin_warnings(snapshot: &Snapshot, config: &Config) -> Vec<Problem> {
    let creds: Vec<_> = snapshot.credentials.iter().map(|(_, c)| c).collect();
    // The usual length of all-digit PINs: a shorter one lost a leading zero
    // when the column was formatted as a number.
    let mut lengths: HashMap<usize, usize> = HashMap::new();
    for c in &creds {
        let pin = c.secret.expose();
        if pin.bytes().all(|b| b.is_ascii_digit()) {
            *lengths.entry(pin.len()).or_default() += 1;
        }
    }
    let usual = lengths
        .iter()
        .max_by_key(|(len, n)| (**n, **len))
        .map(|(len, _)| *len);
    let mut out = Vec::new();
    for c in creds {
        let Some(player) = snapshot.players.get(c.player) else {
            continue;
        };
        let pin = c.secret.expose();
        let digits = pin.bytes().all(|b| b.is_ascii_digit());
        let message = if digits && usual.is_some_and(|u| pin.len() < u) {
            format!(
                "this PIN has fewer digits than most PINs in the column and looks like a number \
                 whose leading zero was lost: if so, this player cannot log in with the PIN they \
                 were given. To fix it, {PLAIN_TEXT_ADVICE}, then retype this PIN with its \
                 leading zeros"
            )
        } else if COMMON_PINS.contains(&pin.to_lowercase().as_str()) {
            "this PIN is one of the most common ones: choose another".to_string()
        } else if pin.chars().count() < MIN_PIN_LEN {
            format!("this PIN is shorter than {MIN_PIN_LEN} characters: easy to guess")
        } else {
            continue;
        };
        out.push(Problem {
            severity: Severity::Warning,
            tab: config.players.tab.clone(),
            row: Some(player.row),
            column: Some(config.players.secret.clone()),
            message,
        });
    }
    out.sort_by_key(|p| p.row);
    out
}
