//! Where the columns the config names are, in the players' tab and in each
//! joined tab, or every one that is missing (issue 16: `gen check` names
//! them all in one run; [`super::Snapshot::build`] stops at the first).

use crate::config::Config;
use crate::error::ModelError;
use crate::table::{RawTable, RawTables};

/// Finds `column` in `table`'s header or names what is there instead.
fn column_index(table: &RawTable, column: &str, key: &str) -> Result<usize, ModelError> {
    table
        .header
        .iter()
        .position(|h| h == column)
        .ok_or_else(|| ModelError::MissingColumn {
            tab: table.name.clone(),
            origin: table.origin.clone(),
            column: column.to_string(),
            key: key.to_string(),
            found: table.header.join(", "),
        })
}

/// A tab the config names that the data does not have at all.
pub(super) fn absent_tab(tab: &str) -> ModelError {
    ModelError::NoHeader {
        tab: tab.to_string(),
        origin: "the source".into(),
    }
}

/// A tab without a header row has no columns to find.
pub(super) fn require_header(tab: &RawTable) -> Result<(), ModelError> {
    if tab.header.is_empty() {
        return Err(ModelError::NoHeader {
            tab: tab.name.clone(),
            origin: tab.origin.clone(),
        });
    }
    Ok(())
}

/// Where the players tab's configured columns are.
pub(super) struct PlayerColumns {
    pub(super) id: usize,
    pub(super) login: usize,
    pub(super) secret: usize,
    pub(super) photo: Option<usize>,
    pub(super) admin: Option<usize>,
}

/// Finds every column the config names in the players tab, in the
/// config's order. Looks for all of them even after one is missing, so
/// that `gen check` names every missing column in one run (issue 16); the
/// error is the first missing column, then the others.
pub(super) fn player_columns(
    config: &Config,
    tab: &RawTable,
) -> Result<PlayerColumns, Box<(ModelError, Vec<ModelError>)>> {
    let pc = &config.players;
    let mut missing = Vec::new();
    // A missing column's index is never used: `missing` is not empty then.
    let mut find = |column: &str, key: &str| {
        column_index(tab, column, key)
            .map_err(|e| missing.push(e))
            .unwrap_or_default()
    };
    let id = find(&pc.id, "players.id");
    let login = find(&pc.login, "players.login");
    let secret = find(&pc.secret, "players.secret");
    for c in &pc.private {
        find(c, "players.private");
    }
    let photo = pc.photo.as_ref().map(|c| find(c, "players.photo"));
    let admin = pc.admin.as_ref().map(|c| find(c, "players.admin"));
    for c in config.index.columns.iter().flatten() {
        find(c, "index.columns");
    }
    if let Some(c) = &config.index.sort_by {
        find(c, "index.sort_by");
    }
    for c in &config.index.filters {
        find(c, "index.filters");
    }
    for c in config.player_page.fields.iter().flatten() {
        find(c, "player_page.fields");
    }
    let mut missing = missing.into_iter();
    match missing.next() {
        None => Ok(PlayerColumns {
            id,
            login,
            secret,
            photo,
            admin,
        }),
        Some(first) => Err(Box::new((first, missing.collect()))),
    }
}

/// The key column of a joined table.
fn key_column(table: &crate::config::Table, tab: &RawTable) -> Result<usize, ModelError> {
    require_header(tab)?;
    column_index(tab, &table.key, "tables.key")
}

/// Where a joined table's configured columns are: the key, the columns
/// shown (configured, or all but the key and unnamed ones) and the sort
/// column. Every missing one is named (the first is the error).
pub(super) struct TableColumns {
    pub(super) key: usize,
    pub(super) shown: Vec<usize>,
    pub(super) sort: Option<usize>,
}

pub(super) fn table_columns(
    table: &crate::config::Table,
    tab: &RawTable,
) -> Result<TableColumns, Vec<ModelError>> {
    let mut missing = Vec::new();
    let key = key_column(table, tab).map_err(|e| vec![e])?;
    let mut find = |column: &str, setting: &str| {
        column_index(tab, column, setting)
            .map_err(|e| missing.push(e))
            .ok()
    };
    let shown: Vec<usize> = match &table.columns {
        Some(columns) => columns
            .iter()
            .filter_map(|c| find(c, "tables.columns"))
            .collect(),
        None => (0..tab.header.len())
            .filter(|&i| i != key && !tab.header[i].is_empty())
            .collect(),
    };
    let sort = table
        .sort_by
        .as_ref()
        .and_then(|c| find(c, "tables.sort_by"));
    if missing.is_empty() {
        Ok(TableColumns { key, shown, sort })
    } else {
        Err(missing)
    }
}

/// Every tab and column the config names that the data does not have:
/// each missing column of the players tab, each table's missing key
/// column, each tab without a header row, in the config's order. Empty
/// when [`Snapshot::build`](super::Snapshot::build) finds every column it needs. [`Snapshot::build`](super::Snapshot::build)
/// stops at the first of these; `gen check` lists them all (issue 16).
pub fn missing_columns(config: &Config, raw: &RawTables) -> Vec<ModelError> {
    let mut out = Vec::new();
    match raw.get(&config.players.tab) {
        None => out.push(absent_tab(&config.players.tab)),
        Some(tab) => match require_header(tab) {
            Err(e) => out.push(e),
            Ok(()) => {
                if let Err(missing) = player_columns(config, tab) {
                    let (first, more) = *missing;
                    out.push(first);
                    out.extend(more);
                }
            }
        },
    }
    for table in &config.tables {
        match raw.get(&table.tab) {
            None => out.push(absent_tab(&table.tab)),
            Some(tab) => out.extend(table_columns(table, tab).err().into_iter().flatten()),
        }
    }
    out
}
