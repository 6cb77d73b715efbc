//! The Debian package (issue 25): `cargo deb` packs what a server without
//! Rust needs; `dpkg-deb --contents` lists it, `lintian` finds no error, and
//! the deploy.sh it ships, unpacked into a folder, installs under a fake root
//! exactly what deploy.sh from this checkout installs, with no `cargo`
//! anywhere on its PATH.
//!
//! The CI budget: a second `cargo build --release` (minutes) is out. The
//! package is made with `cargo deb --no-build --profile dev` around the gen
//! this very `cargo test` built (`CARGO_BIN_EXE_gen`, under target/debug):
//! same Cargo.toml metadata, same asset list, same cargo-deb; only the
//! binary is the unoptimised one, stripped (`--strip`, no -dbgsym package)
//! and lightly compressed (`--fast`). `cargo deb` alone makes the release
//! package.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sheetgen_test_support::site::repo;
use sheetgen_test_support::tools::tool;
use tempfile::TempDir;

use crate::deploy::{Run, fake_root, manifest};

const GEN: &str = env!("CARGO_BIN_EXE_gen");

/// A PATH with the system's folders only: no ~/.cargo/bin, as on a server
/// that never had Rust.
const SERVER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// cargo itself (the one running these tests).
fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// The cargo profile that built `GEN` (its folder under target/).
fn gen_profile() -> String {
    let dir = Path::new(GEN).parent().unwrap();
    assert_eq!(
        dir.parent().and_then(Path::file_name),
        Some("target".as_ref()),
        "{GEN}: expected target/<profile>/gen (cargo-deb finds the binary there)"
    );
    match dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev".to_string(),
        other => other.to_string(),
    }
}

/// The package, made once for the tests of this file (they run in
/// parallel; the first one makes it, the others wait).
fn package() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        let out = repo().join("target/debian-test");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        build_deb(&out)
    })
}

/// `cargo deb` over the gen under test, into `out`: the .deb's path.
fn build_deb(out: &Path) -> PathBuf {
    let version = Run::from(
        Command::new(cargo())
            .args(["deb", "--version"])
            .output()
            .unwrap(),
    );
    assert!(
        version.ok,
        "`cargo deb` is missing: tests/run.sh installs it (cargo install cargo-deb --locked)\n{}",
        version.stderr
    );
    let run = Run::from(
        Command::new(cargo())
            .current_dir(repo())
            .args(["deb", "--no-build", "--strip", "--no-dbgsym", "--fast"])
            .args(["--profile", &gen_profile(), "--output"])
            .arg(out)
            .output()
            .unwrap(),
    );
    run.expect_ok("cargo deb --no-build");
    let deb = out.join(format!(
        "sheetgen_{}-1_amd64.deb",
        env!("CARGO_PKG_VERSION")
    ));
    assert!(
        deb.is_file(),
        "no {}: cargo deb said\n{}{}",
        deb.display(),
        run.stdout,
        run.stderr
    );
    deb
}

/// path in the package → (mode, size), from `dpkg-deb --contents`.
fn contents(deb: &Path) -> BTreeMap<String, (String, u64)> {
    let run = Run::from(
        Command::new(tool("dpkg-deb", "dpkg"))
            .arg("--contents")
            .arg(deb)
            .output()
            .unwrap(),
    );
    run.expect_ok("dpkg-deb --contents");
    run.stdout
        .lines()
        .map(|line| {
            // drwxr-xr-x 0/0   0 2026-12-07 00:00 ./usr/bin/
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 6, "dpkg-deb --contents: {line:?}");
            let path = fields[5].trim_start_matches('.').to_string();
            (path, (fields[0].to_string(), fields[2].parse().unwrap()))
        })
        .collect()
}

#[test]
fn the_deb_holds_gen_deploy_and_docs_and_lintian_finds_no_error() {
    let deb = package();
    let listed = contents(deb);
    assert_placed(&listed);
    assert_complete(&listed);
    assert_control(deb);
    assert_copyright_and_changelog(deb);
    assert_lintian(deb);
}

