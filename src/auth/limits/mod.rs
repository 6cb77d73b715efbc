//! In-memory login limits, bounded in size. Three layers, each against one
//! attack, none of which a stranger can turn against a player on a device
//! or a network they logged in from (issues 14 and 23):
//!
//! - **Per client address** (an IPv4 address, an IPv6 /64): too many
//!   failures in 15 minutes → 429 with `Retry-After`. A later success on a
//!   name forgives that address's failures on that name, so a clubhouse
//!   Wi-Fi (one address, many players, some typos) never reaches it.
//! - **Per name** (issue 23): every failure on a name, existing or not,
//!   draws on one of its [`Allowance`]s, chosen by who tries:
//!   - a device that logged in as that name before (a valid device
//!     cookie, `device.rs`) has its own;
//!   - a network that name logged in from in the last 30 days (IPv4 /24,
//!     IPv6 /64; the latest two) has its own;
//!   - everyone else, on every network, shares one. 40 networks, or the
//!     65,536 /64s of an IPv6 /48, get the guesses one network gets: the
//!     attacker gains nothing from fresh networks.
//!
//!   A stranger can spend only the shared allowance, so a player's own
//!   devices and networks never see the stranger's lock. While an
//!   allowance is locked, every attempt drawing on it (right PIN or not)
//!   is not checked, never extends the lock, and is told so with the wait
//!   (issue 27: never "wrong PIN"). Names are counted as typed, existing
//!   or not, in the same bounded map, so a lock says nothing about whether
//!   a name exists.
//! - **Site-wide failure budget** (per 15 minutes, scaled to the roster):
//!   stops a spray of common PINs across all names from many addresses.
//!   While it is spent, an address that already failed a few times and has
//!   had no success is refused (429). Players with no failures, addresses
//!   that recently logged in, and sessions already open are unaffected, so
//!   a spray cannot lock everybody out.
//!
//! This module decides; it neither answers requests nor checks PINs.
//!
//! The rooms: [`address`] (per client address), [`names`] (per name: the
//! allowances), [`budget`] (site-wide), [`room`] (each map's bound); this
//! file holds the limits' figures and [`LoginLimits`], which ties them
//! together.

mod address;
mod budget;
mod names;
mod room;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::device::DeviceId;
use address::AddressEntry;
use budget::Budget;
pub use budget::budget_for;
use names::{Allowance, NameEntry, NameKey, name_key};
use room::entry;

/// Tracked entries per map (addresses, names, devices) at most; the ones
/// with nothing left to remember go first, then those that would be
/// forgotten soonest.
const MAX_ENTRIES: usize = 100_000;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures an allowance takes before it locks.
const FREE_FAILURES: u32 = 5;
/// The lock after the last free failure; it doubles with each failure
/// after that…
const LOCK_BASE: Duration = Duration::from_secs(30);
/// …up to this. Also the longest a device that never logged in waits
/// after a stranger's last guess at its player's name (docs/security.md).
pub const LOCK_MAX: Duration = Duration::from_secs(3600);
/// An allowance forgets one failure per this long. With [`LOCK_MAX`] the
/// same, a guesser keeps at most one guess an hour: at most
/// [`GUESSES_PER_DAY`] in any 24 hours.
const FORGET_EVERY: Duration = Duration::from_secs(3600);
/// The most failures an allowance can hold. A failure that brings it to
/// this locks it for [`LOCK_MAX`] (30 s × 2⁷ ≥ 1 h), and before the next
/// one can be checked an hour has passed and one failure is forgotten.
const MOST_HELD: u32 = 12;
/// docs/security.md's figure: PINs checked per allowance in any 24 hours at
/// most. The failures held at the end, at most [`MOST_HELD`] more than at
/// the start, plus those forgotten meanwhile, at most 24 (forgetting
/// happens at least [`FORGET_EVERY`] apart): 12 + 24.
pub const GUESSES_PER_DAY: u32 = MOST_HELD + 24;
/// How long a network a name logged in from keeps its own allowance for
/// that name.
const TRUST_NETWORK: Duration = Duration::from_secs(30 * 24 * 3600);
/// Networks remembered per name, the latest logins': a home, a phone's
/// carrier. Each is an allowance a stranger inside it could spend.
const TRUSTED_NETWORKS: usize = 2;
/// Names an address's failures remember for forgiveness; beyond this a
/// failure still counts but cannot be forgiven.
const MAX_REMEMBERED: usize = 32;
/// The smallest site-wide budget (failures per [`WINDOW`]): a small club's
/// busiest quarter hour stays far below it.
pub const BUDGET_FLOOR: u32 = 100;
/// The budget is one failure per this many players (above the floor): a
/// season opener where half of 10,000 players log in within 15 minutes and
/// a third of them mistype once makes ~1,700 failures, under 2,000.
const PLAYERS_PER_BUDGET_FAILURE: usize = 5;
/// While the budget is spent, failures an address may have (without a
/// success) before it is refused: a player who mistypes twice still gets a
/// third try.
pub const SPENT_ALLOWANCE: u32 = 3;
/// Minutes in [`WINDOW`], the budget's buckets.
const MINUTES: usize = 15;

