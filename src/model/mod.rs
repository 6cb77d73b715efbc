//! [`RawTables`] → [`Snapshot`]: players with stable unique slugs, other tabs
//! joined to them, and the credentials split off so that nothing renderable
//! can hold a secret. Bad rows are reported as [`Problem`]s — typed values,
//! worded at the edge ([`wording`]) — and skipped; they never stop good
//! rows from publishing. A PIN shown as a number is read as its digits, or
//! refused when digits were lost ([`pins`]); players sharing a login name
//! each log in when their PINs differ ([`credentials`]). A problem never
//! quotes a cell that could hold someone else's row (one spanning lines),
//! and every value it takes from a cell is scrubbed of the snapshot's
//! secrets ([`secrets`]) before anyone sees it. A cell that would show a
//! PIN in any form (a phone number that is the PIN) is emptied and
//! reported ([`withheld`]).
//!
//! The rooms, in the order [`Snapshot::build`] goes through them:
//! [`columns`] (where the configured columns are), [`players`] (the
//! players' tab, row by row), [`credentials`], [`withheld`], [`joined`]
//! (the other tabs), [`numbers`] and [`dates`] (sort warnings), [`slug`].

mod columns;
mod credentials;
pub(crate) mod dates;
mod joined;
pub(crate) mod numbers;
mod pins;
mod players;
mod problem;
pub mod secrets;
mod slug;
mod withheld;
mod wording;

use std::collections::HashMap;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::cells::Cells;
use crate::config::Config;
use crate::error::ModelError;
use crate::table::RawTables;

pub use columns::missing_columns;
pub(crate) use credentials::login_digest;
pub use credentials::{Credential, Credentials, normalize_login};
pub use joined::JoinedTable;
pub use pins::NumberShape;
pub use players::ADMIN_YES;
pub use problem::{PinOf, Problem, ProblemKind, Severity, Shown};
pub use secrets::SecretIndex;
pub use slug::{Slug, slugify};
pub(crate) use wording::rows_in;

use columns::{absent_tab, player_columns, require_header};
use withheld::{At, Owner, Withholder};

/// One immutable fetch, ready to render and to check logins against.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Public columns of the players tab, in sheet order (no secret column).
    pub columns: Vec<String>,
    pub players: Vec<Player>,
    pub tables: Vec<JoinedTable>,
    pub credentials: Credentials,
    pub problems: Vec<Problem>,
    /// The secret of every row read (skipped rows included), for the last
    /// gate before publish.
    secrets: SecretIndex,
    /// Player id → index, and slug → index.
    by_id: HashMap<String, usize>,
    /// Hex SHA-256 of everything above (secrets included, so a PIN change
    /// is a change).
    pub hash: String,
    pub fetched_at: SystemTime,
    /// When this data first appeared (`as_of`): the pages' "data as of"
    /// time; the fetch time until the cycle says otherwise.
    pub changed_at: SystemTime,
    /// When each page last showed different content (issue 17), read from
    /// `state_dir` by the cycle; empty (every page at `changed_at`) for a
    /// snapshot made elsewhere. Only rendering uses it.
    pub(crate) page_times: std::sync::Arc<crate::as_of::PageTimes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Player {
    pub id: String,
    pub slug: Slug,
    /// The login column's value, as written in the sheet.
    pub name: String,
    /// Aligned with [`Snapshot::columns`].
    pub values: Vec<String>,
    /// The spreadsheet row it came from.
    pub row: usize,
    pub admin: bool,
    /// The photo column's cell (a URL or a Drive link), when there is one;
    /// never rendered as such (the photos stage fetches it).
    pub photo: Option<String>,
}

impl Player {
    pub fn value(&self, columns: &[String], column: &str) -> Option<&str> {
        let i = columns.iter().position(|c| c == column)?;
        self.values.get(i).map(String::as_str)
    }
}

impl Snapshot {
    /// What the API serves once the pages are published: logins, slugs,
    /// admin rows and the data's age, without what only rendering needed
    /// (the joined tables, the players' column values, the photo cells,
    /// the problems). At 10,000 players with 20 matches each the tables
    /// are most of the snapshot, and `gen watch` holds this between cycles
    /// (issue 15). The hash stays: it still names the data.
    pub fn into_served(mut self) -> Snapshot {
        self.tables = Vec::new();
        self.columns = Vec::new();
        self.problems = Vec::new();
        self.page_times = std::sync::Arc::default();
        for p in &mut self.players {
            p.values = Vec::new();
            p.photo = None;
        }
        self
    }

