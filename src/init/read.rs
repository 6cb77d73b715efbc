//! Reading what `gen init` needs: the tabs and their header rows, from a
//! folder of CSV files, a workbook or a Google Sheet, through the source
//! stage's readers (for Google: one `spreadsheets.get` and one
//! `values:batchGet` of the first rows). It reads no cell beyond those.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calamine::{Reader, SheetType, open_workbook_auto};

use super::{GoogleAccess, usage};
use crate::cli::InitArgs;
use crate::config::{self, Encoding, Env, GoogleSource};
use crate::error::{Error, SourceError};
use crate::source::google::{self, GoogleAuth};
use crate::source::{RawTables, file, http};

/// Rows read from each Google tab: the header is the first non-empty one,
/// so a title row or two above it do no harm.
const GOOGLE_HEADER_ROWS: u32 = 5;

/// Listing the tabs and reading the header rows, retries included.
const GOOGLE_DEADLINE: Duration = Duration::from_secs(60);

/// One tab as `gen init` sees it: its name and header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tab {
    pub(super) name: String,
    pub(super) header: Vec<String>,
}

/// The `[source]` to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SourceDraft {
    Google {
        spreadsheet_id: String,
        api_base: Option<String>,
        /// Where the key file is, as written; `None`: an API key from the
        /// environment.
        credentials: Option<(String, CredentialsFrom)>,
    },
    Csv {
        /// Tab → path as written.
        files: Vec<(String, String)>,
        encoding: Encoding,
    },
    Workbook {
        path: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CredentialsFrom {
    Flag,
    Env,
}

/// What `gen init` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Described {
    CsvFile(PathBuf),
    CsvFiles(PathBuf),
    Workbook(PathBuf),
    Google(String),
}

impl Described {
    /// "the Google Sheet 1AbC…", "the CSV files in data/", … (the config's
    /// first comment).
    pub(super) fn english(&self) -> String {
        match self {
            Described::CsvFile(p) => format!("the CSV file {}", p.display()),
            Described::CsvFiles(p) => format!("the CSV files in {}", p.display()),
            Described::Workbook(p) => format!("the workbook {}", p.display()),
            Described::Google(id) => format!("the Google Sheet {id}"),
        }
    }

    /// The same in the words of `w`.
    pub(super) fn say(&self, w: &crate::i18n::Words) -> String {
        let (id, value) = match self {
            Described::CsvFile(p) => ("init-read-csv-file", p.display().to_string()),
            Described::CsvFiles(p) => ("init-read-csv-files", p.display().to_string()),
            Described::Workbook(p) => ("init-read-workbook", p.display().to_string()),
            Described::Google(id) => ("init-read-google", id.clone()),
        };
        w.say(id, &[("what", value.into())])
    }
}

/// Why a tab was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LeftOut {
    Chart,
    NoHeader,
}

impl LeftOut {
    pub(super) fn key(self) -> &'static str {
        match self {
            LeftOut::Chart => "init-left-out-chart",
            LeftOut::NoHeader => "init-left-out-no-header",
        }
    }
}

pub(super) struct Read {
    pub(super) described: Described,
    pub(super) source: SourceDraft,
    pub(super) tabs: Vec<Tab>,
    /// Tabs left out, with why.
    pub(super) skipped: Vec<(String, LeftOut)>,
    pub(super) google: Option<GoogleAccess>,
}

pub(super) fn read_source(
    arg: &str,
    args: &InitArgs,
    env: &Env,
    base: &Path,
) -> Result<Read, Error> {
    let path = Path::new(arg);
    if path.exists() {
        let real = path
            .canonicalize()
            .map_err(|e| usage(path, format!("cannot read it: {e}")))?;
        if real.is_dir() {
            return read_csv_folder(path, &real, base);
        }
        let ext = real
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        return match ext.as_str() {
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => read_workbook(path, &real, base),
            "csv" => read_csv_files(path, vec![real], base),
            _ => Err(usage(
                path,
                "reads a folder of .csv files (one per tab), a .csv file, a workbook (.xlsx, .xls, .ods), or a Google Sheet's URL or id".into(),
            )),
        };
    }
    let id = google_id(arg).map_err(|message| usage(path, message))?;
    read_google(id, args, env, base)
}

