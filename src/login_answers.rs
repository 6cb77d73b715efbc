//! The login page's answers (issue 27): what a login, a logout or nginx
//! tells the player by sending the browser back to `/login/?…`, and the
//! static page that shows each one, so that every answer reads without
//! JavaScript. One list, read by the API (the redirects), render (a page
//! per answer), `gen nginx` (its map from the query to the page) and
//! `gen serve` (the same choice). A leaf: it imports nothing of the crate.
//!
//! A wait travels in the query as seconds (as before issue 27, so that
//! login.js and programs read it alike), but always a whole number of
//! minutes from [`WAIT_MINUTES`]: the set of pages stays finite, and the
//! page says the same number as the URL.

/// The waits a page can say, in minutes. A wait is rounded up to the next
/// one, so a player told "N min" never finds the lock still on: every
/// minute up to the per-address window (15), then coarser up to the
/// longest name lock (an hour).
pub const WAIT_MINUTES: [u32; 19] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 30, 45, 60,
];

/// The minutes a page says for a wait of `secs` seconds: the smallest of
/// [`WAIT_MINUTES`] that covers it (the largest for anything longer).
pub fn wait_minutes(secs: u64) -> u32 {
    let minutes = secs.div_ceil(60).max(1);
    WAIT_MINUTES
        .into_iter()
        .find(|&m| u64::from(m) >= minutes)
        .unwrap_or(WAIT_MINUTES[WAIT_MINUTES.len() - 1])
}

/// One answer of the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAnswer {
    /// Wrong name or PIN (`error=1`).
    Wrong,
    /// A login over plain HTTP from afar (`error=https`).
    HttpsNeeded,
    /// gen could not answer (`error=server`: nginx, or no roster yet).
    Server,
    /// Too many failures from this address or across the site; the wait in
    /// minutes when known (`error=limited[&wait=…]`).
    Limited(Option<u32>),
    /// Too many tries for this name from this network or device, for this
    /// many minutes (`error=locked&wait=…`).
    Locked(u32),
    /// Logged out (`out=1`).
    LoggedOut,
}

impl LoginAnswer {
    /// Every answer a page exists for.
    pub fn all() -> Vec<LoginAnswer> {
        let mut all = vec![
            LoginAnswer::Wrong,
            LoginAnswer::HttpsNeeded,
            LoginAnswer::Server,
            LoginAnswer::Limited(None),
            LoginAnswer::LoggedOut,
        ];
        all.extend(WAIT_MINUTES.map(|m| LoginAnswer::Limited(Some(m))));
        all.extend(WAIT_MINUTES.map(LoginAnswer::Locked));
        all
    }

    /// A wait of `secs` seconds from the per-address limit or the budget.
    pub fn limited(secs: u64) -> LoginAnswer {
        LoginAnswer::Limited(Some(wait_minutes(secs)))
    }

    /// A name lock with `secs` seconds left.
    pub fn locked(secs: u64) -> LoginAnswer {
        LoginAnswer::Locked(wait_minutes(secs))
    }

    /// The wait in seconds the query carries (and a 429's `Retry-After`).
    pub fn wait_secs(self) -> Option<u64> {
        match self {
            LoginAnswer::Limited(Some(m)) | LoginAnswer::Locked(m) => Some(u64::from(m) * 60),
            _ => None,
        }
    }

    /// The query's values: (`error`, `wait`, `out`), "" when absent.
    pub fn params(self) -> (&'static str, String, &'static str) {
        let wait = self.wait_secs().map_or_else(String::new, |s| s.to_string());
        match self {
            LoginAnswer::Wrong => ("1", wait, ""),
            LoginAnswer::HttpsNeeded => ("https", wait, ""),
            LoginAnswer::Server => ("server", wait, ""),
            LoginAnswer::Limited(_) => ("limited", wait, ""),
            LoginAnswer::Locked(_) => ("locked", wait, ""),
            LoginAnswer::LoggedOut => ("", wait, "1"),
        }
    }

