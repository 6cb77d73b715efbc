//! `gen nginx`: one conf.d file for this config. nginx includes conf.d files
//! inside `http { }`, so the file starts with the http-level zones, maps and
//! the upstream, then the `server { }` block. nginx serves every page from
//! disk; gen is asked only "may this cookie read this slug?" (cached).
//! Also the one source of what nginx.conf itself must set ([`MAIN_VALUES`],
//! `gen nginx --main-values`), which a conf.d file cannot.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::answer::CSP;
use crate::auth::{AUTH_ANSWER_USE_WHILE_DOWN, clear_hint_cookie};
use crate::config::{Config, ListenAddr, Visibility};
use crate::login_answers::LoginAnswer;

/// What nginx.conf itself needs for thousands of players at once. Kept here
/// only: `gen nginx`'s header names them; deploy.sh (which writes them into
/// nginx.conf and a systemd drop-in), bench/load.sh and the tests' nginx
/// read them from `gen nginx --main-values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MainValues {
    /// `events { multi_accept on; }`. Without it a busy worker accepts one
    /// new connection per pass of its event loop: 1,000 new connections
    /// waited up to 3.7 s in the kernel's queue (BENCHMARKS.md, issue 7).
    pub multi_accept: bool,
    /// `events { worker_connections N; }`, at least: Debian's 768 caps a
    /// worker at a few hundred players.
    pub worker_connections: u32,
    /// Descriptors of each nginx process (systemd's `LimitNOFILE`, or
    /// `worker_rlimit_nofile`): a player holds a connection and, while
    /// nginx refreshes their cached auth answer, an upstream socket and two
    /// cache files.
    pub nofile: u32,
}

/// What deploy.sh has set since issue 7 (BENCHMARKS.md, "Load").
pub(crate) const MAIN_VALUES: MainValues = MainValues {
    multi_accept: true,
    worker_connections: 16384,
    nofile: 65536,
};

