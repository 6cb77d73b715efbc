//! The SSRF policy (issue 8, issue 14): a sheet cell must not make the
//! server reach into its own network. Only http(s); a host is refused when
//! ANY of its addresses is loopback, private, link-local, CGNAT,
//! unique-local, multicast, IPv4-mapped or otherwise special, unless
//! `[players] photo_allow` names it. [`check`] judges every URL (first
//! request and each redirect hop); [`GuardedResolver`] judges every name
//! at connect time, so the connection goes to a checked address (no DNS
//! rebinding in between). This module only judges: it fetches nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

/// Why a download was stopped before reaching a host, in the organiser's
/// words. It travels through reqwest's error chain (from the resolver and
/// the redirect policy) and is shown alone, without reqwest's wrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub(crate) String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Loopback, private, link-local, CGNAT, unique-local, multicast, and the
/// other special-purpose ranges (RFC 6890): never a photo host.
pub(crate) fn is_refused_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_refused_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // IPv4-mapped (::ffff:0:0/96) and IPv4-translated
            // (::ffff:0:0:0/96) addresses are never a real host's public
            // address: a dual-stack socket connects to the embedded IPv4
            // one, whatever it is, so the whole ranges are refused (issue
            // 14). So is NAT64's local-use prefix 64:ff9b:1::/48 (RFC 8215).
            if v6.to_ipv4_mapped().is_some()
                || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0)
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
            {
                return true;
            }
            // NAT64 (64:ff9b::/96) and IPv4-compatible (::/96) embed an IPv4
            // address that the network may route to: judged by that address.
            if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4]) || s[..6] == [0; 6] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_refused_v4(Ipv4Addr::new(a, b, c, d)) || v6.is_unspecified();
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2001 && s[1] < 0x0200) // Teredo, benchmarking, ORCHID…
                || s[0] == 0x2002 // 6to4
                || s[0] == 0x0100 && s[1..4] == [0; 3] // discard-only
        }
    }
}

fn is_refused_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || ip.is_multicast()
        || a >= 240 // reserved and broadcast
}

/// The URL host as the allow-list spells it: lower case, IPv6 without
/// brackets.
fn host_key(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

fn refused_address(host: &str, ip: IpAddr) -> Refused {
    Refused(format!(
        "the host \"{host}\" is a loopback/private/special address ({ip}); photos are only fetched from public hosts (allow it with [players] photo_allow)"
    ))
}

/// Refuses a URL a sheet may not make us fetch: a scheme other than
/// http(s), no host, or a special IP address. A domain name is judged when
/// it is resolved, by [`GuardedResolver`].
pub(crate) fn check(url: &Url, allow: &[String]) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused(format!(
            "a redirect to a \"{}:\" address was refused",
            url.scheme()
        )));
    }
    let host = host_key(url);
    if host.is_empty() {
        return Err(Refused("the address has no host".into()));
    }
    if allow.contains(&host) {
        return Ok(());
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) if is_refused_ip(ip.into()) => {
            Err(refused_address(&host, ip.into()))
        }
        Some(url::Host::Ipv6(ip)) if is_refused_ip(ip.into()) => {
            Err(refused_address(&host, ip.into()))
        }
        _ => Ok(()),
    }
}

/// The photo client's resolver: a name is connected to only when none of
/// its addresses is refused (or when it is allow-listed).
pub(crate) struct GuardedResolver {
    pub(crate) allow: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Refused(format!("cannot resolve \"{host}\": {e}")))?
                .collect();
            if addrs.is_empty() {
                return Err(Refused(format!("\"{host}\" has no address")).into());
            }
            if !allow.contains(&host)
                && let Some(bad) = addrs.iter().find(|a| is_refused_ip(a.ip()))
            {
                return Err(refused_address(&host, bad.ip()).into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_refused_ip(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "142.250.74.46",
            "100.128.0.1",
            "172.32.0.1",
            "2a00:1450:4007:80e::200e",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_refused_ip(ip), "{ip}");
        }
    }

    #[test]
    fn ipv4_embedding_forms_are_refused_or_judged_by_their_ipv4() {
        // The whole IPv4-mapped and IPv4-translated ranges, public or not,
        // and NAT64's local-use prefix.
        for ip in [
            "::ffff:8.8.8.8",
            "::ffff:0.0.0.0",
            "::ffff:127.0.0.1",
            "::ffff:0:a00:1",    // translated 10.0.0.1
            "::ffff:0:808:808",  // translated 8.8.8.8
            "::ffff:0:7f00:1",   // translated 127.0.0.1
            "64:ff9b:1::a00:1",  // local-use NAT64
            "64:ff9b:1:ffff::1", // local-use NAT64
            // IPv4-compatible and well-known NAT64 of special IPv4.
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::c0a8:101",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_refused_ip(ip), "{ip}");
        }
        for ip in [
            // Embedded public IPv4 in the forms that route to it.
            "64:ff9b::808:808",
            "::8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_refused_ip(ip), "{ip}");
        }
    }

    #[test]
    fn urls_are_judged_by_scheme_host_and_literal_address() {
        let allow = vec!["127.0.0.1".to_string()];
        let judge = |u: &str| check(&Url::parse(u).unwrap(), &allow).map_err(|r| r.0);
        assert!(judge("http://127.0.0.1:8080/a.jpg").is_ok());
        assert!(judge("https://example.org/a.jpg").is_ok());
        for refused in ["http://127.0.0.2/a.jpg", "http://[::1]/a.jpg"] {
            let why = judge(refused).unwrap_err();
            assert!(why.contains("loopback/private"), "{why}");
        }
        assert!(
            judge("file:///etc/passwd")
                .unwrap_err()
                .contains("\"file:\"")
        );
    }
}
