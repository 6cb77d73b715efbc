//! A file serde refuses, explained key by key in the organiser's words:
//! which key, what it holds (from [`super::settings`]), "did you mean",
//! with toml's line and caret (issue 16). Secret lines are never quoted.

use super::settings::{SETTINGS, Setting, Shape};
use crate::suggest;

/// A step from the top of the document to a key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Where an error's span lies in the document: the smallest key or value
/// that holds it.
struct Spot<'d, 'i> {
    path: Vec<Step>,
    /// The span is the key's own name (an unknown key), not its value.
    on_key: bool,
    /// The value of that key (or array item).
    value: &'d toml::de::DeValue<'i>,
    width: usize,
}

fn locate<'d, 'i>(
    doc: &'d toml::de::DeTable<'i>,
    span: &std::ops::Range<usize>,
) -> Option<Spot<'d, 'i>> {
    fn consider<'d, 'i>(
        best: &mut Option<Spot<'d, 'i>>,
        at: std::ops::Range<usize>,
        span: &std::ops::Range<usize>,
        path: &[Step],
        on_key: bool,
        value: &'d toml::de::DeValue<'i>,
    ) {
        let width = at.end.saturating_sub(at.start);
        // `<=`: of two that hold it equally, the deeper one.
        if at.start <= span.start
            && span.end <= at.end
            && best.as_ref().is_none_or(|b| width <= b.width)
        {
            *best = Some(Spot {
                path: path.to_vec(),
                on_key,
                value,
                width,
            });
        }
    }
    fn table<'d, 'i>(
        t: &'d toml::de::DeTable<'i>,
        span: &std::ops::Range<usize>,
        path: &mut Vec<Step>,
        best: &mut Option<Spot<'d, 'i>>,
    ) {
        for (key, value) in t.iter() {
            path.push(Step::Key(key.get_ref().to_string()));
            consider(best, key.span(), span, path, true, value.get_ref());
            item(value, span, path, best);
            path.pop();
        }
    }
    fn item<'d, 'i>(
        value: &'d toml::Spanned<toml::de::DeValue<'i>>,
        span: &std::ops::Range<usize>,
        path: &mut Vec<Step>,
        best: &mut Option<Spot<'d, 'i>>,
    ) {
        consider(best, value.span(), span, path, false, value.get_ref());
        match value.get_ref() {
            toml::de::DeValue::Table(t) => table(t, span, path, best),
            toml::de::DeValue::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    item(v, span, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    table(doc, span, &mut Vec::new(), &mut best);
    best
}

/// The keys of `path`, without array positions.
fn keys_of(path: &[Step]) -> Vec<&str> {
    path.iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect()
}

/// `path` as [`SETTINGS`] names it: `tables.key`, `source.files.*`.
fn setting_key(path: &[Step]) -> String {
    match keys_of(path).as_slice() {
        ["source", map @ ("files" | "urls"), _] => format!("source.{map}.*"),
        ["labels", _] => "labels.*".into(),
        keys => keys.join("."),
    }
}

fn setting_of(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The keys one level under `parent` ("" for the top of the file).
pub(super) fn settings_under(parent: &str) -> impl Iterator<Item = &'static Setting> + '_ {
    SETTINGS.iter().filter(move |s| {
        let (p, leaf) = s.key.rsplit_once('.').unwrap_or(("", s.key));
        p == parent && leaf != "*"
    })
}

pub(super) fn leaf_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(_, leaf)| leaf)
}

/// `path` as the organiser reads it: `site.refresh_secs`, `tables[0].key`.
fn shown_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The section a setting key ("" for the top of the file) is written in.
fn section_of(parent: &str) -> String {
    match parent {
        "" => "the top of site.toml (before any [section] line)".into(),
        "tables" => "[[tables]]".into(),
        other => format!("[{other}]"),
    }
}

/// What a value is, in words (never the value: it may be `api_key`).
fn found_words(value: &toml::de::DeValue<'_>) -> &'static str {
    use toml::de::DeValue;
    match value {
        DeValue::String(_) => "text in quotes",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a number with decimals",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list in square brackets",
        DeValue::Table(_) => "a section",
    }
}

/// serde's message about a `site.toml` that parsed as TOML, in words, or
/// `None` when it is not about a key this file knows. `spot`: where its
/// span lies; `None` for the whole document (a missing section).
fn explain(message: &str, spot: Option<&Spot<'_, '_>>) -> Option<String> {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next()?;
        return missing_key(name, spot.map_or(&[], |s| s.path.as_slice()));
    }
    let spot = spot?;
    if message.starts_with("unknown field `") {
        if !spot.on_key {
            return None;
        }
        let (name, parent) = spot.path.split_last()?;
        let Step::Key(name) = name else { return None };
        return Some(unknown_key(name, parent, spot.value));
    }
    if spot.on_key {
        return None;
    }
    let setting = setting_of(&setting_key(&spot.path))?;
    Some(wrong_value(setting, &spot.path, spot.value))
}

fn unknown_key(name: &str, parent: &[Step], value: &toml::de::DeValue<'_>) -> String {
    let parent_key = setting_key(parent);
    let siblings: Vec<&str> = settings_under(&parent_key)
        .map(|s| leaf_of(s.key))
        .collect();
    let is_section = parent_key.is_empty() && matches!(value, toml::de::DeValue::Table(_));
    let mut out = if is_section {
        format!("unknown section [{name}]")
    } else {
        format!("unknown setting `{name}` in {}", section_of(&parent_key))
    };
    let home = SETTINGS
        .iter()
        .find(|s| leaf_of(s.key) == name && !s.key.ends_with('*'));
    match (suggest::nearest(name, siblings.iter().copied()), home) {
        (Some(suggest::Nearest::Close(near)), _) if is_section => {
            out.push_str(&format!(": did you mean [{near}]?"));
        }
        (Some(suggest::Nearest::Close(near)), _) => {
            out.push_str(&format!(": did you mean `{near}`?"));
        }
        (Some(near), _) => out.push_str(&format!(
            ": `{name}` differs from `{}` only in {}",
            near.name(),
            match near {
                suggest::Nearest::Spaces(_) => "spaces",
                _ => "case",
            }
        )),
        (None, Some(home)) => {
            let (section, _) = home.key.rsplit_once('.').unwrap_or(("", home.key));
            out.push_str(&format!(
                ": `{name}` belongs in {}; move the line there",
                section_of(section)
            ));
        }
        (None, None) => {}
    }
    let listed: Vec<String> = if parent_key.is_empty() {
        siblings.iter().map(|s| section_of(s)).collect()
    } else {
        siblings.iter().map(|s| s.to_string()).collect()
    };
    if parent_key.is_empty() {
        out.push_str(&format!(" (the sections are {})", listed.join(", ")));
    } else if !listed.is_empty() {
        out.push_str(&format!(
            " (the settings of {} are {})",
            section_of(&parent_key),
            listed.join(", ")
        ));
    }
    out
}

fn missing_key(name: &str, path: &[Step]) -> Option<String> {
    let here = setting_key(path);
    let wanted = if here.is_empty() {
        name.to_string()
    } else {
        format!("{here}.{name}")
    };
    let setting =
        setting_of(&wanted).or_else(|| SETTINGS.iter().find(|s| leaf_of(s.key) == name))?;
    let (parent, leaf) = setting.key.rsplit_once('.').unwrap_or(("", setting.key));
    Some(match setting.shape {
        Shape::Section => format!(
            "site.toml needs a {} section: {}, e.g. {}",
            section_of(setting.key),
            setting.what,
            setting.example
        ),
        _ => format!(
            "{} needs `{leaf}`: {}, e.g. {leaf} = {}",
            section_of(parent),
            setting.what,
            setting.example
        ),
    })
}

fn wrong_value(setting: &Setting, path: &[Step], value: &toml::de::DeValue<'_>) -> String {
    use toml::de::DeValue;
    let leaf = leaf_of(setting.key);
    let leaf = if leaf == "*" {
        keys_of(path).last().copied().unwrap_or(leaf)
    } else {
        leaf
    };
    let mut out = match setting.shape {
        Shape::Section => format!(
            "`{}` must be {}, e.g. {}",
            shown_path(path),
            setting.what,
            setting.example
        ),
        _ => format!(
            "`{}` must be {}, e.g. {leaf} = {}",
            shown_path(path),
            setting.what,
            setting.example
        ),
    };
    let found = found_words(value);
    let fix = match (setting.shape, value) {
        (Shape::WholeNumber, DeValue::String(s)) if s.trim().parse::<u64>().is_ok() => format!(
            "here it is in quotes: write {leaf} = {} without them",
            s.trim()
        ),
        (Shape::Number, DeValue::String(s)) if s.trim().parse::<f64>().is_ok() => format!(
            "here it is in quotes: write {leaf} = {} without them",
            s.trim()
        ),
        (Shape::YesNo, DeValue::String(s))
            if matches!(s.trim().to_lowercase().as_str(), "true" | "false") =>
        {
            format!(
                "here it is in quotes: write {leaf} = {} without them",
                s.trim().to_lowercase()
            )
        }
        (Shape::Section, DeValue::Table(_)) if setting.key == "tables" => {
            "here it is [tables] with single brackets: write [[tables]], with two".into()
        }
        (Shape::WholeNumber, DeValue::Integer(n)) => {
            format!("{} is below zero or too large", n.as_str())
        }
        (Shape::List, DeValue::String(s)) => format!(
            "here it is one name in quotes: put the names in square brackets, {leaf} = [\"{s}\"]"
        ),
        (Shape::OneOf(choices), DeValue::String(s)) => {
            suggest::sentence(s, choices.iter().copied(), "")
                .unwrap_or_else(|| format!("\"{s}\" is not one of them"))
        }
        (Shape::Text, _) => format!("here it is {found}: put it in double quotes"),
        _ => format!("here it is {found}"),
    };
    out.push_str("; ");
    out.push_str(&fix);
    out
}

/// A `site.toml` that toml or serde refused, as the organiser reads it:
/// where (line, column and caret, as toml shows them) and, when it is about
/// a key, what that key holds with an example and the likely fix. A TOML
/// syntax error keeps toml's words.
pub(super) fn plain_words(text: &str, e: &toml::de::Error) -> String {
    let toml_says = e.to_string();
    let (Some(span), Ok(doc)) = (e.span(), toml::de::DeTable::parse(text)) else {
        return toml_says.trim_end().to_string();
    };
    let spot = locate(doc.get_ref(), &span);
    let Some(words) = explain(e.message(), spot.as_ref()) else {
        return toml_says.trim_end().to_string();
    };
    if spot.is_none() {
        // About the whole file (a missing section): no line to point at.
        return words;
    }
    // toml's text is "TOML parse error at line 7, column 16", the line
    // with a caret under the value, then its message.
    let snippet = toml_says.trim_end();
    let snippet = snippet.strip_suffix(e.message()).unwrap_or(snippet);
    match snippet.trim_end().split_once('\n') {
        Some((head, caret)) => {
            let place = head.strip_prefix("TOML parse error at ").unwrap_or(head);
            format!("{place}: {words}\n{caret}")
        }
        None => words,
    }
}

/// toml quotes the line at fault: never show an `api_key` that way.
pub(super) fn hide_secret_lines(message: &str) -> String {
    message
        .lines()
        .map(|line| match line.split_once(" | ") {
            Some((number, code))
                if number.trim().parse::<u32>().is_ok() && code.contains("api_key") =>
            {
                format!("{number} | api_key = (hidden)")
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
