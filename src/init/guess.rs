//! Guessing from column names, French and English, what each column of
//! a roster holds: which tab is the players' (a name and a PIN column),
//! its id, login, PIN, photo and private columns, the points to sort by,
//! and which other tabs hold rows of players (a column with the player's
//! id). What it cannot tell is a [`Pick::Todo`], never a silent guess.

use super::quoted;
use super::read::Tab;

/// What a column looks like it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Id,
    Name,
    Pin,
    Photo,
    /// Contact details and the like: the player's own page only.
    Private,
    Points,
    Admin,
}

/// Column names by role, normalised ([`normalise`]), best first. French and
/// English, as clubs write them.
#[rustfmt::skip]
const NAMES: &[(Role, &[&str])] = &[
    (Role::Pin, &[
        "pin", "code pin", "pin code", "code secret", "secret code", "code", "secret",
        "mot de passe", "mdp", "password", "passcode", "pass", "code d acces", "access code",
    ]),
    (Role::Id, &[
        "id", "identifiant", "player id", "id player", "id joueur", "joueur id", "member id",
        "id membre", "no", "num", "numero", "no licence", "licence no", "numero de licence",
        "licence", "license", "license no", "matricule", "ref", "reference", "slug",
    ]),
    (Role::Name, &[
        "name", "full name", "nom complet", "player", "player name", "joueur", "joueuse",
        "nom du joueur", "nom joueur", "prenom nom", "nom prenom", "pseudo", "nickname",
        "surnom", "username", "nom d utilisateur", "login", "nom", "last name", "surname",
        "prenom", "first name",
    ]),
    (Role::Photo, &[
        "photo", "photo url", "url photo", "lien photo", "photo link", "picture", "image",
        "avatar", "portrait",
    ]),
    (Role::Private, &[
        "email", "e mail", "courriel", "mail", "adresse mail", "adresse e mail",
        "adresse courriel", "email address", "e mail address", "phone", "phone number",
        "telephone", "tel", "mobile", "portable", "numero de telephone", "address", "adresse",
        "postal address", "adresse postale", "birthday", "date of birth", "birth date", "dob",
        "date de naissance", "naissance",
    ]),
    (Role::Points, &["points", "pts", "total points", "points total", "score", "total"]),
    (Role::Admin, &[
        "admin", "administrateur", "administrator", "organisateur", "organiser", "organizer",
    ]),
];

/// Names of a first name alone: a login needs the whole name in one column.
const FIRST_NAMES: &[&str] = &["prenom", "first name"];
/// Names of a last name alone.
const LAST_NAMES: &[&str] = &["nom", "last name", "surname"];

/// Tab names that say "the players".
#[rustfmt::skip]
const PLAYER_TABS: &[&str] = &[
    "players", "player", "joueurs", "joueuses", "joueur", "members", "membres", "roster",
    "effectif", "licencies", "adherents", "team", "equipe",
];

/// Words that, alone or with the id's name, make a column that holds a
/// player's id in another tab (`player_id`, `id joueur`, `N° joueur`).
const PLAYER_WORDS: &[&str] = &[
    "player", "joueur", "joueuse", "member", "membre", "licencie",
];

/// Ids too generic to join on by name alone: another tab's `id` is more
/// likely its own row number.
const GENERIC_IDS: &[&str] = &["id", "no", "num", "numero", "identifiant", "ref"];

