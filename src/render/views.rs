//! What a template can ever see: view structs made of the snapshot's public
//! parts and the config (never the secret column, which the snapshot does
//! not hold), and the helpers that word them: "data as of", labels, the
//! columns a page shows, `soft_breaks`.

use minijinja::Value;
use serde::Serialize;

use crate::config::Config;
use crate::model::{Player, Snapshot};
use crate::photo_view::Image;

#[derive(Serialize)]
pub(super) struct SiteView<'a> {
    pub(super) title: &'a str,
    pub(super) lang: &'a str,
    /// `[site] contact`: how to reach the organiser (login page).
    pub(super) contact: Option<&'a str>,
}

impl SiteView<'_> {
    pub(super) fn of(config: &Config) -> SiteView<'_> {
        SiteView {
            title: &config.site.title,
            lang: config.site.lang.code(),
            contact: config.site.contact.as_deref(),
        }
    }
}

/// `s` as minijinja's HTML autoescape writes it.
pub(super) fn html_escape(s: &str) -> String {
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

/// Where a page's "data as of" goes until [`Pages::stamped`](super::Pages::stamped) puts the
/// page's own time there: private-use characters no sheet text renders to
/// by accident, and no autoescape changes.
pub(super) const AS_OF_TEXT: &str = "\u{E000}sheetgen-as-of\u{E001}";
pub(super) const AS_OF_ISO: &str = "\u{E000}sheetgen-as-of-iso\u{E001}";

/// When the data last changed, in `[site] timezone`: `text` as the
/// theme's strings word it (`data_as_of`, `months`, `first_day`), `iso`
/// for a `<time datetime>` (issue 17).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(super) struct AsOfView {
    pub(super) text: String,
    pub(super) iso: String,
}

#[derive(Serialize)]
pub(super) struct Field<'a> {
    pub(super) name: &'a str,
    pub(super) value: &'a str,
}

#[derive(Serialize)]
pub(super) struct PlayerView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) slug: &'a str,
    pub(super) url: String,
    /// Rank in the roster's order and out of how many; `rank` only when
    /// `[index] sort_by` is set (a roster sorted by name ranks nothing).
    pub(super) rank: Option<usize>,
    pub(super) total: usize,
    /// The configured fields (`[player_page] fields`), labelled.
    pub(super) fields: Vec<Field<'a>>,
    /// Page photo (or avatar) and thumbnail; none without `[players] photo`.
    pub(super) photo: Option<&'a Image>,
    pub(super) thumb: Option<&'a Image>,
}

#[derive(Serialize)]
pub(super) struct TableView<'a> {
    pub(super) name: &'a str,
    /// Labels (`[labels]`) of the configured columns, in order.
    pub(super) columns: Vec<&'a str>,
    pub(super) rows: &'a [crate::cells::Cells],
}

#[derive(Serialize)]
pub(super) struct RosterRow<'a> {
    pub(super) rank: usize,
    pub(super) name: &'a str,
    pub(super) slug: &'a str,
    pub(super) url: String,
    pub(super) thumb: Option<&'a Image>,
    pub(super) cells: Vec<&'a str>,
    /// The values of the `[index] filters` columns the roster does not
    /// show, for the search box (`data-f`); `None` when there are none.
    pub(super) filter: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Pagination {
    pub(super) page: usize,
    pub(super) pages: usize,
    pub(super) total: usize,
    pub(super) prev_url: Option<String>,
    pub(super) next_url: Option<String>,
}

#[derive(Serialize)]
pub(super) struct SortView<'a> {
    pub(super) column: Option<&'a str>,
    pub(super) descending: bool,
}

pub(super) fn player_url(p: &Player) -> String {
    format!("/p/{}/", p.slug)
}

pub(super) fn index_url(page: usize) -> String {
    if page <= 1 {
        "/".to_string()
    } else {
        format!("/page/{page}/")
    }
}

/// The "data as of" line for `at`, or `None` when the theme's strings
/// lack `data_as_of` or `months` (a theme made before issue 17).
pub(super) fn as_of_view(
    strings: &Value,
    config: &Config,
    at: std::time::SystemTime,
) -> Option<AsOfView> {
    let (text, iso) = local_time(strings, "data_as_of", config, at)?;
    Some(AsOfView { text, iso })
}

/// `at` in `[site] timezone`, worded by the theme's string `key` (with
/// `{day}`, `{month}`, `{year}`, `{hour}`, `{minute}`), and as ISO 8601
/// with its offset.
pub(super) fn local_time(
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

/// `{{ value|soft_breaks }}`: `value` escaped, each word of more than 16
/// characters with line-break opportunities (`<wbr>`) after its `@` and
/// before the dots ahead of it ([`crate::model::secrets::with_soft_breaks`],
/// which the secret gate knows), so that an e-mail address too wide for a
/// phone wraps as `agnieszka.wasowski@` / `example.org`, not mid-word
/// (issue 17).
pub(super) fn soft_breaks(value: &str) -> Value {
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
pub(super) fn label<'a>(config: &'a Config, column: &'a str) -> &'a str {
    config.labels.get(column).map_or(column, String::as_str)
}

/// The player page's fields: `[player_page] fields`, or every public
/// column but the id, the login (the page's title), the photo and admin
/// ones. The secret column is never among `snapshot.columns`.
pub(super) fn field_columns(snapshot: &Snapshot, config: &Config) -> Vec<usize> {
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
pub(super) fn index_columns(snapshot: &Snapshot, config: &Config) -> Vec<String> {
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

pub(super) fn shown_columns(snapshot: &Snapshot, config: &Config) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Theme;
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
        let theme = Theme::load(&None, lang).unwrap();
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
