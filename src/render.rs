//! Rendering: minijinja over the theme ([`theme`]: built into `gen`, with
//! a `[site] templates` folder over it), fed with secret-free view structs
//! ([`views`]), producing [`Artifact`]s in memory. [`Theme::load`] is the
//! only disk read here; [`render`] touches no disk and never sees
//! [`RawTables`](crate::table::RawTables) or the credentials.

mod order;
mod theme;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::{Environment, Value, context};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::RenderError;
use crate::login_answers::LoginAnswer;
use crate::model::{Player, Snapshot};
use crate::photo_view::{self, Image, PhotoImages, PublishedPhoto};
use order::roster_order;
pub use theme::{REQUIRED_TEMPLATES, Theme, built_in_files, is_editor_temp};
use views::{
    AS_OF_ISO, AS_OF_TEXT, AsOfView, Field, Pagination, PlayerView, RosterRow, SiteView, SortView,
    TableView, as_of_view, field_columns, html_escape, index_columns, index_url, label, player_url,
    soft_breaks,
};

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

fn template_error(name: &str, e: &minijinja::Error) -> RenderError {
    RenderError::Template {
        name: name.to_string(),
        message: crate::error::chain(e),
    }
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

    /// The login and error pages, and the login page once per answer
    /// ([`LoginAnswer`]: each shows its message without JavaScript, issue
    /// 27; `gen nginx` and `gen serve` pick it by the query).
    fn fixed(&self) -> Result<Vec<Artifact>, RenderError> {
        let answers = LoginAnswer::all().into_iter().map(|a| {
            let answer = context! { message => a.message(), minutes => a.minutes() };
            ("login.html", a.page(), context! { answer => answer })
        });
        [
            ("login.html", "login/index.html".to_string(), context! {}),
            ("404.html", "404.html".to_string(), context! {}),
            ("403.html", "403.html".to_string(), context! {}),
        ]
        .into_iter()
        .chain(answers)
        .map(|(name, path, ctx)| {
            let bytes = self.stamped(&path, self.render_one(name, ctx)?);
            Ok(Artifact {
                path,
                kind: ArtifactKind::Page,
                bytes,
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
