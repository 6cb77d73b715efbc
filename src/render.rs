//! Rendering: minijinja over the theme in `site-templates/`, fed with
//! secret-free view structs, producing [`Artifact`]s in memory. [`Theme::load`]
//! is the only disk read here; [`render`] touches no disk and never sees
//! [`RawTables`](crate::table::RawTables) or the credentials.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, Value, context};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::RenderError;
use crate::model::numbers::{as_number, is_number_column};
use crate::model::{Player, Snapshot};
use crate::photo_view::{self, Image, PhotoImages, PublishedPhoto};

/// Pages every theme must have.
pub const REQUIRED_TEMPLATES: [&str; 5] = [
    "index.html",
    "player.html",
    "login.html",
    "404.html",
    "403.html",
];

/// One file to publish, relative to `out_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub kind: ArtifactKind,
    pub bytes: Vec<u8>,
}

/// What an artifact is, which fixes the publish order and what may be pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    Asset,
    Player,
    Page,
    Index,
}

/// The templates, the UI strings and the assets of a theme, read once.
#[derive(Debug, Clone)]
pub struct Theme {
    pub dir: PathBuf,
    templates: BTreeMap<String, String>,
    strings: Value,
    /// The UI strings as read, for pages that add built-in defaults.
    strings_table: toml::Table,
    /// Asset name → (fingerprinted file name, bytes).
    assets: BTreeMap<String, (String, Vec<u8>)>,
    /// Digest of everything above: a different theme renders differently.
    pub hash: String,
}

/// Dotfiles, swap and backup files of editors: never part of a theme.
pub fn is_editor_temp(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
}

/// File names of a folder, sorted, skipping dotfiles and editor temp files.
fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, RenderError> {
    let io = |source| RenderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_editor_temp(&name) || !entry.file_type().map_err(io)?.is_file() {
            continue;
        }
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

impl Theme {
    /// Reads `dir`: `*.html` templates, `strings/<lang>.toml`, `assets/*`.
    pub fn load(dir: &Path, lang: &str) -> Result<Theme, RenderError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| RenderError::Io {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut hasher = Sha256::new();
        let mut templates = BTreeMap::new();
        for (name, path) in list_files(dir)? {
            if name.ends_with(".html") {
                let bytes = read(&path)?;
                let text = String::from_utf8(bytes).map_err(|_| RenderError::Template {
                    name: name.clone(),
                    message: "not valid UTF-8".into(),
                })?;
                hasher.update(name.as_bytes());
                hasher.update(text.as_bytes());
                templates.insert(name, text);
            }
        }
        for name in REQUIRED_TEMPLATES {
            if !templates.contains_key(name) {
                return Err(RenderError::MissingTemplate {
                    dir: dir.to_path_buf(),
                    name: name.to_string(),
                });
            }
        }

        let strings_path = dir.join("strings").join(format!("{lang}.toml"));
        let text = String::from_utf8(read(&strings_path)?).map_err(|_| RenderError::Strings {
            path: strings_path.clone(),
            message: "not valid UTF-8".into(),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| RenderError::Strings {
            path: strings_path.clone(),
            message: e.to_string(),
        })?;
        hasher.update(text.as_bytes());
        let strings = Value::from_serialize(&table);
        let strings_table = table;

        let mut assets = BTreeMap::new();
        let asset_dir = dir.join("assets");
        if asset_dir.is_dir() {
            for (name, path) in list_files(&asset_dir)? {
                if !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    continue;
                }
                let bytes = read(&path)?;
                let digest = hex::encode(Sha256::digest(&bytes));
                let fingerprinted = match name.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem}.{}.{ext}", &digest[..10]),
                    None => format!("{name}.{}", &digest[..10]),
                };
                hasher.update(name.as_bytes());
                hasher.update(&bytes);
                assets.insert(name, (fingerprinted, bytes));
            }
        }
        Ok(Theme {
            dir: dir.to_path_buf(),
            templates,
            strings,
            strings_table,
            assets,
            hash: hex::encode(hasher.finalize()),
        })
    }

    fn environment(&self) -> Result<Environment<'static>, RenderError> {
        let mut env = Environment::new();
        // Undefined values print as nothing but may be tested in `if`;
        // a typo in a filter or a missing attribute of a missing value fails.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        for (name, source) in &self.templates {
            env.add_template_owned(name.clone(), source.clone())
                .map_err(|e| template_error(name, &e))?;
        }
        let urls: Arc<BTreeMap<String, String>> = Arc::new(
            self.assets
                .iter()
                .map(|(name, (file, _))| (name.clone(), format!("/assets/{file}")))
                .collect(),
        );
        env.add_function("asset", move |name: &str| {
            urls.get(name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("no asset named {name:?} in the theme's assets/ folder"),
                )
            })
        });
        Ok(env)
    }
}