/// What a server without Rust needs, where Debian wants it.
fn assert_placed(listed: &BTreeMap<String, (String, u64)>) {
    let paths: Vec<&String> = listed.keys().collect();

    for (path, mode) in [
        ("/usr/bin/gen", "-rwxr-xr-x"),
        ("/usr/bin/sheetgen-deploy", "-rwxr-xr-x"),
        ("/usr/share/sheetgen/deploy.sh", "-rwxr-xr-x"),
        ("/usr/share/sheetgen/site.toml", "-rw-r--r--"),
        ("/usr/share/sheetgen/site-templates/base.html", "-rw-r--r--"),
        (
            "/usr/share/sheetgen/site-templates/assets/site.css",
            "-rw-r--r--",
        ),
        (
            "/usr/share/sheetgen/site-templates/strings/en.toml",
            "-rw-r--r--",
        ),
        (
            "/usr/share/sheetgen/examples/demo/players.csv",
            "-rw-r--r--",
        ),
        (
            "/usr/share/sheetgen/examples/demo/matches.csv",
            "-rw-r--r--",
        ),
        (
            "/usr/share/sheetgen/examples/deploy/sheetgen.service",
            "-rw-r--r--",
        ),
        ("/usr/share/doc/sheetgen/README.md", "-rw-r--r--"),
        ("/usr/share/doc/sheetgen/docs/deploying.md", "-rw-r--r--"),
        ("/usr/share/doc/sheetgen/copyright", "-rw-r--r--"),
        ("/usr/share/doc/sheetgen/changelog.Debian.gz", "-rw-r--r--"),
    ] {
        let (got, _) = listed
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the package:\n{paths:#?}"));
        assert_eq!(got, mode, "{path}");
    }
}

/// Every guide and every theme file, none left behind, nothing of the
/// build or the tests; gen stripped.
fn assert_complete(listed: &BTreeMap<String, (String, u64)>) {
    let paths: Vec<&String> = listed.keys().collect();
    let shipped = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = walkdir(&repo().join(dir))
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
        names.sort();
        names
    };
    for doc in shipped("docs") {
        let path = format!("/usr/share/doc/sheetgen/docs/{doc}");
        assert!(listed.contains_key(&path), "{path} not in the package");
    }
    for file in shipped("site-templates") {
        let path = format!("/usr/share/sheetgen/site-templates/{file}");
        assert!(listed.contains_key(&path), "{path} not in the package");
    }
    // Nothing of the build or the tests.
    for path in &paths {
        assert!(
            path.starts_with("/usr/bin/")
                || path.starts_with("/usr/share/sheetgen/")
                || path.starts_with("/usr/share/doc/sheetgen/")
                || ["/usr/", "/usr/share/", "/usr/share/doc/"].contains(&path.as_str()),
            "unexpected file in the package: {path}"
        );
    }
    // gen is stripped: far smaller than the binary it came from.
    let gen_size = listed["/usr/bin/gen"].1;
    let built = std::fs::metadata(GEN).unwrap().len();
    assert!(gen_size < built / 2, "gen: {gen_size} bytes, built {built}");
}

/// The control fields.
fn assert_control(deb: &Path) {
    let field = |name: &str| {
        let run = Run::from(
            Command::new("dpkg-deb")
                .arg("--field")
                .arg(deb)
                .arg(name)
                .output()
                .unwrap(),
        );
        run.expect_ok("dpkg-deb --field");
        run.stdout.trim().to_string()
    };
    assert_eq!(field("Package"), "sheetgen");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(field("Architecture"), "amd64");
    assert!(field("Depends").contains("libc6"), "{}", field("Depends"));
    assert!(
        field("Suggests").contains("python3-certbot-nginx"),
        "{}",
        field("Suggests")
    );
}

/// The copyright in Debian's machine-readable format; the changelog
/// gzipped, its first entry this version.
fn assert_copyright_and_changelog(deb: &Path) {
    let unpacked = TempDir::new().unwrap();
    unpack(deb, unpacked.path());
    let doc = unpacked.path().join("usr/share/doc/sheetgen");
    let copyright = std::fs::read_to_string(doc.join("copyright")).unwrap();
    assert!(
        copyright.starts_with(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        ) && copyright.contains("\nFiles: *\n")
            && copyright.contains("\nLicense: MIT\n Permission is hereby granted"),
        "{copyright}"
    );
    let gz = std::fs::read(doc.join("changelog.Debian.gz")).unwrap();
    let mut changelog = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut changelog)
        .unwrap();
    let first = changelog.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "sheetgen ({}-1) unstable; urgency=medium",
            env!("CARGO_PKG_VERSION")
        ),
        "{changelog}"
    );
    let wrapper = std::fs::read_to_string(unpacked.path().join("usr/bin/sheetgen-deploy")).unwrap();
    assert!(
        wrapper.contains("exec bash /usr/share/sheetgen/deploy.sh \"$@\""),
        "{wrapper}"
    );
}