    /// The query string after `/login/?` (before any `&next=`).
    pub fn query(self) -> String {
        match self.params() {
            ("", _, out) => format!("out={out}"),
            (error, wait, _) if wait.is_empty() => format!("error={error}"),
            (error, wait, _) => format!("error={error}&wait={wait}"),
        }
    }

    /// The answer a query's `error`, `wait` and `out` stand for, if any.
    pub fn from_params(error: &str, wait: &str, out: &str) -> Option<LoginAnswer> {
        LoginAnswer::all()
            .into_iter()
            .find(|a| a.params() == (error, wait.to_string(), out))
    }

    /// The answer of a `/login/` query string, if any.
    pub fn from_query(query: &str) -> Option<LoginAnswer> {
        let (mut error, mut wait, mut out) = (None, None, None);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "error" => &mut error,
                "wait" => &mut wait,
                "out" => &mut out,
                _ => continue,
            };
            // The first value, as nginx's `$arg_…` takes it.
            slot.get_or_insert(v.into_owned());
        }
        let get = |v: &Option<String>| v.clone().unwrap_or_default();
        LoginAnswer::from_params(&get(&error), &get(&wait), &get(&out))
    }

    /// Which message the page shows (the id of its paragraph is
    /// `login-<this>`).
    pub fn message(self) -> &'static str {
        match self {
            LoginAnswer::Wrong => "error",
            LoginAnswer::HttpsNeeded => "https",
            LoginAnswer::Server => "server",
            LoginAnswer::Limited(_) => "limited",
            LoginAnswer::Locked(_) => "locked",
            LoginAnswer::LoggedOut => "out",
        }
    }

    /// The minutes the page says, if it says a wait.
    pub fn minutes(self) -> Option<u32> {
        match self {
            LoginAnswer::Limited(m) => m,
            LoginAnswer::Locked(m) => Some(m),
            _ => None,
        }
    }

    /// The page, under the site's folder.
    pub fn page(self) -> String {
        let name = match (self.message(), self.minutes()) {
            (message, Some(m)) => format!("{message}-{m}"),
            (message, None) => message.to_string(),
        };
        format!("login/answer/{name}.html")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_a_page() {
        assert_eq!(wait_minutes(0), 1);
        assert_eq!(wait_minutes(30), 1);
        assert_eq!(wait_minutes(60), 1);
        assert_eq!(wait_minutes(61), 2);
        assert_eq!(wait_minutes(900), 15);
        assert_eq!(wait_minutes(901), 20);
        assert_eq!(wait_minutes(32 * 60), 45);
        assert_eq!(wait_minutes(3600), 60);
        assert_eq!(wait_minutes(10 * 3600), 60);
    }

    #[test]
    fn each_answer_has_its_query_and_page() {
        let all = LoginAnswer::all();
        let pages: std::collections::BTreeSet<String> = all.iter().map(|a| a.page()).collect();
        assert_eq!(pages.len(), all.len());
        for a in all {
            assert_eq!(LoginAnswer::from_query(&a.query()), Some(a), "{a:?}");
        }
        assert_eq!(LoginAnswer::Wrong.query(), "error=1");
        assert_eq!(LoginAnswer::locked(500).query(), "error=locked&wait=540");
        assert_eq!(LoginAnswer::limited(840).query(), "error=limited&wait=840");
        assert_eq!(LoginAnswer::LoggedOut.query(), "out=1");
        assert_eq!(
            LoginAnswer::from_query("error=locked&wait=540&next=%2Fadmin%2F"),
            Some(LoginAnswer::Locked(9))
        );
        assert_eq!(LoginAnswer::Locked(9).page(), "login/answer/locked-9.html");
        // A wait no page says, or no answer at all: the plain page.
        for none in ["", "next=%2F", "error=locked&wait=7", "error=2", "out=0"] {
            assert_eq!(LoginAnswer::from_query(none), None, "{none}");
        }
    }
}