/// Column names only French uses, and only English: the site's language.
#[rustfmt::skip]
const FRENCH: &[&str] = &[
    "identifiant", "id joueur", "id membre", "numero", "numero de licence", "nom complet",
    "joueur", "joueuse", "nom du joueur", "nom joueur", "prenom nom", "nom prenom", "surnom",
    "nom d utilisateur", "nom", "prenom", "code secret", "mot de passe", "mdp", "code d acces",
    "lien photo", "courriel", "adresse mail", "adresse e mail", "adresse courriel",
    "telephone", "portable", "numero de telephone", "adresse", "adresse postale",
    "date de naissance", "naissance", "administrateur", "organisateur", "equipe", "buts",
    "passes", "passes decisives", "poste", "matchs", "matchs joues", "joues", "adversaire",
    "resultat", "lieu", "domicile", "exterieur", "categorie", "groupe", "saison",
];
#[rustfmt::skip]
const ENGLISH: &[&str] = &[
    "name", "full name", "player", "player name", "player id", "first name", "last name",
    "surname", "nickname", "username", "password", "access code", "picture", "email address",
    "phone", "phone number", "address", "birthday", "date of birth", "birth date", "team",
    "goals", "assists", "position", "played", "games", "opponent", "venue", "result", "home",
    "away", "season", "group", "category",
];

/// A column name as compared: lower case, accents and symbols gone (`N°`
/// and `#` read as "no"), words separated by one space.
fn normalise(header: &str) -> String {
    let header = header.replace(['°', 'º'], "o").replace('#', " no ");
    let ascii = deunicode::deunicode(&header).to_lowercase();
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The role of a column name and its rank among that role's names (0 is
/// the surest), if it has one.
fn role_of(header: &str) -> Option<(Role, usize)> {
    let n = normalise(header);
    NAMES
        .iter()
        .find_map(|(role, names)| names.iter().position(|x| *x == n).map(|rank| (*role, rank)))
}

/// The best column of `header` for `role`, skipping `taken` ones.
fn best(header: &[String], role: Role, taken: &[usize]) -> Option<usize> {
    header
        .iter()
        .enumerate()
        .filter(|(i, _)| !taken.contains(i))
        .filter_map(|(i, h)| match role_of(h) {
            Some((r, rank)) if r == role => Some((rank, i)),
            _ => None,
        })
        .min()
        .map(|(_, i)| i)
}

/// A column choice, or a placeholder and why it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pick {
    Column(String),
    Todo { placeholder: String, why: String },
}

impl Pick {
    pub(super) fn value(&self) -> &str {
        match self {
            Pick::Column(c) => c,
            Pick::Todo { placeholder, .. } => placeholder,
        }
    }
}

/// The players tab and its columns, as guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlayersPlan {
    pub(super) tab: String,
    /// Why this tab (or a TODO: no tab had both a name and a PIN).
    pub(super) tab_note: Result<String, String>,
    pub(super) id: Pick,
    /// The id is the login column (no id column found).
    pub(super) id_is_login: bool,
    pub(super) login: Pick,
    /// A note on the login column (first and last names apart).
    pub(super) login_note: Option<String>,
    pub(super) secret: Pick,
    pub(super) private: Vec<String>,
    pub(super) photo: Option<String>,
    pub(super) admin: Option<String>,
    pub(super) sort_by: Option<String>,
    /// What the index shows by default.
    pub(super) public: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Join {
    pub(super) tab: String,
    pub(super) key: Pick,
    /// Joined by a column whose name alone does not prove it holds ids.
    pub(super) unsure: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) players: PlayersPlan,
    pub(super) joins: Vec<Join>,
}

