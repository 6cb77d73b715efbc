//! Beyond one machine (issue 18), with the real servers on 127.0.0.1:
//! two origins (each a `gen watch` with its own state_dir and the nginx
//! `gen nginx` prints, one `GEN_SESSION_KEY`) behind HAProxy (Debian
//! package `haproxy`), and Varnish (Debian package `varnish`) with its stock
//! VCL in front of that as the stand-in CDN. Both origins read the fake
//! Google's one sheet, so its request counter is the sheet's bill.
//!
//! - two origins: a session made on one reads pages on the other; the push
//!   (the Apps Script calling the site once per origin, `?origin=o1`, which
//!   HAProxy's `use-server` routes) shows an edit on both within 2 s for
//!   one Sheets request per origin; a PIN change ends the sessions on both
//!   within that one cycle; the balancer's check takes out an origin whose
//!   gen alone is down;
//! - behind the balancer (`gen nginx --behind`): logins see the client's
//!   address (the login limits count it) and its HTTPS;
//! - Google down: both origins stale (`/healthz` 503) stay in the pool;
//! - failover: under wrk load, one origin SIGKILLed (gen and nginx): once
//!   HAProxy's checks mark it down (`inter 500ms fall 2`) no player request
//!   fails and logins work; restarted while Google fails, it logs players
//!   in from its persisted snapshot at once;
//! - a CDN in front: public pages and assets are cache hits; player pages,
//!   the API and every answer with Set-Cookie are never stored nor served
//!   to another cookie; an edit reaches the edge within one cycle plus the
//!   10 s `s-maxage` of `gen nginx`'s public pages.
//!
//! A missing haproxy or varnishd fails the test and names the package.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sheetgen_test_support::fake_google::{FakeGoogle, Fault, row};
use sheetgen_test_support::http::{COOKIE, Response, get, post_form, request, try_request};
use sheetgen_test_support::nginx::{
    NginxSetup, gen_nginx, nginx_args, nginx_binary, write_nginx_conf,
};
use sheetgen_test_support::process::{Gen, free_port, listening, poll, terminate};
use sheetgen_test_support::site::{Site, site_config};
use sheetgen_test_support::{tools, tree};

const KEY: &str = "AIzaCANARY-scale-out-5d20e7";
/// One session key for every origin: a cookie one signs, all accept.
const SESSION_KEY: &str = "scale-out-session-key-0123456789abcdef0123";
/// The push token; the Apps Script sends it to each origin.
const TOKEN: &str = "push-token-scale-out-77e1";
const PLAYERS: usize = 4;
/// `gen nginx`'s `Cache-Control` for public pages: browsers revalidate, a
/// CDN keeps them this long.
const PUBLIC_PAGES: &str = "public, max-age=0, s-maxage=10";
const EDGE_TTL: Duration = Duration::from_secs(10);

fn pin(i: usize) -> String {
    format!("{}", 640_000 + i * 37)
}

fn name(i: usize) -> String {
    format!("Player {i}")
}

/// The Players tab: `p1`…`p4`; `p2` plays for `team_of_p2`; `p3`'s PIN is
/// `pin_of_p3`.
fn players_tab(team_of_p2: &str, pin_of_p3: &str) -> Vec<Vec<String>> {
    let mut rows = vec![row(&["id", "name", "pin", "team", "points"])];
    for i in 1..=PLAYERS {
        let team = if i == 2 { team_of_p2 } else { "Red" };
        let pin = if i == 3 {
            pin_of_p3.to_string()
        } else {
            pin(i)
        };
        rows.push(row(&[
            &format!("p{i}"),
            &name(i),
            &pin,
            team,
            &format!("{}", i * 3),
        ]));
    }
    rows
}

fn sheet(team_of_p2: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    BTreeMap::from([("Players".to_string(), players_tab(team_of_p2, &pin(3)))])
}

// ---------------------------------------------------------------- processes

/// `kill -SIG pid…` (the ones already gone are ignored).
fn kill(sig: &str, pids: &[u32]) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// The processes whose parent is `pid` (nginx's workers and cache
/// processes), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let child: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces, not `)`-last.
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == pid).then_some(child)
    })
    .collect()
}

/// A non-daemon nginx master with the file `gen nginx` prints, on a port
/// chosen by the caller (a restarted origin comes back on the same one).
struct OriginNginx {
    child: Child,
    prefix: tempfile::TempDir,
}

const SETUP: NginxSetup = NginxSetup {
    workers: 1,
    access_log: true,
};

