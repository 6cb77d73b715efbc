//! Logins and private pages: `POST /api/login`, `POST /api/logout` and
//! `GET /api/auth` (nginx's `auth_request`). Everything is checked against
//! the snapshot in force; nothing here calls the source. Answers for an
//! unknown name and a wrong PIN are identical, in bytes and in the work
//! done; so are those for a locked name that exists and one that does not
//! (the lock is said as such, with its wait: issue 27).
//! Failed logins are limited in `limits.rs`, where a device that logged
//! in before (its signed cookie: `device.rs`) keeps its own allowance;
//! sessions are signed cookies (`session.rs`) that a logout ends for good
//! (`logout.rs`).

pub mod device;
pub mod limits;
pub mod logout;
pub mod session;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use tiny_http::Request;

use crate::answer::{header, headers, read_body, respond};
use crate::config::Config;
use crate::login_answers::LoginAnswer;
use crate::model::{Credential, Snapshot, login_digest, normalize_login};
use crate::state::AppState;
use device::Presented;
use limits::{Attempt, Client, Gate, LoginLimits};
use logout::Logouts;
use session::SessionKey;

/// The cookie over HTTPS: `__Host-` binds it to this host, path `/`, Secure.
pub const SECURE_COOKIE: &str = "__Host-gen_session";
/// The cookie when the organiser chose `insecure_http = true`.
pub const PLAIN_COOKIE: &str = "gen_session";
/// Beside the session, a cookie the pages' script may read (not HttpOnly)
/// naming the logged-in player's slug, and `:admin` for an admin row, so
/// that pages identical for everyone can show "my page" (issue 17). A hint
/// only: nothing trusts it for access, every private page still checks the
/// signed session. Set and cleared with the session, and cleared by every
/// redirect to the login page for a missing session (nginx, `gen serve`),
/// so a stale hint cannot bounce a player between /login/ and their page.
pub const SECURE_HINT: &str = "__Host-gen_player";
/// The hint when the organiser chose `insecure_http = true`.
pub const PLAIN_HINT: &str = "gen_player";

/// The hint cookie's name for this `insecure_http` setting.
pub fn hint_cookie_name(insecure_http: bool) -> &'static str {
    if insecure_http {
        PLAIN_HINT
    } else {
        SECURE_HINT
    }
}

/// The `Set-Cookie` value that removes the hint (same name, path and
/// `Secure` as when it was set, or the browser keeps it).
pub fn clear_hint_cookie(insecure_http: bool) -> String {
    make_cookie(hint_cookie_name(insecure_http), "", 0, false, insecure_http)
}

fn make_cookie(name: &str, value: &str, max_age: u64, http_only: bool, insecure: bool) -> String {
    cookie::Cookie::build((name, value))
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .http_only(http_only)
        .same_site(cookie::SameSite::Lax)
        .secure(!insecure)
        .to_string()
}

const MAX_NAME: usize = 200;
const MAX_PIN: usize = 200;
const MAX_NEXT: usize = 512;

pub struct Auth {
    key: SessionKey,
    limits: LoginLimits,
    logouts: Logouts,
    lifetime: Duration,
    insecure_http: bool,
}

/// What a request says about where it came from (trusting nginx's headers
/// only when the peer is local).
struct Origin {
    client: String,
    https: bool,
    host: String,
}

fn origin_of(request: &Request) -> Origin {
    // A unix socket has no peer address: only local processes reach it.
    let peer = request.remote_addr().map(|a| a.ip());
    let local_peer = peer.is_none_or(|ip| ip.is_loopback());
    let forwarded = |name| local_peer.then(|| header(request, name)).flatten();
    Origin {
        client: forwarded("X-Real-IP")
            .map(|s| s.trim().to_string())
            .or_else(|| peer.map(|ip| ip.to_string()))
            .unwrap_or_else(|| "local".into()),
        https: forwarded("X-Forwarded-Proto")
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
        host: header(request, "Host")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    }
}

fn is_local_host(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") || name.ends_with(".localhost")
}

/// A cross-site POST carries an `Origin` that is not ours.
fn cross_site(request: &Request, origin: &Origin) -> bool {
    let Some(sent) = header(request, "Origin") else {
        return false;
    };
    let sent = sent.trim().to_ascii_lowercase();
    let ours = [
        format!("https://{}", origin.host),
        format!("http://{}", origin.host),
    ];
    origin.host.is_empty() || !ours.contains(&sent)
}