/// The plan for these tabs; `None` when there is none.
pub(super) fn guess(tabs: &[Tab]) -> Option<Plan> {
    let has = |t: &Tab, role: Role| best(&t.header, role, &[]).is_some();
    let candidates: Vec<&Tab> = tabs
        .iter()
        .filter(|t| has(t, Role::Name) && has(t, Role::Pin))
        .collect();
    let chosen = likeliest(&candidates);
    let (tab, tab_note) = match chosen {
        Some(t) => (
            t,
            Ok(if candidates.len() > 1 {
                format!(
                    "has a name and a PIN column (so do {}: pick another here if need be)",
                    candidates
                        .iter()
                        .filter(|c| c.name != t.name)
                        .map(|c| quoted(&c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                "has a name and a PIN column".to_string()
            }),
        ),
        None => (
            likeliest(&tabs.iter().collect::<Vec<_>>())?,
            Err("no tab has both a name and a PIN column: name the players' tab".to_string()),
        ),
    };
    let players = players_plan(tab, tab_note);
    let joins = tabs
        .iter()
        .filter(|t| t.name != tab.name)
        .map(|t| join_of(t, &players))
        .collect();
    Some(Plan { players, joins })
}

/// The tab most like a list of players: named so (`Players`, `Joueurs`),
/// then the one with the most columns a player has (id, name, PIN,
/// contacts, photo, points); the first of equals.
fn likeliest<'t>(tabs: &[&'t Tab]) -> Option<&'t Tab> {
    let named = |t: &Tab| PLAYER_TABS.contains(&normalise(&t.name).as_str());
    let roles = |t: &Tab| t.header.iter().filter(|h| role_of(h).is_some()).count();
    tabs.iter()
        .enumerate()
        .max_by_key(|(i, t)| (named(t), roles(t), std::cmp::Reverse(*i)))
        .map(|(_, t)| *t)
}

fn players_plan(tab: &Tab, tab_note: Result<String, String>) -> PlayersPlan {
    let h = &tab.header;
    let columns = || h.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let mut taken = Vec::new();
    let secret = best(h, Role::Pin, &taken);
    taken.extend(secret);
    let id = best(h, Role::Id, &taken);
    taken.extend(id);
    let login = best(h, Role::Name, &taken);
    taken.extend(login);
    let login_note = login.and_then(|l| {
        let n = normalise(&h[l]);
        let other = if LAST_NAMES.contains(&n.as_str()) {
            FIRST_NAMES
        } else if FIRST_NAMES.contains(&n.as_str()) {
            LAST_NAMES
        } else {
            return None;
        };
        let apart = h.iter().find(|c| other.contains(&normalise(c).as_str()))?;
        Some(format!(
            "players type this one column to log in, and {} is apart: add a column with the whole name, and name it here",
            quoted(apart)
        ))
    });
    let col = |i: Option<usize>| i.and_then(|i| h.get(i)).cloned();
    let secret = match col(secret) {
        Some(c) => Pick::Column(c),
        None => Pick::Todo {
            placeholder: "pin".into(),
            why: format!(
                "no PIN column found (columns: {}): add one (formatted as plain text), and name it here",
                columns()
            ),
        },
    };
    let login = match col(login) {
        Some(c) => Pick::Column(c),
        None => Pick::Todo {
            placeholder: "name".into(),
            why: format!(
                "no name column found (columns: {}): name the column players type to log in",
                columns()
            ),
        },
    };
    let (id, id_is_login) = match (col(id), &login) {
        (Some(c), _) => (Pick::Column(c), false),
        (None, Pick::Column(name)) => (Pick::Column(name.clone()), true),
        (None, Pick::Todo { .. }) => (
            Pick::Todo {
                placeholder: "id".into(),
                why: format!(
                    "no id column found (columns: {}): name a column that is unique and never changes",
                    columns()
                ),
            },
            false,
        ),
    };
    let in_use: Vec<&str> = [&id, &login, &secret].map(Pick::value).to_vec();
    let of_role = |role: Role| -> Vec<String> {
        h.iter()
            .filter(|c| !in_use.contains(&c.as_str()))
            .filter(|c| role_of(c).is_some_and(|(r, _)| r == role))
            .cloned()
            .collect()
    };
    let private = of_role(Role::Private);
    let photo = of_role(Role::Photo).into_iter().next();
    let admin = of_role(Role::Admin).into_iter().next();
    let sort_by = of_role(Role::Points).into_iter().next();
    // The index's default: every column but the id, the login, the secret
    // and the private ones (and the photo and admin marks, which are not
    // data to list).
    let public = h
        .iter()
        .filter(|c| !in_use.contains(&c.as_str()) && !c.is_empty())
        .filter(|c| {
            !private.contains(c) && Some(*c) != photo.as_ref() && Some(*c) != admin.as_ref()
        })
        .cloned()
        .collect();
    PlayersPlan {
        tab: tab.name.clone(),
        tab_note,
        id,
        id_is_login,
        login,
        login_note,
        secret,
        private,
        photo,
        admin,
        sort_by,
        public,
    }
}

