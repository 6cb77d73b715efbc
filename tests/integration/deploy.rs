//! `deploy.sh` under a fake root (`--root DIR`): idempotent (a second run
//! changes no byte and no mode of anything the first run made), never
//! overwrites an edited site.toml or the secrets, puts the previous install
//! back when a step fails, and `--dry-run` changes nothing. The installed
//! nginx site passes a real `nginx -t`, the unit `systemd-analyze verify`, and
//! the script itself `shellcheck`. Missing tools fail the test, naming the
//! Debian package; nothing is skipped silently.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use sheetgen_test_support::site::repo;
use sheetgen_test_support::tools::{find_tool, tool};
use tempfile::TempDir;

const GEN: &str = env!("CARGO_BIN_EXE_gen");

/// What a run printed, and how it ended.
pub(crate) struct Run {
    pub(crate) ok: bool,
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from(out: Output) -> Run {
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub(crate) fn expect_ok(&self, what: &str) {
        assert!(
            self.ok,
            "{what} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
    }
}

/// `bash deploy.sh ARGS` in a clean environment (only PATH, HOME, TMPDIR).
fn deploy(args: &[&str]) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("deploy.sh")).args(args).env_clear();
    for key in ["PATH", "HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    Run::from(cmd.output().expect("run bash deploy.sh"))
}

/// `deploy.sh --root ROOT --binary <the gen under test> EXTRA…`
fn deploy_root(root: &Path, extra: &[&str]) -> Run {
    deploy_binary(root, Path::new(GEN), extra)
}

/// `deploy.sh --root ROOT --binary BINARY EXTRA…`
fn deploy_binary(root: &Path, binary: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--root", root.to_str().unwrap(), "--binary"];
    args.push(binary.to_str().unwrap());
    args.extend_from_slice(extra);
    deploy(&args)
}

/// A fake root in a temp dir (its path holds only characters deploy.sh accepts).
pub(crate) fn fake_root() -> TempDir {
    tempfile::Builder::new()
        .prefix("sheetgen-deploy-test.")
        .tempdir()
        .unwrap()
}

/// A fake root with a first install in it.
fn installed_root() -> TempDir {
    let tmp = fake_root();
    deploy_root(tmp.path(), &[]).expect_ok("deploy.sh --root");
    tmp
}

/// A "newer" gen in `dir`: the binary under test with a few bytes more.
fn newer_binary(dir: &Path) -> PathBuf {
    let newer = dir.join("gen-newer");
    let mut bytes = std::fs::read(GEN).unwrap();
    bytes.extend_from_slice(b"\0newer");
    std::fs::write(&newer, bytes).unwrap();
    std::fs::set_permissions(&newer, std::fs::Permissions::from_mode(0o755)).unwrap();
    newer
}

/// path (relative to the root) → (kind, mode, size, sha256 or link target),
/// for everything under `root`: files, directories and symlinks.
pub(crate) fn manifest(root: &Path) -> BTreeMap<String, (char, u32, u64, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, u64, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap().display().to_string();
                out.insert(rel, ('l', mode, 0, target));
            } else if meta.is_dir() {
                out.insert(rel, ('d', mode, 0, String::new()));
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let digest = format!("{:x}", Sha256::digest(&bytes));
                out.insert(rel, ('f', mode, meta.len(), digest));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The differences between two manifests, one line each.
pub(crate) fn manifest_diff(
    before: &BTreeMap<String, (char, u32, u64, String)>,
    after: &BTreeMap<String, (char, u32, u64, String)>,
) -> Vec<String> {
    let mut diff = Vec::new();
    for (path, entry) in before {
        match after.get(path) {
            None => diff.push(format!("removed: {path}")),
            Some(now) if now != entry => diff.push(format!("changed: {path}: {entry:?} → {now:?}")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        diff.push(format!("added: {path}"));
    }
    diff
}

/// Compares digests (a failed `assert_eq!` on a binary prints megabytes).
fn same_bytes(a: &Path, b: &Path) -> bool {
    let digest = |p: &Path| Sha256::digest(std::fs::read(p).unwrap());
    digest(a) == digest(b)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn deploy_twice_changes_nothing_and_keeps_the_organisers_files() {
    let tmp = fake_root();
    let root = tmp.path();

    let first = deploy_root(root, &[]);
    first.expect_ok("first deploy.sh --root");
    for n in 1..=8 {
        assert!(
            first.stdout.contains(&format!("==> step {n}/8: ")),
            "step {n} not announced:\n{}",
            first.stdout
        );
    }
    assert!(
        first.stdout.contains("skipped (--root)"),
        "{}",
        first.stdout
    );

    // What was installed, with the right modes.
    let etc = root.join("etc/sheetgen");
    let config = etc.join("site.toml");
    let env_file = etc.join("env");
    let bin = root.join("usr/local/bin/gen");
    assert!(same_bytes(&bin, Path::new(GEN)), "installed binary");
    assert_eq!(mode(&bin), 0o755, "gen");
    assert_eq!(mode(&env_file), 0o600, "/etc/sheetgen/env");
    assert_eq!(mode(&root.join("var/lib/sheetgen")), 0o700, "state_dir");
    // Issue 14: players' pages readable by nginx's group only.
    assert_eq!(mode(&root.join("var/www/sheetgen")), 0o2750, "out_dir");
    assert_eq!(
        mode(&root.join("var/cache/nginx/sheetgen")),
        0o700,
        "auth cache"
    );
    assert_eq!(mode(&config), 0o640, "site.toml");
    assert!(
        !root.join("usr/local/bin/gen.previous").exists(),
        "first install keeps no previous binary"
    );

    assert_env_file(&env_file);
    let config_text = assert_config_under_root(root, &config);
    let unit_path = assert_hardened_unit(root);
    assert_auth_cache_on_tmpfs(root);

    // The organiser edits the config; a second run changes nothing at all.
    let edited = format!("{config_text}\n# the organiser was here\n");
    std::fs::write(&config, &edited).unwrap();
    let before = manifest(root);
    let second = deploy_root(root, &[]);
    second.expect_ok("second deploy.sh --root");
    let diff = manifest_diff(&before, &manifest(root));
    assert!(
        diff.is_empty(),
        "the second run changed what the first made:\n{}\n--- stdout\n{}",
        diff.join("\n"),
        second.stdout
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    for word in ["created ", "updated ", "installed the shipped theme"] {
        assert!(
            !second.stdout.contains(word),
            "second run says {word:?}:\n{}",
            second.stdout
        );
    }
    assert!(
        second.stdout.contains("kept (never overwritten)"),
        "{}",
        second.stdout
    );

    // The installed config works with the installed binary (reads only).
    let check = Run::from(
        Command::new(&bin)
            .args(["--config", config.to_str().unwrap(), "check"])
            .env_clear()
            .output()
            .unwrap(),
    );
    check.expect_ok("gen check on the installed config");

    systemd_verifies(&unit_path);
    nginx_tests(root);
}

/// `/etc/sheetgen/env`: a generated refresh token, and the other
/// variables as commented placeholders.
fn assert_env_file(env_file: &Path) {
    let env_text = std::fs::read_to_string(env_file).unwrap();
    let token = env_text
        .lines()
        .find_map(|l| l.strip_prefix("GEN_REFRESH_TOKEN="))
        .expect("a generated GEN_REFRESH_TOKEN");
    assert!(
        token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "token {token:?}"
    );
    for placeholder in [
        "#GEN_GOOGLE_API_KEY=",
        "#GOOGLE_APPLICATION_CREDENTIALS=",
        "#GEN_SESSION_KEY=",
    ] {
        assert!(
            env_text.contains(placeholder),
            "{placeholder} missing:\n{env_text}"
        );
    }
}

/// The config is the demo with every path under the root; its text.
fn assert_config_under_root(root: &Path, config: &Path) -> String {
    let config_text = std::fs::read_to_string(config).unwrap();
    let r = root.display();
    for want in [
        format!("out_dir = \"{r}/var/www/sheetgen\""),
        format!("state_dir = \"{r}/var/lib/sheetgen\""),
        format!("templates = \"{r}/usr/local/share/sheetgen/site-templates\""),
        format!("Players = \"{r}/etc/sheetgen/data/players.csv\""),
    ] {
        assert!(
            config_text.contains(&want),
            "{want} missing:\n{config_text}"
        );
    }
    config_text
}

/// The unit: gen watch, hardened; its path.
fn assert_hardened_unit(root: &Path) -> PathBuf {
    let r = root.display();
    let unit_path = root.join("etc/systemd/system/sheetgen.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    for line in [
        format!("ExecStart={r}/usr/local/bin/gen --config {r}/etc/sheetgen/site.toml watch"),
        "User=sheetgen".into(),
        format!("EnvironmentFile=-{r}/etc/sheetgen/env"),
        "Restart=always".into(),
        "RestartSec=2".into(),
        "NoNewPrivileges=yes".into(),
        "ProtectSystem=strict".into(),
        "ProtectHome=yes".into(),
        "PrivateTmp=yes".into(),
        "PrivateDevices=yes".into(),
        "ProtectKernelTunables=yes".into(),
        "ProtectKernelModules=yes".into(),
        "ProtectControlGroups=yes".into(),
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX".into(),
        format!("ReadWritePaths={r}/var/lib/sheetgen {r}/var/www/sheetgen"),
        "LimitNOFILE=65536".into(),
        "UMask=0022".into(),
        "TimeoutStopSec=10".into(),
        "WantedBy=multi-user.target".into(),
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "unit lacks `{line}`:\n{unit}"
        );
    }
    let intent = std::fs::read_to_string(root.join("deploy-intent.txt")).unwrap();
    assert!(
        intent.contains("useradd --system")
            && intent.contains("chown sheetgen:sheetgen /var/lib/sheetgen")
            && intent.contains("systemctl enable --now var-cache-nginx-sheetgen.mount"),
        "{intent}"
    );
    unit_path
}

/// nginx's auth cache: a bounded tmpfs on the folder `gen nginx` names,
/// in a mount unit named as systemd requires (the escaped path).
fn assert_auth_cache_on_tmpfs(root: &Path) {
    let r = root.display();
    let cache = format!("{r}/var/cache/nginx/sheetgen");
    let escaped = Command::new("systemd-escape")
        .args(["--path", "--suffix=mount", &cache])
        .output()
        .expect("systemd-escape (Debian package systemd)");
    let mount_name = String::from_utf8_lossy(&escaped.stdout).trim().to_string();
    let mount = std::fs::read_to_string(root.join("etc/systemd/system").join(&mount_name))
        .unwrap_or_else(|e| panic!("the mount unit {mount_name}: {e}"));
    for line in [
        "What=tmpfs".to_string(),
        "Type=tmpfs".to_string(),
        format!("Where={cache}"),
        "Before=nginx.service".to_string(),
        "WantedBy=multi-user.target".to_string(),
    ] {
        assert!(
            mount.lines().any(|l| l == line),
            "mount unit lacks `{line}`:\n{mount}"
        );
    }
    let options = mount
        .lines()
        .find_map(|l| l.strip_prefix("Options="))
        .unwrap_or_default();
    for option in ["mode=0700", "size=128m", "nosuid", "nodev", "noexec"] {
        assert!(
            options.split(',').any(|o| o == option),
            "tmpfs options lack {option}: {options}"
        );
    }
    let nginx_site = std::fs::read_to_string(root.join("etc/nginx/conf.d/sheetgen.conf")).unwrap();
    assert!(
        nginx_site.contains(&format!("proxy_cache_path \"{cache}\" "))
            && nginx_site.contains("max_size=100m"),
        "the auth cache must be where the tmpfs is, and smaller:\n{nginx_site}"
    );
}

/// systemd's own verdict on the unit (its ExecStart exists under the root).
fn systemd_verifies(unit_path: &Path) {
    match find_tool("systemd-analyze") {
        Some(analyze) => {
            let out = Run::from(
                Command::new(analyze)
                    .arg("verify")
                    .arg(unit_path)
                    .output()
                    .unwrap(),
            );
            let said = format!("{}{}", out.stdout, out.stderr);
            assert!(
                out.ok && said.trim().is_empty(),
                "systemd-analyze verify {} ({:?}):\n{said}",
                unit_path.display(),
                out.code
            );
            println!("systemd-analyze verify: clean, nothing accepted");
        }
        None => println!(
            "systemd-analyze not installed: unit checked by the line assertions only (Debian package `systemd`)"
        ),
    }
}

/// nginx's own verdict on the installed site, inside a minimal main config.
/// (Last: nginx -t creates and chowns the cache folder under the root.)
fn nginx_tests(root: &Path) {
    let nginx = tool("nginx", "nginx");
    let site = root.join("etc/nginx/conf.d/sheetgen.conf");
    let prefix = TempDir::new().unwrap();
    let p = prefix.path().display();
    let main_conf = prefix.path().join("nginx.conf");
    std::fs::write(
        &main_conf,
        format!(
            "pid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n    \
             client_body_temp_path {p}/body;\n    proxy_temp_path {p}/proxy;\n    \
             fastcgi_temp_path {p}/fastcgi;\n    uwsgi_temp_path {p}/uwsgi;\n    \
             scgi_temp_path {p}/scgi;\n    access_log off;\n    include {};\n}}\n",
            site.display()
        ),
    )
    .unwrap();
    let test = Run::from(
        Command::new(nginx)
            .arg("-t")
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&main_conf)
            .output()
            .unwrap(),
    );
    test.expect_ok("nginx -t on the installed site");
    assert!(
        test.stderr.contains("test is successful"),
        "{}",
        test.stderr
    );
}

#[test]
fn dry_run_changes_nothing() {
    // A first install: the root stays empty.
    let tmp = fake_root();
    let run = deploy_root(tmp.path(), &["--dry-run"]);
    run.expect_ok("deploy.sh --dry-run on an empty root");
    assert!(
        run.stdout.contains("would create") && run.stdout.contains("==> step 8/8: "),
        "{}",
        run.stdout
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "--dry-run created {left:?}");

    // Over an install, with a new binary and changed options: nothing changes.
    deploy_root(tmp.path(), &[]).expect_ok("deploy.sh --root");
    let newer = newer_binary(tmp.path());
    let before = manifest(tmp.path());
    let run = deploy_binary(
        tmp.path(),
        &newer,
        &["--dry-run", "--server-name", "club.example"],
    );
    run.expect_ok("deploy.sh --dry-run over an install");
    assert!(
        run.stdout.contains("would install") && run.stdout.contains("would replace"),
        "{}",
        run.stdout
    );
    let diff = manifest_diff(&before, &manifest(tmp.path()));
    assert!(diff.is_empty(), "--dry-run changed:\n{}", diff.join("\n"));
}

#[test]
fn a_failed_step_is_named_and_the_previous_install_stays() {
    let tmp = installed_root();
    let root = tmp.path();

    // An upgrade whose nginx step cannot write its file.
    let newer = newer_binary(root);
    let conf_d = root.join("etc/nginx/conf.d");
    std::fs::remove_dir_all(&conf_d).unwrap();
    std::fs::write(&conf_d, "not a folder").unwrap();
    let before = manifest(root);

    let run = deploy_binary(root, &newer, &[]);
    assert_eq!(
        run.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains("FAILED at step 7/8: nginx site"),
        "{}",
        run.stderr
    );
    let diff = manifest_diff(&before, &manifest(root));
    assert!(
        diff.is_empty(),
        "a failed run left changes:\n{}\n{}",
        diff.join("\n"),
        run.stderr
    );
    assert!(
        same_bytes(&root.join("usr/local/bin/gen"), Path::new(GEN)),
        "the binary was not put back"
    );

    // A config the new binary refuses stops the run before anything changes.
    std::fs::remove_file(&conf_d).unwrap();
    let config = root.join("etc/sheetgen/site.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\nno_such_key = 1\n");
    std::fs::write(&config, &text).unwrap();
    let before = manifest(root);
    let run = deploy_binary(root, &newer, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("FAILED at step 1/8") && run.stderr.contains("no_such_key"),
        "{}",
        run.stderr
    );
    assert!(manifest_diff(&before, &manifest(root)).is_empty());
}

#[test]
fn theme_edited_in_place_is_saved_aside_not_lost() {
    let tmp = installed_root();
    let root = tmp.path();
    let css = root.join("usr/local/share/sheetgen/site-templates/assets/site.css");
    let shipped = std::fs::read_to_string(&css).unwrap();
    std::fs::write(&css, format!("{shipped}\n/* club colours */\n")).unwrap();

    let run = deploy_root(root, &[]);
    run.expect_ok("deploy.sh --root after a theme edit");
    assert!(run.stderr.contains("edited in place"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&css).unwrap(), shipped);
    let saved: Vec<PathBuf> = std::fs::read_dir(root.join("etc/sheetgen"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("site-templates.edited-")
        })
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let kept = std::fs::read_to_string(saved[0].join("assets/site.css")).unwrap();
    assert!(kept.contains("club colours"));
}

#[test]
fn shellcheck_is_clean() {
    let shellcheck = tool("shellcheck", "shellcheck");
    let run = Run::from(
        Command::new(shellcheck)
            .arg(repo().join("deploy.sh"))
            .output()
            .unwrap(),
    );
    run.expect_ok("shellcheck deploy.sh");
}

#[test]
fn help_and_bad_options() {
    let help = deploy(&["--help"]);
    help.expect_ok("deploy.sh --help");
    for option in [
        "--binary",
        "--root",
        "--dry-run",
        "--server-name",
        "--listen",
    ] {
        assert!(help.stdout.contains(option), "{}", help.stdout);
    }
    let bad = deploy(&["--no-such-option"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    let bad = deploy(&["--root", "/tmp/has space", "--dry-run"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
}

#[test]
fn a_site_config_edited_by_certbot_is_kept() {
    let tmp = installed_root();
    let root = tmp.path();
    let site = root.join("etc/nginx/conf.d/sheetgen.conf");
    let text = std::fs::read_to_string(&site).unwrap();
    let certbot = text.replacen(
        "    listen 80 backlog=4096;\n",
        "    listen 80 backlog=4096;\n    listen 443 ssl; # managed by Certbot\n",
        1,
    );
    assert_ne!(
        certbot, text,
        "no `listen 80 backlog=4096;` line in:\n{text}"
    );
    std::fs::write(&site, &certbot).unwrap();

    // Same options: nothing changes, nothing to warn about.
    let run = deploy_root(root, &[]);
    run.expect_ok("deploy.sh --root over certbot's edit");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), certbot);
    assert!(!run.stderr.contains("WARNING"), "{}", run.stderr);

    // New options: still kept, with a warning and the new version beside it.
    let run = deploy_root(root, &["--server-name", "club.example"]);
    run.expect_ok("deploy.sh --root --server-name over certbot's edit");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), certbot);
    assert!(run.stderr.contains("--regenerate-nginx"), "{}", run.stderr);
    let generated =
        std::fs::read_to_string(root.join("etc/sheetgen/sheetgen.conf.generated")).unwrap();
    assert!(
        generated.contains("server_name club.example;"),
        "{generated}"
    );

    // --regenerate-nginx replaces it.
    deploy_root(
        root,
        &["--server-name", "club.example", "--regenerate-nginx"],
    )
    .expect_ok("deploy.sh --regenerate-nginx");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), generated);
}

/// Debian's stock /etc/nginx/nginx.conf (bookworm), the part deploy.sh reads.
const DEBIAN_NGINX_CONF: &str = "user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;

events {
\tworker_connections 768;
\t# multi_accept on;
}

http {
\tsendfile on;
\tinclude /etc/nginx/conf.d/*.conf;
\tinclude /etc/nginx/sites-enabled/*;
}
";

#[test]
fn nginx_gets_the_capacity_of_thousands_of_players() {
    let tmp = fake_root();
    let root = tmp.path();
    let main_conf = root.join("etc/nginx/nginx.conf");
    std::fs::create_dir_all(main_conf.parent().unwrap()).unwrap();
    std::fs::write(&main_conf, DEBIAN_NGINX_CONF).unwrap();

    let first = deploy_root(root, &[]);
    first.expect_ok("deploy.sh --root on Debian's nginx.conf");
    // Only the events block's two lines change.
    let tuned = std::fs::read_to_string(&main_conf).unwrap();
    let changed: Vec<(&str, &str)> = DEBIAN_NGINX_CONF
        .lines()
        .zip(tuned.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        vec![
            ("\tworker_connections 768;", "\tworker_connections 16384;"),
            ("\t# multi_accept on;", "\tmulti_accept on;"),
        ],
        "nginx.conf after deploy.sh:\n{tuned}"
    );
    assert_eq!(tuned.lines().count(), DEBIAN_NGINX_CONF.lines().count());
    let limits = std::fs::read_to_string(
        root.join("etc/systemd/system/nginx.service.d/sheetgen-limits.conf"),
    )
    .unwrap();
    assert!(
        limits.lines().any(|l| l == "[Service]")
            && limits.lines().any(|l| l == "LimitNOFILE=65536"),
        "{limits}"
    );
    assert!(
        first.stdout.contains("systemctl restart nginx"),
        "a new LimitNOFILE needs nginx restarted, not reloaded:\n{}",
        first.stdout
    );

    // Idempotent: the second run leaves nginx.conf alone and only reloads.
    let second = deploy_root(root, &[]);
    second.expect_ok("second deploy.sh --root");
    assert_eq!(std::fs::read_to_string(&main_conf).unwrap(), tuned);
    assert!(
        second.stdout.contains("systemctl reload nginx"),
        "{}",
        second.stdout
    );

    // An nginx.conf deploy.sh must not edit stays byte for byte, and the
    // warning says why or what to set.
    let kept_with_warning = |conf: &str, warning: &str| {
        std::fs::write(&main_conf, conf).unwrap();
        let run = deploy_root(root, &[]);
        run.expect_ok("deploy.sh --root");
        assert_eq!(std::fs::read_to_string(&main_conf).unwrap(), conf);
        assert!(run.stderr.contains(warning), "{}", run.stderr);
    };
    // Never lowered, and an administrator's explicit choice stays.
    kept_with_warning(
        "events {\n    worker_connections 30000;\n    multi_accept off;\n}\nhttp {\n}\n",
        "multi_accept off",
    );
    // An events block on one line is not edited.
    kept_with_warning(
        "events { worker_connections 768; }\nhttp {\n}\n",
        "multi_accept on; worker_connections 16384;",
    );
}

/// `runuser -u USER -- ARGS…` (the tests run as root): whether it succeeded.
fn as_user(user: &str, args: &[&str]) -> bool {
    Command::new(tool("runuser", "util-linux"))
        .args(["-u", user, "--"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn players_pages_are_readable_by_nginxs_group_only() {
    // Issue 14: the published site was world-readable; any local account
    // could read every player's page.
    let tmp = fake_root();
    let root = tmp.path();
    // Only the fake root's own folder is private; a real / is not.
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    deploy_root(root, &[]).expect_ok("deploy.sh --root");
    let www = root.join("var/www/sheetgen");
    assert_eq!(mode(&www), 0o2750, "out_dir");

    // Give the folder the owners a real install gives it (the intent file
    // says which); root stands in for the sheetgen user.
    let intent = std::fs::read_to_string(root.join("deploy-intent.txt")).unwrap();
    let owner = intent
        .lines()
        .find_map(|l| {
            let (command, _comment) = l.split_once('#').unwrap_or((l, ""));
            command
                .trim()
                .strip_prefix("chown ")?
                .strip_suffix(" /var/www/sheetgen")
        })
        .unwrap_or_else(|| panic!("no chown of /var/www/sheetgen in:\n{intent}"));
    let (user, group) = owner.split_once(':').unwrap();
    assert_eq!(user, "sheetgen", "{intent}");
    assert_eq!(group, "www-data", "nginx's group on Debian: {intent}");
    let status = Command::new("chown")
        .arg(format!("root:{group}"))
        .arg(&www)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::set_permissions(&www, std::fs::Permissions::from_mode(0o2750)).unwrap();

    // gen publishes the demo there, as the service would.
    let config = root.join("etc/sheetgen/site.toml");
    let build = Run::from(
        Command::new(root.join("usr/local/bin/gen"))
            .args(["--config", config.to_str().unwrap(), "build"])
            .env_clear()
            .output()
            .unwrap(),
    );
    build.expect_ok("gen build on the installed config");
    let slug = std::fs::read_dir(www.join("p"))
        .unwrap()
        .next()
        .expect("a player page")
        .unwrap()
        .file_name();
    let page = www.join("p").join(slug).join("index.html");
    assert!(page.is_file(), "{}", page.display());
    // The folders gen made inside took nginx's group (setgid).
    let gid = |p: &Path| std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(p).unwrap());
    assert_eq!(gid(&www.join("p")), gid(&www), "p/ did not take the group");

    let page = page.to_str().unwrap();
    let index = www.join("index.html");
    let index = index.to_str().unwrap();
    assert!(
        as_user("www-data", &["cat", page]),
        "nginx cannot read {page}"
    );
    assert!(
        as_user("www-data", &["cat", index]),
        "nginx cannot read {index}"
    );
    assert!(
        !as_user("nobody", &["cat", page]),
        "any account reads {page}"
    );
    assert!(
        !as_user("nobody", &["cat", index]),
        "any account reads {index}"
    );
    assert!(
        !as_user("nobody", &["ls", www.to_str().unwrap()]),
        "any account lists the site"
    );
}

#[test]
fn behind_a_balancer_nginx_trusts_it_for_the_clients_address_and_https() {
    let help = deploy(&["--help"]);
    assert!(help.stdout.contains("--behind ADDRESS"), "{}", help.stdout);
    for bad in ["10.0.0.5;", "balancer.lan", ""] {
        let run = deploy(&["--behind", bad, "--dry-run"]);
        assert_eq!(run.code, Some(2), "--behind {bad:?}: {}", run.stderr);
    }
    let tmp = fake_root();
    let root = tmp.path();
    deploy_root(root, &["--behind", "10.0.0.5", "--behind=10.1.0.0/16"])
        .expect_ok("deploy.sh --behind");
    let site = std::fs::read_to_string(root.join("etc/nginx/conf.d/sheetgen.conf")).unwrap();
    assert!(
        site.contains("--behind 10.0.0.5 --behind 10.1.0.0/16)"),
        "the header names the options: {site}"
    );
    assert!(
        site.contains("    set_real_ip_from 10.0.0.5;\n    set_real_ip_from 10.1.0.0/16;\n"),
        "{site}"
    );
    assert!(
        site.contains("X-Forwarded-Proto $sheetgen_scheme;"),
        "{site}"
    );
}
