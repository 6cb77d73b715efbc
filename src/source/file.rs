//! Local sources: one CSV file per tab, or a workbook (.xlsx, .xls, .ods).
//! CSV the way people export it: UTF-8 with or without BOM, UTF-16 with BOM,
//! Windows-1252 on request, `,` `;` or tab delimiters, quoted fields with
//! newlines, CRLF, ragged rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};

use super::{RawTables, table_from_rows};
use crate::config::Encoding;
use crate::error::SourceError;

/// Reads the CSV file of every tab in `tabs`.
pub fn read_csv_files(
    files: &BTreeMap<String, PathBuf>,
    encoding: Encoding,
    tabs: &[String],
) -> Result<RawTables, SourceError> {
    let mut out = RawTables::default();
    for tab in tabs {
        let path = files.get(tab).ok_or_else(|| SourceError::MissingTab {
            origin: "[source.files]".into(),
            tab: tab.clone(),
            found: files.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        let bytes = std::fs::read(path).map_err(|source| SourceError::Io {
            path: path.clone(),
            source,
        })?;
        let table = parse_csv(tab, path, &bytes, encoding)?;
        out.tabs.insert(tab.clone(), table);
    }
    Ok(out)
}

/// Decodes and parses one CSV file's bytes.
///
/// Row numbers are the ones a spreadsheet shows when it opens the file
/// (LibreOffice, Excel, Google Sheets' import): one row per line, so a blank
/// line is an empty row and every row after it keeps its number, except
/// that a quoted cell spanning lines is one cell of one row, so the rows
/// after it are not shifted by its extra lines. That is: the line a record
/// starts on, less the line breaks inside the quoted cells of the records
/// before it (issue 16: "row 80" was line 81 after one blank line). The
/// line itself is kept apart ([`RawRow::line`](super::RawRow::line)) for
/// messages about stray quotes, which need the file's lines.
pub fn parse_csv(
    tab: &str,
    path: &Path,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<super::RawTable, SourceError> {
    let text = decode(path, bytes, encoding)?;
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // (row number, line) of every record, in increasing order of both.
    let mut lines: Vec<(usize, Option<u64>)> = Vec::new();
    let mut line_of = LineCounter::new(text.as_bytes());
    let mut breaks_in_cells: u64 = 0;
    let mut last = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| SourceError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map(|p| line_of.at(p.byte()));
        // Always after the row before, even if a position were missing.
        let number = line
            .and_then(|l| usize::try_from(l.saturating_sub(breaks_in_cells)).ok())
            .filter(|&n| n > last)
            .unwrap_or(last + 1);
        last = number;
        breaks_in_cells += record
            .iter()
            .map(|cell| line_breaks(cell.as_bytes()))
            .sum::<u64>();
        lines.push((number, line));
        rows.push((number, record.iter().collect::<super::Cells>()));
    }
    let mut table = table_from_rows(tab, &path.display().to_string(), rows);
    for row in &mut table.rows {
        row.line = lines
            .binary_search_by_key(&row.number, |&(number, _)| number)
            .ok()
            .and_then(|i| lines.get(i))
            .and_then(|&(_, line)| line);
    }
    Ok(table)
}

/// Line breaks as a spreadsheet counts them: `\r\n`, `\n` or a lone `\r`
/// (old Mac files) each end one line.
fn line_breaks(text: &[u8]) -> u64 {
    let mut n = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && text.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// Line numbers of byte offsets, counted once through the text (offsets
/// come in increasing order). The csv crate's own `Position::line` of a
/// record after a CRLF is one short (the record is said to start on the
/// `\n` that ends the line before), and it skips blank lines.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the first character at or after `byte` that is not a
    /// line end: where the record starting there really begins (after any
    /// blank lines). Each stretch counted ends on such a character, so a
    /// `\r\n` is never cut in two.
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while self
            .text
            .get(start)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            start += 1;
        }
        if let Some(skipped) = self.text.get(self.offset..start) {
            self.line += line_breaks(skipped);
            self.offset = start;
        }
        self.line
    }
}

fn decode(path: &Path, bytes: &[u8], encoding: Encoding) -> Result<String, SourceError> {
    // A BOM says what the file is, whatever the config says.
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(not_utf8(path, &bytes[bom_len..]));
        }
        return Ok(text.into_owned());
    }
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => Err(not_utf8(path, bytes)),
        },
        Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
    }
}

fn not_utf8(path: &Path, bytes: &[u8]) -> SourceError {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    SourceError::NotUtf8 {
        path: path.to_path_buf(),
        line,
    }
}

