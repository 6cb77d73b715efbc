//! The last gate for secrets: no artifact may hold a PIN as a whole
//! token, else the publish is refused, naming pages and rows.

use rayon::prelude::*;

use super::is_compressible;
use crate::error::PublishError;
use crate::model::SecretIndex;
use crate::render::Artifact;

/// The last gate before anything is written (issue 14): no artifact may
/// hold a secret of `secrets` as a whole token. Text artifacts are scanned
/// as rendered; their `.gz` twins are `gzip` of exactly those bytes, so
/// scanning the plain bytes covers both, and a deflate stream would hide a
/// PIN from a byte scan anyway. Binary artifacts (re-encoded photos) are
/// skipped: they hold pixels, and megabytes of JPEG would sooner or later
/// contain six digit bytes between two non-letters by chance and refuse
/// every cycle.
#[derive(Debug, Clone, Copy)]
pub struct SecretGate<'a> {
    pub secrets: &'a SecretIndex,
    /// Where the secrets come from, for the refusal: the players' tab and
    /// its secret column.
    pub tab: &'a str,
    pub column: &'a str,
}

impl SecretGate<'_> {
    /// The spreadsheet row of a secret that `artifact` holds, if any.
    pub(super) fn scan(&self, artifact: &Artifact) -> Option<usize> {
        let text = is_compressible(&artifact.path) || std::str::from_utf8(&artifact.bytes).is_ok();
        if self.secrets.is_empty() || !text {
            return None;
        }
        Some(self.secrets.find_any(&artifact.bytes)?.row)
    }

    /// `Err` naming the pages and the rows of `tab` whose secret they hold,
    /// when there is any hit (path, row).
    pub(super) fn verdict(&self, mut hits: Vec<(String, usize)>) -> Result<(), PublishError> {
        if hits.is_empty() {
            return Ok(());
        }
        hits.sort();
        const SHOWN: usize = 5;
        let mut pages: Vec<&str> = hits.iter().map(|(p, _)| p.as_str()).take(SHOWN).collect();
        let more = hits.len() - pages.len();
        let more_text = format!("and {more} more file(s)");
        if more > 0 {
            pages.push(&more_text);
        }
        let mut rows: Vec<usize> = hits.iter().map(|(_, r)| *r).collect();
        rows.sort_unstable();
        rows.dedup();
        let rows_text = match rows.as_slice() {
            [one] => format!("row {one}"),
            many => format!(
                "rows {}",
                many.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Err(PublishError::SecretInArtifact {
            pages: pages.join(", "),
            tab: self.tab.to_string(),
            rows: rows_text,
            column: self.column.to_string(),
        })
    }
}

/// The last gate over artifacts already in memory (see [`SecretGate`]).
pub fn refuse_secrets(
    artifacts: &[Artifact],
    secrets: &SecretIndex,
    tab: &str,
    column: &str,
) -> Result<(), PublishError> {
    let gate = SecretGate {
        secrets,
        tab,
        column,
    };
    let hits = artifacts
        .par_iter()
        .filter_map(|a| Some((a.path.clone(), gate.scan(a)?)))
        .collect();
    gate.verdict(hits)
}