impl OriginNginx {
    #[track_caller]
    fn start(site: &Site, port: u16) -> OriginNginx {
        // Behind the balancer (and the edge), all on 127.0.0.1.
        let printed = gen_nginx(site);
        let behind = |args: &[&str]| printed(&[args, &["--behind", "127.0.0.1"]].concat());
        let (prefix, conf, _) = write_nginx_conf(&behind, port, SETUP);
        let child = Command::new(nginx_binary())
            .args(nginx_args(prefix.path(), &conf))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut nginx = OriginNginx { child, prefix };
        let addr = format!("127.0.0.1:{port}");
        let up = listening(&mut nginx.child, &addr, Duration::from_secs(10));
        assert!(up, "nginx did not start:\n{}", nginx.error_log());
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("error.log")).unwrap_or_default()
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("access.log")).unwrap_or_default()
    }

    /// SIGKILL to the master, then to its workers: nothing stops cleanly.
    fn kill(&mut self) {
        let master = self.child.id();
        let mut pids = vec![master];
        pids.extend(children(master));
        kill("KILL", &pids);
        let _ = self.child.wait();
    }
}

impl Drop for OriginNginx {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// One origin: its own site folder and state_dir, `gen watch` on a fixed
/// port, its own nginx on a fixed port.
struct Origin {
    site: Site,
    port: u16,
    gen_: Option<Gen>,
    nginx: Option<OriginNginx>,
}

impl Origin {
    /// Configured (not started) against `fake`, a cycle every `refresh_secs`.
    fn new(fake: &FakeGoogle, refresh_secs: u64) -> Origin {
        let site = Site::for_nginx();
        site.write_config(&site_config(
            "FC Scale Out",
            Some(refresh_secs),
            &fake.api_key_source(KEY),
            &format!("\n[api]\nlisten = \"127.0.0.1:{}\"\n", free_port()),
        ));
        Origin {
            site,
            port: free_port(),
            gen_: None,
            nginx: None,
        }
    }

    fn started(fake: &FakeGoogle, refresh_secs: u64) -> Origin {
        let mut o = Origin::new(fake, refresh_secs);
        o.start_gen();
        o.gen_().wait_first_cycle();
        o.start_nginx();
        o
    }

    fn start_gen(&mut self) {
        let g = Gen::start_env(
            &self.site.config_path(),
            self.site.root(),
            &["watch"],
            &[
                ("GEN_SESSION_KEY", SESSION_KEY),
                ("GEN_REFRESH_TOKEN", TOKEN),
            ],
        );
        self.gen_ = Some(g);
    }

    fn start_nginx(&mut self) {
        self.nginx = Some(OriginNginx::start(&self.site, self.port));
    }

    fn gen_(&self) -> &Gen {
        self.gen_.as_ref().unwrap()
    }

    fn nginx(&self) -> &OriginNginx {
        self.nginx.as_ref().unwrap()
    }

    /// Its nginx, where the balancer sends requests.
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The machine going down: SIGKILL to gen and to every nginx process.
    fn kill(&mut self) {
        if let Some(g) = &self.gen_ {
            g.signal("KILL");
        }
        if let Some(n) = &mut self.nginx {
            n.kill();
        }
    }

    fn logs(&self) -> String {
        format!(
            "--- gen\n{}\n--- nginx\n{}",
            self.gen_.as_ref().map(Gen::log).unwrap_or_default(),
            self.nginx
                .as_ref()
                .map(OriginNginx::error_log)
                .unwrap_or_default()
        )
    }
}

// ---------------------------------------------------------------- HAProxy

/// The balancer's health-check window: checks every 500 ms, down after 2
/// failed ones, up after 2 good ones.
const CHECK: &str = "inter 500ms fall 2 rise 2";

/// The HAProxy config of docs/scaling-out.md, read from the page, for
/// these origins on 127.0.0.1: the TLS lines give way to one plain `bind`
/// (the page says the tests run it so), the admin socket is added for
/// [`Haproxy::state`], and the page's example addresses become the
/// origins'.
fn haproxy_config(port: u16, origins: &[&Origin], socket: &Path) -> String {
    use sheetgen_test_support::docs::{block, swap};
    assert_eq!(origins.len(), 2, "the page's config has two origins");
    let mut cfg = block("scaling-out.md", "HAProxy (Debian's `haproxy`");
    cfg = swap(
        &cfg,
        "    maxconn 4096\n",
        &format!(
            "    maxconn 4096\n    stats socket {} mode 600 level admin\n",
            socket.display()
        ),
    );
    cfg = swap(
        &cfg,
        "    bind :443 ssl crt /etc/haproxy/club.example.pem\n    bind :80\n    \
         http-request redirect scheme https unless { ssl_fc }\n    \
         http-request set-header X-Forwarded-Proto https if { ssl_fc }\n",
        &format!("    bind 127.0.0.1:{port}\n"),
    );
    cfg = swap(&cfg, "hdr Host club.example", "hdr Host localhost");
    cfg = swap(
        &cfg,
        &format!("default-server {CHECK}"),
        &format!("default-server {CHECK}"),
    );
    for (i, origin) in origins.iter().enumerate() {
        let example = format!("server o{} 10.0.0.1{}:80 check", i + 1, i + 1);
        cfg = swap(
            &cfg,
            &example,
            &format!("server o{} {} check", i + 1, origin.addr()),
        );
    }
    cfg
}

struct Haproxy {
    child: Child,
    dir: tempfile::TempDir,
    addr: String,
}

impl Haproxy {
    #[track_caller]
    fn start(origins: &[&Origin]) -> Haproxy {
        let bin = tools::tool("haproxy", "haproxy");
        let dir = tempfile::Builder::new()
            .prefix("sheetgen-haproxy-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let cfg = dir.path().join("haproxy.cfg");
        std::fs::write(
            &cfg,
            haproxy_config(port, origins, &dir.path().join("admin.sock")),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("haproxy.log")).unwrap();
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lb = Haproxy {
            child,
            dir,
            addr: format!("127.0.0.1:{port}"),
        };
        let up = listening(&mut lb.child, &lb.addr, Duration::from_secs(10));
        assert!(up, "haproxy did not start:\n{}", lb.log());
        for i in 1..=origins.len() {
            lb.wait_status(&format!("o{i}"), "UP", Duration::from_secs(5));
        }
        lb
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }

    /// `show stat` on the admin socket: the `status` of server `name`
    /// (`UP`, `DOWN`, `UP 1/2`…); `no socket` until HAProxy made it.
    fn status(&self, name: &str) -> String {
        let Ok(mut s) = UnixStream::connect(self.dir.path().join("admin.sock")) else {
            return "no socket".into();
        };
        s.write_all(b"show stat\n").unwrap();
        let mut csv = String::new();
        s.read_to_string(&mut csv).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or("")
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let at = header.iter().position(|h| *h == "status").unwrap();
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&"origins") && f.get(1) == Some(&name))
            .map(|f| f[at].to_string())
            .unwrap_or_else(|| panic!("no server {name} in:\n{csv}"))
    }

