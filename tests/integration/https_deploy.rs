//! `deploy.sh --domain` (issue 25): certbot's nginx plugin gets a
//! certificate from Debian's `pebble` (an ACME test server on loopback,
//! every challenge valid) and installs it in the site a real nginx serves;
//! `http://` answers with a redirect to `https://`; a real Chromium logs a
//! player in over HTTPS and reads their page; a second run changes no byte
//! and asks pebble for nothing.
//!
//! certbot redirects only the server blocks listening on port 80, so
//! nginx's HTTP side listens on port 80 of a loopback address of its own
//! (127.x.y.z, free of any other test); HTTPS is on a free port
//! (`deploy.sh --https-port`). Chromium reaches `club.test` there through
//! `--host-resolver-rules` and trusts exactly the certificate certbot
//! installed (`--ignore-certificate-errors-spki-list`), both given by a
//! wrapper around Debian's chromium.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sheetgen_test_support::browser::{Browser, Tools, path_of};
use sheetgen_test_support::demo::{Player, demo_config, demo_player};
use sheetgen_test_support::http::get;
use sheetgen_test_support::nginx::nginx_binary;
use sheetgen_test_support::process::{Gen, free_port, listening, terminate};
use sheetgen_test_support::site::{DEMO, repo};
use sheetgen_test_support::tools::{tail, tail_file, tool};
use tempfile::TempDir;

use crate::debian::{stamps, stamps_diff};
use crate::deploy::{Run, fake_root};

const GEN: &str = env!("CARGO_BIN_EXE_gen");
const DOMAIN: &str = "club.test";

/// A child process stopped (SIGTERM, then SIGKILL) on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        terminate(&mut self.0);
    }
}

/// pebble on two free loopback ports with a TLS certificate made here;
/// (the daemon, its directory URL, the CA file certbot must trust, its log).
fn start_pebble(dir: &Path) -> (Daemon, String, PathBuf, PathBuf) {
    let pebble = tool("pebble", "pebble");
    let openssl = tool("openssl", "openssl");
    let (cert, key) = (dir.join("pebble.pem"), dir.join("pebble.key"));
    let made = Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-addext"])
        .arg("subjectAltName=IP:127.0.0.1,DNS:localhost")
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl req: {made:?}");
    let (port, management) = (free_port(), free_port());
    let config = dir.join("pebble.json");
    let json = serde_json::json!({ "pebble": {
        "listenAddress": format!("127.0.0.1:{port}"),
        "managementListenAddress": format!("127.0.0.1:{management}"),
        "certificate": cert, "privateKey": key,
        "httpPort": 80, "tlsPort": 443,
        "ocspResponderURL": "", "externalAccountBindingRequired": false,
    }});
    std::fs::write(&config, json.to_string()).unwrap();
    let log = dir.join("pebble.log");
    let child = Command::new(pebble)
        .arg("-config")
        .arg(&config)
        // Every challenge valid at once, no nonce refused at random: the
        // test is about deploy.sh and certbot, not the ACME dance.
        .env("PEBBLE_VA_ALWAYS_VALID", "1")
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon(child);
    let addr = format!("127.0.0.1:{port}");
    assert!(
        listening(&mut daemon.0, &addr, Duration::from_secs(15)),
        "pebble did not listen on {addr}:\n{}",
        tail_file(&log, 20)
    );
    (daemon, format!("https://{addr}/dir"), cert, log)
}

/// A loopback address whose port 80 is free: 127.x.y.z, picked at random.
fn loopback_with_port_80() -> String {
    for _ in 0..20 {
        let ip = format!(
            "127.{}.{}.{}",
            fastrand::u8(1..=254),
            fastrand::u8(1..=254),
            fastrand::u8(2..=254)
        );
        if std::net::TcpListener::bind((ip.as_str(), 80)).is_ok() {
            return ip;
        }
    }
    panic!("no loopback address with a free port 80 (is something listening on *:80?)");
}

/// The nginx main config certbot works on (`--root`: ROOT/etc/nginx):
/// Debian's shape, its runtime files in `run` (outside the root, so that
/// serving requests changes nothing under it). Workers run as root: the
/// fake root's folders keep the test's owner.
fn write_nginx_main(root: &Path, run: &Path) {
    let r = root.display();
    let p = run.display();
    std::fs::create_dir_all(root.join("etc/nginx/conf.d")).unwrap();
    for d in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(run.join(d)).unwrap();
    }
    std::fs::write(
        root.join("etc/nginx/nginx.conf"),
        format!(
            "user root;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\n\
             events {{\n\tworker_connections 768;\n}}\n\n\
             http {{\n\tinclude /etc/nginx/mime.types;\n\tdefault_type application/octet-stream;\n\
             \taccess_log off;\n\tclient_body_temp_path {p}/body;\n\tproxy_temp_path {p}/proxy;\n\
             \tfastcgi_temp_path {p}/fastcgi;\n\tuwsgi_temp_path {p}/uwsgi;\n\tscgi_temp_path {p}/scgi;\n\
             \tinclude {r}/etc/nginx/conf.d/*.conf;\n}}\n"
        ),
    )
    .unwrap();
}