impl MainValues {
    fn multi_accept_word(&self) -> &'static str {
        if self.multi_accept { "on" } else { "off" }
    }

    /// `name=value` lines for scripts (`gen nginx --main-values`):
    /// `multi_accept=on`, `worker_connections=16384`, `nofile=65536`.
    pub(crate) fn to_lines(self) -> String {
        format!(
            "multi_accept={}\nworker_connections={}\nnofile={}\n",
            self.multi_accept_word(),
            self.worker_connections,
            self.nofile
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct NginxOptions {
    /// nginx `listen` parameter: `80`, `127.0.0.1:8080`, `443 ssl`…
    pub listen: String,
    pub server_name: String,
    /// Where nginx caches auth answers.
    pub cache_dir: PathBuf,
    /// Logins per minute per client address at nginx (gen has its own
    /// failure limits too).
    pub login_rate_per_minute: u32,
    /// Logins one address may make at once beyond the rate. nginx counts
    /// per millisecond, so a whole club behind one NAT address needs room.
    pub login_burst: u32,
    /// Addresses or CIDR ranges of a load balancer or CDN in front
    /// (`--behind`, checked by the command line): from them, the client's
    /// address and scheme come from X-Forwarded-For and -Proto.
    pub behind: Vec<String>,
}

/// An absolute path for nginx (it resolves relative ones against its prefix).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A path as one shell word, for a command the organiser copies.
fn shell_quoted(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// nginx quoted string: paths and names may hold spaces.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// How every request reaches gen: the client's address and scheme (gen
/// trusts them from loopback only), the Host with its port (the browser's
/// Origin has it), over the upstream's kept-alive connections. `behind`
/// (`--behind`): the scheme a trusted balancer or CDN says the client
/// used ([`BEHIND_MAPS`]).
fn to_gen(behind: bool) -> String {
    let scheme = if behind {
        "$sheetgen_scheme"
    } else {
        "$scheme"
    };
    format!(
        "        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-Proto {scheme};
        proxy_set_header Host $http_host;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_connect_timeout 1s;
"
    )
}

/// `--behind`, http level: whether a request came from a balancer or CDN
/// named there (nginx's own peer, before realip), and then the scheme it
/// says the client used; anyone else's X-Forwarded-Proto is ignored.
const BEHIND_MAPS: &str = r#"
# Behind a balancer or CDN (`--behind`, docs/scaling-out.md): from these
# addresses only, X-Forwarded-For names the client (its address is what the
# login limits count) and X-Forwarded-Proto says whether it used HTTPS.
geo $realip_remote_addr $sheetgen_via_proxy {
    default 0;
{addresses}}
map "$sheetgen_via_proxy:$http_x_forwarded_proto" $sheetgen_scheme {
    "1:https"  https;
    default    $scheme;
}
"#;

/// `--behind`, server level: the client's address from X-Forwarded-For,
/// skipping the trusted hops (a CDN, then the balancer).
fn behind_realip(behind: &[String]) -> String {
    if behind.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("\n    # Behind a balancer or CDN (`--behind`): the client's address.\n");
    for addr in behind {
        let _ = writeln!(out, "    set_real_ip_from {addr};");
    }
    out.push_str("    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n");
    out
}

fn behind_maps(behind: &[String]) -> String {
    if behind.is_empty() {
        return String::new();
    }
    let addresses: String = behind.iter().map(|a| format!("    {a} 1;\n")).collect();
    BEHIND_MAPS.replace("{addresses}", &addresses)
}

/// The headers every answer of the site carries, for the server block
/// (`indent` ""), and for a location that adds a header of its own and so
/// no longer inherits them (`indent` one more level).
fn server_headers(indent: &str) -> String {
    [
        "add_header Cache-Control $sheetgen_cache_control always;".to_string(),
        format!("add_header Content-Security-Policy \"{CSP}\" always;"),
        "add_header X-Content-Type-Options nosniff always;".to_string(),
        "add_header Referrer-Policy same-origin always;".to_string(),
        "add_header X-Frame-Options DENY always;".to_string(),
    ]
    .iter()
    .map(|line| format!("    {indent}{line}\n"))
    .collect()
}

/// The public API routes (login, logout, refresh).
fn api_proxy(to_gen: &str) -> String {
    format!(
        "        client_max_body_size 4k;
        proxy_pass http://sheetgen_api;
{to_gen}        proxy_read_timeout 5s;
"
    )
}

/// Connections the kernel queues for nginx. nginx's default of 511
/// overflowed when 10,000 players connected at once: the dropped SYNs came
/// back a second later and requests timed out (bench/load.sh). Linux caps
/// it at `net.core.somaxconn` (4096 on current kernels).
const LISTEN_BACKLOG: u32 = 4096;

/// ` backlog=N` unless the organiser's `--listen` already sets one.
fn listen_backlog(listen: &str) -> String {
    if listen.contains("backlog=") {
        String::new()
    } else {
        format!(" backlog={LISTEN_BACKLOG}")
    }
}

/// What `[site] visibility = "players"` adds to the config: the roster,
/// every other page and the photos behind an "any valid session?"
/// subrequest (gen's `/api/auth/players`), with the login page, the error
/// pages and the theme's assets left public. `public` adds nothing.
struct PlayersOnly {
    /// A line of the file's header. None under `public`, whose file stays
    /// as it was before the setting existed (deploy.sh compares it).
    note: &'static str,
    /// http level: where the login page sends a visitor back.
    next_map: &'static str,
    /// Inside `location ~ /$` and `location /`.
    gate: &'static str,
    /// More locations in the server block.
    locations: String,
}

/// Where the login page sends a visitor back: the path they asked for if
/// it is plain, else the roster. `$uri` is decoded, so the pattern also
/// keeps `%0D%0A`, quotes and spaces out of the `Location` header.
const NEXT_MAP: &str = r#"
# [site] visibility = "players": where the login page sends a visitor back.
map $uri $sheetgen_next {
    ~^(/[A-Za-z0-9/._-]*)$  $1;
    default                 /;
}
"#;

/// A page that names players, readable with any valid session. Its own
/// `error_page`s replace the server's, so the 404 page is repeated.
const PLAYERS_GATE: &str = "        auth_request /_sheetgen_players;
        error_page 401 = @sheetgen_site_login;
        error_page 404 /404.html;
";

fn players_only(visibility: Visibility, to_gen: &str) -> PlayersOnly {
    match visibility {
        Visibility::Public => PlayersOnly {
            note: "",
            next_map: "",
            gate: "",
            locations: String::new(),
        },
        Visibility::Players => PlayersOnly {
            note: "# [site] visibility = \"players\": the roster and photos need a session.\n# After changing it, run `gen nginx` again, install the file, reload nginx.\n",
            next_map: NEXT_MAP,
            gate: PLAYERS_GATE,
            locations: format!(
                r#"
    # [site] visibility = "players": the photos (thumbnails, 320-px photos,
    # initials avatars; their names are derivable) need a session too.
    location /assets/photos/ {{
{PLAYERS_GATE}        try_files $uri =404;
    }}

    # Public under "players": the login page (with its answers, served
    # at /login/ above) and the error pages name no one (their .gz twins
    # and everything else need a session).
    location = /login/index.html {{
    }}

    location = /404.html {{
    }}

    location = /403.html {{
    }}

    # "Is this any valid session?", for every page that names players. The
    # path, not a header, says so: nginx passes a client's own headers on
    # to this subrequest. Cached as /_sheetgen_auth, under a key no slug
    # can take ("*" is not in a slug).
    location = /_sheetgen_players {{
        internal;
        proxy_pass http://sheetgen_api/api/auth/players;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
{to_gen}        proxy_send_timeout 2s;
        proxy_read_timeout 2s;

        proxy_cache sheetgen_auth;
        proxy_cache_key "*players $http_cookie";
        # As /_sheetgen_auth: gen's answer says how long it may be used.
        proxy_cache_valid 204 401 30s;
        proxy_cache_lock on;
        open_file_cache off;
        proxy_ignore_headers Expires Set-Cookie;
    }}

    # $sheetgen_next, not $uri: see its map.
    location @sheetgen_site_login {{
        return 303 /login/?next=$sheetgen_next;
    }}
"#
            ),
        },
    }
}

/// The login page for each of its answers (issue 27): a page per
/// `error`/`wait`/`out` the API, nginx and a logout send the browser back
/// with, so each answer shows without JavaScript; anything else, the plain
/// page. `$arg_…` is the raw first value, as `gen serve` takes it.
fn login_answer_map() -> String {
    let entries: String = LoginAnswer::all()
        .into_iter()
        .map(|a| {
            let (error, wait, out) = a.params();
            format!("    \"{error}:{wait}:{out}\"  /{};\n", a.page())
        })
        .collect();
    format!(
        "# The login page's answers (issue 27): one page each, readable without JavaScript.\n\
         map \"$arg_error:$arg_wait:$arg_out\" $sheetgen_login_page {{\n    \
         default  /login/index.html;\n{entries}}}\n"
    )
}

/// Who may keep a copy of what (`Cache-Control` by `$uri`).
fn cache_control_map(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => {
            r#"map $uri $sheetgen_cache_control {
    ~^/assets/  "public, max-age=31536000, immutable";
    ~^/p/       "private, no-cache";
    ~^/admin/   "private, no-cache";
    ~^/api/     "no-store";
    /healthz    "no-store";
    /403.html   "no-cache";
    /404.html   "no-cache";
    default     "public, max-age=0, s-maxage=10";
}"#
        }
        // Everything that names or shows a player is for the browser of a
        // logged-in player only.
        Visibility::Players => {
            r#"map $uri $sheetgen_cache_control {
    ~^/assets/photos/  "private, max-age=31536000, immutable";
    ~^/assets/         "public, max-age=31536000, immutable";
    default            "private, no-cache";
}"#
        }
    }
}

