//! In-memory login limits, bounded in size. Three layers, each against one
//! attack, none of which a stranger can turn against a player (issue 14):
//!
//! - **Per client address** (an IPv4 address, an IPv6 /64): too many
//!   failures in 15 minutes → 429 with `Retry-After`. A later success on a
//!   name forgives that address's failures on that name, so a clubhouse
//!   Wi-Fi (one address, many players, some typos) never reaches it.
//! - **Per name and client network** (IPv4 /24, IPv6 /64): after a few
//!   failures, a lock that grows. While it holds, every attempt on that name
//!   from that network (right PIN or not, existing name or not) answers
//!   exactly like a wrong PIN, is not checked, and never extends the lock.
//!   Failures elsewhere never lock a player out of their own network.
//! - **Site-wide failure budget** (per 15 minutes, scaled to the roster):
//!   stops a spray of common PINs across all names from many addresses.
//!   While it is spent, an address that already failed a few times and has
//!   had no success is refused (429). Players with no failures, networks
//!   that recently logged in, and sessions already open are unaffected, so
//!   a spray cannot lock everybody out.
//!
//! This module decides; it neither answers requests nor checks PINs.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tracked addresses and names at most; stale entries are dropped first,
/// then the oldest.
const MAX_ENTRIES: usize = 100_000;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures on one name from one network before it locks.
const NAME_FREE_FAILURES: u32 = 5;
const NAME_LOCK_BASE: Duration = Duration::from_secs(30);
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

/// The site-wide budget of failures per [`WINDOW`] for a roster this size.
pub fn budget_for(players: usize) -> u32 {
    u32::try_from(players / PLAYERS_PER_BUDGET_FAILURE)
        .unwrap_or(u32::MAX)
        .max(BUDGET_FLOOR)
}

/// Where an attempt comes from, as the limits count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Per-address counting: the IPv4 address, or the IPv6 /64 (one
    /// household or phone gets a whole /64).
    pub address: String,
    /// Per-name locks: the IPv4 /24 or the IPv6 /64.
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

/// What to do with an attempt before checking the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// The name is locked for this network: answer like a wrong PIN
    /// without checking.
    NameLocked,
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

#[derive(Debug, Clone)]
struct AddressEntry {
    /// Start of the window the failures are counted in.
    window_start: Instant,
    failures: u32,
    /// Hashes of the names those failures were on (at most
    /// [`MAX_REMEMBERED`]), so a later success on one forgives it.
    failed_names: Vec<u64>,
    last_success: Option<Instant>,
}

impl AddressEntry {
    fn new(now: Instant) -> AddressEntry {
        AddressEntry {
            window_start: now,
            failures: 0,
            failed_names: Vec::new(),
            last_success: None,
        }
    }

    fn failures_at(&self, now: Instant) -> u32 {
        if now.duration_since(self.window_start) < WINDOW {
            self.failures
        } else {
            0
        }
    }

    fn recent_success(&self, now: Instant) -> bool {
        self.last_success
            .is_some_and(|t| now.duration_since(t) < WINDOW)
    }

    /// Seconds until the counted failures fall out of the window.
    fn wait(&self, now: Instant) -> u64 {
        WINDOW
            .saturating_sub(now.duration_since(self.window_start))
            .as_secs()
            .max(1)
    }

    fn fail(&mut self, name: u64, now: Instant) {
        if self.failures_at(now) == 0 {
            self.window_start = now;
            self.failures = 0;
            self.failed_names.clear();
        }
        self.failures = self.failures.saturating_add(1);
        if self.failed_names.len() < MAX_REMEMBERED {
            self.failed_names.push(name);
        }
    }

    fn succeed(&mut self, name: u64, now: Instant) {
        self.last_success = Some(now);
        let before = self.failed_names.len();
        self.failed_names.retain(|&n| n != name);
        let forgiven = u32::try_from(before - self.failed_names.len()).unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_sub(forgiven);
    }
}

#[derive(Debug, Clone, Copy)]
struct NameEntry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

