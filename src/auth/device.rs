//! The device cookie (issue 23; OWASP, "Slow down online guessing attacks
//! with device cookies"). A successful login leaves on the browser a
//! signed, long-lived cookie saying "this device logged in as these names".
//! On a later login as one of them, the device draws on its own allowance
//! of failures (`limits.rs`) instead of the one every other client shares,
//! so a stranger guessing at a name from anywhere never locks its player
//! out of a device they logged in on before.
//!
//! The cookie holds a random device id, the login time and keyed digests
//! of the names (never a name, a PIN or a player id), signed with the
//! session key. It proves only that this browser logged in as those names:
//! nothing is readable or granted with it; it only decides whose failures
//! a login's failures count against. This module neither counts nor
//! decides.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use subtle::ConstantTimeEq;

use super::session::SessionKey;

/// The cookie over HTTPS. `__Secure-` rather than `__Host-`: a `__Host-`
/// cookie must have `Path=/`, and then browsers would send it with every
/// page and photo, making every request of a player who once logged in
/// (even logged out) carry a cookie, which a CDN in front does not cache
/// (docs/scaling-out.md). With `Path=/api/login` it travels with logins
/// only. A sibling host could plant a cookie of the same name, but not one
/// that verifies: every one sent is checked, and a bad one is ignored.
pub const SECURE_DEVICE: &str = "__Secure-gen_device";
/// The cookie under `[api] insecure_http = true` (no `Secure`, which the
/// `__Secure-` prefix requires).
pub const PLAIN_DEVICE: &str = "gen_device";
/// Where the browser sends it: the login form's target only.
const PATH: &str = "/api/login";
/// How long a device stays known without logging in again (each login
/// starts it over). Browsers cap a cookie's life at 400 days.
pub const LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// Names one device remembers (a family's tablet), the latest first.
const MAX_NAMES: usize = 4;
/// Device cookies looked at per request, and the longest one read: a
/// request cannot make gen verify many.
const MAX_COOKIES: usize = 4;
const MAX_TOKEN: usize = 256;
const VERSION: u8 = 1;
const PURPOSE: &str = "sheetgen device v1";
const NAME_PURPOSE: &str = "sheetgen device name v1";

/// One device, as the limits count it: the cookie's random id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    #[cfg(test)]
    pub(super) fn from_bytes(bytes: [u8; 16]) -> DeviceId {
        DeviceId(bytes)
    }
}

/// A keyed digest of a normalised login name: the cookie names a name
/// without saying it, and no one without the key can test a guess
/// against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTag([u8; 16]);

/// `name` (normalised as logins match it) as a device cookie holds it.
pub fn name_tag(key: &SessionKey, name: &str) -> NameTag {
    let full = key.tag(NAME_PURPOSE, name.as_bytes());
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&full[..16]);
    NameTag(tag)
}

/// What a device cookie says, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    id: DeviceId,
    /// The names it logged in as, the latest first.
    names: Vec<NameTag>,
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Device {
    /// A device never seen before, with a random id; `None` without
    /// randomness (the login then leaves no device cookie).
    pub fn new() -> Option<Device> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).ok()?;
        Some(Device {
            id: DeviceId(id),
            names: Vec::new(),
        })
    }

    pub fn id(&self) -> DeviceId {
        self.id
    }

    /// Whether this device logged in as the name of `tag`.
    pub fn knows(&self, tag: NameTag) -> bool {
        self.names
            .iter()
            .fold(subtle::Choice::from(0), |found, n| {
                found | n.0.ct_eq(&tag.0)
            })
            .into()
    }

    /// Records a login as the name of `tag`: first in the list, which
    /// keeps the [`MAX_NAMES`] latest.
    pub fn logged_in_as(&mut self, tag: NameTag) {
        self.names.retain(|n| *n != tag);
        self.names.insert(0, tag);
        self.names.truncate(MAX_NAMES);
    }

    /// The cookie's value: the payload and its signature, base64url.
    pub fn seal(&self, key: &SessionKey, now: SystemTime) -> String {
        let mut payload = Vec::with_capacity(25 + 16 * self.names.len());
        payload.push(VERSION);
        payload.extend_from_slice(&unix_secs(now).to_be_bytes());
        payload.extend_from_slice(&self.id.0);
        for name in &self.names {
            payload.extend_from_slice(&name.0);
        }
        let payload = B64.encode(payload);
        let tag = key.tag(PURPOSE, payload.as_bytes());
        format!("{payload}.{}", B64.encode(tag))
    }

    /// The device a cookie value stands for, if we signed it within
    /// [`LIFETIME`] of `now`.
    pub fn open(key: &SessionKey, token: &str, now: SystemTime) -> Option<Device> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let (payload, tag) = token.split_once('.')?;
        if !key.verify_tag(PURPOSE, payload.as_bytes(), &B64.decode(tag).ok()?) {
            return None;
        }
        let bytes = B64.decode(payload).ok()?;
        let (&version, rest) = bytes.split_first()?;
        let (issued, rest) = rest.split_first_chunk::<8>()?;
        let (id, rest) = rest.split_first_chunk::<16>()?;
        let age = unix_secs(now).saturating_sub(u64::from_be_bytes(*issued));
        if version != VERSION || age >= LIFETIME.as_secs() || rest.len() % 16 != 0 {
            return None;
        }
        let names: Vec<NameTag> = rest
            .chunks_exact(16)
            .filter_map(|c| c.try_into().ok().map(NameTag))
            .take(MAX_NAMES)
            .collect();
        Some(Device {
            id: DeviceId(*id),
            names,
        })
    }
}