/// What the conf file is made of, worked out once from the config and the
/// options; each section of the file below takes its pieces from here.
struct Pieces<'a> {
    config: &'a Config,
    opts: &'a NginxOptions,
    /// `server` of `upstream sheetgen_api`: gen's address.
    upstream: String,
    /// The login limit's zone (http level) and its use in `/api/login`,
    /// and the location its 429 goes to; all empty with no limit at nginx.
    login: LoginLimit,
    /// The comment that says to create the auth cache's parent folder.
    make_cache_parent: String,
    /// The proxy headers of every request to gen.
    to_gen: String,
    players: PlayersOnly,
}

/// nginx's own limit on logins per client address (`--login-rate`).
struct LoginLimit {
    zone: String,
    limit: String,
    limited: String,
}

/// The address of gen's API for `upstream`: a fixed port or a socket.
fn upstream(config: &Config) -> Result<String, String> {
    match &config.api.listen {
        ListenAddr::Tcp(addr) if addr.port() == 0 => Err(format!(
            "\"{}\" has port 0: nginx needs the fixed port gen listens on",
            config.api.listen
        )),
        ListenAddr::Tcp(addr) => Ok(addr.to_string()),
        ListenAddr::Unix(path) => Ok(format!("unix:{}", absolute(path).display())),
    }
}