/// The request and its origin, unless it is cross-site: then it is
/// answered 403 ("cross-site {action} refused") here.
fn same_site(request: Request, action: &str) -> Option<(Request, Origin)> {
    let origin = origin_of(&request);
    if cross_site(&request, &origin) {
        respond(
            request,
            403,
            "text/plain; charset=utf-8",
            format!("cross-site {action} refused\n").into_bytes(),
            &[],
        );
        return None;
    }
    Some((request, origin))
}

/// `next` if it is a local path (`/…`, not `//…` or `/\…`) of printable
/// ASCII, else `None` (the player then goes to their own page).
pub fn local_next(next: &str) -> Option<&str> {
    // A header value must be ASCII: tiny_http drops any other, which left a
    // 303 with no `Location` (issue 14). Browsers percent-encode the URLs
    // they send, so a raw non-ASCII or blank character is no link of ours.
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= MAX_NEXT
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(next)
}

fn wants_json(request: &Request) -> bool {
    header(request, "Accept").is_some_and(|a| a.contains("application/json"))
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// A 303 to `location` (or its JSON form), setting `cookies`.
fn redirect(
    request: Request,
    json_status: u16,
    location: &str,
    error: Option<&str>,
    cookies: &[String],
) {
    let mut extra: Vec<(&str, &str)> = cookies.iter().map(|c| ("Set-Cookie", c.as_str())).collect();
    if wants_json(&request) {
        let body = serde_json::to_vec(&JsonAnswer {
            ok: error.is_none(),
            location: Some(location),
            error,
        })
        .unwrap_or_default();
        respond(request, json_status, "application/json", body, &extra);
    } else {
        extra.push(("Location", location));
        let body = format!("See {location}\n").into_bytes();
        respond(request, 303, "text/plain; charset=utf-8", body, &extra);
    }
}

fn form_fields(body: &[u8]) -> (String, String, String) {
    let (mut name, mut pin, mut next) = (String::new(), String::new(), String::new());
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "name" if name.is_empty() => name = v.chars().take(MAX_NAME + 1).collect(),
            "pin" if pin.is_empty() => pin = v.chars().take(MAX_PIN + 1).collect(),
            "next" if next.is_empty() => next = v.chars().take(MAX_NEXT + 1).collect(),
            _ => {}
        }
    }
    (name, pin, next)
}

impl Auth {
    pub fn new(config: &Config) -> Result<Auth, String> {
        Ok(Auth {
            key: SessionKey::load(&config.site.state_dir, config.api.session_key.as_ref())?,
            logouts: Logouts::load(&config.site.state_dir, SystemTime::now())?,
            limits: LoginLimits::new(config.api.login_failures_per_address),
            lifetime: Duration::from_secs(config.api.session_hours.saturating_mul(3600)),
            insecure_http: config.api.insecure_http,
        })
    }