impl Theme {
    /// Renders one page outside a cycle's pages (the organiser's page) with
    /// `ctx` and the site's globals. A theme made before that page existed
    /// gets `built_in` as its template, and the strings table `section` of
    /// `built_in_strings` (the default theme's, for the site's language)
    /// when its own strings lack it.
    pub(crate) fn render_extra(
        &self,
        config: &Config,
        name: &str,
        built_in: &str,
        (section, built_in_strings): (&str, &str),
        ctx: Value,
    ) -> Result<Vec<u8>, RenderError> {
        let mut env = self.environment()?;
        if !self.templates.contains_key(name) {
            env.add_template_owned(name.to_string(), built_in.to_string())
                .map_err(|e| template_error(name, &e))?;
        }
        let strings = if self.strings_table.contains_key(section) {
            self.strings.clone()
        } else {
            let mut table = self.strings_table.clone();
            let defaults: toml::Table =
                toml::from_str(built_in_strings).map_err(|e| RenderError::Template {
                    name: name.to_string(),
                    message: format!("built-in strings: {e}"),
                })?;
            if let Some(v) = defaults.get(section) {
                table.insert(section.to_string(), v.clone());
            }
            Value::from_serialize(&table)
        };
        let site = SiteView::of(config);
        let template = env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        template
            .render(context! { ..ctx, ..context! { site => site, t => strings } })
            .map(String::into_bytes)
            .map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> RenderError {
    RenderError::Template {
        name: name.to_string(),
        message: crate::error::chain(e),
    }
}

// ---- views: all a template can ever see ------------------------------------

#[derive(Serialize)]
struct SiteView<'a> {
    title: &'a str,
    lang: &'a str,
    /// `[site] contact`: how to reach the organiser (login page).
    contact: Option<&'a str>,
}

impl SiteView<'_> {
    fn of(config: &Config) -> SiteView<'_> {
        SiteView {
            title: &config.site.title,
            lang: config.site.lang.code(),
            contact: config.site.contact.as_deref(),
        }
    }
}

/// `s` as minijinja's HTML autoescape writes it.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a page's "data as of" goes until [`Pages::stamped`] puts the
/// page's own time there: private-use characters no sheet text renders to
/// by accident, and no autoescape changes.
const AS_OF_TEXT: &str = "\u{E000}sheetgen-as-of\u{E001}";
const AS_OF_ISO: &str = "\u{E000}sheetgen-as-of-iso\u{E001}";

/// When the data last changed, in `[site] timezone`: `text` as the
/// theme's strings word it (`data_as_of`, `months`, `first_day`), `iso`
/// for a `<time datetime>` (issue 17).
#[derive(Debug, Serialize, PartialEq, Eq)]
struct AsOfView {
    text: String,
    iso: String,
}