impl NameEntry {
    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// What [`make_room`] needs to know of an entry.
trait Tracked {
    /// Nothing left to remember at `now`.
    fn stale(&self, now: Instant) -> bool;
    /// The last time it mattered: the oldest go first when full.
    fn last_seen(&self) -> Instant;
}

impl Tracked for AddressEntry {
    fn stale(&self, now: Instant) -> bool {
        self.failures_at(now) == 0 && !self.recent_success(now)
    }
    fn last_seen(&self) -> Instant {
        self.last_success
            .map_or(self.window_start, |t| t.max(self.window_start))
    }
}

impl Tracked for NameEntry {
    fn stale(&self, now: Instant) -> bool {
        // Remembered for a window after the last failure or the end of the
        // lock, so the lock keeps growing for a patient guesser.
        let since = self
            .locked_until
            .map_or(self.last_failure, |t| t.max(self.last_failure));
        now.duration_since(since) >= WINDOW
    }
    fn last_seen(&self) -> Instant {
        self.last_failure
    }
}

/// Keeps a map within [`MAX_ENTRIES`]: stale entries first, then the
/// oldest tenth.
fn make_room<E: Tracked>(map: &mut HashMap<String, E>, now: Instant) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, e| !e.stale(now));
    if map.len() >= MAX_ENTRIES {
        let mut ages: Vec<(Instant, String)> = map
            .iter()
            .map(|(k, e)| (e.last_seen(), k.clone()))
            .collect();
        ages.sort();
        for (_, k) in ages.into_iter().take(MAX_ENTRIES / 10) {
            map.remove(&k);
        }
    }
}

/// Failures of the whole site over the last [`WINDOW`], by minute.
struct Budget {
    origin: Instant,
    /// (minute since `origin`, failures in it), indexed by minute modulo
    /// [`MINUTES`].
    minutes: [(u64, u32); MINUTES],
    spent: bool,
}

impl Budget {
    fn minute(&self, now: Instant) -> u64 {
        now.duration_since(self.origin).as_secs() / 60
    }

    fn total(&self, now: Instant) -> u32 {
        let m = self.minute(now);
        self.minutes
            .iter()
            .filter(|(k, _)| k + MINUTES as u64 > m)
            .fold(0u32, |sum, (_, n)| sum.saturating_add(*n))
    }

    fn record(&mut self, now: Instant) {
        let m = self.minute(now);
        let slot = &mut self.minutes[(m % MINUTES as u64) as usize];
        if slot.0 != m {
            *slot = (m, 0);
        }
        slot.1 = slot.1.saturating_add(1);
    }
}