/// Where an attempt comes from, as the limits count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Per-address counting: the IPv4 address, or the IPv6 /64 (one
    /// household or phone gets a whole /64).
    pub address: String,
    /// A name's own networks: the IPv4 /24 or the IPv6 /64.
    pub network: String,
}

impl Client {
    /// From the client address nginx passes (`X-Real-IP`). Anything that
    /// is not an IP address (a unix socket's "local") counts as itself.
    pub fn parse(client: &str) -> Client {
        let ip = client.trim().parse::<IpAddr>().ok().map(|ip| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        });
        match ip {
            Some(IpAddr::V4(v4)) => {
                let [a, b, c, _] = v4.octets();
                Client {
                    address: v4.to_string(),
                    network: format!("{a}.{b}.{c}.0/24"),
                }
            }
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                let net = format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]);
                Client {
                    address: net.clone(),
                    network: net,
                }
            }
            None => {
                let raw: String = client.trim().chars().take(64).collect();
                Client {
                    address: raw.clone(),
                    network: raw,
                }
            }
        }
    }
}

/// One login attempt, as the limits see it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub client: &'a Client,
    /// The typed name, normalised as logins match it (`normalize_login`).
    pub name: &'a str,
    /// The device, when the request carries a valid device cookie that
    /// logged in as this name.
    pub device: Option<DeviceId>,
}

/// What to do with an attempt before checking the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// The allowance this attempt draws on is locked for this many more
    /// seconds: say so, without checking the PIN.
    NameLocked(u64),
    /// The address is over its limit: 429 with this many seconds to wait.
    AddressLimited(u64),
    /// The site-wide budget is spent and this address already failed
    /// without a success: 429 with this many seconds to wait.
    BudgetSpent(u64),
}

/// The site-wide budget has just been spent (returned once per episode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSpent {
    pub failures: u32,
    pub budget: u32,
}

/// Whole seconds, at least 1: what a client is told to wait.
fn wait_secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

