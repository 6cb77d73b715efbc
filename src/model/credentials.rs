//! Who logs in: login name → players and their PINs, kept apart from
//! everything renderable. Players sharing a login name (homonyms) each log
//! in when their PINs differ: name and PIN together tell them apart (issue
//! 16); those whose PINs are the same too cannot be told apart, so none of
//! them logs in, and the organiser is told why.

use std::collections::HashMap;
use std::fmt;

use super::pins::{self, PinCell};
use super::players::Kept;
use super::problem::{Problem, ProblemKind, Shown};
use crate::config::Secret;

/// Login name → players and secrets. Kept apart from everything renderable.
/// Players sharing a login name (homonyms) each log in when their PINs
/// differ: name and PIN together tell them apart (issue 16).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Normalised login → the credentials of the players who log in with
    /// it, in sheet order (one, or homonyms with different PINs).
    by_login: HashMap<String, Vec<Credential>>,
    /// Player index → its normalised login and its place in `by_login`
    /// (players without one can't log in).
    login_of: HashMap<usize, (String, usize)>,
    /// The most players sharing one login: every login compares this many
    /// PINs, whatever the name, so time does not tell how many share it.
    widest: usize,
}

#[derive(Clone)]
pub struct Credential {
    pub player: usize,
    /// The PIN as the sheet meant it (the digits of a number-formatted
    /// cell); sessions are bound to it.
    pub secret: Secret,
    /// [`pins::login_digest`] of the secret: what a typed PIN is compared
    /// with.
    digest: [u8; 32],
}

/// Shows the player only: the digest of a 6-digit PIN is as good as the PIN.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("player", &self.player)
            .finish_non_exhaustive()
    }
}

impl Credential {
    fn new(player: usize, secret: String) -> Credential {
        Credential {
            player,
            digest: pins::login_digest(&secret),
            secret: Secret::new(secret),
        }
    }

