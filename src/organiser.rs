//! The organiser's page, `/admin/`: what the last cycle did, in the site's
//! language, for the rows marked admin (`[players] admin`) and no one
//! else (nginx and `gen serve` ask `/api/auth` with an empty slug, which
//! only an admin session passes: [`crate::auth::may_read`]).
//!
//! The URL is `/admin/` because `admin` is the word the organiser already
//! wrote in the config (`[players] admin`) and in the sheet's column, and
//! it cannot be a player's URL (those are all under `/p/`).
//!
//! It is the one file a failed cycle may update: the players' files never
//! change on a failure, but the organiser must see why their edit does not
//! show. It says when the data shown was read, whether the last read
//! failed and why (Google's "share the sheet with …" included), the
//! problems most important first, and the counts: players, who can log
//! in, who cannot and why, photos failing. Its content moves only when one
//! of those does, and it is written only when its bytes change: a cycle
//! that changes nothing writes nothing (a repeated failure included). No
//! PIN can be on it: it passes the same last gate as every page.

use std::path::Path;
use std::time::SystemTime;

use minijinja::context;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, ModelError, PublishError, SourceError};
use crate::findings::{self, Kind, LoginBlock};
use crate::model::{Problem, ProblemKind, Severity, Snapshot};
use crate::publish;
use crate::render::{Artifact, ArtifactKind, Theme};

/// Where the page is published, under `out_dir`.
pub(crate) const PAGE: &str = "admin/index.html";
/// The theme's template, and the default theme's copy for themes made
/// before it existed.
const TEMPLATE: &str = "admin.html";
const BUILT_IN: &str = include_str!("../site-templates/admin.html");
const BUILT_IN_EN: &str = include_str!("../site-templates/strings/en.toml");
const BUILT_IN_FR: &str = include_str!("../site-templates/strings/fr.toml");
/// Problems listed on the page (a roster of 10,000 rows can have as many
/// warnings); the page says how many more `gen check` lists.
const SHOWN: usize = 300;

/// What the page reports, kept by the loop of cycles (`gen watch`) or made
/// for one cycle (`gen build`).
#[derive(Debug, Default)]
pub(crate) struct Board {
    good: Option<Good>,
    failure: Option<Failure>,
    /// The page on disk says what this board says (it was written or found
    /// equal since the last change): a cycle that changed nothing then
    /// costs nothing here.
    current: bool,
}

/// The last successful cycle.
#[derive(Debug)]
struct Good {
    /// When the data shown was first read ([`Snapshot::changed_at`]): a
    /// cycle reading the same data again does not move it.
    data_at: SystemTime,
    players: usize,
    can_log_in: usize,
    blocks: Vec<(LoginBlock, Vec<usize>)>,
    lost_zero: Vec<usize>,
    photos_failing: usize,
    /// Most important first.
    problems: Vec<Problem>,
}

/// The failure of the last cycle, if it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    /// The first cycle of this run of equal failures.
    since: SystemTime,
    /// Its theme string, `admin.failure.<kind>`.
    kind: &'static str,
    /// The error as gen words it (English, specific: file, tab, row, key):
    /// the technical detail.
    message: String,
    /// The error in the site's language, naming the file or tab, the row
    /// and the fix, when the catalogue words it ([`crate::i18n::errors`]).
    said: Option<String>,
    /// What its sentence names: the e-mail to share the sheet with, the
    /// tab and column that are missing.
    names: Names,
}

/// The values a failure's sentence puts in its `{email}`, `{tab}`,
/// `{column}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct Names {
    email: Option<String>,
    tab: Option<String>,
    column: Option<String>,
}

impl Board {
    /// The data a restarted `gen watch` serves before its first cycle
    /// (persisted when it changed, so its time is when it was read).
    pub(crate) fn restored(&mut self, config: &Config, snapshot: &Snapshot) {
        self.good = Some(Good::of(config, snapshot, &snapshot.problems));
        self.current = false;
    }

    /// A cycle published `snapshot` (served or full: players and logins
    /// are what is read) with these row `problems`; `rendered`: it found
    /// the data, the theme or the config changed (else, after a success,
    /// there is nothing new to say).
    pub(crate) fn succeeded(
        &mut self,
        config: &Config,
        snapshot: &Snapshot,
        problems: &[Problem],
        rendered: bool,
    ) {
        if !rendered && self.current && self.failure.is_none() && self.good.is_some() {
            return;
        }
        self.good = Some(Good::of(config, snapshot, problems));
        self.failure = None;
        self.current = false;
    }