#[derive(Serialize)]
struct Field<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct PlayerView<'a> {
    id: &'a str,
    name: &'a str,
    slug: &'a str,
    url: String,
    /// Rank in the roster's order and out of how many; `rank` only when
    /// `[index] sort_by` is set (a roster sorted by name ranks nothing).
    rank: Option<usize>,
    total: usize,
    /// The configured fields (`[player_page] fields`), labelled.
    fields: Vec<Field<'a>>,
    /// Page photo (or avatar) and thumbnail; none without `[players] photo`.
    photo: Option<&'a Image>,
    thumb: Option<&'a Image>,
}

#[derive(Serialize)]
struct TableView<'a> {
    name: &'a str,
    /// Labels (`[labels]`) of the configured columns, in order.
    columns: Vec<&'a str>,
    rows: &'a [crate::cells::Cells],
}

#[derive(Serialize)]
struct RosterRow<'a> {
    rank: usize,
    name: &'a str,
    slug: &'a str,
    url: String,
    thumb: Option<&'a Image>,
    cells: Vec<&'a str>,
    /// The values of the `[index] filters` columns the roster does not
    /// show, for the search box (`data-f`); `None` when there are none.
    filter: Option<String>,
}

#[derive(Serialize)]
struct Pagination {
    page: usize,
    pages: usize,
    total: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
}

#[derive(Serialize)]
struct SortView<'a> {
    column: Option<&'a str>,
    descending: bool,
}

fn player_url(p: &Player) -> String {
    format!("/p/{}/", p.slug)
}

fn index_url(page: usize) -> String {
    if page <= 1 {
        "/".to_string()
    } else {
        format!("/page/{page}/")
    }
}

/// A cell's place in the index order (see [`roster_order`]).
#[derive(Debug, Clone)]
enum SortKey {
    Number(f64),
    Text(String),
}

impl SortKey {
    fn order(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            // Finite numbers only (`as_number`), so this never falls back;
            // and -0 equals 0.
            (SortKey::Number(x), SortKey::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
            // One column is all numbers or all text: never mixed.
            (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
        }
    }
}

/// The index order: by `sort_by`, ties by name; returns (player index,
/// rank). A number column (the model's rule, [`is_number_column`]: numbers
/// are most of its filled cells) sorts as numbers, and its text cells (`n/a`,
/// `-`: each one a warning from the model) go last with the empty ones, in
/// both directions; they share the last rank. Any other column sorts as
/// text, folded like login names, empty cells last.
fn roster_order(snapshot: &Snapshot, config: &Config) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..snapshot.players.len()).collect();
    let name_key: Vec<String> = snapshot
        .players
        .iter()
        .map(|p| crate::model::normalize_login(&p.name))
        .collect();
    let Some(column) = config.index.sort_by.as_deref() else {
        order.sort_by(|&a, &b| name_key[a].cmp(&name_key[b]));
        return order
            .into_iter()
            .enumerate()
            .map(|(r, i)| (i, r + 1))
            .collect();
    };
    let values: Vec<&str> = snapshot
        .players
        .iter()
        .map(|p| p.value(&snapshot.columns, column).unwrap_or("").trim())
        .collect();
    let numeric = is_number_column(values.iter().copied());
    // Once per player, not once per comparison (10,000 players).
    let keys: Vec<Option<SortKey>> = values
        .iter()
        .map(|v| {
            if numeric {
                as_number(v).map(SortKey::Number)
            } else if v.is_empty() {
                None
            } else {
                Some(SortKey::Text(crate::model::normalize_login(v)))
            }
        })
        .collect();
    let desc = config.index.descending;
    let cmp_values = |a: usize, b: usize| -> Ordering {
        match (&keys[a], &keys[b]) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = x.order(y);
                if desc { o.reverse() } else { o }
            }
        }
    };
    order.sort_by(|&a, &b| cmp_values(a, b).then_with(|| name_key[a].cmp(&name_key[b])));
    // Competition ranking: equal values share a rank ("1, 2, 2, 4").
    let mut ranked = Vec::with_capacity(order.len());
    let mut rank = 0;
    for (pos, &i) in order.iter().enumerate() {
        if pos == 0 || cmp_values(order[pos - 1], i) != Ordering::Equal {
            rank = pos + 1;
        }
        ranked.push((i, rank));
    }
    ranked
}