/// The delimiter that occurs most often in the first line outside quotes
/// (French Excel writes `;`, "Unicode text" exports use tabs).
fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                for (d, n) in counts.iter_mut() {
                    if *d == b {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    // Ties go to the comma: it comes first and max_by_key keeps the last max.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// Reads the sheets named in `tabs` from a workbook.
pub fn read_workbook(path: &Path, tabs: &[String]) -> Result<RawTables, SourceError> {
    let workbook_error = |message: String| SourceError::Workbook {
        path: path.to_path_buf(),
        message,
    };
    let mut workbook = open_workbook_auto(path).map_err(|e| match e {
        calamine::Error::Io(source) => SourceError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => workbook_error(other.to_string()),
    })?;
    let names = workbook.sheet_names();
    let origin = path.display().to_string();
    let mut out = RawTables::default();
    for tab in tabs {
        if !names.iter().any(|n| n == tab) {
            return Err(SourceError::MissingTab {
                origin: origin.clone(),
                tab: tab.clone(),
                found: names.join(", "),
            });
        }
        let range = workbook
            .worksheet_range(tab)
            .map_err(|e| workbook_error(format!("sheet \"{tab}\": {e}")))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let first_col = range.start().map_or(0, |(_, col)| col as usize);
        let rows = range.rows().enumerate().map(|(i, row)| {
            // Cells left of the used range are empty; keep columns aligned.
            let cells: super::Cells = std::iter::repeat_n(String::new(), first_col)
                .chain(row.iter().map(cell_text))
                .collect();
            (first_row + i + 1, cells)
        });
        out.tabs
            .insert(tab.clone(), table_from_rows(tab, &origin, rows));
    }
    Ok(out)
}

/// A cell as the person sees it: integers without ".0", dates as ISO text.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if dt.is_datetime() && (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else if dt.is_datetime() {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
            } else {
                dt.as_f64().to_string()
            }
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8], encoding: Encoding) -> Result<super::super::RawTable, SourceError> {
        parse_csv("Players", Path::new("players.csv"), bytes, encoding)
    }

    #[test]
    fn semicolons_bom_crlf_quotes_and_ragged_rows() {
        let csv = "\u{feff}id;name;pin\r\n1;\"Dupont; \"\"Jo\"\"\nline2\";1234\r\n2;Zoé\r\n";
        let t = parse(csv.as_bytes(), Encoding::Utf8).unwrap();
        assert_eq!(t.header, ["id", "name", "pin"]);
        assert_eq!(t.rows[0].cells, ["1", "Dupont; \"Jo\"\nline2", "1234"]);
        assert_eq!(t.rows[1].cells, ["2", "Zoé", ""]);
        assert_eq!(t.rows[1].number, 3);
        // The second record starts on line 4: the first spans two lines.
        assert_eq!(t.rows[0].line, Some(2));
        assert_eq!(t.rows[1].line, Some(4));
    }

    /// (row number, line) of each data row.
    fn numbers(t: &super::super::RawTable) -> Vec<(usize, Option<u64>)> {
        t.rows.iter().map(|r| (r.number, r.line)).collect()
    }

    #[test]
    fn blank_lines_are_rows_and_a_cell_on_three_lines_is_one_row() {
        // As a spreadsheet shows it: rows 1-2 empty, the header on row 3,
        // row 5 empty, the cell "B..D" on row 6, row 8 empty.
        let csv = "\n\nid,name\n1,A\n\n2,\"B\nC\nD\"\n3,E\r\n\r\n4,F\n";
        let t = parse(csv.as_bytes(), Encoding::Utf8).unwrap();
        assert_eq!(t.header, ["id", "name"]);
        assert_eq!(
            numbers(&t),
            [(4, Some(4)), (6, Some(6)), (7, Some(9)), (9, Some(11))]
        );
        assert_eq!(t.rows[2].cells, ["3", "E"]);
    }

    #[test]
    fn old_mac_line_ends_count_as_lines() {
        let t = parse(b"id,name\r1,A\r\r2,\"B\rC\"\r3,D\r", Encoding::Utf8).unwrap();
        assert_eq!(numbers(&t), [(2, Some(2)), (4, Some(4)), (5, Some(6))]);
    }

    #[test]
    fn windows_1252_needs_the_setting_and_the_error_names_the_line() {
        let bytes = b"id,name\n1,Ok\n2,Zo\xe9\n";
        let err = parse(bytes, Encoding::Utf8).unwrap_err().to_string();
        assert!(err.contains("players.csv, line 3"), "{err}");
        assert!(err.contains("windows-1252"), "{err}");
        let t = parse(bytes, Encoding::Windows1252).unwrap();
        assert_eq!(t.rows[1].cells.get(1), Some("Zoé"));
    }

    #[test]
    fn utf16_with_bom_and_tabs() {
        let text = "id\tname\n1\tÉloïse\n";
        let mut bytes = vec![0xff, 0xfe];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let t = parse(&bytes, Encoding::Utf8).unwrap();
        assert_eq!(t.rows[0].cells, ["1", "Éloïse"]);
    }

    #[test]
    fn delimiter_sniffing_ignores_quoted_text() {
        assert_eq!(sniff_delimiter("\"a;b;c\",x,y\n"), b',');
        assert_eq!(sniff_delimiter("a;b\n"), b';');
        assert_eq!(sniff_delimiter("single\n"), b',');
    }
}