    /// A cycle failed with `error` (already free of secrets: errors are
    /// built so). An equal failure keeps its first time.
    pub(crate) fn failed(&mut self, config: &Config, error: &Error) {
        let (kind, names) = classify(error);
        let message = error.to_string();
        let said = crate::i18n::errors::worded(error, crate::i18n::words(config.site.lang));
        let since = match &self.failure {
            Some(f) if f.kind == kind && f.message == message => f.since,
            _ => SystemTime::now(),
        };
        let failure = Failure {
            since,
            kind,
            message,
            said,
            names,
        };
        if self.failure.as_ref() != Some(&failure) {
            self.failure = Some(failure);
            self.current = false;
        }
    }

    /// Renders the page and writes it (and its `.gz`) into `out_dir` if its
    /// bytes changed. `secrets`: the snapshot whose PINs must not be on
    /// it (the one in force). Returns whether it wrote.
    pub(crate) fn publish(
        &self,
        config: &Config,
        secrets: Option<&Snapshot>,
    ) -> Result<bool, Error> {
        let theme = Theme::load(&config.site.templates, config.site.lang.code())?;
        let bytes = self.render(&theme, config)?;
        let artifact = Artifact {
            path: PAGE.to_string(),
            kind: ArtifactKind::Page,
            bytes,
        };
        if let Some(s) = secrets {
            publish::refuse_secrets(
                std::slice::from_ref(&artifact),
                s.secrets(),
                &config.players.tab,
                &config.players.secret,
            )?;
        }
        Ok(write_if_changed(config, &artifact)?)
    }

    /// [`Board::publish`] when the board changed since it last did, its
    /// failure logged: the page never stops a cycle.
    pub(crate) fn publish_logged(&mut self, config: &Config, secrets: Option<&Snapshot>) {
        if self.current {
            return;
        }
        match self.publish(config, secrets) {
            Ok(wrote) => {
                self.current = true;
                if wrote {
                    tracing::info!(event = "organiser_page", "organiser's page updated");
                }
            }
            Err(e) => tracing::warn!(
                event = "organiser_page_failed",
                "cannot update the organiser's page {}: {e}",
                config.site.out_dir.join(PAGE).display()
            ),
        }
    }

    fn render(&self, theme: &Theme, config: &Config) -> Result<Vec<u8>, Error> {
        let lang = config.site.lang;
        let w = crate::i18n::words(lang);
        let when = |t: SystemTime| theme.date_time(config, t).unwrap_or_else(|| utc(t, lang));
        let view = PageView {
            refresh_secs: config.site.refresh.as_secs(),
            data_as_of: self.good.as_ref().map(|g| when(g.data_at)),
            failure: self.failure.as_ref().map(|f| FailureView {
                since: when(f.since),
                kind: f.kind,
                message: &f.message,
                said: f.said.as_deref(),
                names: &f.names,
            }),
            counts: self.good.as_ref().map(|g| CountsView {
                players: g.players,
                can_log_in: g.can_log_in,
                blocked: g
                    .blocks
                    .iter()
                    .map(|(reason, rows)| BlockedView {
                        reason: reason.key(),
                        count: rows.len(),
                        rows: findings::rows_list(rows, w),
                    })
                    .collect(),
                lost_zero: g.lost_zero.len(),
                lost_zero_rows: findings::rows_list(&g.lost_zero, w),
                photos_failing: config.players.photo.is_some().then_some(g.photos_failing),
            }),
            problems: self.good.as_ref().map_or(Vec::new(), |g| {
                g.problems
                    .iter()
                    .take(SHOWN)
                    .map(|p| ProblemView {
                        kind: Kind::of(p).key(),
                        error: p.severity == Severity::Error,
                        tab: &p.tab,
                        row: p.row,
                        column: p.column.as_deref(),
                        message: p.say(w),
                    })
                    .collect()
            }),
            problems_total: self.good.as_ref().map_or(0, |g| g.problems.len()),
            problem_kinds: self.good.as_ref().map_or(Vec::new(), |g| {
                findings::kind_counts(&g.problems)
                    .into_iter()
                    .map(|(kind, count)| KindView {
                        kind: kind.key(),
                        count,
                    })
                    .collect()
            }),
        };
        let strings = match lang {
            crate::config::Lang::Fr => BUILT_IN_FR,
            crate::config::Lang::En => BUILT_IN_EN,
        };
        Ok(theme.render_extra(
            config,
            TEMPLATE,
            BUILT_IN,
            ("admin", strings),
            context! { admin => view },
        )?)
    }
}

