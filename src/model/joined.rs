//! Other tabs joined to the players (`[[tables]]`): each row goes to the
//! player its key names, or is ignored and named; a cell that would show a
//! PIN is withheld ([`super::withheld`]); each player's rows are sorted by
//! the table's `sort_by` ([`super::dates`]).

use std::collections::{BTreeMap, HashMap};

use super::columns::{TableColumns, absent_tab, table_columns};
use super::players::{Kept, runaway_cell, spans_lines};
use super::problem::{Problem, ProblemKind, Shown};
use super::withheld::{At, Owner, Withholder};
use super::{Cells, dates};
use crate::config::{Config, Table};
use crate::error::ModelError;
use crate::table::{RawRow, RawTable};

/// Rows of another tab, grouped by the player they belong to.
#[derive(Debug, Clone)]
pub struct JoinedTable {
    pub name: String,
    /// The tab's columns without the key column.
    pub columns: Vec<String>,
    /// `rows[player_index]`: that player's rows, in sheet order.
    pub rows: Vec<Vec<Cells>>,
}

/// What joining needs to know of the players: who an id is, and how to
/// check a cell against every PIN.
pub(super) struct Join<'a> {
    pub(super) kept: &'a [Kept],
    pub(super) withholder: &'a Withholder<'a>,
    /// Each player's PIN as digits, looked for inside their own cells.
    pub(super) own_digits: &'a [Option<Vec<u8>>],
}

/// Where a player's row goes: the index of the player, and the ids.
struct Ids<'a> {
    index_of_id: HashMap<&'a str, usize>,
    /// A key typed in another case (`P001` for `p001`) is named as such.
    id_of_folded: HashMap<String, &'a str>,
}