fn login_limit(opts: &NginxOptions) -> LoginLimit {
    // 0 lifts nginx's login limit (load tests); gen still limits failures.
    let (zone, limit) = match opts.login_rate_per_minute {
        0 => (String::new(), String::new()),
        rate => (
            format!(
                "# Logins per client address; gen also limits failures per address and name.\nlimit_req_zone $binary_remote_addr zone=sheetgen_login:10m rate={rate}r/m;\n"
            ),
            format!(
                "        limit_req zone=sheetgen_login{};\n        limit_req_status 429;\n        error_page 429 = @sheetgen_limited;\n",
                // nginx refuses `burst=0` ("invalid burst value"): no burst
                // is written as none.
                match opts.login_burst {
                    0 => String::new(),
                    burst => format!(" burst={burst} nodelay"),
                }
            ),
        ),
    };
    // nginx's own limit says nothing of how long to wait: its rate is per
    // minute, and the form's message says "a minute".
    let limited = match opts.login_rate_per_minute {
        0 => String::new(),
        _ => "    # Too many logins from one address at nginx: the form says to wait.\n    location @sheetgen_limited {\n        return 303 /login/?error=limited;\n    }\n\n".to_string(),
    };
    LoginLimit {
        zone,
        limit,
        limited,
    }
}

/// nginx creates the cache folder itself, but not its parents: Debian's
/// nginx has no /var/cache/nginx, and `nginx -t` then fails with
/// `mkdir() "/var/cache/nginx/sheetgen" failed` (deploy.sh creates it).
fn make_cache_parent(cache: &Path) -> String {
    match cache.parent().filter(|p| p.parent().is_some()) {
        Some(parent) => format!(
            "# Before the first `nginx -t`, create the folder that holds the auth cache\n# (nginx creates only its last part; Debian's nginx ships without it):\n#   mkdir -p {}\n",
            shell_quoted(&parent.display().to_string())
        ),
        None => String::new(),
    }
}

pub(crate) fn render(config: &Config, opts: &NginxOptions) -> Result<String, String> {
    let to_gen = to_gen(!opts.behind.is_empty());
    let pieces = Pieces {
        config,
        opts,
        upstream: upstream(config)?,
        login: login_limit(opts),
        make_cache_parent: make_cache_parent(&absolute(&opts.cache_dir)),
        players: players_only(config.site.visibility, &to_gen),
        to_gen,
    };
    Ok([
        http_level(&pieces),
        server_settings(&pieces),
        private_locations(&pieces),
        other_locations(&pieces),
    ]
    .concat())
}

