//! Local sources: one CSV file per tab, or a workbook (.xlsx, .xls, .ods).
//! CSV the way people export it: UTF-8 with or without BOM, UTF-16 with BOM,
//! Windows-1252 on request, `,` `;` or tab delimiters, quoted fields with
//! newlines, CRLF, ragged rows. A quote that is never closed refuses the
//! file ([`SourceError::UnclosedQuote`]): the rows it swallowed would be lost
//! without a word.

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
/// messages about cells on several lines, which need the file's lines.
pub fn parse_csv(
    tab: &str,
    path: &Path,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<super::RawTable, SourceError> {
    let text = decode(tab, path, bytes, encoding)?;
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // (row number, line) of every record, in increasing order of both.
    let mut lines: Vec<(usize, Option<u64>)> = Vec::new();
    // Where each record starts in `text`, in the order of `rows`.
    let mut starts: Vec<Option<u64>> = Vec::new();
    let mut line_of = LineCounter::new(text.as_bytes());
    let mut breaks_in_cells: u64 = 0;
    let mut last = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| SourceError::Csv {
            path: path.to_path_buf(),
            tab: tab.to_string(),
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
        starts.push(record.position().map(|p| p.byte()));
        rows.push((number, record.iter().collect::<super::Cells>()));
    }
    if let Some(stray) = unclosed_quote(&text, delimiter, &rows, &starts) {
        let (number, cells) = &rows[stray.record];
        let line = lines.get(stray.record).and_then(|&(_, line)| line);
        return Err(SourceError::UnclosedQuote {
            path: path.to_path_buf(),
            tab: tab.to_string(),
            row: *number,
            line: line.filter(|&l| usize::try_from(l).ok() != Some(*number)),
            column: column_name(&rows, stray.record, stray.column),
            rows: swallowed_rows(cells.get(stray.column).unwrap_or("")),
        });
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

/// A cell that a quote opened and never closed: the record and column.
struct StrayQuote {
    record: usize,
    column: usize,
}

/// The first cell that swallowed rows: a quote opened at the start of a
/// field and never closed (a name typed `"Zoé Martin`) makes the parser read
/// the lines after it, up to the next quote or the end of the file, as that
/// one cell. Every row in there would be lost without a word, so the whole
/// read is refused. A cell spanning lines swallowed rows when its quote
/// does not close where the cell ends (it runs to the end of the file, or
/// "closes" on a quote followed by more text: the opening quote of a later
/// cell), or when its later lines look like rows of this file (a later
/// quote at the end of a cell, `5'11"`, closed it). An address or a note on
/// two lines, quoted and closed, is data.
fn unclosed_quote(
    text: &str,
    delimiter: u8,
    rows: &[(usize, super::Cells)],
    starts: &[Option<u64>],
) -> Option<StrayQuote> {
    let width = rows
        .iter()
        .map(|(_, cells)| {
            cells
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.trim().is_empty())
                .last()
                .map_or(0, |(i, _)| i + 1)
        })
        .find(|&w| w > 0)
        .unwrap_or(0);
    let offset = |i: usize| {
        starts
            .get(i)
            .copied()
            .flatten()
            .and_then(|b| usize::try_from(b).ok())
    };
    rows.iter().enumerate().find_map(|(i, (_, cells))| {
        let column = cells.iter().position(|cell| {
            if !has_line_break(cell) {
                return false;
            }
            // The record's own text: from its start to the next record's.
            let start = offset(i).unwrap_or(0);
            let end = offset(i + 1).unwrap_or(text.len());
            let raw = text.get(start..end).or_else(|| text.get(start..));
            !raw.is_some_and(|raw| closed_where_it_ends(raw, cell, delimiter))
                || looks_like_rows(cell, width, delimiter)
        })?;
        Some(StrayQuote { record: i, column })
    })
}

fn has_line_break(cell: &str) -> bool {
    cell.contains(['\n', '\r'])
}

/// Whether `raw` (a record as written) holds `cell` quoted and closed, the
/// closing quote followed by a delimiter, a line end or the end of file:
/// what a quoted cell that ends where its quote closes looks like.
fn closed_where_it_ends(raw: &str, cell: &str, delimiter: u8) -> bool {
    let quoted = format!("\"{}\"", cell.replace('"', "\"\""));
    raw.match_indices(&quoted).any(|(i, _)| {
        matches!(
            raw.as_bytes().get(i + quoted.len()),
            None | Some(b'\r' | b'\n')
        ) || raw.as_bytes().get(i + quoted.len()) == Some(&delimiter)
    })
}

/// A later line of `cell` that has as many delimiters as a row of the
/// file: rows read into one cell. An address or a note on two lines does
/// not (at least two delimiters, so that a note with a comma in a file of
/// two columns is not taken for a row).
fn looks_like_rows(cell: &str, width: usize, delimiter: u8) -> bool {
    let need = width.saturating_sub(1).max(2);
    cell.lines()
        .skip(1)
        .any(|line| line.matches(char::from(delimiter)).count() >= need)
}

/// The rows a runaway cell holds: its later lines that are not blank.
fn swallowed_rows(cell: &str) -> usize {
    cell.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .count()
}

/// The header's name of `column`, or its letter as a spreadsheet shows it
/// when the quote opened in the header row itself (or before it).
fn column_name(rows: &[(usize, super::Cells)], record: usize, column: usize) -> String {
    let header = rows
        .iter()
        .position(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    match header {
        Some(h) if h < record => rows[h]
            .1
            .get(column)
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map_or_else(|| column_letters(column), |name| format!("\"{name}\"")),
        _ => column_letters(column),
    }
}

/// `A` for the first column, `Z`, `AA`, `AB`…
fn column_letters(column: usize) -> String {
    let mut n = column + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
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

fn decode(tab: &str, path: &Path, bytes: &[u8], encoding: Encoding) -> Result<String, SourceError> {
    // A BOM says what the file is, whatever the config says.
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(not_utf8(tab, path, &bytes[bom_len..]));
        }
        return Ok(text.into_owned());
    }
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => Err(not_utf8(tab, path, bytes)),
        },
        Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
    }
}