/// The "data as of" line for `at`, or `None` when the theme's strings
/// lack `data_as_of` or `months` (a theme made before issue 17).
fn as_of_view(strings: &Value, config: &Config, at: std::time::SystemTime) -> Option<AsOfView> {
    let (text, iso) = local_time(strings, "data_as_of", config, at)?;
    Some(AsOfView { text, iso })
}

/// `at` in `[site] timezone`, worded by the theme's string `key` (with
/// `{day}`, `{month}`, `{year}`, `{hour}`, `{minute}`), and as ISO 8601
/// with its offset.
fn local_time(
    strings: &Value,
    key: &str,
    config: &Config,
    at: std::time::SystemTime,
) -> Option<(String, String)> {
    let text_of = |key: &str| {
        strings
            .get_attr(key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let pattern = text_of(key)?;
    let months: Vec<String> = strings
        .get_attr("months")
        .ok()?
        .try_iter()
        .ok()?
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let zoned = jiff::Timestamp::try_from(at)
        .ok()?
        .to_zoned_datetime(config.site.timezone.clone());
    let month = months
        .get(usize::try_from(zoned.month()).ok()?.checked_sub(1)?)?
        .clone();
    let day = match (zoned.day(), text_of("first_day")) {
        (1, Some(first)) => first,
        (d, _) => d.to_string(),
    };
    let text = pattern
        .replace("{day}", &day)
        .replace("{month}", &month)
        .replace("{year}", &zoned.year().to_string())
        .replace("{hour}", &zoned.hour().to_string())
        .replace("{minute}", &format!("{:02}", zoned.minute()));
    Some((text, zoned.strftime("%Y-%m-%dT%H:%M%:z").to_string()))
}

impl Theme {
    /// `at` as the theme words a date and time (its `date_time` string),
    /// in `[site] timezone`; `None` when the theme has no such string.
    pub(crate) fn date_time(&self, config: &Config, at: std::time::SystemTime) -> Option<String> {
        local_time(&self.strings, "date_time", config, at).map(|(text, _)| text)
    }
}

/// `{{ value|soft_breaks }}`: `value` escaped, each word of more than 16
/// characters with line-break opportunities (`<wbr>`) after its `@` and
/// before the dots ahead of it ([`crate::model::secrets::with_soft_breaks`],
/// which the secret gate knows), so that an e-mail address too wide for a
/// phone wraps as `agnieszka.wasowski@` / `example.org`, not mid-word
/// (issue 17).
fn soft_breaks(value: &str) -> Value {
    let out: String = value
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let escaped = minijinja::HtmlEscape(word).to_string();
            if word.trim_end().chars().count() > 16 {
                crate::model::secrets::with_soft_breaks(&escaped)
            } else {
                escaped
            }
        })
        .collect();
    Value::from_safe_string(out)
}

/// The label pages show for `column`: `[labels]`, or the column's name.
fn label<'a>(config: &'a Config, column: &'a str) -> &'a str {
    config.labels.get(column).map_or(column, String::as_str)
}

/// The player page's fields: `[player_page] fields`, or every public
/// column but the id, the login (the page's title), the photo and admin
/// ones. The secret column is never among `snapshot.columns`.
fn field_columns(snapshot: &Snapshot, config: &Config) -> Vec<usize> {
    let pc = &config.players;
    match &config.player_page.fields {
        Some(fields) => fields
            .iter()
            .filter_map(|f| snapshot.columns.iter().position(|c| c == f))
            .collect(),
        None => (0..snapshot.columns.len())
            .filter(|&i| {
                let c = &snapshot.columns[i];
                *c != pc.id
                    && *c != pc.login
                    && Some(c) != pc.photo.as_ref()
                    && Some(c) != pc.admin.as_ref()
            })
            .collect(),
    }
}