/// The devices a login request's cookies stand for: the first that
/// logged in as the typed name, else the first valid one (whose id a
/// successful login keeps, adding the name).
#[derive(Debug, Default)]
pub struct Presented {
    pub for_name: Option<Device>,
    pub other: Option<Device>,
}

impl Presented {
    /// Reads the device cookies named `cookie_name` among the request's
    /// `Cookie` header values, for a login as the name of `tag`.
    pub fn read<'a>(
        key: &SessionKey,
        cookie_name: &str,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        tag: NameTag,
        now: SystemTime,
    ) -> Presented {
        let mut presented = Presented::default();
        let values = cookie_headers
            .into_iter()
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == cookie_name)
            .take(MAX_COOKIES);
        for device in values.filter_map(|c| Device::open(key, c.value(), now)) {
            if presented.for_name.is_none() && device.knows(tag) {
                presented.for_name = Some(device);
            } else if presented.other.is_none() {
                presented.other = Some(device);
            }
        }
        presented
    }

    /// The device a successful login as the name of `tag` leaves the
    /// browser: the one it already was (a new one if none), now knowing
    /// that name.
    pub fn after_login(self, tag: NameTag) -> Option<Device> {
        let mut device = self.for_name.or(self.other).or_else(Device::new)?;
        device.logged_in_as(tag);
        Some(device)
    }
}

/// The cookie's name for this `insecure_http` setting.
pub fn cookie_name(insecure_http: bool) -> &'static str {
    if insecure_http {
        PLAIN_DEVICE
    } else {
        SECURE_DEVICE
    }
}

/// The `Set-Cookie` value for a device cookie holding `value`: HttpOnly,
/// sent with same-site logins only (`SameSite=Strict`, `Path=/api/login`),
/// `Secure` unless `insecure_http`.
pub fn set_cookie(value: &str, insecure_http: bool) -> String {
    cookie::Cookie::build((cookie_name(insecure_http), value))
        .path(PATH)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(LIFETIME.as_secs()).unwrap_or(i64::MAX),
        ))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(!insecure_http)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SessionKey {
        SessionKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_device_opens_with_its_names_and_only_with_our_key() {
        let (k, now) = (key(1), SystemTime::now());
        let mut d = Device::new().unwrap();
        d.logged_in_as(name_tag(&k, "bob stone"));
        let token = d.seal(&k, now);
        let opened = Device::open(&k, &token, now).unwrap();
        assert_eq!(opened, d);
        assert!(opened.knows(name_tag(&k, "bob stone")));
        assert!(!opened.knows(name_tag(&k, "alice martin")));
        // Another key: neither the cookie nor the name digests match.
        assert_eq!(Device::open(&key(2), &token, now), None);
        assert_ne!(name_tag(&k, "bob stone"), name_tag(&key(2), "bob stone"));
        // Tampered, truncated, or too old.
        let mut bad = token.clone().into_bytes();
        bad[3] ^= 1;
        assert_eq!(
            Device::open(&k, &String::from_utf8(bad).unwrap(), now),
            None
        );
        assert_eq!(Device::open(&k, &token[..token.len() - 2], now), None);
        assert_eq!(Device::open(&k, "", now), None);
        assert_eq!(Device::open(&k, &token, now + LIFETIME), None);
        assert!(Device::open(&k, &token, now + LIFETIME - Duration::from_secs(60)).is_some());
    }

    #[test]
    fn a_device_remembers_its_latest_four_names() {
        let k = key(1);
        let mut d = Device::new().unwrap();
        for name in ["a", "b", "c", "d", "e", "b"] {
            d.logged_in_as(name_tag(&k, name));
        }
        let opened = Device::open(&k, &d.seal(&k, SystemTime::now()), SystemTime::now()).unwrap();
        assert_eq!(opened.names.len(), MAX_NAMES);
        assert_eq!(opened.names[0], name_tag(&k, "b"));
        assert!(!opened.knows(name_tag(&k, "a")));
        assert!(opened.knows(name_tag(&k, "e")));
    }

    #[test]
    fn a_login_keeps_the_device_it_came_from() {
        let (k, now) = (key(1), SystemTime::now());
        let (bob, zoe) = (name_tag(&k, "bob"), name_tag(&k, "zoe"));
        let mut phone = Device::new().unwrap();
        phone.logged_in_as(bob);
        let header = format!(
            "x=1; {SECURE_DEVICE}=forged.AAAA; {SECURE_DEVICE}={}",
            phone.seal(&k, now)
        );
        // Zoé on Bob's phone: not Bob's allowance, but the same device.
        let presented = Presented::read(&k, SECURE_DEVICE, [header.as_str()], zoe, now);
        assert_eq!(presented.for_name, None);
        let after = presented.after_login(zoe).unwrap();
        assert_eq!(after.id(), phone.id());
        assert!(after.knows(bob) && after.knows(zoe));
        // Bob on it: his.
        let presented = Presented::read(&k, SECURE_DEVICE, [header.as_str()], bob, now);
        assert_eq!(presented.for_name.map(|d| d.id()), Some(phone.id()));
        // No cookie: a new device.
        let fresh = Presented::read(&k, SECURE_DEVICE, ["x=1"], bob, now)
            .after_login(bob)
            .unwrap();
        assert_ne!(fresh.id(), phone.id());
    }

    #[test]
    fn the_cookie_goes_to_logins_only() {
        let set = set_cookie("v", false);
        for part in [
            "__Secure-gen_device=v",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/api/login",
            "Max-Age=31536000",
        ] {
            assert!(set.contains(part), "{part}: {set}");
        }
        let plain = set_cookie("v", true);
        assert!(plain.starts_with("gen_device=v") && !plain.contains("Secure"));
    }
}
