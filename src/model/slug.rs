//! Player slugs: `p/<slug>/` is a player's page, so a slug is URL-safe and
//! path-safe, unique, and never depends on row order.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

/// A URL-safe, path-safe player identifier: `[a-z0-9-]{1,64}`, never empty,
/// never `.` or `..`, so `p/<slug>/` always stays inside `out_dir`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts only what [`slugify`] can produce (for values from outside,
    /// such as a header nginx sends).
    pub fn parse(s: &str) -> Option<Slug> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Slug(s.to_string()))
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_SLUG: usize = 64;

/// Lowercase ASCII `[a-z0-9-]`, accents transliterated: `Zoé Éloïse` →
/// `zoe-eloise`. An id with no letter or digit gets `player-<hash>`.
pub fn slugify(id: &str) -> String {
    let ascii = deunicode::deunicode(id).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_SLUG - 8);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        format!(
            "player-{}",
            &hex::encode(Sha256::digest(id.as_bytes()))[..8]
        )
    } else {
        out
    }
}

/// Slugs for ids in order, unique: among ids sharing a base slug, the one
/// that sorts first keeps it and the others get a suffix from a hash of
/// their own id, so a slug never depends on row order.
pub(super) fn unique_slugs<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<Slug> {
    let ids: Vec<&str> = ids.collect();
    let bases: Vec<String> = ids.iter().map(|id| slugify(id)).collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, base) in bases.iter().enumerate() {
        groups.entry(base).or_default().push(i);
    }
    let mut out: Vec<Option<String>> = vec![None; ids.len()];
    for members in groups.values() {
        // An id that already is its slug ("zoe") keeps it; otherwise the id
        // that sorts first does.
        let first = members
            .iter()
            .min_by_key(|&&i| (ids[i] != bases[i], ids[i]));
        for &i in members {
            out[i] = Some(if Some(&i) == first {
                bases[i].clone()
            } else {
                let digest = hex::encode(Sha256::digest(ids[i].as_bytes()));
                format!("{}-{}", bases[i], &digest[..6])
            });
        }
    }
    // A suffixed slug that hits another base slug (astronomically rare):
    // lengthen its hash until it is unique.
    let mut seen = std::collections::HashSet::new();
    out.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut slug = s.unwrap_or_else(|| bases[i].clone());
            let mut n = 2;
            while !seen.insert(slug.clone()) {
                slug = format!("{}-{n}", bases[i]);
                n += 1;
            }
            Slug(slug)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_path_safe() {
        assert_eq!(slugify("Zoé Éloïse"), "zoe-eloise");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(
            slugify("<script>alert(1)</script>"),
            "script-alert-1-script"
        );
        assert!(slugify("..").starts_with("player-"));
        assert!(slugify("").starts_with("player-"));
        let long = "x".repeat(500);
        assert!(slugify(&long).len() <= MAX_SLUG);
        for s in ["..", "a/b", "日本", "   "] {
            assert!(Slug::parse(&slugify(s)).is_some(), "{s}");
        }
    }

    #[test]
    fn colliding_slugs_are_unique_and_independent_of_order() {
        let a = unique_slugs(["Zoé", "zoe", "ZOE"].into_iter());
        let b = unique_slugs(["ZOE", "Zoé", "zoe"].into_iter());
        let sa: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(sa.len(), 3);
        // Same id, same slug, whatever the order.
        assert_eq!(a[0], b[1]);
        assert_eq!(a[1], b[2]);
        assert_eq!(a[2], b[0]);
        // The id that already is its slug keeps it.
        assert_eq!(a[1].as_str(), "zoe");
        let c = unique_slugs(["Zoé", "ZOE"].into_iter());
        assert_eq!(c[1].as_str(), "zoe"); // no exact match: "ZOE" sorts first
    }
}