/// The columns of the public index: configured, or every public column but
/// the id, login, private, photo and admin ones; the sort column first, so
/// that on a phone it shows beside the name without scrolling (issue 17).
fn index_columns(snapshot: &Snapshot, config: &Config) -> Vec<String> {
    let mut columns = shown_columns(snapshot, config);
    if let Some(at) = config
        .index
        .sort_by
        .as_ref()
        .and_then(|s| columns.iter().position(|c| c == s))
    {
        let sort = columns.remove(at);
        columns.insert(0, sort);
    }
    columns
}

fn shown_columns(snapshot: &Snapshot, config: &Config) -> Vec<String> {
    if let Some(columns) = &config.index.columns {
        return columns.clone();
    }
    let pc = &config.players;
    snapshot
        .columns
        .iter()
        .filter(|c| {
            *c != &pc.id
                && *c != &pc.login
                && !pc.private.contains(c)
                && Some(*c) != pc.photo.as_ref()
                && Some(*c) != pc.admin.as_ref()
        })
        .cloned()
        .collect()
}

/// Renders every page and asset of `snapshot` in memory, pages in parallel;
/// every player with a photo column gets an initials avatar.
pub fn render(
    theme: &Theme,
    snapshot: &Snapshot,
    config: &Config,
) -> Result<Vec<Artifact>, RenderError> {
    render_with_photos(theme, snapshot, config, &PhotoImages::default())
}

/// Each player's photo: the published one, or an initials avatar (whose
/// SVG is added to `assets`). Empty without `[players] photo`.
fn player_photos(
    snapshot: &Snapshot,
    config: &Config,
    photos: &PhotoImages,
    assets: &mut BTreeMap<String, Vec<u8>>,
) -> Vec<Option<PublishedPhoto>> {
    if config.players.photo.is_none() {
        return vec![None; snapshot.players.len()];
    }
    let mut avatars: HashMap<String, PublishedPhoto> = HashMap::new();
    snapshot
        .players
        .iter()
        .map(|p| {
            if let Some(found) = p
                .photo
                .as_deref()
                .and_then(|c| photos.by_cell.get(c.trim()))
            {
                return Some(found.clone());
            }
            let avatar = avatars.entry(p.name.clone()).or_insert_with(|| {
                let (file, bytes) = photo_view::avatar(&p.name);
                let url = format!("/assets/photos/{file}");
                assets.insert(format!("assets/photos/{file}"), bytes);
                let size = |s: u32| Image {
                    url: url.clone(),
                    width: s,
                    height: s,
                };
                PublishedPhoto {
                    page: size(photo_view::PAGE_SIZE),
                    thumb: size(photo_view::THUMB_SIZE),
                }
            });
            Some(avatar.clone())
        })
        .collect()
}

/// One render's shared part, prepared once: the environment, the players'
/// photos, the index order. Each page is then rendered on its own, so a
/// caller can publish pages as they come instead of holding them all.
struct Pages<'a> {
    theme: &'a Theme,
    snapshot: &'a Snapshot,
    config: &'a Config,
    env: Environment<'static>,
    globals: Value,
    photo_of: Vec<Option<PublishedPhoto>>,
    /// Initials avatars: path → SVG bytes.
    avatar_files: BTreeMap<String, Vec<u8>>,
    /// The index: its columns, (player, rank) in order, pages of it.
    columns: Vec<String>,
    /// `[index] filters` columns the index does not show.
    hidden_filters: Vec<String>,
    order: Vec<(usize, usize)>,
    index_pages: usize,
    /// Each player's rank (by player index), when the roster has a sort.
    rank_of: Vec<Option<usize>>,
    /// "Data as of" worded and escaped, per time ([`Pages::stamped`]).
    worded: std::sync::Mutex<HashMap<std::time::SystemTime, (String, String)>>,
    /// Which of the snapshot's columns the player page shows, in order.
    fields: Vec<usize>,
}