/// Debian's own checker: warnings may stay, errors may not.
fn assert_lintian(deb: &Path) {
    let lintian = Run::from(
        Command::new(tool("lintian", "lintian"))
            .arg(deb)
            .output()
            .unwrap(),
    );
    let said = format!("{}{}", lintian.stdout, lintian.stderr);
    let errors: Vec<&str> = said.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(
        errors.is_empty(),
        "lintian found errors ({:?}):\n{said}",
        lintian.code
    );
    assert!(
        !said.contains("unstripped-binary") && !said.contains("copyright"),
        "lintian:\n{said}"
    );
    println!("lintian {}:\n{said}", deb.display());
}

/// Everything under `root` as the file system stamps it: path → (kind,
/// mode, size, inode, mtime in ns). Cheaper than hashing (the unoptimised
/// gen is hundreds of MB) and stricter: a file replaced by the same bytes
/// gets a new inode and mtime, so "changes nothing" means nothing written.
pub(crate) fn stamps(root: &Path) -> BTreeMap<String, (char, u32, u64, u64, i128)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, u64, u64, i128)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = if meta.file_type().is_symlink() {
                'l'
            } else if meta.is_dir() {
                'd'
            } else {
                'f'
            };
            let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            // A folder's own mtime moves when a staged file comes and goes.
            let (size, mtime) = if kind == 'd' {
                (0, 0)
            } else {
                (meta.len(), mtime)
            };
            out.insert(rel, (kind, meta.mode() & 0o7777, size, meta.ino(), mtime));
            if kind == 'd' {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The entries that differ between two [`stamps`], one line each.
pub(crate) fn stamps_diff(
    before: &BTreeMap<String, (char, u32, u64, u64, i128)>,
    after: &BTreeMap<String, (char, u32, u64, u64, i128)>,
) -> Vec<String> {
    let mut diff: Vec<String> = before
        .iter()
        .filter(|(path, entry)| after.get(*path) != Some(entry))
        .map(|(path, entry)| format!("{path}: {entry:?} → {:?}", after.get(path)))
        .collect();
    diff.extend(
        after
            .keys()
            .filter(|path| !before.contains_key(*path))
            .map(|path| format!("added: {path}")),
    );
    diff
}

/// The files under `dir`, relative to it.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(
                walkdir(&path)
                    .into_iter()
                    .map(|p| Path::new(path.file_name().unwrap()).join(p)),
            );
        } else {
            out.push(PathBuf::from(path.file_name().unwrap()));
        }
    }
    out
}

/// `dpkg-deb -x DEB DIR`: the package's files as dpkg would install them.
fn unpack(deb: &Path, dir: &Path) {
    let run = Run::from(
        Command::new(tool("dpkg-deb", "dpkg"))
            .arg("-x")
            .arg(deb)
            .arg(dir)
            .output()
            .unwrap(),
    );
    run.expect_ok("dpkg-deb -x");
}

/// `bash SCRIPT --root ROOT EXTRA…` with the server's PATH only.
fn deploy_as_server(script: &Path, root: &Path, extra: &[&str]) -> Run {
    let mut cmd = Command::new("/bin/bash");
    cmd.arg(script)
        .arg("--root")
        .arg(root)
        .args(extra)
        .env_clear()
        .env("PATH", SERVER_PATH);
    for key in ["HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    Run::from(cmd.output().unwrap())
}

/// `manifest(root)` with the root's own path replaced by `ROOT` in every
/// file (the installed files name their paths), the secrets left out (a
/// new random token each install).
fn comparable(root: &Path) -> BTreeMap<String, (char, u32, String)> {
    let r = root.display().to_string();
    // The tmpfs's mount unit is named after its path, the root escaped.
    let escaped = Run::from(
        Command::new(tool("systemd-escape", "systemd"))
            .args(["--path", &r])
            .output()
            .unwrap(),
    );
    let escaped = escaped.stdout.trim().to_string();
    manifest(root)
        .into_iter()
        .filter(|(path, _)| path != "etc/sheetgen/env")
        .map(|(path, (kind, mode, _, digest))| {
            let (full, path) = (root.join(&path), path.replace(&escaped, "ROOT"));
            let content = match kind {
                'f' => match std::fs::read(&full) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => text.replace(&r, "ROOT").replace(&escaped, "ROOT"),
                        Err(_) => digest,
                    },
                    Err(e) => panic!("{}: {e}", full.display()),
                },
                _ => digest.replace(&r, "ROOT"),
            };
            (path, (kind, mode, content))
        })
        .collect()
}

