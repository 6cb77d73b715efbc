//! The data as read, before any meaning is given to it (a leaf: the
//! sources produce it, the model and the last-good file read it): tabs of
//! untyped text cells, headers first, each row with the number a person sees
//! in the spreadsheet.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::cells::Cells;

/// One tab as read: a header row and data rows padded to the header's width.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawTable {
    pub name: String,
    /// Where it came from, for messages: a file path or "Google Sheets".
    pub origin: String,
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawRow {
    /// The row number the organiser sees in the spreadsheet, whatever row
    /// the header is on: Google's and a workbook's own row numbers; for a
    /// CSV file, the row a spreadsheet app shows when it opens the file
    /// (blank lines are rows, a cell spanning lines is one row: see
    /// `source::file::parse_csv`). Every problem names rows by it.
    pub number: usize,
    pub cells: Cells,
    /// For a CSV file: the line this record starts on. It differs from
    /// `number` once a quoted cell spans lines, and it is what an organiser
    /// editing the file needs to find a stray quote (issue 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl RawRow {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// All configured tabs of one fetch.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RawTables {
    pub tabs: BTreeMap<String, RawTable>,
}

impl RawTables {
    pub fn get(&self, tab: &str) -> Option<&RawTable> {
        self.tabs.get(tab)
    }

    /// A digest of every cell: equal digests mean equal data.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for (name, table) in &self.tabs {
            feed(&mut h, name);
            for cell in &table.header {
                feed(&mut h, cell);
            }
            for row in &table.rows {
                h.update((row.number as u64).to_le_bytes());
                for cell in row.cells.iter() {
                    feed(&mut h, cell);
                }
            }
        }
        h.finalize().into()
    }
}

/// Length-prefixed, so ("ab","c") and ("a","bc") differ.
fn feed(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Builds a table from rows as read: the first non-empty row is the header;
/// later rows are padded (or, when longer, kept whole) to the header's width.
/// Each row comes with its spreadsheet row number, which it keeps.
pub fn table_from_rows<C: Into<Cells>>(
    name: &str,
    origin: &str,
    rows: impl IntoIterator<Item = (usize, C)>,
) -> RawTable {
    let mut header: Option<Vec<String>> = None;
    let mut out = Vec::new();
    for (number, cells) in rows {
        let mut cells: Cells = cells.into();
        match &header {
            None => {
                let mut h: Vec<String> = cells.iter().map(|c| c.trim().to_string()).collect();
                while h.last().is_some_and(|c| c.is_empty()) {
                    h.pop();
                }
                if !h.is_empty() {
                    header = Some(h);
                }
            }
            Some(h) => {
                cells.pad_to(h.len());
                cells.shrink_to_fit();
                out.push(RawRow {
                    number,
                    cells,
                    line: None,
                });
            }
        }
    }
    // Held for the whole cycle: no growth slack (up to half of it).
    out.shrink_to_fit();
    RawTable {
        name: name.to_string(),
        origin: origin.to_string(),
        header: header.unwrap_or_default(),
        rows: out,
    }
}