/// How `tab` joins the players: by the column that holds the player's id.
fn join_of(tab: &Tab, players: &PlayersPlan) -> Join {
    let id = normalise(players.id.value());
    let explicit = |n: &str| {
        PLAYER_WORDS.iter().any(|w| {
            [
                format!("{w} id"),
                format!("id {w}"),
                format!("{w} {id}"),
                format!("{id} {w}"),
                format!("{id} du {w}"),
                format!("{id} de {w}"),
                format!("no {w}"),
                format!("{w} no"),
                format!("numero {w}"),
                format!("numero de {w}"),
            ]
            .iter()
            .any(|form| form == n)
        })
    };
    let found =
        |accept: &dyn Fn(&str) -> bool| tab.header.iter().find(|h| accept(&normalise(h))).cloned();
    let sure = found(&explicit).or_else(|| {
        (!GENERIC_IDS.contains(&id.as_str()))
            .then(|| found(&|n: &str| n == id))
            .flatten()
    });
    if let Some(key) = sure {
        return Join {
            tab: tab.name.clone(),
            key: Pick::Column(key),
            unsure: false,
        };
    }
    let unsure = found(&|n: &str| n == id || PLAYER_WORDS.contains(&n));
    match unsure {
        Some(key) => Join {
            tab: tab.name.clone(),
            key: Pick::Column(key),
            unsure: true,
        },
        None => Join {
            tab: tab.name.clone(),
            key: Pick::Todo {
                placeholder: "player_id".into(),
                why: format!(
                    "no column of {} holds the player's id, it seems (columns: {})",
                    quoted(&tab.name),
                    tab.header
                        .iter()
                        .map(|c| quoted(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            unsure: false,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En { guessed: bool },
    Fr { guessed: bool },
}

/// French when more column names are French than English.
pub(super) fn guess_lang(tabs: &[Tab]) -> Lang {
    let (mut fr, mut en) = (0, 0);
    for h in tabs.iter().flat_map(|t| &t.header) {
        let n = normalise(h);
        fr += usize::from(FRENCH.contains(&n.as_str()));
        en += usize::from(ENGLISH.contains(&n.as_str()));
    }
    if fr > en {
        Lang::Fr { guessed: true }
    } else {
        Lang::En { guessed: true }
    }
}

/// The demo's two tabs (examples/demo/), for the tests.
#[cfg(test)]
pub(super) fn demo_tabs() -> Vec<Tab> {
    vec![
        Tab::new(
            "players",
            &[
                "id", "name", "pin", "team", "position", "points", "goals", "assists", "played",
                "email",
            ],
        ),
        Tab::new(
            "matches",
            &[
                "player_id",
                "date",
                "opponent",
                "venue",
                "result",
                "goals",
                "assists",
                "minutes",
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(c: &str) -> Pick {
        Pick::Column(c.into())
    }

    #[test]
    fn names_are_compared_without_case_accents_or_symbols() {
        assert_eq!(normalise("  Prénom "), "prenom");
        assert_eq!(normalise("N°"), "no");
        assert_eq!(normalise("Nº joueur"), "no joueur");
        assert_eq!(normalise("#"), "no");
        assert_eq!(normalise("E-mail"), "e mail");
        assert_eq!(normalise("Mot de passe"), "mot de passe");
        assert_eq!(normalise("player_id"), "player id");
        assert_eq!(role_of("Équipe"), None);
        assert_eq!(role_of("Courriel").map(|r| r.0), Some(Role::Private));
        assert_eq!(role_of("Code PIN").map(|r| r.0), Some(Role::Pin));
        assert_eq!(role_of("Identifiant").map(|r| r.0), Some(Role::Id));
    }

    #[test]
    fn the_demo_is_guessed_whole() {
        let plan = guess(&demo_tabs()).unwrap();
        let p = &plan.players;
        assert_eq!(p.tab, "players");
        assert!(p.tab_note.is_ok());
        assert_eq!(
            (&p.id, &p.login, &p.secret),
            (&col("id"), &col("name"), &col("pin"))
        );
        assert!(!p.id_is_login && p.login_note.is_none());
        assert_eq!(p.private, ["email"]);
        assert_eq!(p.sort_by.as_deref(), Some("points"));
        assert_eq!(p.photo, None);
        assert_eq!(
            p.public,
            ["team", "position", "points", "goals", "assists", "played"]
        );
        assert_eq!(
            plan.joins,
            [Join {
                tab: "matches".into(),
                key: col("player_id"),
                unsure: false
            }]
        );
        assert_eq!(guess_lang(&demo_tabs()), Lang::En { guessed: true });
    }

    #[test]
    fn without_a_pin_the_tab_most_like_players_is_proposed() {
        let tabs = vec![
            Tab::new("Présences", &["Joueur", "Date"]),
            Tab::new("Sheet1", &["Prénom", "Nom", "Téléphone"]),
            Tab::new("Sheet2", &["Nom", "Date"]),
        ];
        let plan = guess(&tabs).unwrap();
        assert_eq!(plan.players.tab, "Sheet1");
        assert!(plan.players.tab_note.is_err());
        // Of two that look alike, the one named so; of equals, the first.
        let tabs = vec![
            Tab::new("Sheet1", &["id", "name", "pin", "email"]),
            Tab::new("Joueurs", &["id", "name", "pin"]),
            Tab::new("Sheet3", &["id", "name", "pin"]),
        ];
        let plan = guess(&tabs).unwrap();
        assert_eq!(plan.players.tab, "Joueurs");
        let note = plan.players.tab_note.unwrap();
        assert!(note.contains("so do \"Sheet1\", \"Sheet3\""), "{note}");
        let plan = guess(&tabs[2..]).unwrap();
        assert_eq!(plan.players.tab, "Sheet3");
    }

    #[test]
    fn french_names_find_the_players_tab_among_others() {
        let tabs = vec![
            Tab::new("Calendrier", &["Date", "Adversaire", "Lieu"]),
            Tab::new(
                "Joueurs",
                &[
                    "N°",
                    "Nom complet",
                    "Code",
                    "Équipe",
                    "Pts",
                    "Courriel",
                    "Téléphone",
                    "Photo",
                    "Admin",
                ],
            ),
            Tab::new("Buts", &["N° joueur", "Date", "Buts"]),
            Tab::new("Présences", &["Joueur", "Date"]),
        ];
        let plan = guess(&tabs).unwrap();
        let p = &plan.players;
        assert_eq!(p.tab, "Joueurs");
        assert_eq!(
            (&p.id, &p.login, &p.secret),
            (&col("N°"), &col("Nom complet"), &col("Code"))
        );
        assert_eq!(p.private, ["Courriel", "Téléphone"]);
        assert_eq!(p.photo.as_deref(), Some("Photo"));
        assert_eq!(p.admin.as_deref(), Some("Admin"));
        assert_eq!(p.sort_by.as_deref(), Some("Pts"));
        assert_eq!(p.public, ["Équipe", "Pts"]);
        let keys: Vec<(&str, &Pick, bool)> = plan
            .joins
            .iter()
            .map(|j| (j.tab.as_str(), &j.key, j.unsure))
            .collect();
        assert!(
            matches!(keys[0], ("Calendrier", Pick::Todo { .. }, false)),
            "{keys:?}"
        );
        assert_eq!(keys[1], ("Buts", &col("N° joueur"), false));
        // "Joueur" alone may hold names: joined, with a TODO to check.
        assert_eq!(keys[2], ("Présences", &col("Joueur"), true));
        assert_eq!(guess_lang(&tabs), Lang::Fr { guessed: true });
    }
}