/// The server has no Rust: nothing named cargo on its PATH.
fn assert_no_cargo_on_the_server() {
    let cargo_on_path: Vec<PathBuf> = std::env::split_paths(SERVER_PATH)
        .map(|dir| dir.join("cargo"))
        .filter(|p| p.exists())
        .collect();
    assert!(
        cargo_on_path.is_empty(),
        "cargo is on the server's PATH: {cargo_on_path:?}"
    );
}

/// Exactly what deploy.sh from this checkout installs in a fake root,
/// given the package's gen.
fn assert_same_as_the_checkout(root: &Path, packed_gen: &Path) {
    let checkout = fake_root();
    let run_checkout = Run::from(
        Command::new("bash")
            .arg(repo().join("deploy.sh"))
            .arg("--root")
            .arg(checkout.path())
            .arg("--binary")
            .arg(packed_gen)
            .env_clear()
            .env("PATH", SERVER_PATH)
            .output()
            .unwrap(),
    );
    run_checkout.expect_ok("the checkout's deploy.sh --root --binary <the package's gen>");
    let (from_deb, from_checkout) = (comparable(root), comparable(checkout.path()));
    let differences: Vec<String> = from_deb
        .iter()
        .filter(|(path, entry)| from_checkout.get(*path) != Some(entry))
        .map(|(path, _)| format!("differs or only from the package: {path}"))
        .chain(
            from_checkout
                .keys()
                .filter(|path| !from_deb.contains_key(*path))
                .map(|path| format!("only from the checkout: {path}")),
        )
        .collect();
    assert!(
        differences.is_empty(),
        "the package's deploy.sh installs something else:\n{}",
        differences.join("\n")
    );
}

#[test]
fn the_unpacked_deb_deploys_without_cargo_as_a_checkout_does() {
    let pkg = TempDir::new().unwrap();
    unpack(package(), pkg.path());
    let script = pkg.path().join("usr/share/sheetgen/deploy.sh");
    let packed_gen = pkg.path().join("usr/bin/gen");
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o777,
        0o755
    );

    assert_no_cargo_on_the_server();

    // No --binary: the package's own gen, found next to deploy.sh.
    let tmp = fake_root();
    let root = tmp.path();
    let run = deploy_as_server(&script, root, &[]);
    run.expect_ok("the package's deploy.sh --root");
    assert!(
        run.stdout.contains(&format!("({})", packed_gen.display())),
        "deploy.sh did not take the package's gen:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains("cargo"), "{}", run.stdout);
    for n in 1..=8 {
        assert!(
            run.stdout.contains(&format!("==> step {n}/8: ")),
            "step {n} not announced:\n{}",
            run.stdout
        );
    }
    let bin = root.join("usr/local/bin/gen");
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(&packed_gen).unwrap(),
        "the installed gen is not the package's"
    );
    // The guides came from /usr/share/doc/sheetgen.
    assert_eq!(
        std::fs::read(root.join("usr/local/share/sheetgen/README.md")).unwrap(),
        std::fs::read(pkg.path().join("usr/share/doc/sheetgen/README.md")).unwrap()
    );
    assert!(
        root.join("usr/local/share/sheetgen/docs/deploying.md")
            .is_file()
    );
    let r = root.display();
    let unit = std::fs::read_to_string(root.join("etc/systemd/system/sheetgen.service")).unwrap();
    assert!(
        unit.lines().any(|l| l
            == format!(
                "ExecStart={r}/usr/local/bin/gen --config {r}/etc/sheetgen/site.toml watch"
            )),
        "{unit}"
    );
    let check = Run::from(
        Command::new(&bin)
            .args(["--config"])
            .arg(root.join("etc/sheetgen/site.toml"))
            .arg("check")
            .env_clear()
            .output()
            .unwrap(),
    );
    check.expect_ok("gen check on the config the package's deploy.sh wrote");

    assert_same_as_the_checkout(root, &packed_gen);

    // A second run from the package changes nothing.
    let before = stamps(root);
    let again = deploy_as_server(&script, root, &[]);
    again.expect_ok("second run of the package's deploy.sh");
    let diff = stamps_diff(&before, &stamps(root));
    assert!(
        diff.is_empty(),
        "the second run changed:\n{}",
        diff.join("\n")
    );
}