fn not_utf8(tab: &str, path: &Path, bytes: &[u8]) -> SourceError {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    SourceError::NotUtf8 {
        path: path.to_path_buf(),
        tab: tab.to_string(),
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
        assert!(
            err.contains("players.csv (tab \"Players\"), line 3"),
            "{err}"
        );
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

    /// The error for `csv`, as the organiser reads it.
    fn refusal(csv: &str) -> String {
        parse(csv.as_bytes(), Encoding::Utf8)
            .expect_err("an unclosed quote")
            .to_string()
    }

    #[test]
    fn a_quote_never_closed_refuses_the_file_and_names_where_it_opens() {
        // Runs to the end of the file.
        let e = refusal("id,name,pin\n1,Ann,1\n2,\"Zoé Martin,2\n3,Bob,3\n4,Cy,4\n");
        assert_eq!(
            e,
            "players.csv (tab \"Players\"), row 3, column \"name\": this cell starts with a \
             quote (\") that is never closed, so the 2 rows after it were read as part of this \
             cell. Remove the quote, or close it, then build again"
        );
        // "Closed" by the opening quote of a later cell, in a file of two
        // columns (rows with one comma only).
        let e = refusal("id,name\n1,\"Ann\n2,Bob\n3,\"Cy, Jr\"\n4,Dee\n");
        assert!(e.contains("row 2, column \"name\""), "{e}");
        assert!(e.contains("the 2 rows after it"), "{e}");
        // On the last row: the rest of the file.
        let e = refusal("id,name,team\n1,Ann,\"Red\n");
        assert!(e.contains("row 2, column \"team\""), "{e}");
        assert!(e.contains("so the rest of the file was read"), "{e}");
        // Closed by a quote at the end of a later cell, where a cell may
        // end: the lines inside look like rows of the file.
        let e = refusal("id,name,pin,height\n1,\"Ann,1,160\n2,Bob,2,5'11\",3\n4,Cy,4,170\n");
        assert!(e.contains("row 2, column \"name\""), "{e}");
        // In the header row: the column by its letter.
        let e = refusal("id,\"name,pin\n1,Ann,1\n");
        assert!(e.contains("row 1, column B:"), "{e}");
        assert!(e.contains("the 1 row after it was read"), "{e}");
    }

    #[test]
    fn an_unclosed_quote_names_the_line_when_it_is_not_the_row() {
        // Row 3 is on lines 3-4; the stray quote opens on row 4, line 5.
        let e =
            refusal("id,name,note\n1,Ann,ok\n2,Bob,\"two\nlines\"\n3,\"Cy,x\n4,Dee,y\n5,Eve,z\n");
        assert!(
            e.contains("row 4 (line 5 of the file), column \"name\""),
            "{e}"
        );
    }

    #[test]
    fn closed_quoted_cells_on_several_lines_are_data() {
        let csv = "id,name,address\n\
                   1,Ann,\"12 rue des Lilas\n75011 Paris, France\"\n\
                   2,\"Bob \"\"Jr\"\"\nSmith\",\"a;b\"\r\n\
                   3,Cy,\"last\nrow\"";
        let t = parse(csv.as_bytes(), Encoding::Utf8).unwrap();
        assert_eq!(numbers(&t), [(2, Some(2)), (3, Some(4)), (4, Some(6))]);
        assert_eq!(t.rows[1].cells.get(1), Some("Bob \"Jr\"\nSmith"));
        assert_eq!(t.rows[2].cells.get(2), Some("last\nrow"));
    }

    #[test]
    fn rows_in_a_cell_are_told_from_an_address() {
        assert!(looks_like_rows("Red\na2,Bob,551204,Blue", 4, b','));
        assert!(!looks_like_rows(
            "12 rue des Lilas\n75011 Paris, France",
            4,
            b','
        ));
        // Commas in a file delimited by semicolons are text.
        assert!(!looks_like_rows("a\nb, c, d, e", 4, b';'));
        assert!(looks_like_rows("a\nb;c;d;e", 4, b';'));
    }

    #[test]
    fn column_letters_go_on_after_z() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn delimiter_sniffing_ignores_quoted_text() {
        assert_eq!(sniff_delimiter("\"a;b;c\",x,y\n"), b',');
        assert_eq!(sniff_delimiter("a;b\n"), b';');
        assert_eq!(sniff_delimiter("single\n"), b',');
    }
}