impl Good {
    fn of(config: &Config, snapshot: &Snapshot, problems: &[Problem]) -> Good {
        let mut all = findings::distinct(problems.to_vec());
        findings::most_important_first(&mut all, config);
        Good {
            data_at: snapshot.changed_at,
            players: snapshot.players.len(),
            can_log_in: (0..snapshot.players.len())
                .filter(|&i| snapshot.credentials.for_player(i).is_some())
                .count(),
            blocks: findings::login_blocks(snapshot, &all, config),
            lost_zero: findings::lost_zero_rows(&all, config),
            photos_failing: all
                .iter()
                .filter(|p| {
                    matches!(
                        p.kind,
                        ProblemKind::PhotoStale { .. }
                            | ProblemKind::PhotoFailed { .. }
                            | ProblemKind::PhotoPending { .. }
                    )
                })
                .count(),
            problems: all,
        }
    }
}

/// The theme string that explains `error` to the organiser, and what it
/// names (the e-mail to share the sheet with, the missing tab or column).
fn classify(error: &Error) -> (&'static str, Names) {
    let kind = match error {
        Error::Source(SourceError::Google {
            share_with: Some(email),
            ..
        }) => {
            let names = Names {
                email: Some(email.clone()),
                ..Names::default()
            };
            return ("google_share", names);
        }
        Error::Source(SourceError::MissingTab { tab, .. }) => {
            let names = Names {
                tab: Some(tab.clone()),
                ..Names::default()
            };
            return ("missing_tab", names);
        }
        Error::Model(ModelError::MissingColumn { tab, column, .. }) => {
            let names = Names {
                tab: Some(tab.clone()),
                column: Some(column.clone()),
                ..Names::default()
            };
            return ("missing_column", names);
        }
        Error::Source(SourceError::Google { status, .. }) => match status {
            401 | 403 => "google_access",
            404 => "google_not_found",
            400 => "google_request",
            _ => "google_busy",
        },
        Error::Source(SourceError::Network { .. }) => "network",
        Error::Source(
            SourceError::Credentials { .. } | SourceError::Token { .. } | SourceError::NoGoogleAuth,
        ) => "credentials",
        Error::Model(ModelError::NoHeader { .. }) => "no_header",
        Error::Source(
            SourceError::Io { .. }
            | SourceError::Csv { .. }
            | SourceError::NotUtf8 { .. }
            | SourceError::Workbook { .. }
            | SourceError::UnclosedQuote { .. },
        ) => "file",
        Error::Source(SourceError::NotSheetsApi { .. } | SourceError::Published { .. }) => {
            "google_busy"
        }
        Error::Publish(PublishError::MassRemoval { .. }) => "mass_removal",
        Error::Publish(PublishError::SecretInArtifact { .. }) => "secret",
        Error::Render(_) => "theme",
        _ => "other",
    };
    (kind, Names::default())
}

/// `t` in UTC, worded for `lang`: for a theme without a `date_time`
/// string (made before issue 17).
fn utc(t: SystemTime, lang: crate::config::Lang) -> String {
    let stamp = humantime::format_rfc3339_seconds(t).to_string();
    // "2026-11-30T14:05:09Z"
    let (date, time) = stamp.split_once('T').unwrap_or((&stamp, ""));
    let hm = time.get(..5).unwrap_or(time);
    match lang {
        crate::config::Lang::Fr => format!("{date} à {hm} UTC"),
        crate::config::Lang::En => format!("{date}, {hm} UTC"),
    }
}

/// Writes the page and its `.gz` twin unless the page on disk already has
/// these bytes.
fn write_if_changed(config: &Config, artifact: &Artifact) -> Result<bool, PublishError> {
    let (out_dir, state_dir) = (&config.site.out_dir, &config.site.state_dir);
    let target = out_dir.join(&artifact.path);
    let gz_target = out_dir.join(format!("{}.gz", artifact.path));
    // Never read or written through a symlinked folder (issue 23).
    publish::unlink_symlinked_folders(out_dir, &artifact.path)?;
    let plain_file = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
    let same = plain_file(&target)
        && plain_file(&gz_target)
        && std::fs::read(&target).is_ok_and(|b| b == artifact.bytes);
    if same {
        return Ok(false);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let tmp = publish::tmp_dir_for(out_dir, state_dir);
    if tmp.starts_with(state_dir) {
        crate::files::create_private_dir(state_dir).map_err(io(state_dir))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    // The twin first: nginx's gzip_static prefers it, and a reader must
    // never get an old .gz beside a new page for long.
    let mode = publish::PUBLIC_MODE;
    crate::files::replace(&gz_target, &publish::gzip(&artifact.bytes), &tmp, mode)
        .map_err(io(&gz_target))?;
    crate::files::replace(&target, &artifact.bytes, &tmp, mode).map_err(io(&target))?;
    Ok(true)
}

// ---- the view: all the template sees ----------------------------------------

#[derive(Serialize)]
struct PageView<'a> {
    refresh_secs: u64,
    /// When the data the site shows was read; none before any success.
    data_as_of: Option<String>,
    failure: Option<FailureView<'a>>,
    counts: Option<CountsView>,
    /// Most important first, at most [`SHOWN`].
    problems: Vec<ProblemView<'a>>,
    problems_total: usize,
    problem_kinds: Vec<KindView>,
}

#[derive(Serialize)]
struct FailureView<'a> {
    since: String,
    kind: &'static str,
    message: &'a str,
    said: Option<&'a str>,
    names: &'a Names,
}