/// The organiser's site.toml, there before the first deploy (deploy.sh
/// keeps it): the demo, its paths under the root, the API on `api`.
fn write_site_toml(root: &Path, api: &str) {
    let r = root.display().to_string();
    let data = root.join("etc/sheetgen/data");
    std::fs::create_dir_all(&data).unwrap();
    for csv in ["players.csv", "matches.csv"] {
        std::fs::copy(Path::new(DEMO).join(csv), data.join(csv)).unwrap();
    }
    let tweak = |config: &mut toml::Table| {
        let site = config.get_mut("site").unwrap().as_table_mut().unwrap();
        site.insert("out_dir".into(), format!("{r}/var/www/sheetgen").into());
        site.insert("state_dir".into(), format!("{r}/var/lib/sheetgen").into());
        site.insert(
            "templates".into(),
            format!("{r}/usr/local/share/sheetgen/site-templates").into(),
        );
        let files = toml::Table::from_iter([
            (
                "Players".to_string(),
                data.join("players.csv").display().to_string().into(),
            ),
            (
                "Matches".to_string(),
                data.join("matches.csv").display().to_string().into(),
            ),
        ]);
        let source = config.get_mut("source").unwrap().as_table_mut().unwrap();
        source.insert("files".into(), files.into());
    };
    let (text, _) = demo_config(None, api, &tweak);
    std::fs::write(root.join("etc/sheetgen/site.toml"), text).unwrap();
}

/// `deploy.sh --root ROOT --binary GEN --domain club.test …` with certbot
/// pointed at pebble.
fn deploy_https(root: &Path, http: &str, https_port: u16, acme: &str, ca: &Path) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("deploy.sh"))
        .arg("--root")
        .arg(root)
        .args(["--binary", GEN, "--domain", DOMAIN])
        .args(["--email", "organiser@club.test", "--listen"])
        .arg(format!("{http}:80"))
        .args(["--https-port", &https_port.to_string()])
        .env_clear()
        .env("SHEETGEN_ACME_SERVER", acme)
        .env("REQUESTS_CA_BUNDLE", ca);
    for key in ["PATH", "HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    Run::from(cmd.output().unwrap())
}

/// The base64 SHA-256 of the certificate's public key (Chromium's
/// `--ignore-certificate-errors-spki-list`).
fn spki_hash(cert: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | openssl base64 -A",
        )
        .arg("sh")
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "spki hash: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// nginx running before deploy.sh: certbot reloads it (-s reload).
fn start_nginx(root: &Path, run_dir: &Path) -> Daemon {
    let main_conf = root.join("etc/nginx/nginx.conf");
    let nginx = Command::new(nginx_binary())
        .arg("-c")
        .arg(&main_conf)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = run_dir.join("nginx.pid");
    let up = sheetgen_test_support::process::poll(Duration::from_secs(10), || {
        pid.is_file().then_some(())
    });
    assert!(
        up.is_some(),
        "nginx did not start:\n{}",
        tail_file(&run_dir.join("error.log"), 20)
    );
    Daemon(nginx)
}

/// The certificate: pebble's, for the domain, in the site. Its chain.
fn assert_certificate_in_the_site(root: &Path, https_port: u16) -> PathBuf {
    let live = root.join("etc/letsencrypt/live/club.test");
    let fullchain = live.join("fullchain.pem");
    let info = Command::new("openssl")
        .args(["x509", "-noout", "-issuer", "-ext", "subjectAltName", "-in"])
        .arg(&fullchain)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Pebble Intermediate CA") && info.contains("DNS:club.test"),
        "{info}"
    );
    let site_path = root.join("etc/nginx/conf.d/sheetgen.conf");
    let site = std::fs::read_to_string(&site_path).unwrap();
    for line in [
        format!("    listen {https_port} ssl; # managed by Certbot"),
        format!(
            "    ssl_certificate {}; # managed by Certbot",
            fullchain.display()
        ),
        "        return 301 https://$host$request_uri;".to_string(),
    ] {
        assert!(site.lines().any(|l| l == line), "no `{line}` in:\n{site}");
    }
    fullchain
}

