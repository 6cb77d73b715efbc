//! The organiser's words, in the site's language (issue 26): two Project
//! Fluent catalogues, `en.ftl` and `fr.ftl`, embedded in the binary and
//! chosen by `[site] lang` (or `--lang`, or `LANG`, before there is a
//! config). Plurals come from Fluent (CLDR rules: in French 0 and 1 are
//! singular); counts are grouped as the language writes them (« 1 234 »,
//! "1,234") by num-format, as fluent-bundle 0.15 formats numbers without
//! grouping. A message missing from a catalogue is a bug a unit test
//! catches; at run time it shows its id rather than nothing.

pub mod errors;

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use intl_memoizer::concurrent::IntlLangMemoizer;
use num_format::{Locale, ToFormattedString};

use crate::config::Lang;

const EN: &str = include_str!("en.ftl");
const FR: &str = include_str!("fr.ftl");

/// One language's catalogue.
pub struct Words {
    bundle: FluentBundle<FluentResource>,
    /// How counts are grouped.
    locale: Locale,
}

static ENGLISH: LazyLock<Words> = LazyLock::new(|| Words::new(EN, Locale::en, group_en));
static FRENCH: LazyLock<Words> = LazyLock::new(|| Words::new(FR, Locale::fr, group_fr));

/// The catalogue of `lang`.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &ENGLISH,
        Lang::Fr => &FRENCH,
    }
}

/// `n` with the grouping of `locale`, when it is a whole number.
fn grouped(value: &FluentValue<'_>, locale: &Locale) -> Option<String> {
    let FluentValue::Number(n) = value else {
        return None;
    };
    let whole = n.value.trunc();
    (whole == n.value && whole.abs() < 1e15).then(|| (whole as i64).to_formatted_string(locale))
}

fn group_en(value: &FluentValue<'_>, _: &IntlLangMemoizer) -> Option<String> {
    grouped(value, &Locale::en)
}

fn group_fr(value: &FluentValue<'_>, _: &IntlLangMemoizer) -> Option<String> {
    grouped(value, &Locale::fr)
}

impl Words {
    /// The catalogue `source` of language `lang`. Both sources are ours,
    /// embedded and tested: a syntax error is reported on stderr once and
    /// the messages that did parse are kept.
    fn new(
        source: &str,
        locale: Locale,
        group: fn(&FluentValue<'_>, &IntlLangMemoizer) -> Option<String>,
    ) -> Words {
        let lang = locale.name();
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, errors)| {
            eprintln!("bug: the {lang} catalogue has syntax errors: {errors:?}");
            r
        });
        let id = lang.parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks: the words go to terminals and logs.
        bundle.set_use_isolating(false);
        bundle.set_formatter(Some(group));
        if let Err(errors) = bundle.add_resource(resource) {
            eprintln!("bug: the {lang} catalogue repeats messages: {errors:?}");
        }
        Words { bundle, locale }
    }

    /// Message `id` with `args`; its id when the catalogue lacks it.
    pub fn say(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent = FluentArgs::new();
        for (name, arg) in args {
            match arg {
                Arg::Text(t) => fluent.set(*name, FluentValue::from(t.as_ref())),
                Arg::Count(n) => fluent.set(*name, FluentValue::from(*n as f64)),
            }
        }
        let mut errors = Vec::new();
        let out = self
            .bundle
            .format_pattern(pattern, Some(&fluent), &mut errors);
        out.into_owned()
    }

    /// `n` as this language writes a count (« 1 234 », "1,234").
    pub fn count(&self, n: usize) -> String {
        n.to_formatted_string(&self.locale)
    }

    /// The message ids of this catalogue (for the tests that compare them).
    #[cfg(test)]
    fn ids(&self) -> std::collections::BTreeSet<String> {
        let source = if std::ptr::eq(self, &*ENGLISH) {
            EN
        } else {
            FR
        };
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                fluent_syntax::ast::Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect()
    }
}

/// A value for a message: text as is (names, rows), or a count (plurals,
/// grouped digits).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(std::borrow::Cow<'a, str>),
    Count(usize),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s.into())
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Text(s.into())
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Count(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_hold_the_same_messages() {
        for (lang, source) in [("en", EN), ("fr", FR)] {
            if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
                panic!("{lang}.ftl: {errors:?}");
            }
        }
        let (en, fr) = (words(Lang::En).ids(), words(Lang::Fr).ids());
        let only_en: Vec<_> = en.difference(&fr).collect();
        let only_fr: Vec<_> = fr.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_fr.is_empty(),
            "only in en.ftl: {only_en:?}; only in fr.ftl: {only_fr:?}"
        );
        assert!(en.len() > 20, "{en:?}");
    }

    #[test]
    fn counts_are_grouped_and_plurals_follow_the_language() {
        let fr = words(Lang::Fr);
        let said = fr.say(
            "problem-shared-name",
            &[
                ("name", "« Zoé »".into()),
                ("rows", "12 et 13".into()),
                ("count", 2.into()),
            ],
        );
        assert!(said.contains("aux lignes 12 et 13"), "{said}");
        let one = fr.say(
            "problem-shared-name",
            &[
                ("name", "« Zoé »".into()),
                ("rows", "12".into()),
                ("count", 1.into()),
            ],
        );
        assert!(one.contains("à la ligne 12 :"), "{one}");
        let min = fr.say("problem-short-pin", &[("min", 1234.into())]);
        assert!(min.contains("1\u{202f}234"), "{min:?}");
        let en = words(Lang::En).say("problem-short-pin", &[("min", 1234.into())]);
        assert!(en.contains("1,234"), "{en}");
        assert_eq!(fr.say("no-such-message", &[]), "no-such-message");
    }
}
