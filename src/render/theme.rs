//! The theme: templates, UI strings and assets. The default one is built
//! into `gen` from `site-templates/`, so the binary alone makes a site
//! (issue 25); a `[site] templates` folder overrides it file by file, and
//! whatever the folder lacks comes from the built-in theme. [`Theme::load`]
//! is render's only disk read; it writes nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use sha2::{Digest, Sha256};

use super::template_error;
use super::views::{SiteView, local_time};
use crate::config::Config;
use crate::error::RenderError;

/// The default theme, as `site-templates/` was when `gen` was built
/// (`build.rs` rebuilds on any change there).
static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/site-templates");

/// Pages every theme has (the built-in one holds them all).
pub const REQUIRED_TEMPLATES: [&str; 5] = [
    "index.html",
    "player.html",
    "login.html",
    "404.html",
    "403.html",
];

/// Where the built-in theme's files are said to be, in messages.
const BUILT_IN_ORIGIN: &str = "<built-in theme>";

/// The templates, the UI strings and the assets of a theme, read once.
#[derive(Debug, Clone)]
pub struct Theme {
    /// The `[site] templates` folder over the built-in theme, if any.
    pub folder: Option<PathBuf>,
    templates: BTreeMap<String, String>,
    pub(super) strings: Value,
    /// The UI strings as read, for pages that add built-in defaults.
    strings_table: toml::Table,
    /// Asset name → (fingerprinted file name, bytes).
    pub(super) assets: BTreeMap<String, (String, Vec<u8>)>,
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

/// Every file of the built-in theme: its path in the theme (`base.html`,
/// `strings/fr.toml`, `assets/site.css`) and its bytes, sorted by path.
pub fn built_in_files() -> Vec<(&'static Path, &'static [u8])> {
    fn walk(dir: &'static Dir<'static>, out: &mut Vec<(&'static Path, &'static [u8])>) {
        for file in dir.files() {
            let temp = file
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(is_editor_temp);
            if !temp {
                out.push((file.path(), file.contents()));
            }
        }
        for sub in dir.dirs() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&BUILT_IN, &mut out);
    out.sort();
    out
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

/// A theme's files by their path in the theme (`assets/site.css`): where
/// each was found (for messages) and its bytes.
type Files = BTreeMap<String, (PathBuf, Cow<'static, [u8]>)>;

/// The built-in theme's files, `lang`'s strings only.
fn built_in(lang: &str) -> Files {
    let strings = format!("strings/{lang}.toml");
    built_in_files()
        .into_iter()
        .filter_map(|(path, bytes)| {
            let name = path.to_str()?.replace('\\', "/");
            let wanted = theme_file(&name) || name == strings;
            wanted.then(|| {
                let origin = Path::new(BUILT_IN_ORIGIN).join(path);
                (name, (origin, Cow::Borrowed(bytes)))
            })
        })
        .collect()
}

/// A template (`*.html` at the top) or an asset (`assets/*`).
fn theme_file(name: &str) -> bool {
    match name.split_once('/') {
        None => name.ends_with(".html"),
        Some((folder, file)) => folder == "assets" && !file.contains('/'),
    }
}

/// Lays the files of the folder `dir` over `files`: its `*.html`,
/// `strings/<lang>.toml` and `assets/*`, each where it is.
fn overlay(files: &mut Files, dir: &Path, lang: &str) -> Result<(), RenderError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| RenderError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    for (name, path) in list_files(dir)? {
        if name.ends_with(".html") {
            let bytes = read(&path)?;
            files.insert(name, (path, Cow::Owned(bytes)));
        }
    }
    let strings = dir.join("strings").join(format!("{lang}.toml"));
    if strings.is_file() {
        let bytes = read(&strings)?;
        files.insert(format!("strings/{lang}.toml"), (strings, Cow::Owned(bytes)));
    }
    let asset_dir = dir.join("assets");
    if asset_dir.is_dir() {
        for (name, path) in list_files(&asset_dir)? {
            let bytes = read(&path)?;
            files.insert(format!("assets/{name}"), (path, Cow::Owned(bytes)));
        }
    }
    Ok(())
}

/// `name.0123456789.ext`: the asset's name with its digest, so that a
/// changed asset has a new URL and the old one can be cached for ever.
fn fingerprinted(name: &str, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{}.{ext}", &digest[..10]),
        None => format!("{name}.{}", &digest[..10]),
    }
}

impl Theme {
    /// The built-in theme, with the files of `folder` (`[site] templates`)
    /// over it when set: its `*.html` templates, `strings/<lang>.toml` and
    /// `assets/*`. A folder that cannot be read is an error; a file it
    /// lacks is the built-in one.
    // `&Option` on purpose: every caller passes `&config.site.templates`.
    pub fn load(folder: &Option<PathBuf>, lang: &str) -> Result<Theme, RenderError> {
        let mut files = built_in(lang);
        if let Some(dir) = folder {
            overlay(&mut files, dir, lang)?;
        }
        let mut hasher = Sha256::new();
        for (name, (_, bytes)) in &files {
            hasher.update(name.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        let mut templates = BTreeMap::new();
        let mut assets = BTreeMap::new();
        let mut strings = None;
        for (name, (origin, bytes)) in files {
            if let Some(file) = name.strip_prefix("assets/") {
                if file
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    let fingerprinted = fingerprinted(file, &bytes);
                    assets.insert(file.to_string(), (fingerprinted, bytes.into_owned()));
                }
            } else if name.starts_with("strings/") {
                strings = Some(parse_strings(&origin, &bytes)?);
            } else {
                let text =
                    String::from_utf8(bytes.into_owned()).map_err(|_| RenderError::Template {
                        name: name.clone(),
                        message: format!("{}: not valid UTF-8", origin.display()),
                    })?;
                templates.insert(name, text);
            }
        }
        let strings_table = strings.ok_or_else(|| RenderError::Strings {
            path: Path::new(BUILT_IN_ORIGIN).join(format!("strings/{lang}.toml")),
            message: "no such file: gen has no strings in this language".into(),
        })?;
        Ok(Theme {
            folder: folder.clone(),
            templates,
            strings: Value::from_serialize(&strings_table),
            strings_table,
            assets,
            hash: hex::encode(hasher.finalize()),
        })
    }

    pub(super) fn environment(&self) -> Result<Environment<'static>, RenderError> {
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

/// A strings file (`strings/<lang>.toml`) as a table.
fn parse_strings(origin: &Path, bytes: &[u8]) -> Result<toml::Table, RenderError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RenderError::Strings {
        path: origin.to_path_buf(),
        message: "not valid UTF-8".into(),
    })?;
    toml::from_str(text).map_err(|e| RenderError::Strings {
        path: origin.to_path_buf(),
        message: e.to_string(),
    })
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

impl Theme {
    /// `at` as the theme words a date and time (its `date_time` string),
    /// in `[site] timezone`; `None` when the theme has no such string.
    pub(crate) fn date_time(&self, config: &Config, at: std::time::SystemTime) -> Option<String> {
        local_time(&self.strings, "date_time", config, at).map(|(text, _)| text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_theme_is_whole_in_each_language() {
        for lang in ["en", "fr"] {
            let theme = Theme::load(&None, lang).unwrap();
            for name in REQUIRED_TEMPLATES
                .iter()
                .chain(&["base.html", "admin.html"])
            {
                assert!(theme.templates.contains_key(*name), "{lang}: {name}");
            }
            assert!(theme.strings_table.contains_key("data_as_of"), "{lang}");
            let assets: Vec<&str> = theme.assets.keys().map(String::as_str).collect();
            assert_eq!(assets, ["login.js", "roster.js", "site.css", "site.js"]);
        }
        let en = Theme::load(&None, "en").unwrap();
        let fr = Theme::load(&None, "fr").unwrap();
        assert_ne!(en.hash, fr.hash, "the strings are part of the theme");
        // The same files the repository holds, byte for byte.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-templates");
        let files = built_in_files();
        assert!(files.len() >= 13, "{files:?}");
        for (path, bytes) in files {
            assert_eq!(std::fs::read(repo.join(path)).unwrap(), bytes, "{path:?}");
        }
    }

    #[test]
    fn a_folder_overrides_the_files_it_has_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.html"),
            "mine {% block content %}{% endblock %}",
        )
        .unwrap();
        std::fs::write(dir.path().join("extra.html"), "an extra page").unwrap();
        std::fs::write(dir.path().join(".base.html.swp"), "editor junk").unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/club.png"), b"png").unwrap();
        let built_in = Theme::load(&None, "fr").unwrap();
        let theme = Theme::load(&Some(dir.path().to_path_buf()), "fr").unwrap();
        assert_eq!(
            theme.templates["base.html"],
            "mine {% block content %}{% endblock %}"
        );
        assert_eq!(theme.templates["extra.html"], "an extra page");
        assert_eq!(
            theme.templates["index.html"],
            built_in.templates["index.html"]
        );
        assert!(!theme.templates.contains_key(".base.html.swp"));
        assert_eq!(theme.assets["site.css"], built_in.assets["site.css"]);
        assert_eq!(theme.assets["club.png"].1, b"png");
        assert_eq!(theme.strings_table, built_in.strings_table);
        assert_ne!(theme.hash, built_in.hash);

        let missing = dir.path().join("no-such-theme");
        let err = Theme::load(&Some(missing.clone()), "en").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read the templates in {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
    }
}