/// A real browser over HTTPS: the login form, then the player's page.
fn log_in_over_https(work: &Path, http: &str, https_port: u16, fullchain: &Path, player: &Player) {
    let tools = Tools::find();
    let private = format!("/p/{}/", player.slug);
    let wrapper = work.join("chromium");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' '--host-resolver-rules=MAP {DOMAIN} {http}' \
             '--ignore-certificate-errors-spki-list={}' \"$@\"\n",
            tools.chromium.display(),
            spki_hash(fullchain)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tools = Tools {
        chromium: wrapper,
        chromedriver: tools.chromedriver,
    };
    let mut b = Browser::start(&tools, &work.join("browser"));
    let base = format!("https://{DOMAIN}:{https_port}");
    b.goto(&format!("{base}{private}"));
    b.wait_url("the login form over HTTPS", |u| {
        u.starts_with(&format!("{base}/login/"))
    });
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page over HTTPS", |u| {
        u.starts_with(&base) && path_of(u) == private
    });
    let text = b.wait_text("the player's page", |t| t.contains(&player.opponent));
    assert!(text.contains(&player.name), "{text}");
    // Over HTTPS, gen sets its Secure, host-only session cookie.
    assert!(
        b.cookie("__Host-gen_session").is_some(),
        "no __Host-gen_session cookie over HTTPS"
    );
    b.assert_no_console_errors(&[]);
    drop(b);
}

#[test]
fn deploy_with_a_domain_serves_https_and_a_browser_logs_in() {
    tool("certbot", "certbot");
    let work = TempDir::new().unwrap();
    let (_pebble, acme, ca, pebble_log) = start_pebble(work.path());

    let tmp = fake_root();
    let root = tmp.path();
    // nginx's workers run as root; the fake root is the test's.
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run_dir = work.path().join("nginx");
    write_nginx_main(root, &run_dir);
    let api = format!("127.0.0.1:{}", free_port());
    write_site_toml(root, &api);

    let _nginx = start_nginx(root, &run_dir);

    let http = loopback_with_port_80();
    let https_port = free_port();
    let first = deploy_https(root, &http, https_port, &acme, &ca);
    first.expect_ok("deploy.sh --domain");
    assert!(
        first
            .stdout
            .contains("==> step 8/9: HTTPS for club.test (certbot)")
            && first.stdout.contains("==> step 9/9: health check")
            && first
                .stdout
                .contains("running: certbot --nginx -d club.test")
            && first
                .stdout
                .contains("certbot: Successfully deployed certificate"),
        "{}",
        first.stdout
    );

    let fullchain = assert_certificate_in_the_site(root, https_port);

    // gen, as sheetgen.service would run it.
    let config = root.join("etc/sheetgen/site.toml");
    let gen_ = Gen::start(&config, root, &["watch"]);
    gen_.wait_first_cycle();
    assert_eq!(gen_.addr, api);

    // http:// → https://, same host and path.
    let player = demo_player();
    let private = format!("/p/{}/", player.slug);
    let redirect = get(&format!("{http}:80"), &private, &[("Host", DOMAIN)]);
    assert_eq!(redirect.status, 301, "{}", redirect.text());
    assert_eq!(
        redirect.header("location"),
        Some(format!("https://{DOMAIN}{private}").as_str())
    );

    log_in_over_https(work.path(), &http, https_port, &fullchain, &player);
    let mut gen_ = gen_;
    gen_.stop();

    // A second run: nothing changes, pebble is asked for nothing.
    let issued = |log: &Path| {
        std::fs::read_to_string(log)
            .unwrap()
            .matches("Issued certificate")
            .count()
    };
    assert_eq!(issued(&pebble_log), 1, "{}", tail_file(&pebble_log, 20));
    let before = stamps(root);
    let second = deploy_https(root, &http, https_port, &acme, &ca);
    second.expect_ok("second deploy.sh --domain");
    let diff = stamps_diff(&before, &stamps(root));
    assert!(
        diff.is_empty(),
        "the second run changed:\n{}\n--- stdout\n{}",
        diff.join("\n"),
        second.stdout
    );
    assert!(
        second.stdout.contains("in place: ") && !second.stdout.contains("running: certbot"),
        "{}",
        second.stdout
    );
    assert!(
        !second.stderr.contains("WARNING"),
        "{}",
        tail(&second.stderr, 20)
    );
    assert_eq!(issued(&pebble_log), 1, "{}", tail_file(&pebble_log, 20));
}