/// The file's header, then its http level: zones, the auth cache, maps and
/// the upstream.
fn http_level(p: &Pieces<'_>) -> String {
    let config_path = p.config.path.display();
    let visibility_note = p.players.note;
    let make_cache_parent = &p.make_cache_parent;
    let multi_accept = MAIN_VALUES.multi_accept_word();
    let worker_connections = MAIN_VALUES.worker_connections;
    let nofile = MAIN_VALUES.nofile;
    let login_zone = &p.login.zone;
    let down_bound = AUTH_ANSWER_USE_WHILE_DOWN;
    let cache = quoted(&absolute(&p.opts.cache_dir).display().to_string());
    let cache_control_map = cache_control_map(p.config.site.visibility);
    let next_map = p.players.next_map;
    let behind_maps = behind_maps(&p.opts.behind);
    let login_answer_map = login_answer_map();
    let upstream = &p.upstream;
    format!(
        r#"# sheetgen: generated by `gen nginx` from {config_path}
{visibility_note}# Install as /etc/nginx/conf.d/sheetgen.conf (nginx includes conf.d inside
# http {{ }}), then `nginx -t && systemctl reload nginx`.
{make_cache_parent}# For thousands of players at once, nginx.conf itself needs (deploy.sh sets
# them): `multi_accept {multi_accept};` and `worker_connections {worker_connections};` in events {{ }},
# without which new connections to a busy worker wait seconds to be
# accepted, and {nofile} descriptors (LimitNOFILE or worker_rlimit_nofile).

# ---- http level ------------------------------------------------------------

{login_zone}
# Answers of gen's /api/auth, cached briefly: a logout or a changed PIN
# ends sessions within 30 s; a restart of gen shows players no error, and
# while gen is down an answer serves at most {down_bound} s after gen gave it.
# Each answer is a small file replaced every 20-30 s per active player:
# keep this folder on a tmpfs (deploy.sh mounts one of 128 MB there).
proxy_cache_path {cache} levels=1:2 keys_zone=sheetgen_auth:10m max_size=100m inactive=10m use_temp_path=off;

# Fingerprinted assets never change; a player's page is for that player
# only: no shared cache in front (a CDN, a company proxy) may store it.
# Browsers revalidate every page (ETag → 304); under "public" a CDN may
# keep the shared pages 10 s (s-maxage), so an edit reaches players
# through it within one cycle + 10 s (docs/scaling-out.md), but no error
# answer (the /api/ 404s and the 403 of someone else's page end there).
{cache_control_map}
{next_map}{behind_maps}
{login_answer_map}
upstream sheetgen_api {{
    server {upstream};
    # Connections kept open between requests, per nginx worker: gen's front
    # door reads them on tokio tasks, not threads (issue 14), so an idle
    # one holds nothing. Closed by nginx before gen's own 15 s idle limit.
    keepalive 32;
    keepalive_timeout 10s;
}}

"#
    )
}