/// The spreadsheet id in a Google Sheet's URL, or the id itself.
fn google_id(arg: &str) -> Result<String, String> {
    let arg = arg.trim();
    if arg.starts_with("https://") || arg.starts_with("http://") {
        let url = url::Url::parse(arg).map_err(|_| "cannot read this URL".to_string())?;
        // …/spreadsheets/d/ID/edit, or …/spreadsheets/u/1/d/ID/edit.
        let found = url
            .path_segments()
            .into_iter()
            .flatten()
            .skip_while(|s| *s != "d")
            .nth(1)
            .filter(|_| url.path().starts_with("/spreadsheets/"));
        return match found {
            Some("e") => Err(
                "needs the sheet's own URL (https://docs.google.com/spreadsheets/d/…/edit), a folder of CSV files or a workbook, not the address of a sheet published to the web; a published sheet is configured by hand (docs/organiser.md, \"The config\": url = …)".into(),
            ),
            Some(id) if is_spreadsheet_id(id) => Ok(id.to_string()),
            _ => Err(
                "needs a Google Sheet's URL like https://docs.google.com/spreadsheets/d/ID/edit".into(),
            ),
        };
    }
    if is_spreadsheet_id(arg) {
        return Ok(arg.to_string());
    }
    Err("found no such file or folder, and this is not a Google Sheet's URL or id".into())
}

