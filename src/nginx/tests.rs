//! The conf file `gen nginx` prints, read back: what each setting adds
//! or leaves out.

use super::*;
use crate::config::Env;

fn conf_for(site_lines: &str) -> String {
    conf_behind(site_lines, &[])
}

fn conf_behind(site_lines: &str, behind: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("players.csv"),
        "id,name,pin\na,Ann,123456\n",
    )
    .unwrap();
    let text = format!(
        "[site]\ntitle = \"T\"\n{site_lines}[source]\nkind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\n[players]\n"
    );
    let config = Config::parse(&text, &dir.path().join("site.toml"), &Env::from_process()).unwrap();
    let opts = NginxOptions {
        listen: "80".into(),
        server_name: "_".into(),
        cache_dir: dir.path().join("cache"),
        login_rate_per_minute: 30,
        login_burst: 20,
        behind: behind.iter().map(|a| a.to_string()).collect(),
    };
    render(&config, &opts).unwrap()
}

#[test]
fn players_only_gates_pages_and_photos_and_public_adds_nothing() {
    let public = conf_for("");
    // `/p/` and the organiser's `/admin/`, nothing else.
    assert_eq!(public.matches("auth_request ").count(), 2, "{public}");
    assert!(!public.contains("_sheetgen_players"), "{public}");
    assert!(!public.contains("sheetgen_next"), "{public}");
    assert!(
        public.contains("default     \"public, max-age=0, s-maxage=10\";"),
        "{public}"
    );

    let players = conf_for("visibility = \"players\"\n");
    // `location ~ /$`, `location /` and the photos.
    assert_eq!(
        players.matches("auth_request /_sheetgen_players;").count(),
        3,
        "{players}"
    );
    // The page rule and its cache key are untouched; the players' own
    // key can't be a slug's.
    assert!(players.contains("proxy_set_header X-Player-Slug $slug;"));
    assert!(players.contains("proxy_cache_key \"$slug $http_cookie\";"));
    assert!(players.contains("proxy_cache_key \"*players $http_cookie\";"));
    assert!(players.contains("proxy_pass http://sheetgen_api/api/auth/players;"));
    assert!(players.contains("default            \"private, no-cache\";"));
    assert!(players.contains("return 303 /login/?next=$sheetgen_next;"));
    assert!(players.contains("# After changing it, run `gen nginx` again"));
    assert!(!public.contains("visibility"), "{public}");
}

/// Issue 23: `proxy_cache_use_stale` (`updating`, `error`…) served
/// expired auth answers with no bound; gen's own Cache-Control decides,
/// which nginx reads only if it is not ignored.
#[test]
fn auth_answers_are_used_as_gen_says_and_no_longer() {
    for conf in [conf_for(""), conf_for("visibility = \"players\"\n")] {
        let directive = |name: &str| conf.lines().any(|l| l.trim_start().starts_with(name));
        assert!(!directive("proxy_cache_use_stale"), "{conf}");
        assert!(!directive("proxy_cache_background_update"), "{conf}");
        assert!(!directive("proxy_ignore_headers Cache-Control"), "{conf}");
        assert_eq!(
            conf.matches("proxy_cache sheetgen_auth;").count(),
            conf.matches("proxy_ignore_headers Expires Set-Cookie;")
                .count(),
            "{conf}"
        );
        assert!(conf.contains("at most 120 s after gen gave it"), "{conf}");
    }
}

#[test]
fn behind_trusts_the_named_proxies_only() {
    let alone = conf_for("");
    assert!(!alone.contains("real_ip"), "{alone}");
    assert!(!alone.contains("sheetgen_scheme"), "{alone}");
    assert!(alone.contains("proxy_set_header X-Forwarded-Proto $scheme;"));

    let behind = conf_behind("", &["10.0.0.5", "2001:db8::/32"]);
    assert!(behind.contains(
        "    set_real_ip_from 10.0.0.5;\n    set_real_ip_from 2001:db8::/32;\n    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n"
    ));
    // The scheme: the proxies' word, else nginx's own; every route to
    // gen uses it (login, logout, refresh, auth, healthz).
    assert!(behind.contains("geo $realip_remote_addr $sheetgen_via_proxy {\n    default 0;\n    10.0.0.5 1;\n    2001:db8::/32 1;\n}"));
    assert!(behind.contains("\"1:https\"  https;\n    default    $scheme;"));
    assert!(!behind.contains("X-Forwarded-Proto $scheme;"), "{behind}");
    assert_eq!(
        behind
            .matches("proxy_set_header X-Forwarded-Proto $sheetgen_scheme;")
            .count(),
        alone
            .matches("proxy_set_header X-Forwarded-Proto $scheme;")
            .count()
    );
    let players = conf_behind("visibility = \"players\"\n", &["10.0.0.5"]);
    assert!(!players.contains("X-Forwarded-Proto $scheme;"), "{players}");
}

#[test]
fn main_values_are_name_value_lines_for_scripts() {
    assert_eq!(
        MAIN_VALUES.to_lines(),
        "multi_accept=on\nworker_connections=16384\nnofile=65536\n"
    );
}