pub struct LoginLimits {
    /// Failures per address in a window before 429; 0 disables the
    /// address limit and the site-wide budget (benchmarks).
    per_address: u32,
    addresses: Mutex<HashMap<String, AddressEntry>>,
    /// Keyed on network and name.
    names: Mutex<HashMap<String, NameEntry>>,
    budget: Mutex<Budget>,
    /// Hashes names for [`AddressEntry::failed_names`], keyed per process.
    hasher: RandomState,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn name_key(client: &Client, name: &str) -> String {
    format!("{}\0{name}", client.network)
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
            budget: Mutex::new(Budget {
                origin,
                minutes: [(0, 0); MINUTES],
                spent: false,
            }),
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

    /// What to do with an attempt on `name` (normalised) from `client`,
    /// for a roster of `players`.
    pub fn gate(&self, client: &Client, name: &str, now: Instant, players: usize) -> Gate {
        if self.per_address > 0 {
            let spent = self.budget_spent(now, players);
            if let Some(e) = lock(&self.addresses).get(&client.address) {
                let failures = e.failures_at(now);
                if failures >= self.per_address {
                    return Gate::AddressLimited(e.wait(now));
                }
                if spent && failures >= SPENT_ALLOWANCE && !e.recent_success(now) {
                    return Gate::BudgetSpent(e.wait(now));
                }
            }
        }
        match lock(&self.names).get(&name_key(client, name)) {
            Some(e) if e.locked(now) => Gate::NameLocked,
            _ => Gate::Open,
        }
    }

    /// A failed attempt that `gate` let through as `gate`. Returns the
    /// budget's numbers when this failure spent it (once per episode).
    pub fn failed(
        &self,
        client: &Client,
        name: &str,
        gate: Gate,
        now: Instant,
        players: usize,
    ) -> Option<BudgetSpent> {
        if !matches!(gate, Gate::Open | Gate::NameLocked) {
            return None;
        }
        if self.per_address > 0 {
            let hash = self.name_hash(name);
            let mut addresses = lock(&self.addresses);
            if !addresses.contains_key(&client.address) {
                make_room(&mut addresses, now);
            }
            addresses
                .entry(client.address.clone())
                .or_insert_with(|| AddressEntry::new(now))
                .fail(hash, now);
        }
        if gate == Gate::NameLocked {
            // Attempts during a lock never extend it, and checked no PIN:
            // they are no guess for the budget either.
            return None;
        }
        {
            let key = name_key(client, name);
            let mut names = lock(&self.names);
            let previous = names.get(&key).copied().filter(|e| !e.stale(now));
            if previous.is_some_and(|e| e.locked(now)) {
                // Locked meanwhile by a concurrent attempt: leave it be.
                return None;
            }
            if previous.is_none() {
                make_room(&mut names, now);
            }
            let failures = previous.map_or(0, |e| e.failures).saturating_add(1);
            let locked_until = (failures >= NAME_FREE_FAILURES).then(|| {
                // 30 s, 60 s, 120 s… up to the window.
                let doublings = (failures - NAME_FREE_FAILURES).min(10);
                now + NAME_LOCK_BASE.saturating_mul(1 << doublings).min(WINDOW)
            });
            names.insert(
                key,
                NameEntry {
                    failures,
                    last_failure: now,
                    locked_until,
                },
            );
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

    /// A good login clears its name's lock for that network and forgives
    /// the address's failures on that name (not the others: one address
    /// may try many names). The address counts as recently successful.
    pub fn succeeded(&self, client: &Client, name: &str, now: Instant) {
        lock(&self.names).remove(&name_key(client, name));
        if self.per_address > 0 {
            let hash = self.name_hash(name);
            let mut addresses = lock(&self.addresses);
            if !addresses.contains_key(&client.address) {
                make_room(&mut addresses, now);
            }
            addresses
                .entry(client.address.clone())
                .or_insert_with(|| AddressEntry::new(now))
                .succeed(hash, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Client {
        Client::parse(ip)
    }

    #[test]
    fn addresses_and_networks() {
        let c = client("203.0.113.7");
        assert_eq!(c.address, "203.0.113.7");
        assert_eq!(c.network, "203.0.113.0/24");
        let c = client(" 2001:db8:1:2:aaaa::1 ");
        assert_eq!(c.address, "2001:db8:1:2::/64");
        assert_eq!(c.network, "2001:db8:1:2::/64");
        assert_eq!(client("2001:db8:1:2:ffff::9").address, c.address);
        assert_ne!(client("2001:db8:1:3::1").address, c.address);
        assert_eq!(client("::ffff:203.0.113.7").address, "203.0.113.7");
        assert_eq!(client("local").address, "local");
    }

    #[test]
    fn address_limit_then_window_reset() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(3, t);
        let a = client("1.2.3.4");
        for i in 0..3 {
            let name = format!("n{i}");
            let gate = l.gate(&a, &name, t, 10);
            assert_eq!(gate, Gate::Open);
            l.failed(&a, &name, gate, t, 10);
        }
        assert!(matches!(l.gate(&a, "x", t, 10), Gate::AddressLimited(_)));
        assert_eq!(l.gate(&client("5.6.7.8"), "x", t, 10), Gate::Open);
        assert_eq!(l.gate(&a, "x", t + WINDOW, 10), Gate::Open);
    }

    #[test]
    fn ipv6_addresses_count_by_64() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(3, t);
        // A different host in the same /64 each time: one address.
        for i in 0..3 {
            let c = client(&format!("2001:db8:5:6::{i:x}"));
            let gate = l.gate(&c, "zoe", t, 10);
            l.failed(&c, &format!("n{i}"), gate, t, 10);
        }
        assert!(matches!(
            l.gate(&client("2001:db8:5:6::ffff"), "x", t, 10),
            Gate::AddressLimited(_)
        ));
        assert_eq!(l.gate(&client("2001:db8:5:7::1"), "x", t, 10), Gate::Open);
    }

    #[test]
    fn name_lock_grows_and_success_clears() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(0, t);
        let a = client("10.0.0.1");
        for _ in 0..NAME_FREE_FAILURES {
            let gate = l.gate(&a, "zoe", t, 10);
            l.failed(&a, "zoe", gate, t, 10);
        }
        // Another address of the same /24 is the same network.
        let b = client("10.0.0.2");
        assert_eq!(l.gate(&b, "zoe", t, 10), Gate::NameLocked);
        assert_eq!(l.gate(&b, "zoe", t + NAME_LOCK_BASE, 10), Gate::Open);
        l.failed(&a, "zoe", Gate::Open, t + NAME_LOCK_BASE, 10);
        assert_eq!(
            l.gate(&b, "zoe", t + NAME_LOCK_BASE * 2, 10),
            Gate::NameLocked
        );
        assert_eq!(l.gate(&b, "zoe", t + NAME_LOCK_BASE * 3, 10), Gate::Open);
        l.succeeded(&b, "zoe", t + NAME_LOCK_BASE * 3);
        for _ in 0..NAME_FREE_FAILURES - 1 {
            l.failed(&a, "zoe", Gate::Open, t + NAME_LOCK_BASE * 3, 10);
        }
        assert_eq!(l.gate(&b, "zoe", t + NAME_LOCK_BASE * 3, 10), Gate::Open);
    }

    #[test]
    fn attempts_during_a_lock_never_extend_it() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(0, t);
        let a = client("10.0.0.1");
        for _ in 0..NAME_FREE_FAILURES {
            l.failed(&a, "zoe", Gate::Open, t, 10);
        }
        // Hammering the locked name every second for the whole lock.
        for s in 0..NAME_LOCK_BASE.as_secs() {
            let now = t + Duration::from_secs(s);
            let gate = l.gate(&a, "zoe", now, 10);
            assert_eq!(gate, Gate::NameLocked, "at {s} s");
            l.failed(&a, "zoe", gate, now, 10);
        }
        assert_eq!(l.gate(&a, "zoe", t + NAME_LOCK_BASE, 10), Gate::Open);
    }

    #[test]
    fn a_patient_guesser_keeps_a_growing_lock() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(0, t);
        let a = client("10.0.0.1");
        // One guess whenever the lock lets one through, for 3 hours.
        let mut checked = 0;
        for s in 0..3 * 3600 {
            let now = t + Duration::from_secs(s);
            let gate = l.gate(&a, "zoe", now, 10);
            if gate == Gate::Open {
                checked += 1;
            }
            l.failed(&a, "zoe", gate, now, 10);
        }
        // 5 free, then 30 s, 1, 2, 4, 8 min, then one per 15 min.
        assert!(checked <= 5 + 5 + 12, "{checked} guesses in 3 hours");
    }

    #[test]
    fn budget_scales_with_the_roster() {
        assert_eq!(budget_for(0), BUDGET_FLOOR);
        assert_eq!(budget_for(100), BUDGET_FLOOR);
        assert_eq!(budget_for(10_000), 2_000);
    }

    /// Issue 14: one wrong attempt per name per minute for 20 minutes from
    /// one network never refuses the right PIN from another network.
    #[test]
    fn a_stranger_hammering_every_name_never_locks_players_out_elsewhere() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(10, t);
        let players = 40;
        let names: Vec<String> = (0..players).map(|i| format!("player {i}")).collect();
        let mut spent_episodes = 0;
        for minute in 0..20u32 {
            for (i, name) in names.iter().enumerate() {
                let now = t + Duration::from_secs(u64::from(minute) * 60 + i as u64);
                // The stranger rotates over the addresses of one /24.
                let stranger = client(&format!("203.0.113.{}", (i % 250) + 1));
                let gate = l.gate(&stranger, name, now, players);
                spent_episodes +=
                    usize::from(l.failed(&stranger, name, gate, now, players).is_some());
            }
            // Every minute, some players log in from their own networks
            // (a different one each time, and some the same as before).
            for (j, name) in names
                .iter()
                .enumerate()
                .skip(minute as usize % 4)
                .step_by(4)
            {
                let now = t + Duration::from_secs(u64::from(minute) * 60 + 59);
                let own = client(&format!("198.51.{}.{}", j, 1 + minute % 3));
                assert_eq!(
                    l.gate(&own, name, now, players),
                    Gate::Open,
                    "{name} refused at minute {minute}"
                );
                l.succeeded(&own, name, now);
            }
        }
        // 800 failures over 20 minutes spend the budget of a 40-player
        // roster: that is what it is for, and the players above got in.
        assert_eq!(spent_episodes, 1);
    }

