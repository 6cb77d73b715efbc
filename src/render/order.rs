//! The roster's order: by `[index] sort_by` (numbers as numbers, text
//! folded like login names, empty and text cells of a number column last),
//! ties by name, with competition ranks.

use std::cmp::Ordering;

use crate::config::Config;
use crate::model::Snapshot;
use crate::model::numbers::{as_number, is_number_column};

/// A cell's place in the index order (see [`roster_order`]).
#[derive(Debug, Clone)]
enum SortKey {
    Number(f64),
    Text(String),
}

impl SortKey {
    fn order(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            // Finite numbers only (`as_number`), so this never falls back;
            // and -0 equals 0.
            (SortKey::Number(x), SortKey::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
            // One column is all numbers or all text: never mixed.
            (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
        }
    }
}

/// The index order: by `sort_by`, ties by name; returns (player index,
/// rank). A number column (the model's rule, [`is_number_column`]: numbers
/// are most of its filled cells) sorts as numbers, and its text cells (`n/a`,
/// `-`: each one a warning from the model) go last with the empty ones, in
/// both directions; they share the last rank. Any other column sorts as
/// text, folded like login names, empty cells last.
pub(super) fn roster_order(snapshot: &Snapshot, config: &Config) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..snapshot.players.len()).collect();
    let name_key: Vec<String> = snapshot
        .players
        .iter()
        .map(|p| crate::model::normalize_login(&p.name))
        .collect();
    let Some(column) = config.index.sort_by.as_deref() else {
        order.sort_by(|&a, &b| name_key[a].cmp(&name_key[b]));
        return order
            .into_iter()
            .enumerate()
            .map(|(r, i)| (i, r + 1))
            .collect();
    };
    let values: Vec<&str> = snapshot
        .players
        .iter()
        .map(|p| p.value(&snapshot.columns, column).unwrap_or("").trim())
        .collect();
    let numeric = is_number_column(values.iter().copied());
    // Once per player, not once per comparison (10,000 players).
    let keys: Vec<Option<SortKey>> = values
        .iter()
        .map(|v| {
            if numeric {
                as_number(v).map(SortKey::Number)
            } else if v.is_empty() {
                None
            } else {
                Some(SortKey::Text(crate::model::normalize_login(v)))
            }
        })
        .collect();
    let desc = config.index.descending;
    let cmp_values = |a: usize, b: usize| -> Ordering {
        match (&keys[a], &keys[b]) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = x.order(y);
                if desc { o.reverse() } else { o }
            }
        }
    };
    order.sort_by(|&a, &b| cmp_values(a, b).then_with(|| name_key[a].cmp(&name_key[b])));
    // Competition ranking: equal values share a rank ("1, 2, 2, 4").
    let mut ranked = Vec::with_capacity(order.len());
    let mut rank = 0;
    for (pos, &i) in order.iter().enumerate() {
        if pos == 0 || cmp_values(order[pos - 1], i) != Ordering::Equal {
            rank = pos + 1;
        }
        ranked.push((i, rank));
    }
    ranked
}