impl Join<'_> {
    /// Every `[[tables]]` tab, joined, in the config's order.
    pub(super) fn all(
        &self,
        config: &Config,
        tabs: &mut BTreeMap<String, RawTable>,
        problems: &mut Vec<Problem>,
    ) -> Result<Vec<JoinedTable>, ModelError> {
        let ids = Ids {
            index_of_id: self
                .kept
                .iter()
                .enumerate()
                .map(|(i, k)| (k.id.as_str(), i))
                .collect(),
            id_of_folded: self
                .kept
                .iter()
                .map(|k| (k.id.to_lowercase(), k.id.as_str()))
                .collect(),
        };
        let mut tables = Vec::new();
        for tc in &config.tables {
            let t = tabs.remove(&tc.tab).ok_or_else(|| absent_tab(&tc.tab))?;
            tables.push(self.one(tc, t, &ids, problems)?);
        }
        Ok(tables)
    }

    fn owner(&self, p: usize) -> Owner<'_> {
        Owner {
            row: self.kept[p].row,
            digits: self.own_digits[p].as_deref(),
        }
    }

    fn one(
        &self,
        tc: &Table,
        mut t: RawTable,
        ids: &Ids<'_>,
        problems: &mut Vec<Problem>,
    ) -> Result<JoinedTable, ModelError> {
        let TableColumns { key, shown, sort } = table_columns(tc, &t).map_err(|missing| {
            missing
                .into_iter()
                .next()
                .unwrap_or_else(|| absent_tab(&tc.tab))
        })?;
        // The sort column rides at the end of each row until sorted.
        let carried: Vec<usize> = shown.iter().copied().chain(sort).collect();
        let mut rows: Vec<Vec<(usize, Cells)>> = vec![Vec::new(); self.kept.len()];
        for row in std::mem::take(&mut t.rows) {
            if row.is_blank() {
                continue;
            }
            let at = |column: Option<&str>, kind| {
                Problem::warning(&t.name, Some(row.number), column, kind)
            };
            if let Some(col) = runaway_cell(&row, &[key]) {
                let column = t.header.get(col).map(String::as_str);
                problems.push(at(column, spans_lines(&row, col, &t.origin)));
                continue;
            }
            let cell = row.cells.get(key).map_or("", str::trim);
            match ids.index_of_id.get(cell) {
                Some(&p) => {
                    let cells = self.cells(&t, &row, p, (&shown, &carried), problems);
                    rows[p].push((row.number, cells));
                }
                None => problems.push(at(Some(&tc.key), unknown_player(cell, ids))),
            }
        }
        if let (Some(_), Some(column)) = (sort, &tc.sort_by) {
            let spec = dates::SortSpec {
                tab: &t.name,
                column,
                at: shown.len(),
                descending: tc.descending,
            };
            problems.extend(dates::sort_rows(&spec, &mut rows));
        }
        let width = shown.len();
        let rows: Vec<Vec<Cells>> = rows
            .into_iter()
            .map(|player_rows| {
                let mut out: Vec<Cells> = player_rows
                    .into_iter()
                    .map(|(_, cells)| compact(cells.iter().take(width).collect()))
                    .collect();
                out.shrink_to_fit();
                out
            })
            .collect();
        Ok(JoinedTable {
            name: t.name.clone(),
            columns: shown.iter().map(|&i| t.header[i].clone()).collect(),
            rows,
        })
    }

    /// The `carried` cells of `row` (player `p`), each cell that would show
    /// a PIN emptied and named (the sort column's copy too, when shown).
    fn cells(
        &self,
        t: &RawTable,
        row: &RawRow,
        p: usize,
        (shown, carried): (&[usize], &[usize]),
        problems: &mut Vec<Problem>,
    ) -> Cells {
        let mut row_cells: Vec<&str> = carried
            .iter()
            .map(|&i| row.cells.get(i).map_or("", str::trim))
            .collect();
        for &col in shown {
            let Some(at) = carried.iter().position(|&i| i == col) else {
                continue;
            };
            let at_cell = At {
                tab: &t.name,
                row: row.number,
                column: &t.header[col],
            };
            if let Some(found) = self.withholder.check(row_cells[at], self.owner(p), at_cell) {
                problems.push(found);
                for (cell, &i) in row_cells.iter_mut().zip(carried) {
                    if i == col {
                        *cell = "";
                    }
                }
            }
        }
        row_cells.into_iter().collect()
    }
}

/// The problem of a row whose key `key` matches no player.
fn unknown_player(key: &str, ids: &Ids<'_>) -> ProblemKind {
    if key.is_empty() {
        return ProblemKind::EmptyPlayerId;
    }
    ProblemKind::UnknownPlayer {
        key: Shown::cell(key),
        other_case: ids
            .id_of_folded
            .get(&key.to_lowercase())
            .map(|id| id.to_string()),
    }
}

/// `cells` without spare capacity: a clone allocates exactly what it
/// holds, where a row built cell by cell keeps up to half of its buffers
/// unused. The snapshot keeps every joined row for as long as it is in
/// force (200,000 of them at 10,000 players × 20 matches; issue 15).
fn compact(cells: Cells) -> Cells {
    cells.clone()
}

/// `[labels]` entries for a column no page shows (a typo in the column's
/// name): each a warning with the nearest column, never silently ignored.
pub(super) fn unused_labels(
    config: &Config,
    players_tab: &str,
    columns: &[String],
    tables: &[JoinedTable],
) -> Vec<Problem> {
    let shown = || {
        columns
            .iter()
            .chain(tables.iter().flat_map(|t| t.columns.iter()))
            .map(String::as_str)
    };
    config
        .labels
        .iter()
        .filter(|(column, _)| !shown().any(|c| c == column.as_str()))
        .map(|(column, label)| {
            let kind = ProblemKind::UnusedLabel {
                column: column.clone(),
                label: label.clone(),
                nearest: crate::suggest::nearest(column, shown()).map(|n| n.to_owned()),
            };
            Problem::warning(players_tab, None, Some(column), kind)
        })
        .collect()
}