    /// Waits until server `name` is `want`; how long it took.
    #[track_caller]
    fn wait_status(&self, name: &str, want: &str, timeout: Duration) -> Duration {
        let t = Instant::now();
        poll(timeout, || (self.status(name) == want).then_some(())).unwrap_or_else(|| {
            panic!(
                "haproxy: {name} not {want} within {timeout:?} (is {})\n{}",
                self.status(name),
                self.log()
            )
        });
        t.elapsed()
    }
}

impl Haproxy {
    /// The Apps Script's push for origin `server` (`o1`…), through the
    /// balancer's one public address.
    #[track_caller]
    fn push(&self, server: &str) {
        let r = request(
            &self.addr,
            "POST",
            &format!("/api/refresh?origin={server}"),
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            b"",
        );
        assert_eq!(r.status, 202, "push for {server}: {}\n{}", r.head, r.text());
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

// ---------------------------------------------------------------- Varnish

/// varnishd with its stock (builtin) VCL, `-b` naming the only backend.
struct Varnish {
    child: Child,
    dir: tempfile::TempDir,
    addr: String,
}

impl Varnish {
    #[track_caller]
    fn start(backend: &str) -> Varnish {
        let bin = tools::tool("varnishd", "varnish");
        let dir = tempfile::Builder::new()
            .prefix("sheetgen-varnish-")
            .tempdir()
            .unwrap();
        // varnishd drops to its own user, which must reach the work folder.
        tree::chmod(dir.path(), 0o755);
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("varnishd.log")).unwrap();
        let child = Command::new(bin)
            .arg("-F")
            .args(["-a", &addr, "-b", backend, "-s", "malloc,32m", "-n"])
            .arg(dir.path().join("n"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut edge = Varnish { child, dir, addr };
        let up = listening(&mut edge.child, &edge.addr, Duration::from_secs(20));
        assert!(up, "varnishd did not start:\n{}", edge.log());
        edge
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("varnishd.log")).unwrap_or_default()
    }

    /// A counter of `varnishstat -1` (`MAIN.cache_hit`…).
    #[track_caller]
    fn stat(&self, field: &str) -> u64 {
        let out = Command::new(tools::tool("varnishstat", "varnish"))
            .arg("-n")
            .arg(self.dir.path().join("n"))
            .args(["-1", "-f", field])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(field)).then(|| words.next()?.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {field} in varnishstat: {text}\n{out:?}"))
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

// ---------------------------------------------------------------- requests

/// A login through `addr`; the session cookie if it succeeded.
fn login(addr: &str, i: usize, pin: &str) -> Option<String> {
    let r = post_form(addr, "/api/login", &[], &[("name", &name(i)), ("pin", pin)]);
    (r.status == 303).then(|| r.cookie(COOKIE)).flatten()
}

#[track_caller]
fn login_ok(addr: &str, i: usize) -> String {
    login(addr, i, &pin(i)).unwrap_or_else(|| panic!("login of {} through {addr} failed", name(i)))
}

fn page(addr: &str, path: &str, cookie: Option<&str>) -> Response {
    let c = cookie.map(|t| format!("{COOKIE}={t}"));
    let mut headers = vec![("Accept-Encoding", "gzip")];
    if let Some(c) = &c {
        headers.push(("Cookie", c.as_str()));
    }
    get(addr, path, &headers)
}

/// Whether Varnish answered from its cache: X-Varnish names this
/// transaction and the one that stored the object.
fn is_hit(r: &Response) -> bool {
    r.header("X-Varnish")
        .is_some_and(|v| v.split_whitespace().count() == 2)
}

fn shows(r: &Response, text: &str) -> bool {
    r.status == 200 && tree::contains(&r.decoded(), text.as_bytes())
}

/// Player `i`'s own page read with `cookie` through `addr`: 200 and their
/// name and team on it.
#[track_caller]
fn assert_own_page(addr: &str, i: usize, cookie: &str, team: &str, context: &str) {
    let r = page(addr, &format!("/p/p{i}/"), Some(cookie));
    assert!(
        shows(&r, &name(i)) && shows(&r, team),
        "{context}: /p/p{i}/ through {addr}: {}\n{}",
        r.head,
        String::from_utf8_lossy(&r.decoded())
    );
}

// ---------------------------------------------------------------- tests

#[test]
fn two_origins_share_sessions_the_push_and_a_pin_change() {
    let fake = FakeGoogle::start(KEY, sheet("Red"));
    let o1 = Origin::started(&fake, 3600);
    let o2 = Origin::started(&fake, 3600);
    let lb = Haproxy::start(&[&o1, &o2]);
    assert_eq!(
        fake.sheets(),
        2,
        "one Sheets request per origin's first cycle"
    );

    // A session made on one origin reads the page on the other, and only
    // that player's page.
    let c3 = login_ok(&o1.addr(), 3);
    assert_own_page(&o2.addr(), 3, &c3, "Red", "a session of o1 on o2");
    let other = page(&o2.addr(), "/p/p1/", Some(&c3));
    assert_eq!(other.status, 403, "{}", other.head);
    assert!(!shows(&other, &name(1)));
    // Through the balancer, which sends it to both.
    for _ in 0..6 {
        assert_own_page(&lb.addr, 3, &c3, "Red", "through HAProxy");
    }
    for o in [&o1, &o2] {
        let served = o.nginx().access_log().matches("GET /p/p3/ ").count();
        assert!(served >= 3, "{} served /p/p3/ {served} times", o.addr());
    }

    // An edit, pushed by the Apps Script to each origin through the
    // balancer: on both within 2 s, one Sheets request each.
    let c2 = login_ok(&lb.addr, 2);
    let before = assert_edit_pushed_to_both(&fake, [&o1, &o2], &lb, &c2);
    change_a_pin_on_both(&fake, [&o1, &o2], &lb, &c3);
    // Others' sessions live on.
    assert_own_page(
        &lb.addr,
        2,
        &c2,
        "Team-Pushed-4417",
        "another player's session",
    );
    assert_eq!(fake.sheets() - before, 4);

    // The balancer's check, `HEAD /healthz` through nginx, sees gen itself
    // and shows nothing of gen's report: gen alone stopped on o2 (its
    // nginx still up) takes o2 out, and logins keep working.
    let head = request(&o2.addr(), "HEAD", "/healthz", &[], b"");
    assert_eq!(head.status, 200, "{}", head.head);
    assert_eq!(
        head.header("Cache-Control"),
        Some("no-store"),
        "{}",
        head.head
    );
    let report = get(&o2.addr(), "/healthz", &[]);
    assert_eq!(report.status, 404, "{}", report.head);
    assert!(!report.text().contains("last_success"), "{}", report.text());
    let mut o2 = o2;
    o2.gen_.as_mut().unwrap().stop();
    let head = request(&o2.addr(), "HEAD", "/healthz", &[], b"");
    assert_eq!(head.status, 502, "{}", head.head);
    let down_after = lb.wait_status("o2", "DOWN", Duration::from_secs(3));
    eprintln!("gen stopped on o2: HAProxy took o2 out after {down_after:?}");
    assert_eq!(lb.status("o1"), "UP");
    for (i, team) in [(1, "Red"), (2, "Team-Pushed-4417"), (4, "Red")] {
        let c = login_ok(&lb.addr, i);
        assert_own_page(&lb.addr, i, &c, team, "a login with gen down on o2");
    }
}

/// An edit, pushed by the Apps Script to each origin through the
/// balancer: on both within 2 s, one cycle and one Sheets request each.
/// The Sheets requests before it.
fn assert_edit_pushed_to_both(
    fake: &FakeGoogle,
    [o1, o2]: [&Origin; 2],
    lb: &Haproxy,
    c2: &str,
) -> usize {
    let before_cycles = [o1.gen_().cycles(), o2.gen_().cycles()];
    let before = fake.sheets();
    fake.set_tab("Players", players_tab("Team-Pushed-4417", &pin(3)));
    let t = Instant::now();
    lb.push("o1");
    lb.push("o2");
    for o in [o1, o2] {
        let shown = poll(Duration::from_secs(2), || {
            shows(&page(&o.addr(), "/p/p2/", Some(c2)), "Team-Pushed-4417").then_some(())
        });
        assert!(
            shown.is_some(),
            "the pushed edit is not on {} within 2 s\n{}",
            o.addr(),
            o.logs()
        );
    }
    eprintln!("pushed edit on both origins after {:?}", t.elapsed());
    let index = page(&lb.addr, "/", None);
    assert!(shows(&index, "Team-Pushed-4417"), "{}", index.head);
    // (/healthz counts a cycle a moment after its pages are out.)
    let after_cycles = || [o1.gen_().cycles(), o2.gen_().cycles()];
    poll(Duration::from_secs(2), || {
        (after_cycles()
            .iter()
            .zip(before_cycles)
            .all(|(a, b)| *a > b))
        .then_some(())
    });
    assert_eq!(
        after_cycles(),
        before_cycles.map(|c| c + 1),
        "one cycle on each origin, one push each"
    );
    assert_eq!(
        fake.sheets() - before,
        2,
        "Google requests = origins × 1 per cycle"
    );
    before
}

/// A PIN change: the next cycle on each origin (the push) ends the
/// sessions made with the old PIN (`c3`) on both; the new PIN logs in on
/// both.
fn change_a_pin_on_both(fake: &FakeGoogle, origins: [&Origin; 2], lb: &Haproxy, c3: &str) {
    fake.set_tab("Players", players_tab("Team-Pushed-4417", "913377"));
    lb.push("o1");
    lb.push("o2");
    for o in origins {
        let ended = poll(Duration::from_secs(2), || {
            (sheetgen_test_support::http::auth_status(&o.gen_().addr, c3, "p3") == 401)
                .then_some(())
        });
        assert!(
            ended.is_some(),
            "the old session still passes on {}",
            o.addr()
        );
        assert_eq!(
            login(&o.addr(), 3, &pin(3)),
            None,
            "old PIN on {}",
            o.addr()
        );
        let c = login(&o.addr(), 3, "913377")
            .unwrap_or_else(|| panic!("the new PIN fails on {}\n{}", o.addr(), o.logs()));
        assert_own_page(&o.addr(), 3, &c, "Red", "a session with the new PIN");
    }
}

#[test]
fn behind_the_balancer_each_client_is_known_by_its_address_and_scheme() {
    let fake = FakeGoogle::start(KEY, sheet("Red"));
    let o1 = Origin::started(&fake, 3600);
    let o2 = Origin::started(&fake, 3600);
    let lb = Haproxy::start(&[&o1, &o2]);
    let login_as = |client: &str, proto: Option<&str>, i: usize, pin: &str| {
        let mut headers = vec![("Host", "club.example"), ("X-Forwarded-For", client)];
        if let Some(p) = proto {
            headers.push(("X-Forwarded-Proto", p));
        }
        post_form(
            &lb.addr,
            "/api/login",
            &headers,
            &[("name", &name(i)), ("pin", pin)],
        )
    };

    // TLS ends at the balancer, which says so (X-Forwarded-Proto): a login
    // on the site's public name works; the same over plain HTTP is refused
    // as gen refuses it without a balancer.
    let r = login_as("203.0.113.5", Some("https"), 1, &pin(1));
    assert_eq!(r.status, 303, "{}\n{}", r.head, o1.logs());
    assert!(r.cookie(COOKIE).is_some(), "{}", r.head);
    let r = login_as("203.0.113.5", None, 1, &pin(1));
    assert_eq!(r.status, 303, "{}", r.head);
    assert_eq!(r.cookie(COOKIE), None, "{}", r.head);
    assert_eq!(
        r.header("Location"),
        Some("/login/?error=https"),
        "{}",
        r.head
    );

    // The login limits count the client, not the balancer: one client's
    // failures (each origin counts its own: 2 × 12 > 10 on each) lock out
    // that client only.
    // gen answers a form with a 303 to the login page, which says why.
    let said = |r: &Response| {
        r.header("Location")
            .and_then(|l| l.split("error=").nth(1))
            .map_or("none".to_string(), |e| {
                e.split('&').next().unwrap_or("").to_string()
            })
    };
    let mut answers = BTreeMap::new();
    for k in 0..24 {
        let r = login_as(
            "203.0.113.7",
            Some("https"),
            1,
            &format!("{:06}", 100_000 + k),
        );
        *answers.entry(said(&r)).or_insert(0) += 1;
    }
    assert!(
        answers.get("limited").is_some_and(|n| *n >= 2),
        "{answers:?}"
    );
    for _ in 0..2 {
        let r = login_as("203.0.113.7", Some("https"), 2, &pin(2));
        assert_eq!(said(&r), "limited", "the locked-out client: {}", r.head);
        assert_eq!(r.cookie(COOKIE), None, "{}", r.head);
        let r = login_as("203.0.113.8", Some("https"), 2, &pin(2));
        assert_eq!(
            r.status, 303,
            "another client is locked out too: {}",
            r.head
        );
        assert!(r.cookie(COOKIE).is_some(), "another client: {}", r.head);
    }
}

#[test]
fn google_down_leaves_both_origins_stale_but_in_the_pool() {
    let fake = FakeGoogle::start(KEY, sheet("Red"));
    let o1 = Origin::started(&fake, 1);
    let o2 = Origin::started(&fake, 1);
    let lb = Haproxy::start(&[&o1, &o2]);
    let c1 = login_ok(&lb.addr, 1);
    fake.fail_always(Some(Fault::Status(500)));
    // Stale after three refresh intervals: /healthz says 503 on both…
    for o in [&o1, &o2] {
        o.gen_()
            .wait_health(Duration::from_secs(10), "stale", |status, v| {
                status == 503 && v["status"] == "stale"
            });
        let head = request(&o.addr(), "HEAD", "/healthz", &[], b"");
        assert_eq!(head.status, 503, "{}", head.head);
    }
    // …and the balancer keeps both (a check every 500 ms: give it 3), so
    // the last good site is still served and logins still work.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        [lb.status("o1"), lb.status("o2")],
        ["UP", "UP"],
        "{}",
        lb.log()
    );
    for _ in 0..4 {
        assert_own_page(&lb.addr, 1, &c1, "Red", "Google down");
        let c = login_ok(&lb.addr, 2);
        assert_own_page(&lb.addr, 2, &c, "Red", "a login with Google down");
    }
}

/// What one probe request saw: when it started (since the kill, negative
/// before it), and whether it was the player's own page.
type Probe = (f64, Result<(), String>);

/// wrk on a player's page through the balancer, for the whole episode,
/// at the lowest priority: on a busy machine (the rest of the suite runs
/// beside it) it yields instead of starving other tests' timings.
fn start_wrk(lb: &Haproxy, cookie: &str) -> Child {
    Command::new("nice")
        .args(["-n", "19"])
        .arg(tools::tool("wrk", "wrk"))
        .args(["-t1", "-c4", "-d9s", "--timeout", "2s", "-H"])
        .arg(format!("Cookie: {COOKIE}={cookie}"))
        .arg(format!("http://{}/p/p1/", lb.addr))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Probes: each player reads their own page on a fresh connection, in a
/// loop until `stop`, each answer checked and timed against `killed_at`.
fn start_probes(
    lb: &Haproxy,
    cookies: &[String],
    stop: &Arc<AtomicBool>,
    killed_at: &Arc<Mutex<Option<Instant>>>,
) -> Vec<std::thread::JoinHandle<Vec<Probe>>> {
    (1..=PLAYERS)
        .map(|i| {
            let (addr, cookie) = (lb.addr.clone(), format!("{COOKIE}={}", cookies[i - 1]));
            let (stop, killed_at) = (Arc::clone(stop), Arc::clone(killed_at));
            std::thread::spawn(move || {
                let mut seen: Vec<Probe> = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let start = Instant::now();
                    let r = try_request(
                        &addr,
                        "GET",
                        &format!("/p/p{i}/"),
                        &[("Cookie", &cookie)],
                        b"",
                    );
                    let at = match *killed_at.lock().unwrap() {
                        Some(k) if start >= k => (start - k).as_secs_f64(),
                        Some(k) => -(k - start).as_secs_f64(),
                        None => -1.0,
                    };
                    let verdict = match r {
                        Ok(r) if shows(&r, &name(i)) => Ok(()),
                        Ok(r) => Err(r.head),
                        Err(e) => Err(e.to_string()),
                    };
                    seen.push((at, verdict));
                    std::thread::sleep(Duration::from_millis(20));
                }
                seen
            })
        })
        .collect()
}

#[test]
fn failover_under_load_then_a_restart_serves_its_snapshot() {
    let fake = FakeGoogle::start(KEY, sheet("Red"));
    let mut o1 = Origin::started(&fake, 3600);
    let o2 = Origin::started(&fake, 3600);
    let lb = Haproxy::start(&[&o1, &o2]);
    let cookies: Vec<String> = (1..=PLAYERS).map(|i| login_ok(&lb.addr, i)).collect();

    let wrk = start_wrk(&lb, &cookies[0]);

    let stop = Arc::new(AtomicBool::new(false));
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let probes = start_probes(&lb, &cookies, &stop, &killed_at);

    std::thread::sleep(Duration::from_secs(2));
    *killed_at.lock().unwrap() = Some(Instant::now());
    o1.kill();
    let down_after = lb.wait_status("o1", "DOWN", Duration::from_secs(3));
    // Logins keep working, and the sessions made before read their pages.
    let after_kill: Vec<String> = (1..=PLAYERS).map(|i| login_ok(&lb.addr, i)).collect();
    for (i, c) in after_kill.iter().enumerate() {
        assert_own_page(&lb.addr, i + 1, c, "Red", "a login after the failover");
    }
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::SeqCst);
    let seen: Vec<Probe> = probes.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let window = down_after.as_secs_f64();
    let failed_in_window: Vec<&Probe> = seen
        .iter()
        .filter(|(at, v)| *at >= 0.0 && *at <= window && v.is_err())
        .collect();
    let after: Vec<&Probe> = seen.iter().filter(|(at, _)| *at > window).collect();
    let failed_after: Vec<&Probe> = after.iter().copied().filter(|(_, v)| v.is_err()).collect();
    let before_ok = seen.iter().filter(|(at, v)| *at < 0.0 && v.is_ok()).count();
    let wrk = wrk.wait_with_output().unwrap();
    let wrk_out = String::from_utf8_lossy(&wrk.stdout).into_owned();
    eprintln!(
        "failover: o1 marked DOWN {down_after:?} after the SIGKILL; probes: {} before ({before_ok} ok), \
         {} failed within the window, {} after it ({} failed)\nwrk through the kill:\n{wrk_out}",
        seen.iter().filter(|(at, _)| *at < 0.0).count(),
        failed_in_window.len(),
        after.len(),
        failed_after.len()
    );
    assert!(
        down_after <= Duration::from_millis(2000),
        "HAProxy's window is inter 500ms fall 2 (~1 s): {down_after:?}\n{}",
        lb.log()
    );
    assert!(before_ok >= PLAYERS * 5, "{seen:?}");
    assert!(
        after.len() >= PLAYERS * 20,
        "{} probes after the window",
        after.len()
    );
    assert!(
        failed_after.is_empty(),
        "player requests failed after the window: {failed_after:?}"
    );
    assert!(wrk.status.success(), "{wrk:?}");
    assert!(wrk_out.contains("requests in"), "{wrk_out}");

    // Restarted while Google fails: o1 serves logins and pages from its
    // persisted snapshot at once, before any successful fetch.
    fake.fail_always(Some(Fault::Status(500)));
    let sheets_before = fake.sheets();
    o1.start_gen();
    o1.start_nginx();
    let c = login(&o1.addr(), 4, &pin(4))
        .unwrap_or_else(|| panic!("no login from the persisted snapshot\n{}", o1.logs()));
    assert_own_page(&o1.addr(), 4, &c, "Red", "the restarted origin");
    assert_own_page(
        &o1.addr(),
        1,
        &cookies[0],
        "Red",
        "a session from before the kill",
    );
    assert_eq!(o1.gen_().count_log("cycle ok"), 0, "{}", o1.logs());
    // It did try Google (and failed), then HAProxy takes it back.
    poll(Duration::from_secs(5), || {
        (fake.sheets() > sheets_before).then_some(())
    })
    .expect("the restarted origin never asked Google");
    let up_after = lb.wait_status("o1", "UP", Duration::from_secs(5));
    eprintln!("restarted o1 back in HAProxy after {up_after:?}");
    assert_eq!(o1.gen_().count_log("cycle ok"), 0, "{}", o1.logs());
}

/// Player pages through the edge at `e`: each cookie gets its own page,
/// never a stored one; no cookie gets the login redirect, even right after
/// a player read it.
fn assert_player_pages_never_stored(e: &str, c1: &str, c2: &str) {
    for round in 0..3 {
        for (i, mine, theirs) in [(1, c1, c2), (2, c2, c1)] {
            let own = page(e, &format!("/p/p{i}/"), Some(mine));
            assert!(shows(&own, &name(i)), "round {round}: {}", own.head);
            assert_eq!(own.header("Cache-Control"), Some("private, no-cache"));
            assert!(
                own.header("X-Varnish").is_some() && !is_hit(&own),
                "a player's page served from the cache: {}",
                own.head
            );
            let other = page(e, &format!("/p/p{i}/"), Some(theirs));
            assert_eq!(other.status, 403, "round {round}: {}", other.head);
            assert!(!shows(&other, &name(i)));
            let anonymous = page(e, &format!("/p/p{i}/"), None);
            assert_eq!(anonymous.status, 303, "round {round}: {}", anonymous.head);
            assert_eq!(
                anonymous.header("Location"),
                Some(format!("/login/?next=/p/p{i}/").as_str()),
                "{}",
                anonymous.head
            );
            assert!(
                !tree::contains(&anonymous.decoded(), name(i).as_bytes()),
                "{}",
                anonymous.head
            );
        }
    }
}

#[test]
fn a_cdn_in_front_stores_public_pages_only_and_shows_an_edit_within_cycle_plus_ttl() {
    let fake = FakeGoogle::start(KEY, sheet("Red"));
    let refresh = 2;
    let o1 = Origin::started(&fake, refresh);
    let o2 = Origin::started(&fake, refresh);
    let lb = Haproxy::start(&[&o1, &o2]);
    let edge = Varnish::start(&lb.addr);
    let e = edge.addr.as_str();

    // Public pages and assets: cache hits after the first miss.
    let asset = tree::files(&o1.site.out())
        .into_keys()
        .find(|k| k.starts_with("assets/") && k.ends_with(".css"))
        .expect("no CSS asset");
    let public = ["/".to_string(), "/login/".to_string(), format!("/{asset}")];
    let (hits0, misses0) = (edge.stat("MAIN.cache_hit"), edge.stat("MAIN.cache_miss"));
    let mut last = BTreeMap::new();
    // A hit names two transactions in X-Varnish (this one and the one that
    // stored the object), a miss or a pass one.
    let mut hits = 0;
    for _ in 0..20 {
        for path in &public {
            let r = page(e, path, None);
            assert_eq!(r.status, 200, "{path}: {}", r.head);
            hits += usize::from(is_hit(&r));
            last.insert(path.clone(), r);
        }
    }
    // varnishstat's counters are summed from the worker threads a moment
    // later: read for the report only.
    poll(Duration::from_secs(3), || {
        (edge.stat("MAIN.cache_hit") + edge.stat("MAIN.cache_miss") >= hits0 + misses0 + 60)
            .then_some(())
    });
    let (stat_hits, stat_misses) = (
        edge.stat("MAIN.cache_hit") - hits0,
        edge.stat("MAIN.cache_miss") - misses0,
    );
    eprintln!(
        "edge: {hits} hits of 60 cookieless requests of 3 public URLs by X-Varnish; \
         varnishstat: {stat_hits} hits, {stat_misses} misses"
    );
    assert!(hits >= 54, "{hits} hits of 60");
    let index = &last["/"];
    assert_eq!(
        index.header("Cache-Control"),
        Some(PUBLIC_PAGES),
        "{}",
        index.head
    );
    assert!(is_hit(index), "{}", index.head);
    let published = |rel: &str| -> Vec<Vec<u8>> {
        [&o1, &o2]
            .iter()
            .map(|o| std::fs::read(o.site.out().join(rel)).unwrap())
            .collect()
    };
    assert!(published("index.html").contains(&index.decoded()));
    assert!(published(&asset).contains(&last[&format!("/{asset}")].decoded()));

    // Logins through the edge: passed (POST), never stored: each player
    // gets their own cookie.
    let c1 = login_ok(e, 1);
    let c2 = login_ok(e, 2);
    assert_ne!(c1, c2);
    let bad = post_form(
        e,
        "/api/login",
        &[],
        &[("name", &name(1)), ("pin", "000000")],
    );
    assert_eq!(bad.status, 303, "{}", bad.head);
    assert_eq!(bad.cookie(COOKIE), None, "{}", bad.head);

    assert_player_pages_never_stored(e, &c1, &c2);
    // The API and error answers: never from the cache.
    for path in ["/api/auth", "/api/auth", "/no-such-page/", "/no-such-page/"] {
        let r = page(e, path, None);
        assert_eq!(r.status, 404, "{path}: {}", r.head);
        assert!(
            r.header("X-Varnish").is_some() && !is_hit(&r),
            "{path} came from the cache: {}",
            r.head
        );
    }
    // A logged-in player's request for a public page carries the cookie:
    // the stock VCL passes it to the origins.
    for _ in 0..2 {
        let r = page(e, "/", Some(&c1));
        assert!(shows(&r, &name(1)), "{}", r.head);
        assert!(!is_hit(&r), "a cookie request was served from the cache");
    }

    // An edit reaches players through the edge within one cycle plus the
    // TTL (and the one request that Varnish's grace answers stale).
    let pre = page(e, "/", None);
    assert!(shows(&pre, "Red") && !shows(&pre, "Team-Edge-2291"));
    let t = Instant::now();
    fake.set_tab("Players", players_tab("Team-Edge-2291", &pin(3)));
    let limit = Duration::from_secs(refresh) + EDGE_TTL + Duration::from_secs(5);
    let shown = poll(limit, || {
        std::thread::sleep(Duration::from_millis(200));
        shows(&page(e, "/", None), "Team-Edge-2291").then_some(())
    });
    let took = t.elapsed();
    assert!(
        shown.is_some(),
        "the edit is not at the edge within {limit:?}\n{}\n{}",
        o1.logs(),
        edge.log()
    );
    eprintln!("edit at the edge after {took:?} (refresh {refresh} s, s-maxage 10 s)");
    // The player's own page went around the cache: at once.
    let own = page(e, "/p/p2/", Some(&c2));
    assert!(shows(&own, "Team-Edge-2291"), "{}", own.head);
}
