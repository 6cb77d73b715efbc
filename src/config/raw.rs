//! The config as the file spells it: serde types that refuse unknown keys,
//! with the defaults of every optional key. [`super::validate`] turns them
//! into the validated [`super::Config`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{Lang, Visibility};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) site: RawSite,
    pub(super) source: RawSource,
    pub(super) players: RawPlayers,
    #[serde(default)]
    pub(super) index: RawIndex,
    #[serde(default)]
    pub(super) tables: Vec<RawTable>,
    #[serde(default)]
    pub(super) player_page: RawPlayerPage,
    #[serde(default)]
    pub(super) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) api: RawApi,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlayerPage {
    pub(super) fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSite {
    pub(super) title: String,
    #[serde(default = "default_lang")]
    pub(super) lang: Lang,
    #[serde(default = "default_out_dir")]
    pub(super) out_dir: PathBuf,
    /// A theme folder over the built-in theme; none: the built-in one.
    #[serde(default)]
    pub(super) templates: Option<PathBuf>,
    #[serde(default = "default_state_dir")]
    pub(super) state_dir: PathBuf,
    #[serde(default = "default_refresh_secs")]
    pub(super) refresh_secs: u64,
    #[serde(default = "default_timezone")]
    pub(super) timezone: String,
    pub(super) contact: Option<String>,
    #[serde(default)]
    pub(super) visibility: Visibility,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) kind: SourceKind,
    pub(super) spreadsheet_id: Option<String>,
    pub(super) api_base: Option<String>,
    pub(super) drive_api_base: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) credentials: Option<PathBuf>,
    pub(super) path: Option<PathBuf>,
    pub(super) url: Option<String>,
    #[serde(default)]
    pub(super) files: BTreeMap<String, PathBuf>,
    #[serde(default)]
    pub(super) urls: BTreeMap<String, String>,
    pub(super) encoding: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SourceKind {
    Google,
    Csv,
    Xlsx,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlayers {
    #[serde(default = "default_players_tab")]
    pub(super) tab: String,
    #[serde(default = "default_id")]
    pub(super) id: String,
    #[serde(default = "default_login")]
    pub(super) login: String,
    #[serde(default = "default_secret")]
    pub(super) secret: String,
    #[serde(default)]
    pub(super) private: Vec<String>,
    pub(super) photo: Option<String>,
    pub(super) photo_recheck_hours: Option<f64>,
    #[serde(default)]
    pub(super) photo_allow: Vec<String>,
    pub(super) admin: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndex {
    pub(super) columns: Option<Vec<String>>,
    pub(super) sort_by: Option<String>,
    #[serde(default)]
    pub(super) descending: bool,
    pub(super) per_page: Option<usize>,
    #[serde(default)]
    pub(super) filters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) tab: String,
    pub(super) key: String,
    pub(super) columns: Option<Vec<String>>,
    pub(super) sort_by: Option<String>,
    #[serde(default)]
    pub(super) descending: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    #[serde(default = "default_listen")]
    pub(super) listen: String,
    #[serde(default = "default_session_hours")]
    pub(super) session_hours: u64,
    #[serde(default)]
    pub(super) insecure_http: bool,
    #[serde(default = "default_login_failures")]
    pub(super) login_failures_per_address: u32,
}

impl Default for RawApi {
    fn default() -> Self {
        RawApi {
            listen: default_listen(),
            session_hours: default_session_hours(),
            insecure_http: false,
            login_failures_per_address: default_login_failures(),
        }
    }
}

pub(super) fn default_login_failures() -> u32 {
    10
}

pub(super) fn default_lang() -> Lang {
    Lang::En
}
pub(super) fn default_out_dir() -> PathBuf {
    PathBuf::from("public")
}
pub(super) fn default_state_dir() -> PathBuf {
    PathBuf::from(".sheetgen")
}
pub(super) fn default_refresh_secs() -> u64 {
    30
}
pub(super) fn default_timezone() -> String {
    "Europe/Paris".into()
}
pub(super) fn default_players_tab() -> String {
    "Players".into()
}
pub(super) fn default_id() -> String {
    "id".into()
}
pub(super) fn default_login() -> String {
    "name".into()
}
pub(super) fn default_secret() -> String {
    "pin".into()
}
pub(super) fn default_listen() -> String {
    "127.0.0.1:8787".into()
}
pub(super) fn default_session_hours() -> u64 {
    168
}