impl<'a> Pages<'a> {
    fn new(
        theme: &'a Theme,
        snapshot: &'a Snapshot,
        config: &'a Config,
        photos: &PhotoImages,
    ) -> Result<Pages<'a>, RenderError> {
        let mut avatar_files = BTreeMap::new();
        let photo_of = player_photos(snapshot, config, photos, &mut avatar_files);
        let site = SiteView::of(config);
        let order = roster_order(snapshot, config);
        let columns = index_columns(snapshot, config);
        let hidden_filters = config
            .index
            .filters
            .iter()
            .filter(|f| !columns.contains(f))
            .cloned()
            .collect();
        let index_pages = order.len().div_ceil(config.index.per_page).max(1);
        let mut rank_of = vec![None; snapshot.players.len()];
        if config.index.sort_by.is_some() {
            for &(i, rank) in &order {
                rank_of[i] = Some(rank);
            }
        }
        let mut env = theme.environment()?;
        // `{{ label(column) }}`: a column's `[labels]` label, or its name.
        let labels = Arc::new(config.labels.clone());
        env.add_function("label", move |column: &str| {
            labels
                .get(column)
                .cloned()
                .unwrap_or_else(|| column.to_string())
        });
        env.add_filter("soft_breaks", soft_breaks);
        // Each page's own time goes in after it renders ([`Pages::stamped`]).
        let as_of = as_of_view(&theme.strings, config, snapshot.changed_at).map(|_| AsOfView {
            text: AS_OF_TEXT.to_string(),
            iso: AS_OF_ISO.to_string(),
        });
        Ok(Pages {
            theme,
            snapshot,
            config,
            env,
            globals: context! { site => site, t => theme.strings.clone(), as_of => as_of },
            photo_of,
            avatar_files,
            columns,
            hidden_filters,
            order,
            index_pages,
            rank_of,
            worded: std::sync::Mutex::default(),
            fields: field_columns(snapshot, config),
        })
    }

    /// `bytes` (page `path`) with the time its content last changed in
    /// place of the markers ([`crate::as_of::PageTimes`]).
    fn stamped(&self, path: &str, text: String) -> Vec<u8> {
        if !text.contains(AS_OF_TEXT) && !text.contains(AS_OF_ISO) {
            return text.into_bytes();
        }
        let digest = hex::encode(Sha256::digest(text.as_bytes()));
        let (snapshot, config) = (self.snapshot, self.config);
        let at = snapshot
            .page_times
            .time_of(path, &digest, snapshot.changed_at);
        // Worded once per time (pages share a handful of times), as
        // autoescape writes `{{ as_of.text }}` in a template.
        let (when, iso) = self
            .worded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(at)
            .or_insert_with(|| {
                as_of_view(&self.theme.strings, config, at).map_or_else(
                    || (String::new(), String::new()),
                    |v| (html_escape(&v.text), html_escape(&v.iso)),
                )
            })
            .clone();
        text.replace(AS_OF_TEXT, &when)
            .replace(AS_OF_ISO, &iso)
            .into_bytes()
    }

    fn render_one(&self, name: &str, ctx: Value) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        let ctx = context! { ..ctx, ..self.globals.clone() };
        template.render(ctx).map_err(|e| template_error(name, &e))
    }

    /// The theme's assets and the avatars.
    fn assets(&self) -> impl Iterator<Item = Artifact> + '_ {
        let theme = self.theme.assets.values().map(|(file, bytes)| Artifact {
            path: format!("assets/{file}"),
            kind: ArtifactKind::Asset,
            bytes: bytes.clone(),
        });
        let avatars = self.avatar_files.iter().map(|(path, bytes)| Artifact {
            path: path.clone(),
            kind: ArtifactKind::Asset,
            bytes: bytes.clone(),
        });
        theme.chain(avatars)
    }

    fn players(&self) -> usize {
        self.snapshot.players.len()
    }

    /// The page of player `i`.
    fn player(&self, i: usize) -> Result<Artifact, RenderError> {
        let (snapshot, config) = (self.snapshot, self.config);
        let p = &snapshot.players[i];
        let photo = self.photo_of.get(i).and_then(Option::as_ref);
        let view = PlayerView {
            id: &p.id,
            name: &p.name,
            slug: p.slug.as_str(),
            url: player_url(p),
            rank: self.rank_of.get(i).copied().flatten(),
            total: snapshot.players.len(),
            fields: self
                .fields
                .iter()
                .map(|&c| Field {
                    name: label(config, &snapshot.columns[c]),
                    value: p.values.get(c).map_or("", String::as_str),
                })
                .collect(),
            photo: photo.map(|p| &p.page),
            thumb: photo.map(|p| &p.thumb),
        };
        let tables: Vec<TableView> = snapshot
            .tables
            .iter()
            .map(|t| TableView {
                name: &t.name,
                columns: t.columns.iter().map(|c| label(config, c)).collect(),
                rows: t.rows.get(i).map_or(&[][..], Vec::as_slice),
            })
            .collect();
        let ctx = context! { player => view, tables => tables };
        let path = format!("p/{}/index.html", p.slug);
        let bytes = self.stamped(&path, self.render_one("player.html", ctx)?);
        Ok(Artifact {
            path,
            kind: ArtifactKind::Player,
            bytes,
        })
    }

    /// The login and error pages.
    fn fixed(&self) -> Result<Vec<Artifact>, RenderError> {
        [
            ("login.html", "login/index.html"),
            ("404.html", "404.html"),
            ("403.html", "403.html"),
        ]
        .into_iter()
        .map(|(name, path)| {
            Ok(Artifact {
                path: path.to_string(),
                kind: ArtifactKind::Page,
                bytes: self.stamped(path, self.render_one(name, context! {})?),
            })
        })
        .collect()
    }

    /// What the search box of the roster looks in besides the cells shown.
    fn row_filter(&self, p: &Player) -> Option<String> {
        let values: Vec<&str> = self
            .hidden_filters
            .iter()
            .filter_map(|c| p.value(&self.snapshot.columns, c))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        (!values.is_empty()).then(|| values.join(" "))
    }

    /// Page `page` (from 1) of the index.
    fn index_page(&self, page: usize) -> Result<Artifact, RenderError> {
        let (snapshot, config) = (self.snapshot, self.config);
        let per_page = config.index.per_page;
        let pages = self.index_pages;
        let rows: Vec<RosterRow> = self
            .order
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|&(i, rank)| {
                let p = &snapshot.players[i];
                RosterRow {
                    rank,
                    name: &p.name,
                    slug: p.slug.as_str(),
                    url: player_url(p),
                    thumb: self
                        .photo_of
                        .get(i)
                        .and_then(Option::as_ref)
                        .map(|p| &p.thumb),
                    cells: self
                        .columns
                        .iter()
                        .map(|c| p.value(&snapshot.columns, c).unwrap_or(""))
                        .collect(),
                    filter: self.row_filter(p),
                }
            })
            .collect();
        let ctx = context! {
            columns => &self.columns,
            filters => &config.index.filters,
            players => rows,
            pagination => Pagination {
                page,
                pages,
                total: self.order.len(),
                prev_url: (page > 1).then(|| index_url(page - 1)),
                next_url: (page < pages).then(|| index_url(page + 1)),
            },
            sort => SortView {
                column: config.index.sort_by.as_deref(),
                descending: config.index.descending,
            },
        };
        let path = if page == 1 {
            "index.html".to_string()
        } else {
            format!("page/{page}/index.html")
        };
        let bytes = self.stamped(&path, self.render_one("index.html", ctx)?);
        Ok(Artifact {
            path,
            kind: if page == 1 {
                ArtifactKind::Index
            } else {
                ArtifactKind::Page
            },
            bytes,
        })
    }
}