/// The server block's opening: where it listens, what it serves from, and
/// the settings and headers of every answer.
fn server_settings(p: &Pieces<'_>) -> String {
    let listen = &p.opts.listen;
    let backlog = listen_backlog(&p.opts.listen);
    let server_name = &p.opts.server_name;
    let root = quoted(&absolute(&p.config.site.out_dir).display().to_string());
    let behind_realip = behind_realip(&p.opts.behind);
    let headers = server_headers("");
    format!(
        r#"# ---- the site ----------------------------------------------------------------

server {{
    listen {listen}{backlog};
    server_name {server_name};
    root {root};
    charset utf-8;
    server_tokens off;
    # Redirects say `Location: /login/`, never a host copied from the
    # request's Host header.
    absolute_redirect off;
    # A symlink under the site's folder is followed only to a file of the
    # same owner: a link to /etc/sheetgen or state_dir is never served.
    # Checked from the root down, so a symlinked root path still works.
    disable_symlinks if_not_owner from=$document_root;
{behind_realip}
    # Pages are replaced by rename, so a cached descriptor is a complete
    # older version: kept 2 s at most (docs/design.md); a missing
    # file is never cached. Each entry holds a file descriptor: 100 keeps
    # the hot pages (index, login, assets) open and stays within Debian's
    # default of 1,024 per worker with its 768 connections (20,000 entries
    # ran nginx out of descriptors at 10,000 players in bench/load.sh).
    open_file_cache max=100 inactive=10s;
    open_file_cache_valid 2s;
    open_file_cache_errors off;
    gzip_static on;
    gzip_vary on;
    etag on;

{headers}
    error_page 404 /404.html;

    # No dotfiles (temp folders, editors' files).
    location ~ /\. {{
        return 404;
    }}

"#
    )
}

/// The pages behind a session (a player's own, the organiser's) and the
/// auth subrequest and login redirects they use.
fn private_locations(p: &Pieces<'_>) -> String {
    let to_gen = &p.to_gen;
    let down_bound = AUTH_ANSWER_USE_WHILE_DOWN;
    let clear_hint = quoted(&clear_hint_cookie(p.config.api.insecure_http));
    let location_headers = server_headers("    ");
    format!(
        r#"    # A player's page: nginx has already normalised the URI (../, //, %xx),
    # and the slug is captured from that, never parsed from the raw URI.
    location ~ ^/p/(?<slug>[a-z0-9-]+)/ {{
        auth_request /_sheetgen_auth;
        error_page 401 = @sheetgen_login;
        error_page 403 /403.html;
        try_files ${{uri}}index.html $uri =404;
        # Each page is read by one player: caching its descriptor among 100
        # only churns the cache (2-10 % fewer requests/s at 10,000 players).
        open_file_cache off;
    }}

    # The organiser's page: admin rows only. gen reads an empty slug as
    # "no player's own page": only an admin session passes.
    location ^~ /admin/ {{
        set $slug "";
        auth_request /_sheetgen_auth;
        error_page 401 = @sheetgen_login_admin;
        error_page 403 /403.html;
        try_files ${{uri}}index.html $uri =404;
        open_file_cache off;
    }}

    location = /_sheetgen_auth {{
        internal;
        proxy_pass http://sheetgen_api/api/auth;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Player-Slug $slug;
{to_gen}        proxy_send_timeout 2s;
        proxy_read_timeout 2s;

        proxy_cache sheetgen_auth;
        proxy_cache_key "$slug $http_cookie";
        # How long an answer may be used is gen's to say, in its
        # Cache-Control (docs/security.md, "When a session ends"): `max-age`, after
        # which the next request asks gen again before opening the page;
        # `stale-while-revalidate`, for the requests that arrive while it
        # does (30 s in all); and `stale-if-error`, so that while gen
        # cannot answer (stopped, restarting) an answer serves until
        # {down_bound} s after gen gave it, never later. No
        # proxy_cache_use_stale and no background update: they handed an
        # expired yes to the first request after any pause, logged out or
        # not, and kept one for as long as gen was down (issue 23).
        # proxy_cache_valid is for an answer that says nothing.
        proxy_cache_valid 204 401 403 30s;
        # A cookie nginx has never seen: one request asks gen, the others
        # wait for its answer.
        proxy_cache_lock on;
        # An updated answer replaces its cache file by rename: a cached
        # descriptor would read the expired one and ask gen again.
        open_file_cache off;
        proxy_ignore_headers Expires Set-Cookie;
    }}

    # $slug, not $uri: $uri is decoded and would let %0D%0A into a header.
    # No valid session: the "my page" hint goes too (issue 17), so a stale
    # one cannot send the login page back here. An add_header here replaces
    # the server's, which are therefore repeated.
    location @sheetgen_login {{
        add_header Set-Cookie {clear_hint} always;
{location_headers}        return 303 /login/?next=/p/$slug/;
    }}

    # A login nginx could not hand to gen (gen stopped, failing or slow):
    # back to the form, which says so in the site's language (issue 17).
    location @sheetgen_down {{
        return 303 /login/?error=server;
    }}

    location @sheetgen_login_admin {{
        add_header Set-Cookie {clear_hint} always;
{location_headers}        return 303 /login/?next=/admin/;
    }}

"#
    )
}

/// The API's public routes, the site's other files, and the server
/// block's end.
fn other_locations(p: &Pieces<'_>) -> String {
    let login_limit = &p.login.limit;
    let api_proxy = api_proxy(&p.to_gen);
    let limited = &p.login.limited;
    let to_gen = &p.to_gen;
    let gate = p.players.gate;
    let players_locations = &p.players.locations;
    format!(
        r#"    location = /api/login {{
        error_page 502 503 504 = @sheetgen_down;
{login_limit}{api_proxy}    }}

{limited}    location = /api/logout {{
{api_proxy}    }}

    # The push trigger of the sheet's Apps Script.
    location = /api/refresh {{
{api_proxy}    }}

    # A load balancer's health check (docs/scaling-out.md): HEAD only, so
    # only the status of gen's /healthz leaves the server, never its
    # report: 200 fresh, 503 data stale (gen still serves: keep it in),
    # 502 when gen is down.
    location = /healthz {{
        if ($request_method != HEAD) {{
            return 404;
        }}
        proxy_pass http://sheetgen_api/healthz;
{to_gen}        proxy_read_timeout 2s;
    }}

    # /api/auth is for nginx itself; /metrics stays on loopback.
    location ^~ /api/ {{
        return 404;
    }}

    # A plain prefix (not ^~): the dotfile rule above still applies here.
    location /assets/ {{
        try_files $uri =404;
    }}

    # The login page, as the answer in its query asks (issue 27).
    location = /login/ {{
        try_files $sheetgen_login_page /login/index.html =404;
    }}

    # Directory URLs cost one lookup.
    location ~ /$ {{
{gate}        try_files ${{uri}}index.html =404;
    }}

    location / {{
{gate}        try_files $uri $uri/ =404;
    }}
{players_locations}}}
"#
    )
}

#[cfg(test)]
mod tests;