pub struct LoginLimits {
    /// Failures per address in a window before 429; 0 disables the
    /// address limit and the site-wide budget (benchmarks).
    per_address: u32,
    addresses: Mutex<HashMap<String, AddressEntry>>,
    names: Mutex<HashMap<NameKey, NameEntry>>,
    /// A device's allowance for one name.
    devices: Mutex<HashMap<(DeviceId, NameKey), Allowance>>,
    budget: Mutex<Budget>,
    /// Hashes names for [`AddressEntry::failed_names`], keyed per process.
    hasher: RandomState,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LoginLimits {
    pub fn new(per_address: u32) -> LoginLimits {
        LoginLimits::starting_at(per_address, Instant::now())
    }

    /// Limits whose clock starts at `origin` (tests run a simulated clock
    /// from there).
    pub fn starting_at(per_address: u32, origin: Instant) -> LoginLimits {
        LoginLimits {
            per_address,
            addresses: Mutex::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
            devices: Mutex::new(HashMap::new()),
            budget: Mutex::new(Budget::new(origin)),
            hasher: RandomState::new(),
        }
    }

    fn name_hash(&self, name: &str) -> u64 {
        self.hasher.hash_one(name)
    }

    /// Whether the site-wide budget is spent at `now`; logs when it is
    /// back under half (hysteresis: one warning per episode, not a flood).
    fn budget_spent(&self, now: Instant, players: usize) -> bool {
        if self.per_address == 0 {
            return false;
        }
        let mut budget = lock(&self.budget);
        if budget.spent {
            let budget_now = budget_for(players);
            let failures = budget.total(now);
            if failures < budget_now / 2 {
                budget.spent = false;
                tracing::info!(
                    event = "login_budget_recovered",
                    failures,
                    budget = budget_now,
                    "failed logins are back under the site-wide budget ({failures} in 15 minutes); logins from every address are checked again"
                );
            }
        }
        budget.spent
    }

    /// What to do with `attempt`, for a roster of `players`.
    pub fn gate(&self, attempt: &Attempt<'_>, now: Instant, players: usize) -> Gate {
        if self.per_address > 0 {
            let spent = self.budget_spent(now, players);
            if let Some(e) = lock(&self.addresses).get(&attempt.client.address) {
                let failures = e.failures_at(now);
                if failures >= self.per_address {
                    return Gate::AddressLimited(e.wait(now));
                }
                if spent && failures >= SPENT_ALLOWANCE && !e.recent_success(now) {
                    return Gate::BudgetSpent(e.wait(now));
                }
            }
        }
        match self.name_lock(attempt, now) {
            Some(left) => Gate::NameLocked(wait_secs(left)),
            None => Gate::Open,
        }
    }

    /// How much longer the allowance `attempt` draws on is locked: for a
    /// device, its own; from one of the name's networks, that network's;
    /// else the one everyone else shares. `None` when open. The same for
    /// a name that exists and one that does not.
    pub fn name_lock(&self, attempt: &Attempt<'_>, now: Instant) -> Option<Duration> {
        let key = name_key(attempt.name);
        if let Some(device) = attempt.device {
            return lock(&self.devices)
                .get(&(device, key))
                .and_then(|a| a.lock_left(now));
        }
        lock(&self.names)
            .get_mut(&key)
            .and_then(|e| e.allowance(&attempt.client.network, now).lock_left(now))
    }

    /// An address's failure on `name`, or its success when `success`.
    fn count_address(&self, client: &Client, name: &str, success: bool, now: Instant) {
        if self.per_address == 0 {
            return;
        }
        let hash = self.name_hash(name);
        let mut addresses = lock(&self.addresses);
        let e = entry(&mut addresses, client.address.clone(), now);
        if success {
            e.succeed(hash, now);
        } else {
            e.fail(hash, now);
        }
    }

    /// A failed `attempt` that `gate` let through as `gate`. Returns the
    /// budget's numbers when this failure spent it (once per episode).
    pub fn failed(
        &self,
        attempt: &Attempt<'_>,
        gate: Gate,
        now: Instant,
        players: usize,
    ) -> Option<BudgetSpent> {
        if !matches!(gate, Gate::Open | Gate::NameLocked(_)) {
            return None;
        }
        self.count_address(attempt.client, attempt.name, false, now);
        if gate != Gate::Open {
            // Attempts during a lock never extend it, and checked no PIN:
            // they are no guess for the budget either.
            return None;
        }
        let key = name_key(attempt.name);
        if let Some(device) = attempt.device {
            let mut devices = lock(&self.devices);
            entry(&mut devices, (device, key), now).fail(now);
        } else {
            let mut names = lock(&self.names);
            entry(&mut names, key, now)
                .allowance(&attempt.client.network, now)
                .fail(now);
        }
        if self.per_address == 0 {
            return None;
        }
        let mut budget = lock(&self.budget);
        budget.record(now);
        let failures = budget.total(now);
        let limit = budget_for(players);
        if !budget.spent && failures >= limit {
            budget.spent = true;
            return Some(BudgetSpent {
                failures,
                budget: limit,
            });
        }
        None
    }

    /// A good login: its network becomes one of the name's own (for
    /// [`TRUST_NETWORK`]), its device's allowance for the name starts
    /// over, and the address's failures on that name are forgiven (not
    /// the others: one address may try many names). The allowance that
    /// everyone else shares is left as it is: it forgets on its own, and a
    /// stranger's failures must not be wiped by the player's logins (nor
    /// a guesser's by logging in as themselves).
    pub fn succeeded(&self, attempt: &Attempt<'_>, now: Instant) {
        let key = name_key(attempt.name);
        if let Some(device) = attempt.device {
            lock(&self.devices).remove(&(device, key));
        }
        {
            let mut names = lock(&self.names);
            entry(&mut names, key, now).logged_in_from(&attempt.client.network, now);
        }
        self.count_address(attempt.client, attempt.name, true, now);
    }
}
