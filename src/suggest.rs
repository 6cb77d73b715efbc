//! "Did you mean": of the names that exist (tabs, columns, config keys), the
//! one a name that was not found was probably meant to be: the same name in
//! another case or with stray spaces, or a few letters apart (edit distance,
//! strsim). A leaf: it imports nothing, so errors and every stage may use it.

/// How an existing name resembles the one asked for.
/// `S`: `&str` as found, `String` when a problem keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nearest<S> {
    /// The same letters in another case: `points` and `Points`.
    OtherCase(S),
    /// The same apart from spaces before or after: `Points` and `Points `.
    Spaces(S),
    /// A few letters apart: `Matchs` and `Matches`.
    Close(S),
}

impl<S: AsRef<str>> Nearest<S> {
    /// The existing name.
    pub(crate) fn name(&self) -> &str {
        match self {
            Nearest::OtherCase(n) | Nearest::Spaces(n) | Nearest::Close(n) => n.as_ref(),
        }
    }

    /// The same, holding its name (for a value that outlives the names).
    pub(crate) fn to_owned(&self) -> Nearest<String> {
        match self {
            Nearest::OtherCase(n) => Nearest::OtherCase(n.as_ref().to_string()),
            Nearest::Spaces(n) => Nearest::Spaces(n.as_ref().to_string()),
            Nearest::Close(n) => Nearest::Close(n.as_ref().to_string()),
        }
    }
}

/// The name of `known` that `wanted` most likely means, if one is close
/// enough: a difference of case or of surrounding spaces first, then the
/// fewest edits (a swap of two neighbours counts as one), at most a third
/// of `wanted`'s length (at least one), as rustc's "did you mean" allows.
/// Ties go to the first. A name equal to `wanted` is not a suggestion.
pub(crate) fn nearest<'a>(
    wanted: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<Nearest<&'a str>> {
    let folded = wanted.trim().to_lowercase();
    let max_edits = wanted.chars().count().max(3) / 3;
    let mut best: Option<(usize, &'a str)> = None;
    for name in known {
        if name == wanted {
            continue;
        }
        if name.to_lowercase() == wanted.to_lowercase() {
            return Some(Nearest::OtherCase(name));
        }
        if name.trim() == wanted.trim() {
            return Some(Nearest::Spaces(name));
        }
        let edits = strsim::osa_distance(&folded, &name.trim().to_lowercase());
        if edits <= max_edits && best.is_none_or(|(fewest, _)| edits < fewest) {
            best = Some((edits, name));
        }
    }
    best.map(|(_, name)| Nearest::Close(name))
}

/// One sentence about `wanted` and its nearest name in `known`, or `None`.
/// `whose` says where the existing name lives ("the sheet's", "the tab",
/// or nothing): `"points" differs from the sheet's "Points" only in case`.
pub(crate) fn sentence<'a>(
    wanted: &str,
    known: impl IntoIterator<Item = &'a str>,
    whose: &str,
) -> Option<String> {
    Some(sentence_for(wanted, &nearest(wanted, known)?, whose))
}

/// The sentence of [`sentence`] for a `near` already found.
pub(crate) fn sentence_for<S: AsRef<str>>(wanted: &str, near: &Nearest<S>, whose: &str) -> String {
    let whose = if whose.is_empty() {
        String::new()
    } else {
        format!("{whose} ")
    };
    let name = near.name();
    match near {
        Nearest::OtherCase(_) => {
            format!("\"{wanted}\" differs from {whose}\"{name}\" only in case")
        }
        Nearest::Spaces(_) => {
            format!("\"{wanted}\" differs from {whose}\"{name}\" only by spaces before or after it")
        }
        Nearest::Close(_) => format!("did you mean \"{name}\"?"),
    }
}

/// For an error's `Display` that lists what exists as `a, b, c` (how the
/// errors carry it): ". Did you mean \"b\"?" after the list, or nothing.
/// A name that itself holds ", " is split there: it then gets no
/// suggestion, or a wrong half of one, never a panic.
pub(crate) fn after_list(wanted: &str, found: &str, whose: &str) -> String {
    let known = found.split(", ").filter(|n| !n.is_empty());
    match sentence(wanted, known, whose) {
        Some(s) => format!(". {}", capitalised(&s)),
        None => String::new(),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spaces_and_typos_are_told_apart() {
        let columns = ["id", "name", "Points", "Team "];
        assert_eq!(
            nearest("points", columns),
            Some(Nearest::OtherCase("Points"))
        );
        assert_eq!(nearest("Team", columns), Some(Nearest::Spaces("Team ")));
        assert_eq!(nearest("Pionts", columns), Some(Nearest::Close("Points")));
        assert_eq!(nearest("nmae", columns), Some(Nearest::Close("name")));
        assert_eq!(
            nearest("refesh_secs", ["title", "refresh_secs"]),
            Some(Nearest::Close("refresh_secs"))
        );
    }

    #[test]
    fn far_or_equal_names_are_no_suggestion() {
        assert_eq!(nearest("code", ["id", "name", "pin"]), None);
        assert_eq!(nearest("de", ["en", "fr"]), None);
        assert_eq!(nearest("Matches", ["Matches"]), None);
        assert_eq!(nearest("x", std::iter::empty()), None);
    }

    #[test]
    fn the_closest_wins_and_ties_go_to_the_first() {
        assert_eq!(
            nearest("Matchs", ["Matchez", "Matches"]),
            Some(Nearest::Close("Matches"))
        );
        assert_eq!(
            nearest("Matchess", ["Matches", "Matchesss"]),
            Some(Nearest::Close("Matches"))
        );
    }

    #[test]
    fn sentences_read_as_the_organiser_needs() {
        assert_eq!(
            after_list("points", "id, name, Points", "the sheet's"),
            ". \"points\" differs from the sheet's \"Points\" only in case"
        );
        assert_eq!(
            after_list("Matchs", "Players, Matches", "the tab"),
            ". Did you mean \"Matches\"?"
        );
        assert_eq!(after_list("Results", "Players, Matches", "the tab"), "");
        assert_eq!(after_list("Results", "", "the tab"), "");
    }
}