    pub fn cookie_name(&self) -> &'static str {
        if self.insecure_http {
            PLAIN_COOKIE
        } else {
            SECURE_COOKIE
        }
    }

    fn set_cookie(&self, token: &str, max_age: u64) -> String {
        make_cookie(self.cookie_name(), token, max_age, true, self.insecure_http)
    }

    /// The hint cookie for `player` (see [`SECURE_HINT`]).
    fn set_hint(&self, player: &crate::model::Player, max_age: u64) -> String {
        let value = if player.admin {
            format!("{}:admin", player.slug)
        } else {
            player.slug.to_string()
        };
        make_cookie(
            hint_cookie_name(self.insecure_http),
            &value,
            max_age,
            false,
            self.insecure_http,
        )
    }

    /// The `Set-Cookie` value that removes the hint cookie.
    pub fn clear_hint(&self) -> String {
        clear_hint_cookie(self.insecure_http)
    }

    /// The session token in `Cookie` header values, if any.
    fn token<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        cookie_headers
            .into_iter()
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == self.cookie_name())
            .map(|c| c.value_raw().unwrap_or(""))
    }

    /// The player index whose valid session the request carries: ours,
    /// unexpired, not ended by a logout, its player still there with the
    /// same login.
    pub fn session_player(&self, request: &Request, snapshot: &Snapshot) -> Option<usize> {
        self.session_player_of(headers(request, "Cookie"), snapshot)
    }

    /// [`Auth::session_player`] from the values of a request's `Cookie`
    /// headers.
    pub fn session_player_of<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        snapshot: &Snapshot,
    ) -> Option<usize> {
        let claims = self
            .key
            .open(self.token(cookie_headers)?, SystemTime::now())?;
        if self.logouts.ended(&claims) {
            return None;
        }
        self.key.player_of(&claims, snapshot)
    }

    /// The device cookie to set after a login as `tag`: this device's, now
    /// knowing the name too (none when the system gives no randomness).
    fn device_cookie(
        &self,
        devices: Presented,
        tag: device::NameTag,
        wall: SystemTime,
    ) -> Option<String> {
        let device = devices.after_login(tag);
        if device.is_none() {
            tracing::warn!(
                event = "device_cookie_skipped",
                "no randomness for a device cookie; this login leaves none"
            );
        }
        device.map(|d| device::set_cookie(&d.seal(&self.key, wall), self.insecure_http))
    }

    /// `POST /api/login`.
    pub fn login(&self, request: Request, state: &AppState) {
        let Some((mut request, origin)) = same_site(request, "login") else {
            return;
        };
        let Some(body) = read_body(&mut request) else {
            respond(
                request,
                413,
                "text/plain; charset=utf-8",
                b"request body too large\n".to_vec(),
                &[],
            );
            return;
        };
        let (name, pin, next) = form_fields(&body);
        let next = local_next(&next);
        let back = |answer: LoginAnswer| back_to_form(answer, next);
        if !origin.https && !self.insecure_http && !is_local_host(&origin.host) {
            // Browsers drop a Secure cookie set over plain HTTP: say so
            // instead of failing silently (docs/design.md).
            let location = format!("/login/?{}", LoginAnswer::HttpsNeeded.query());
            redirect(request, 400, &location, Some("https_required"), &[]);
            return;
        }
        let now = Instant::now();
        let wall = SystemTime::now();
        let login = normalize_login(&name);
        let client = Client::parse(&origin.client);
        // The same work for every name: one digest, and the device cookies
        // the request carries checked whatever the name.
        let tag = device::name_tag(&self.key, &login);
        let devices = Presented::read(
            &self.key,
            device::cookie_name(self.insecure_http),
            headers(&request, "Cookie"),
            tag,
            wall,
        );
        let attempt = Attempt {
            client: &client,
            name: &login,
            device: devices.for_name.as_ref().map(device::Device::id),
        };
        let snapshot = state.snapshot();
        if snapshot.is_none() {
            // No roster read yet (a first start on a failing sheet): no
            // PIN can be right, and the player should hear it is ours.
            redirect(
                request,
                503,
                &back(LoginAnswer::Server),
                Some("unavailable"),
                &[],
            );
            return;
        }
        let players = snapshot.as_ref().map_or(0, |s| s.players.len());
        let gate = self.limits.gate(&attempt, now, players);
        if let Gate::AddressLimited(wait) | Gate::BudgetSpent(wait) = gate {
            refuse_limited(request, state, LoginAnswer::limited(wait), next);
            return;
        }

        let credential = matching_credential(snapshot.as_deref(), &name, &pin, gate == Gate::Open);

        let found = snapshot
            .as_ref()
            .zip(credential)
            .and_then(|(s, c)| s.players.get(c.player).map(|p| (p, c)));
        match found {
            Some((player, c)) => {
                self.limits.succeeded(&attempt, now);
                state.metrics().logins_ok.fetch_add(1, Ordering::Relaxed);
                let token = self
                    .key
                    .issue(&player.id, c.secret.expose(), self.lifetime, wall);
                let mut cookies = vec![
                    self.set_cookie(&token, self.lifetime.as_secs()),
                    self.set_hint(player, self.lifetime.as_secs()),
                ];
                // This device now knows the name: from anywhere, a
                // stranger's lock on it no longer stops the player here.
                cookies.extend(self.device_cookie(devices, tag, wall));
                let own = format!("/p/{}/", player.slug);
                let location = next.unwrap_or(&own);
                tracing::info!(event = "login", player = %player.slug, "login ok");
                redirect(request, 200, location, None, &cookies);
            }
            _ => {
                if let Some(spent) = self.limits.failed(&attempt, gate, now, players) {
                    budget_spent(state, &spent, players);
                }
                state
                    .metrics()
                    .logins_failed
                    .fetch_add(1, Ordering::Relaxed);
                if let Gate::NameLocked(left) = gate {
                    // Issue 27: the truth, the right PIN included (it was
                    // not checked), and the same for a name that exists
                    // and one that does not: both lock alike (limits).
                    state
                        .metrics()
                        .logins_name_locked
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(event = "login_failed", client = %origin.client, "login refused: name locked for this client");
                    let answer = LoginAnswer::locked(left);
                    refuse(request, answer, &back(answer), "name_locked");
                } else {
                    tracing::info!(event = "login_failed", client = %origin.client, "login failed");
                    let location = back(LoginAnswer::Wrong);
                    redirect(request, 401, &location, Some("invalid"), &[]);
                }
            }
        }
    }

    /// `POST /api/logout`: ends the player's sessions (every device: the
    /// cookie alone is stateless) and expires the cookie. The answer is the
    /// same with a valid, stale, foreign or no cookie.
    pub fn logout(&self, request: Request, state: &AppState) {
        let Some((request, _)) = same_site(request, "logout") else {
            return;
        };
        let now = SystemTime::now();
        // Only a live session logs out: an ended cookie replayed later, or
        // one made with a PIN since changed, must not end the sessions its
        // player opened since.
        let snapshot = state.snapshot();
        let live = self
            .token(headers(&request, "Cookie"))
            .and_then(|t| self.key.open(t, now))
            .filter(|claims| !self.logouts.ended(claims))
            .filter(|claims| {
                snapshot
                    .as_ref()
                    .is_some_and(|s| self.key.player_of(claims, s).is_some())
            });
        if let Some(claims) = live {
            if let Err(e) = self.logouts.record(&claims, self.lifetime, now) {
                // In force in this process; only a restart would forget it.
                tracing::warn!(
                    event = "logout_not_saved",
                    "a logout could not be saved ({e}); the session ended now, but would work again after a restart until it expires. Check that state_dir is writable by gen"
                );
            }
            tracing::info!(event = "logout", player = %claims.id, "logout");
        }
        let cookies = [self.set_cookie("", 0), self.clear_hint()];
        // Issue 27: the login page says the logout worked.
        let location = format!("/login/?{}", LoginAnswer::LoggedOut.query());
        redirect(request, 200, &location, None, &cookies);
    }

    /// `GET /api/auth` for nginx: 204 if the session in `cookie_headers`
    /// may read the page of `slug` (nginx's `X-Player-Slug`), 401 without a
    /// valid session, 403 otherwise. `slug` is `None` for
    /// `GET /api/auth/players`, nginx's question for the roster and photos
    /// under `[site] visibility = "players"`: any valid session may read
    /// them (204), none may not (401). Never any other status: nginx turns
    /// those into a 500. The API's front door answers both routes itself
    /// (see [`crate::api::run`]): they are what nginx asks for every
    /// uncached private page, and need nothing but the state.
    pub fn check<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        slug: Option<&str>,
        state: &AppState,
    ) -> u16 {
        let Some(snapshot) = state.snapshot() else {
            return 401;
        };
        match (self.session_player_of(cookie_headers, &snapshot), slug) {
            (None, _) => 401,
            (Some(_), None) => 204,
            (Some(player), Some(slug)) if may_read(&snapshot, player, slug.trim()) => 204,
            (Some(_), Some(_)) => 403,
        }
    }
}