/// Google's ids are 44 characters of letters, digits, `-` and `_`; a
/// short word is more likely a mistyped file name.
fn is_spreadsheet_id(s: &str) -> bool {
    s.len() >= 20
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn read_csv_folder(shown: &Path, real: &Path, base: &Path) -> Result<Read, Error> {
    let entries = std::fs::read_dir(real).map_err(|source| SourceError::Io {
        path: shown.to_path_buf(),
        source,
    })?;
    let mut csvs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
        .collect();
    csvs.sort();
    if csvs.is_empty() {
        return Err(usage(
            shown,
            "found no .csv file in this folder: export each tab of the sheet as CSV into it (one file per tab)".into(),
        ));
    }
    read_csv_files(shown, csvs, base)
}

fn read_csv_files(shown: &Path, csvs: Vec<PathBuf>, base: &Path) -> Result<Read, Error> {
    let mut files = BTreeMap::new();
    let mut order = Vec::new();
    for path in csvs {
        let tab = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if files.insert(tab.clone(), path).is_none() {
            order.push(tab);
        }
    }
    // Excel on Windows saves CSV in Windows-1252: try it when UTF-8 fails.
    let (tables, encoding) = match file::read_csv_files(&files, Encoding::Utf8, &order) {
        Err(SourceError::NotUtf8 { .. }) => (
            file::read_csv_files(&files, Encoding::Windows1252, &order)?,
            Encoding::Windows1252,
        ),
        other => (other?, Encoding::Utf8),
    };
    let (tabs, skipped) = split_empty(&tables, &order);
    let written: Vec<(String, String)> = order
        .iter()
        .filter(|t| tabs.iter().any(|tab| &tab.name == *t))
        .filter_map(|t| Some((t.clone(), relative(files.get(t)?, base))))
        .collect();
    Ok(Read {
        described: if order.len() == 1 {
            Described::CsvFile(shown.to_path_buf())
        } else {
            Described::CsvFiles(shown.to_path_buf())
        },
        source: SourceDraft::Csv {
            files: written,
            encoding,
        },
        tabs,
        skipped,
        google: None,
    })
}

fn read_workbook(shown: &Path, real: &Path, base: &Path) -> Result<Read, Error> {
    let workbook = open_workbook_auto(real).map_err(|e| match e {
        calamine::Error::Io(source) => SourceError::Io {
            path: shown.to_path_buf(),
            source,
        },
        other => SourceError::Workbook {
            path: shown.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    // Chart sheets and macro sheets hold no rows.
    let names: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    drop(workbook);
    let tables = file::read_workbook(real, &names)?;
    let (tabs, skipped) = split_empty(&tables, &names);
    Ok(Read {
        described: Described::Workbook(shown.to_path_buf()),
        source: SourceDraft::Workbook {
            path: relative(real, base),
        },
        tabs,
        skipped,
        google: None,
    })
}

fn read_google(id: String, args: &InitArgs, env: &Env, base: &Path) -> Result<Read, Error> {
    let (credentials, from) = match (&args.credentials, &env.google_credentials) {
        (Some(path), _) => (Some(path.clone()), CredentialsFrom::Flag),
        (None, Some(path)) => (Some(path.clone()), CredentialsFrom::Env),
        (None, None) => (None, CredentialsFrom::Env),
    };
    let api_base = args
        .api_base
        .as_deref()
        .map(|b| b.trim_end_matches('/').to_string())
        .filter(|b| b != config::DEFAULT_API_BASE);
    let g = GoogleSource {
        spreadsheet_id: id.clone(),
        api_base: api_base
            .clone()
            .unwrap_or_else(|| config::DEFAULT_API_BASE.to_string()),
        api_key: env.google_api_key.clone(),
        credentials: credentials.clone(),
        drive_api_base: config::DEFAULT_DRIVE_API_BASE.to_string(),
        drive_photos: false,
    };
    // The same choice as a cycle's: a service account when there is one.
    let access = match GoogleAuth::from_source(&g)? {
        GoogleAuth::ServiceAccount(key) => GoogleAccess::ServiceAccount {
            client_email: key.client_email.clone(),
        },
        GoogleAuth::ApiKey(_) => GoogleAccess::ApiKey,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let (listed, tables) = runtime.block_on(async {
        let opts = http::HttpOptions::default();
        let client = http::client(&opts)?;
        let tokens = google::TokenCache::default();
        let deadline = Instant::now() + GOOGLE_DEADLINE;
        let listed = google::list_tabs(&client, &opts, &tokens, &g, deadline).await?;
        let grid: Vec<String> = listed
            .iter()
            .filter(|t| t.sheet_type == "GRID")
            .map(|t| t.title.clone())
            .collect();
        let tables = if grid.is_empty() {
            RawTables::default()
        } else {
            google::fetch_header_rows(
                &client,
                &opts,
                &tokens,
                &g,
                &grid,
                GOOGLE_HEADER_ROWS,
                deadline,
            )
            .await?
        };
        Ok::<_, SourceError>((listed, tables))
    })?;
    let names: Vec<String> = listed
        .iter()
        .filter(|t| t.sheet_type == "GRID")
        .map(|t| t.title.clone())
        .collect();
    let (tabs, mut skipped) = split_empty(&tables, &names);
    for t in listed.iter().filter(|t| t.sheet_type != "GRID") {
        skipped.push((t.title.clone(), LeftOut::Chart));
    }
    let credentials = credentials.map(|path| {
        let shown = match path.canonicalize() {
            Ok(real) => relative(&real, base),
            Err(_) => path.display().to_string(),
        };
        (shown, from)
    });
    Ok(Read {
        described: Described::Google(id.to_string()),
        source: SourceDraft::Google {
            spreadsheet_id: id,
            api_base,
            credentials,
        },
        tabs,
        skipped,
        google: Some(access),
    })
}

/// The tabs with a header row, in `order`, and the empty ones.
fn split_empty(tables: &RawTables, order: &[String]) -> (Vec<Tab>, Vec<(String, LeftOut)>) {
    let mut tabs = Vec::new();
    let mut skipped = Vec::new();
    for name in order {
        match tables.get(name) {
            Some(t) if !t.header.is_empty() => tabs.push(Tab {
                name: name.clone(),
                header: t.header.clone(),
            }),
            _ => skipped.push((name.clone(), LeftOut::NoHeader)),
        }
    }
    (tabs, skipped)
}

/// `path` as the config should name it: relative to the config's folder
/// when inside it, else absolute. Both are real paths.
fn relative(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// The theme folder asked for (`--templates`), as the config writes it;
/// `None`: the theme built into gen, which needs no line.
pub(super) fn theme(asked: Option<&Path>, base: &Path) -> Option<String> {
    let dir = asked?;
    Some(match dir.canonicalize() {
        Ok(real) => relative(&real, base),
        Err(_) => dir.display().to_string(),
    })
}

#[cfg(test)]
impl Tab {
    pub(super) fn new(name: &str, header: &[&str]) -> Tab {
        Tab {
            name: name.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_ids_from_urls_and_as_they_are() {
        let id = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";
        for arg in [
            format!("https://docs.google.com/spreadsheets/d/{id}/edit#gid=0"),
            format!("https://docs.google.com/spreadsheets/d/{id}"),
            format!("https://docs.google.com/spreadsheets/u/1/d/{id}/edit?usp=sharing"),
            id.to_string(),
        ] {
            assert_eq!(google_id(&arg).as_deref(), Ok(id), "{arg}");
        }
        let published =
            google_id("https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pub?output=csv");
        assert!(published.unwrap_err().contains("published"));
        assert!(google_id("https://example.com/d/abc").is_err());
        assert!(
            google_id("roster")
                .unwrap_err()
                .contains("no such file or folder")
        );
    }
}