    /// Builds the snapshot. Fails only when the config names a tab or column
    /// the data does not have; bad rows become [`Problem`]s.
    /// Takes the raw tables by value: their cells move into the snapshot
    /// instead of being copied (a 10,000-player roster is tens of MB).
    pub fn build(config: &Config, raw: RawTables) -> Result<Snapshot, ModelError> {
        let pc = &config.players;
        let mut tabs = raw.tabs;
        let mut tab = tabs.remove(&pc.tab).ok_or_else(|| absent_tab(&pc.tab))?;
        require_header(&tab)?;
        let cols = player_columns(config, &tab).map_err(|missing| missing.0)?;
        let mut problems = Vec::new();
        let players::Roster {
            columns,
            mut kept,
            all_secrets,
        } = players::read(config, &mut tab, &cols, &mut problems);
        let slugs = slug::unique_slugs(kept.iter().map(|k| k.id.as_str()));
        let credentials =
            credentials::admit(&kept, &tab.name, (&pc.login, &pc.secret), &mut problems);
        // Every PIN read, skipped rows' included: none may be published.
        let secrets = SecretIndex::new(all_secrets.iter().map(|(r, s)| (*r, s.as_str())));
        let withholder = Withholder {
            secrets: &secrets,
            players_tab: &tab.name,
            pin_column: &pc.secret,
        };
        let own_digits: Vec<Option<Vec<u8>>> = kept
            .iter()
            .map(|k| k.pin.pin().and_then(secrets::pin_digits))
            .collect();
        let withheld = withhold_players_cells(config, &kept, &columns, &withholder, &own_digits);
        let join = joined::Join {
            kept: &kept,
            withholder: &withholder,
            own_digits: &own_digits,
        };
        let tables = join.all(config, &mut tabs, &mut problems)?;
        for (p, c, found) in withheld {
            problems.push(found);
            if let Some(value) = kept[p].values.get_mut(c) {
                value.clear();
            }
        }
        problems.extend(joined::unused_labels(config, &tab.name, &columns, &tables));
        problems.extend(numbers::sort_column_problems(
            config,
            &tab.name,
            &columns,
            kept.iter().map(|k| (k.row, k.values.as_slice())),
        ));
        for p in &mut problems {
            p.redact(&secrets);
        }
        problems.sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
        let players: Vec<Player> = kept
            .into_iter()
            .zip(slugs)
            .map(|(k, slug)| Player {
                id: k.id,
                slug,
                name: k.name,
                values: k.values,
                row: k.row,
                admin: k.admin,
                photo: k.photo,
            })
            .collect();
        let hash = content_hash(&columns, &players, &tables, &credentials);
        let by_id = players
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        Ok(Snapshot {
            by_id,
            columns,
            players,
            tables,
            credentials,
            problems,
            secrets,
            hash,
            fetched_at: SystemTime::now(),
            changed_at: SystemTime::now(),
            page_times: std::sync::Arc::default(),
        })
    }

    /// Every secret of the rows read, for the last gate before publish.
    pub fn secrets(&self) -> &SecretIndex {
        &self.secrets
    }

    pub fn player_by_id(&self, id: &str) -> Option<(usize, &Player)> {
        let &i = self.by_id.get(id)?;
        Some((i, self.players.get(i)?))
    }
}

/// The players' own cells that would show a PIN: (player, column, the
/// problem). The id, the name and the photo are never shown as cells: a
/// PIN there is the last gate's to refuse.
fn withhold_players_cells(
    config: &Config,
    kept: &[players::Kept],
    columns: &[String],
    withholder: &Withholder<'_>,
    own_digits: &[Option<Vec<u8>>],
) -> Vec<(usize, usize, Problem)> {
    let pc = &config.players;
    let not_cells = [Some(&pc.id), Some(&pc.login), pc.photo.as_ref()];
    let mut withheld = Vec::new();
    for (p, k) in kept.iter().enumerate() {
        let owner = Owner {
            row: k.row,
            digits: own_digits[p].as_deref(),
        };
        for (c, (value, column)) in k.values.iter().zip(columns).enumerate() {
            if not_cells.contains(&Some(column)) {
                continue;
            }
            let at = At {
                tab: &pc.tab,
                row: k.row,
                column,
            };
            if let Some(found) = withholder.check(value, owner, at) {
                withheld.push((p, c, found));
            }
        }
    }
    withheld
}

fn content_hash(
    columns: &[String],
    players: &[Player],
    tables: &[JoinedTable],
    credentials: &Credentials,
) -> String {
    let mut h = Sha256::new();
    let mut feed = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    columns.iter().for_each(|c| feed(c));
    for p in players {
        feed(&p.id);
        feed(p.slug.as_str());
        feed(&p.name);
        feed(if p.admin { "admin" } else { "" });
        p.values.iter().for_each(|v| feed(v));
    }
    for t in tables {
        feed(&t.name);
        t.columns.iter().for_each(|c| feed(c));
        for (player, rows) in t.rows.iter().enumerate() {
            feed(&player.to_string());
            rows.iter().flat_map(Cells::iter).for_each(&mut feed);
        }
    }
    let mut logins: Vec<_> = credentials.iter().collect();
    logins.sort_by_key(|(login, c)| (*login, c.player));
    for (login, c) in logins {
        feed(login);
        feed(&c.player.to_string());
        feed(c.secret.expose());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests;