/// How long nginx may use an `/api/auth` answer as it is (its
/// `Cache-Control: max-age`): with [`AUTH_ANSWER_REVALIDATING`], at most
/// the 30 s docs/design.md promises. Past it, nginx asks gen again before it
/// opens the page, so an ended session reads nothing more. Spreading the
/// lifetimes over 20–25 s keeps sessions created together (a match day, a
/// load test) from all asking gen again in the same second.
pub fn auth_answer_ttl() -> u8 {
    20 + fastrand::u8(0..=5)
}

/// Once an `/api/auth` answer has expired, how long nginx may still give
/// it to the requests that arrive while another one, for the same cookie,
/// is asking gen (its `stale-while-revalidate`; nginx's background update
/// is off, so the first request after any pause always waits for gen).
/// A roster of photos under `visibility = "players"` or a herd of
/// connections then asks gen once per cookie, not once per request.
pub const AUTH_ANSWER_REVALIDATING: u8 = 5;

pub const AUTH_ANSWER_USE_WHILE_DOWN: u8 = 120;

/// A player reads their own page; an admin row reads every page.
pub fn may_read(snapshot: &Snapshot, player: usize, slug: &str) -> bool {
    snapshot
        .players
        .get(player)
        .is_some_and(|p| p.admin || (!slug.is_empty() && p.slug.as_str() == slug))
}