    /// Issue 14: a spray of the 20 commonest PINs over every name from 50
    /// addresses is cut off by the budget.
    #[test]
    fn a_spray_across_all_names_is_cut_off_by_the_budget() {
        let t = Instant::now();
        let per_address = 10;
        let l = LoginLimits::starting_at(per_address, t);
        let players = 300;
        let names: Vec<String> = (0..players).map(|i| format!("player {i}")).collect();
        let sprayers: Vec<Client> = (0..50).map(|i| client(&format!("192.0.{i}.9"))).collect();
        let budget = budget_for(players);
        // 20 PINs × 300 names = 6,000 attempts, 50 a second, one address
        // after the other: two minutes.
        let mut checked = 0u32;
        let mut spent = Vec::new();
        let mut refused_by_budget = 0u32;
        for attempt in 0..20 * players {
            let now = t + Duration::from_millis(attempt as u64 * 20);
            let name = &names[attempt % players];
            let from = &sprayers[attempt % sprayers.len()];
            let gate = l.gate(from, name, now, players);
            match gate {
                Gate::Open => checked += 1,
                Gate::BudgetSpent(wait) => {
                    refused_by_budget += 1;
                    assert!((1..=WINDOW.as_secs()).contains(&wait));
                }
                _ => {}
            }
            spent.extend(l.failed(from, name, gate, now, players));
        }
        // The per-address limit alone would have let 50 × 10 through.
        let without_budget = 50 * per_address;
        assert!(
            checked <= budget + 50 * SPENT_ALLOWANCE && checked < without_budget,
            "{checked} PINs checked (budget {budget}, per-address alone {without_budget})"
        );
        assert!(refused_by_budget > 0);
        assert_eq!(spent.len(), 1, "one warning per episode: {spent:?}");
        assert_eq!(spent[0].budget, budget);
        // Meanwhile a player on their own network logs in; one who mistyped
        // twice still gets a third try.
        let now = t + Duration::from_secs(121);
        let home = client("198.51.100.4");
        assert_eq!(l.gate(&home, "player 7", now, players), Gate::Open);
        let typo = client("198.51.100.5");
        for _ in 0..SPENT_ALLOWANCE - 1 {
            let gate = l.gate(&typo, "player 8", now, players);
            assert_eq!(gate, Gate::Open);
            l.failed(&typo, "player 8", gate, now, players);
        }
        assert_eq!(l.gate(&typo, "player 8", now, players), Gate::Open);
        // A sprayer that logs into its own account is checked again (and
        // still bounded by its per-address limit).
        l.succeeded(&sprayers[0], "player 0", now);
        assert_eq!(l.gate(&sprayers[0], "player 1", now, players), Gate::Open);
        // Once failures fall back under half the budget, all are checked.
        let later = t + WINDOW + Duration::from_secs(180);
        assert_eq!(l.gate(&sprayers[1], "player 1", later, players), Gate::Open);
    }