#[derive(Serialize)]
struct CountsView {
    players: usize,
    can_log_in: usize,
    blocked: Vec<BlockedView>,
    lost_zero: usize,
    lost_zero_rows: String,
    /// None without `[players] photo`.
    photos_failing: Option<usize>,
}

#[derive(Serialize)]
struct BlockedView {
    reason: &'static str,
    count: usize,
    rows: String,
}

#[derive(Serialize)]
struct KindView {
    kind: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct ProblemView<'a> {
    kind: &'static str,
    error: bool,
    tab: &'a str,
    row: Option<usize>,
    column: Option<&'a str>,
    message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_share_names_the_e_mail() {
        let e = Error::Source(SourceError::Google {
            status: 403,
            message: "share the sheet with gen@p.iam.gserviceaccount.com".into(),
            share_with: Some("gen@p.iam.gserviceaccount.com".into()),
        });
        let (kind, names) = classify(&e);
        assert_eq!(kind, "google_share");
        assert_eq!(
            names.email.as_deref(),
            Some("gen@p.iam.gserviceaccount.com")
        );
    }

    #[test]
    fn an_equal_failure_keeps_its_first_time() {
        let mut board = Board::default();
        let config = Config::parse(
            "[site]\ntitle = \"T\"\n[source]\nkind = \"csv\"\n[source.files]\nP = \"p.csv\"\n\
             [players]\ntab = \"P\"\nid = \"id\"\nlogin = \"name\"\nsecret = \"pin\"\n",
            std::path::Path::new("/tmp/site.toml"),
            &crate::config::Env::default(),
        )
        .unwrap();
        let e = Error::Runtime("x".into());
        board.failed(&config, &e);
        let first = board.failure.clone().map(|f| f.since);
        std::thread::sleep(std::time::Duration::from_millis(5));
        board.failed(&config, &e);
        assert_eq!(board.failure.map(|f| f.since), first);
    }

    #[test]
    fn every_failure_kind_has_its_strings() {
        let kinds = [
            "google_share",
            "google_access",
            "google_not_found",
            "google_request",
            "google_busy",
            "network",
            "credentials",
            "missing_tab",
            "missing_column",
            "no_header",
            "file",
            "mass_removal",
            "secret",
            "theme",
            "other",
        ];
        let problem_kinds = [
            Kind::Error,
            Kind::PinShown,
            Kind::CannotLogIn,
            Kind::LostZero,
            Kind::RowSkipped,
            Kind::RowIgnored,
            Kind::WeakPin,
            Kind::SharedName,
            Kind::PinAsNumber,
            Kind::AdminUnclear,
            Kind::Other,
        ];
        let blocks = [
            LoginBlock::NoPin,
            LoginBlock::DigitsLost,
            LoginBlock::SameNameAndPin,
            LoginBlock::InvisibleName,
            LoginBlock::Other,
        ];
        for strings in [BUILT_IN_EN, BUILT_IN_FR] {
            let t: toml::Table = toml::from_str(strings).unwrap();
            let admin = &t["admin"];
            for k in kinds {
                assert!(
                    admin["failure"].get(k).is_some(),
                    "admin.failure.{k} missing"
                );
            }
            for k in problem_kinds.map(Kind::key) {
                assert!(admin["kind"].get(k).is_some(), "admin.kind.{k} missing");
                assert!(admin["advice"].get(k).is_some(), "admin.advice.{k} missing");
            }
            for k in blocks.map(LoginBlock::key) {
                assert!(
                    admin["blocked"].get(k).is_some(),
                    "admin.blocked.{k} missing"
                );
            }
        }
    }
}