    /// What a typed PIN's [`login_digest`] must equal (compare it in
    /// constant time).
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

impl Credentials {
    /// The credential of the only player who logs in with the typed name
    /// (case, accents and spacing do not matter); `None` for no one, and
    /// for homonyms (see [`Credentials::named`]). A name that folds to
    /// nothing (blank, invisible characters) is no one.
    pub fn find(&self, typed: &str) -> Option<&Credential> {
        match self.named(typed) {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The credentials of every player who logs in with the typed name:
    /// none, one, or homonyms whose PINs differ.
    pub(crate) fn named(&self, typed: &str) -> &[Credential] {
        let login = normalize_login(typed);
        if login.is_empty() {
            return &[];
        }
        self.by_login.get(&login).map_or(&[][..], Vec::as_slice)
    }

    /// The most players sharing one login name (at least 1): how many PINs
    /// each login attempt compares.
    pub(crate) fn widest(&self) -> usize {
        self.widest.max(1)
    }

    /// The credential of player `player`, if that player can log in.
    pub fn for_player(&self, player: usize) -> Option<&Credential> {
        let (login, at) = self.login_of.get(&player)?;
        self.by_login.get(login)?.get(*at)
    }

    /// How many players can log in.
    pub fn len(&self) -> usize {
        self.login_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.login_of.is_empty()
    }

    /// Every (normalised login, credential), homonyms each on their own.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Credential)> {
        self.by_login
            .iter()
            .flat_map(|(login, cs)| cs.iter().map(move |c| (login.as_str(), c)))
    }

    fn insert(&mut self, login: &str, credential: Credential) {
        let player = credential.player;
        let holders = self.by_login.entry(login.to_string()).or_default();
        holders.push(credential);
        self.widest = self.widest.max(holders.len());
        self.login_of
            .insert(player, (login.to_string(), holders.len() - 1));
    }
}

/// The digest a typed PIN is compared with a [`Credential`]'s by: spaces
/// of any kind ignored, a number typed with digit groups read as its
/// digits, the same way the sheet's PINs are read.
pub(crate) fn login_digest(typed_pin: &str) -> [u8; 32] {
    pins::login_digest(typed_pin)
}

/// What a person would type, folded: `  Zoé  ÉLOÏSE ` → `zoe eloise`.
pub fn normalize_login(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The credentials of the players `kept`, in sheet order, and a problem on
/// each row that cannot log in or shares its name (`tab`: the players'
/// tab; `login`, `secret`: its columns).
pub(super) fn admit(
    kept: &[Kept],
    tab: &str,
    (login_column, secret_column): (&str, &str),
    problems: &mut Vec<Problem>,
) -> Credentials {
    let mut problem = |row: usize, column: &str, kind| {
        problems.push(Problem::warning(tab, Some(row), Some(column), kind));
    };
    let mut credentials = Credentials::default();
    for (login, holders) in logins(kept) {
        if login.is_empty() {
            // Only invisible characters (a zero-width space): an empty
            // typed name would have matched it (issue 14).
            for &i in &holders {
                problem(kept[i].row, login_column, ProblemKind::InvisibleName);
            }
            continue;
        }
        // Holders with a PIN one can type, and that PIN's digest.
        let mut usable: Vec<(usize, Credential)> = Vec::new();
        for &i in &holders {
            let k = &kept[i];
            match k.pin.pin() {
                Some(pin) => usable.push((i, Credential::new(i, pin.to_string()))),
                // Scientific notation was reported with the row.
                None if k.pin == PinCell::Scientific => {}
                None => problem(
                    k.row,
                    secret_column,
                    ProblemKind::NoPin {
                        name: Shown::cell(&k.name),
                    },
                ),
            }
        }
        let mut admitted = Vec::with_capacity(usable.len());
        for (i, credential) in &usable {
            let (mut same_pin, mut other_pin) = (Vec::new(), Vec::new());
            for (j, other) in usable.iter().filter(|(j, _)| j != i) {
                if other.digest() == credential.digest() {
                    same_pin.push(kept[*j].row);
                } else {
                    other_pin.push(kept[*j].row);
                }
            }
            let name = Shown::cell(&kept[*i].name);
            admitted.push(same_pin.is_empty());
            let kind = match (same_pin.is_empty(), other_pin.is_empty()) {
                (true, true) => continue,
                (true, false) => ProblemKind::SharedName { name, other_pin },
                (false, _) => ProblemKind::SameNameAndPin {
                    name,
                    same_pin,
                    other_pin,
                },
            };
            problem(kept[*i].row, login_column, kind);
        }
        for ((_, credential), admit) in usable.into_iter().zip(admitted) {
            if admit {
                credentials.insert(&login, credential);
            }
        }
    }
    credentials
}

/// The players `kept` grouped by normalised login, logins in sheet order:
/// `widest` and the problems do not depend on a hash map's order.
fn logins(kept: &[Kept]) -> Vec<(String, Vec<usize>)> {
    let mut by_login: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, k) in kept.iter().enumerate() {
        by_login
            .entry(normalize_login(&k.name))
            .or_default()
            .push(i);
    }
    let mut by_login: Vec<(String, Vec<usize>)> = by_login.into_iter().collect();
    by_login.sort_by_key(|(_, holders)| holders.first().copied());
    by_login
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_fold_case_accents_and_spaces() {
        assert_eq!(normalize_login("  Zoé   ÉLOÏSE "), "zoe eloise");
        // Invisible only: folds to nothing, and nothing is no one.
        assert_eq!(normalize_login("\u{200b}\u{200b}"), "");
        assert!(Credentials::default().find("").is_none());
    }

    #[test]
    fn homonyms_are_told_apart_by_their_pins() {
        let mut c = Credentials::default();
        assert_eq!(c.widest(), 1, "an empty roster still compares one PIN");
        c.insert("sam martin", Credential::new(0, "482913".into()));
        c.insert("ann", Credential::new(1, "615482".into()));
        c.insert("sam martin", Credential::new(3, "739164".into()));
        assert_eq!((c.len(), c.widest()), (3, 2));
        let players =
            |typed: &str| -> Vec<usize> { c.named(typed).iter().map(|x| x.player).collect() };
        assert_eq!(players("  SAM  Martin"), [0, 3]);
        assert_eq!(players("Ann"), [1]);
        assert!(players("").is_empty() && players("nobody").is_empty());
        // `find` is for a name only one player has.
        assert!(c.find("sam martin").is_none());
        assert_eq!(c.find("ann").map(|x| x.player), Some(1));
        assert_eq!(c.for_player(3).map(|x| x.secret.expose()), Some("739164"));
        assert!(c.for_player(2).is_none());
        // Typed with spaces or digit groups, the same PIN.
        assert_eq!(
            c.for_player(3).map(Credential::digest),
            Some(&login_digest("739 164"))
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("739164") && !debug.contains("digest"),
            "{debug}"
        );
    }
}