    /// Issue 14: a club's Wi-Fi (one address) where 30 players log in
    /// within 10 minutes, a third of them mistyping once, sees no 429.
    #[test]
    fn a_clubhouse_wifi_with_typos_never_sees_a_429() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(10, t);
        let wifi = client("192.0.2.50");
        for i in 0..30u64 {
            let now = t + Duration::from_secs(i * 20);
            let name = format!("player {i}");
            if i % 3 == 0 {
                let gate = l.gate(&wifi, &name, now, 30);
                assert_eq!(gate, Gate::Open, "typo of player {i}");
                l.failed(&wifi, &name, gate, now, 30);
            }
            let gate = l.gate(&wifi, &name, now + Duration::from_secs(5), 30);
            assert_eq!(gate, Gate::Open, "player {i} refused");
            l.succeeded(&wifi, &name, now);
        }
        // Twice as many typos, and a forgetful player giving up after 5.
        let l = LoginLimits::starting_at(10, t);
        for _ in 0..5 {
            l.failed(&wifi, "forgetful", Gate::Open, t, 30);
        }
        for i in 0..30u64 {
            let now = t + Duration::from_secs(i * 20);
            let name = format!("player {i}");
            for _ in 0..2 {
                let gate = l.gate(&wifi, &name, now, 30);
                assert_eq!(gate, Gate::Open, "typo of player {i}");
                l.failed(&wifi, &name, gate, now, 30);
            }
            assert_eq!(l.gate(&wifi, &name, now, 30), Gate::Open, "player {i}");
            l.succeeded(&wifi, &name, now);
        }
    }

    #[test]
    fn memory_stays_bounded() {
        let t = Instant::now();
        let l = LoginLimits::starting_at(10, t);
        for i in 0..(MAX_ENTRIES + 10) as u32 {
            let c = client(&std::net::Ipv4Addr::from(i).to_string());
            l.failed(&c, &format!("n{i}"), Gate::Open, t, 10);
        }
        assert!(lock(&l.addresses).len() <= MAX_ENTRIES);
        assert!(lock(&l.names).len() <= MAX_ENTRIES);
    }

    // ------------------------------------------------ the README's figures

    /// One wrong PIN on `name` from `ip` at `now`, as `Auth::login` goes
    /// about it: true when the PIN was checked (the gate was open).
    fn guess(l: &LoginLimits, ip: &str, name: &str, now: Instant) -> bool {
        let c = client(ip);
        let gate = l.gate(&c, name, now, 100);
        l.failed(&c, name, gate, now, 100);
        gate == Gate::Open
    }

    /// A fresh IPv6 /64 (so a fresh address and network) for every `i`.
    fn fresh(i: u64) -> String {
        format!("2001:db8:{:x}:{:x}::1", (i >> 16) & 0xffff, i & 0xffff)
    }

    /// The most checked guesses in any 24 hours among `times` (sorted).
    fn most_in_a_day(times: &[Duration]) -> usize {
        let day = Duration::from_secs(24 * 3600);
        let mut most = 0;
        let mut start = 0;
        for (end, t) in times.iter().enumerate() {
            while *t >= times[start] + day {
                start += 1;
            }
            most = most.max(end + 1 - start);
        }
        most
    }

    /// README "Limits on failed logins": strangers get at most 36 PINs
    /// checked on one name in any 24 hours, however many networks they
    /// use and however they time their guesses. Each strategy runs three
    /// simulated days, one attempt per second at most, every attempt from
    /// a network never used before.
    #[test]
    fn strangers_get_at_most_36_guesses_per_name_per_day() {
        let t = Instant::now();
        let days = 3 * 24 * 3600u64;
        let strategies: [(&str, &dyn Fn(u64) -> bool); 5] = [
            ("every second", &|_| true),
            ("every 10 s", &|s| s % 10 == 0),
            ("every 16 minutes", &|s| s % 960 == 0),
            ("one minute an hour", &|s| s % 3600 < 60),
            ("at random", &{
                let rng = std::cell::RefCell::new(fastrand::Rng::with_seed(23));
                move |_| rng.borrow_mut().u8(..) < 40
            }),
        ];
        let mut first_day = Vec::new();
        for (strategy, tries) in strategies {
            let l = LoginLimits::starting_at(10, t);
            let mut checked = Vec::new();
            for s in (0..days).filter(|&s| tries(s)) {
                let at = Duration::from_secs(s);
                if guess(&l, &fresh(s), "zoe", t + at) {
                    checked.push(at);
                }
            }
            let most = most_in_a_day(&checked);
            assert!(
                most <= 36,
                "{strategy}: {most} PINs checked on one name in 24 hours"
            );
            first_day.push((strategy, most));
        }
        // The bound is close to what a patient attacker gets.
        assert!(first_day[0].1 >= 30, "{first_day:?}");
    }

    /// README "Limits on failed logins": a player on a device and a network
    /// that never logged in waits at most an hour after a stranger's last
    /// guess on their name, however long the attack went on.
    #[test]
    fn a_new_device_waits_at_most_an_hour_after_the_last_guess() {
        let t = Instant::now();
        for hours in [1, 5, 24, 30] {
            let l = LoginLimits::starting_at(10, t);
            let stop = hours * 3600;
            for s in 0..stop {
                guess(&l, &fresh(s), "zoe", t + Duration::from_secs(s));
            }
            let player = client("198.51.100.7");
            let waited = (stop..stop + 2 * 3600)
                .find(|&s| l.gate(&player, "zoe", t + Duration::from_secs(s), 100) == Gate::Open)
                .map(|s| s - stop);
            assert!(
                waited.is_some_and(|w| w <= 3600),
                "after {hours} h of guessing: waited {waited:?} s"
            );
        }
    }
}