/// The login page again, with what went wrong (the page rendered for that
/// answer says it in the site's language) and where to go after.
fn back_to_form(answer: LoginAnswer, next: Option<&str>) -> String {
    let query = answer.query();
    match next {
        Some(n) => format!(
            "/login/?{query}&next={}",
            form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
        ),
        None => format!("/login/?{query}"),
    }
}

/// Failed logins across the site spent the budget: counted, and said once
/// per episode (limits.rs) in the log, naming no player and no PIN.
fn budget_spent(state: &AppState, spent: &limits::BudgetSpent, players: usize) {
    state
        .metrics()
        .login_budget_spent
        .fetch_add(1, Ordering::Relaxed);
    // Once per episode (limits.rs): the organiser should
    // know, and nothing here names a player or a PIN.
    tracing::warn!(
        event = "login_budget_spent",
        failures = spent.failures,
        budget = spent.budget,
        players,
        "{} failed logins in 15 minutes across the site (budget {} for {players} players): someone is probably trying common PINs on many names. Until failures fall back, an address that failed {} times without a success gets 429; players with no failures and players already logged in are not affected. Nothing to do if it stops; if it goes on, longer PINs in the sheet make guessing hopeless",
        spent.failures,
        spent.budget,
        limits::SPENT_ALLOWANCE,
    );
}

/// Too many failures from this address (or across the site): counted,
/// then [`refuse`]d.
fn refuse_limited(request: Request, state: &AppState, answer: LoginAnswer, next: Option<&str>) {
    state
        .metrics()
        .logins_rate_limited
        .fetch_add(1, Ordering::Relaxed);
    refuse(request, answer, &back_to_form(answer, next), "rate_limited");
}

/// An attempt refused for a while (`answer`, with its wait): a program
/// asking for JSON gets 429 with `Retry-After` and `error`; a browser goes
/// back to the form (`location`), which says how long to wait in the
/// site's language (issues 17, 27). The wait is the page's, in whole
/// minutes, rounded up (`login_answers`).
fn refuse(request: Request, answer: LoginAnswer, location: &str, error: &str) {
    let wait = answer.wait_secs().unwrap_or(60).to_string();
    if wants_json(&request) {
        let body = format!(r#"{{"ok":false,"error":"{error}"}}"#).into_bytes();
        respond(
            request,
            429,
            "application/json",
            body,
            &[("Retry-After", &wait)],
        );
    } else {
        redirect(request, 429, location, Some(error), &[]);
    }
}

/// The credential `name` and `pin` match in `snapshot`, if any and if the
/// limits let the attempt through (`open`).
fn matching_credential<'s>(
    snapshot: Option<&'s Snapshot>,
    name: &str,
    pin: &str,
    open: bool,
) -> Option<&'s Credential> {
    // The same work whatever the name: one lookup, then one
    // constant-time comparison of 32-byte digests per slot, for as many
    // slots as the most players sharing a name in this snapshot, so
    // neither an unknown name nor the number of homonyms shows in the
    // time. Homonyms whose PINs are the same never reach here (model.rs),
    // so at most one slot matches. Spaces typed inside the PIN (or a
    // PIN typed with digit groups, as a sheet shows it) do not count.
    let candidates = snapshot.map_or(&[][..], |s| s.credentials.named(name));
    let slots = snapshot.map_or(1, |s| s.credentials.widest());
    let presented = login_digest(pin);
    let no_one = [0u8; 32];
    let mut matched = Choice::from(0);
    let mut which = 0u64;
    for slot in 0..slots.max(candidates.len()) {
        let (expected, real) = match candidates.get(slot) {
            Some(c) => (c.digest(), Choice::from(1)),
            None => (&no_one, Choice::from(0)),
        };
        let hit = presented.ct_eq(expected) & real;
        which.conditional_assign(&(slot as u64), hit);
        matched |= hit;
    }
    let pin_ok =
        bool::from(matched) & !pin.trim().is_empty() & (name.chars().count() <= MAX_NAME) & open;
    usize::try_from(which)
        .ok()
        .and_then(|i| candidates.get(i))
        .filter(|_| pin_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_site() {
        assert_eq!(local_next("/p/zoe/"), Some("/p/zoe/"));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "p/zoe",
            "",
            "/x\ny",
            "/p/zoé/",
            "/p/a b/",
        ] {
            assert_eq!(local_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_hosts() {
        assert!(is_local_host("localhost:8080"));
        assert!(is_local_host("127.0.0.1"));
        assert!(!is_local_host("club.example"));
        assert!(!is_local_host("localhost.evil.example"));
    }
}
