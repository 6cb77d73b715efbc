//! A failure in the words of the site's language: what `gen` prints on
//! stderr and what the organiser's page says. Each variant is worded from
//! its values (file, tab, row, column); a detail that comes from a library
//! or from Google (an I/O error, the CSV reader's words) stays as it is,
//! in English. The technical log keeps `Display`.

use std::sync::OnceLock;

use super::{Arg, Words, words};
use crate::config::Lang;
use crate::error::{ConfigError, Error, ModelError, PublishError, SourceError};
use crate::suggest::{self, Nearest};

/// The language chosen for this run: the config's once it is read, or
/// `gen init --lang`'s.
static CHOSEN: OnceLock<Lang> = OnceLock::new();

/// Sets the language of this run's messages (the first call wins).
pub fn choose(lang: Lang) {
    let _ = CHOSEN.set(lang);
}

/// The language of this run's messages: chosen, or `LANG`'s (`fr_FR.UTF-8`
/// is French), or English.
pub fn chosen() -> Lang {
    if let Some(lang) = CHOSEN.get() {
        return *lang;
    }
    let env = std::env::var("LC_ALL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("LANG").ok())
        .unwrap_or_default();
    if env.starts_with("fr") {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// `error: …` in the chosen language, as `gen` prints a failure.
pub fn line(e: &Error) -> String {
    let w = words(chosen());
    w.say("error-line", &[("message", say(e, w).into())])
}

/// The failure `e` in the language of `w`.
pub fn say(e: &Error, w: &Words) -> String {
    worded(e, w).unwrap_or_else(|| e.to_string())
}

/// The failure `e` in the language of `w`, when the catalogue words it
/// (`None`: only its English `Display` says it).
pub fn worded(e: &Error, w: &Words) -> Option<String> {
    let detail = |d: String| Arg::from(d);
    let path = |p: &std::path::Path| Arg::from(p.display().to_string());
    match e {
        Error::Config(ConfigError::Read { path: p, source }) => Some(w.say(
            "error-config-read",
            &[("path", path(p)), ("detail", detail(source.to_string()))],
        )),
        Error::Source(s) => source(s, w),
        Error::Model(m) => Some(model(m, w)),
        Error::Publish(PublishError::MassRemoval { removing, existing }) => Some(w.say(
            "error-mass-removal",
            &[
                ("removing", (*removing).into()),
                ("existing", (*existing).into()),
            ],
        )),
        Error::Publish(PublishError::SecretInArtifact {
            pages,
            tab,
            rows,
            column,
        }) => Some(w.say(
            "error-secret",
            &[
                ("pages", pages.as_str().into()),
                ("tab", tab.as_str().into()),
                ("rows", rows.as_str().into()),
                ("column", column.as_str().into()),
            ],
        )),
        Error::Reported(inner) => worded(inner, w),
        Error::CheckFailed(n) => Some(w.say("error-check-failed", &[("count", (*n).into())])),
        // The config's errors are worded where they are found (their caret
        // and key); the rest are for whoever installed the site.
        Error::Config(_) | Error::Publish(_) | Error::Render(_) | Error::Runtime(_) => None,
    }
}

fn source(e: &SourceError, w: &Words) -> Option<String> {
    let path = |p: &std::path::Path| Arg::from(p.display().to_string());
    Some(match e {
        SourceError::Io { path: p, source } => {
            let id = if source.kind() == std::io::ErrorKind::NotFound {
                "error-io-missing"
            } else {
                "error-io"
            };
            w.say(
                id,
                &[("path", path(p)), ("detail", source.to_string().into())],
            )
        }
        SourceError::Csv {
            path: p,
            tab,
            line,
            message,
        } => w.say(
            "error-csv",
            &[
                ("path", path(p)),
                ("tab", tab.as_str().into()),
                ("line", line.to_string().into()),
                ("detail", message.as_str().into()),
            ],
        ),
        SourceError::UnclosedQuote {
            path: p,
            tab,
            row,
            line,
            column,
            rows,
        } => w.say(
            "error-unclosed-quote",
            &[
                ("path", path(p)),
                ("tab", tab.as_str().into()),
                ("row", row.to_string().into()),
                ("line", line.map_or("none".into(), |l| l.to_string()).into()),
                ("column", column.as_str().into()),
                ("swallowed", (*rows).into()),
            ],
        ),
        SourceError::NotUtf8 { path: p, tab, line } => w.say(
            "error-not-utf8",
            &[
                ("path", path(p)),
                ("tab", tab.as_str().into()),
                ("line", line.to_string().into()),
            ],
        ),
        SourceError::Workbook { path: p, message } => w.say(
            "error-workbook",
            &[("path", path(p)), ("detail", message.as_str().into())],
        ),
        _ => return None,
    })
}

fn model(e: &ModelError, w: &Words) -> String {
    match e {
        ModelError::MissingColumn {
            tab,
            origin,
            column,
            key,
            found,
        } => {
            let known = found.split(", ").filter(|n| !n.is_empty());
            let (near, name) = match suggest::nearest(column, known) {
                Some(Nearest::OtherCase(n)) => ("case", n),
                Some(Nearest::Spaces(n)) => ("spaces", n),
                Some(Nearest::Close(n)) => ("close", n),
                None => ("none", ""),
            };
            let hint = w.say(
                "hint-column",
                &[
                    ("near", near.into()),
                    ("wanted", column.as_str().into()),
                    ("name", name.into()),
                ],
            );
            w.say(
                "error-missing-column",
                &[
                    ("tab", tab.as_str().into()),
                    ("origin", origin.as_str().into()),
                    ("column", column.as_str().into()),
                    ("key", key.as_str().into()),
                    ("found", found.as_str().into()),
                    ("hint", hint.into()),
                ],
            )
        }
        ModelError::NoHeader { tab, origin } => w.say(
            "error-no-header",
            &[
                ("tab", tab.as_str().into()),
                ("origin", origin.as_str().into()),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn errors() -> Vec<Error> {
        vec![
            Error::Source(SourceError::Io {
                path: PathBuf::from("data/players.csv"),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            }),
            Error::Source(SourceError::UnclosedQuote {
                path: PathBuf::from("players.csv"),
                tab: "Players".into(),
                row: 6,
                line: Some(7),
                column: "\"name\"".into(),
                rows: 2,
            }),
            Error::Source(SourceError::UnclosedQuote {
                path: PathBuf::from("players.csv"),
                tab: "Players".into(),
                row: 6,
                line: None,
                column: "B".into(),
                rows: 0,
            }),
            Error::Source(SourceError::NotUtf8 {
                path: PathBuf::from("players.csv"),
                tab: "Players".into(),
                line: 3,
            }),
            Error::Model(ModelError::MissingColumn {
                tab: "Players".into(),
                origin: "players.csv".into(),
                column: "points".into(),
                key: "index.sort_by".into(),
                found: "id, name, Points".into(),
            }),
            Error::Model(ModelError::NoHeader {
                tab: "Players".into(),
                origin: "players.csv".into(),
            }),
            Error::Publish(PublishError::MassRemoval {
                removing: 60,
                existing: 100,
            }),
            Error::CheckFailed(3),
            Error::Publish(PublishError::SecretInArtifact {
                pages: "p/zoe/index.html".into(),
                tab: "Players".into(),
                rows: "row 4".into(),
                column: "pin".into(),
            }),
        ]
    }

    /// In English, each failure says what its `Display` says (the log's
    /// words and the CLI's are one).
    #[test]
    fn english_is_the_display() {
        let en = words(Lang::En);
        for e in errors() {
            assert_eq!(say(&e, en), e.to_string());
        }
    }

    #[test]
    fn french_names_the_file_the_row_and_the_fix() {
        let fr = words(Lang::Fr);
        let said: Vec<String> = errors().iter().map(|e| say(e, fr)).collect();
        assert!(
            said[1].contains("ligne 6 (ligne 7 du fichier), colonne \"name\"")
                && said[1].contains("les 2 lignes suivantes")
                && said[1].contains("Retirez le guillemet"),
            "{}",
            said[1]
        );
        assert!(said[2].contains("tout le reste du fichier"), "{}", said[2]);
        assert!(said[4].contains("ne diffère de « Points »"), "{}", said[4]);
        assert!(said[7].contains("3 problèmes empêchent"), "{}", said[7]);
        let missing = Error::Source(SourceError::Io {
            path: PathBuf::from("data/joueurs.csv"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let m = say(&missing, fr);
        assert!(m.contains("data/joueurs.csv n'existe pas"), "{m}");
        // The secret's pages and rows are still worded by publish (English
        // "row 4"): left out here until they are values.
        for s in &said[..8] {
            for english in [" the ", " row ", "cannot", "column "] {
                assert!(!s.contains(english), "{english:?} in {s}");
            }
        }
    }
}