/// [`render`] with the players' published photos.
pub fn render_with_photos(
    theme: &Theme,
    snapshot: &Snapshot,
    config: &Config,
    photos: &PhotoImages,
) -> Result<Vec<Artifact>, RenderError> {
    let pages = Pages::new(theme, snapshot, config, photos)?;
    let mut artifacts: Vec<Artifact> = pages.assets().collect();
    let players: Vec<Artifact> = (0..pages.players())
        .into_par_iter()
        .map(|i| pages.player(i))
        .collect::<Result<_, _>>()?;
    artifacts.extend(players);
    artifacts.extend(pages.fixed()?);
    let index: Vec<Artifact> = (1..=pages.index_pages)
        .into_par_iter()
        .map(|page| pages.index_page(page))
        .collect::<Result<_, _>>()?;
    artifacts.extend(index);
    Ok(artifacts)
}

/// Renders what [`render_with_photos`] does, handing each artifact to
/// `emit` as soon as it is made (pages on every core, so `emit` is called
/// from several threads) instead of collecting them: with
/// [`crate::publish::Publication::add`] as `emit`, a site is never held in
/// memory whole. Stops at the first error.
pub fn render_each<E>(
    theme: &Theme,
    snapshot: &Snapshot,
    config: &Config,
    photos: &PhotoImages,
    emit: impl Fn(Artifact) -> Result<(), E> + Sync,
) -> Result<(), E>
where
    E: From<RenderError> + Send,
{
    let pages = Pages::new(theme, snapshot, config, photos)?;
    pages.assets().try_for_each(&emit)?;
    (0..pages.players())
        .into_par_iter()
        .try_for_each(|i| emit(pages.player(i)?))?;
    pages.fixed()?.into_iter().try_for_each(&emit)?;
    (1..=pages.index_pages)
        .into_par_iter()
        .try_for_each(|page| emit(pages.index_page(page)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    fn config(lang: &str, timezone: &str) -> Config {
        let text = format!(
            "[site]\ntitle = \"T\"\nlang = \"{lang}\"\ntimezone = \"{timezone}\"\n\
             [source]\nkind = \"csv\"\npath = \"p.csv\"\n[players]\n"
        );
        Config::parse(
            &text,
            Path::new("/nonexistent-sheetgen-test/site.toml"),
            &crate::config::Env::default(),
        )
        .unwrap()
    }

    fn line(lang: &str, timezone: &str, unix: u64) -> AsOfView {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-templates");
        let theme = Theme::load(&dir, lang).unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(unix);
        as_of_view(&theme.strings, &config(lang, timezone), at).unwrap()
    }

    #[test]
    fn data_as_of_reads_naturally_in_each_language_and_zone() {
        // 2026-03-01 08:05 UTC: 09:05 in Paris (winter), 03:05 in New York.
        let t = 1_772_352_300;
        let fr = line("fr", "Europe/Paris", t);
        assert_eq!(fr.text, "Données du 1er mars 2026 à 9 h 05");
        assert_eq!(fr.iso, "2026-03-01T09:05+01:00");
        let en = line("en", "America/New_York", t);
        assert_eq!(en.text, "Data as of 1 March 2026, 3:05");
        assert_eq!(en.iso, "2026-03-01T03:05-05:00");
        // Summer time: 2026-07-14 12:30 UTC is 14:30 in Paris.
        let summer = line("fr", "Europe/Paris", 1_784_032_200);
        assert_eq!(summer.text, "Données du 14 juillet 2026 à 14 h 30");
        assert_eq!(summer.iso, "2026-07-14T14:30+02:00");
    }

    #[test]
    fn soft_breaks_escape_and_break_long_words_only() {
        let out = soft_breaks("agnieszka.wasowski@example.org <b>x.y</b>");
        assert_eq!(
            out.as_str().unwrap(),
            "agnieszka<wbr>.wasowski@<wbr>example.org &lt;b&gt;x.y&lt;&#x2f;b&gt;"
        );
    }
}
