//! A publication end to end in a temp folder: the gate, symlinks, unsafe
//! paths, gzip's bytes, photo names.

use std::io::Read;

use flate2::read::GzDecoder;

use super::prune::looks_like_photo;
use super::*;
use crate::model::SecretIndex;
use crate::render::ArtifactKind;

#[test]
fn photo_names_are_recognised() {
    assert!(looks_like_photo("0123456789abcdef-320.jpg"));
    assert!(looks_like_photo("0123456789abcdef-64.jpg"));
    assert!(looks_like_photo("avatar-0123456789abcdef.svg"));
    assert!(!looks_like_photo("me.jpg"));
    assert!(!looks_like_photo("avatar-me.svg"));
    assert!(!looks_like_photo("0123456789abcdef-big.jpg"));
}

#[test]
fn gzip_is_deterministic_and_round_trips() {
    let a = gzip(b"<html>hello</html>");
    assert_eq!(a, gzip(b"<html>hello</html>"));
    // No mtime in the header (bytes 4..8), no name flag.
    assert_eq!(&a[4..8], &[0, 0, 0, 0]);
    assert_eq!(a[3] & 0x08, 0);
    let mut out = Vec::new();
    GzDecoder::new(&a[..]).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"<html>hello</html>");
}

#[test]
fn a_publication_writes_nothing_until_every_artifact_passed_the_gate() {
    let root = tempfile::tempdir().unwrap();
    let opts = PublishOptions {
        out_dir: root.path().join("out"),
        tmp_dir: root.path().join("tmp"),
        allow_mass_removal: false,
    };
    let page = |path: &str, text: &str| Artifact {
        path: path.into(),
        kind: ArtifactKind::Page,
        bytes: text.as_bytes().to_vec(),
    };
    let secrets = SecretIndex::new([(2, "482913")]);
    let gate = SecretGate {
        secrets: &secrets,
        tab: "Players",
        column: "pin",
    };

    let refused = Publication::new(&opts, Some(gate));
    refused.add(&page("a.html", "<p>fine</p>")).unwrap();
    refused.add(&page("b.html", "<p>482913</p>")).unwrap();
    let err = refused.finish().unwrap_err().to_string();
    assert!(err.contains("b.html") && err.contains("row 2"), "{err}");
    assert!(!err.contains("482913"), "{err}");
    assert!(!opts.out_dir.join("a.html").exists());

    let fine = Publication::new(&opts, Some(gate));
    fine.add(&page("a.html", "<p>fine</p>")).unwrap();
    let done = fine.finish().unwrap();
    assert_eq!(done.report.written, 2);
    assert_eq!(done.files, ["a.html", "a.html.gz"]);
    assert_eq!(
        std::fs::read(opts.out_dir.join("a.html")).unwrap(),
        b"<p>fine</p>"
    );
    let gz = std::fs::read(opts.out_dir.join("a.html.gz")).unwrap();
    assert_eq!(gz, gzip(b"<p>fine</p>"));
    assert_eq!(std::fs::read_dir(&opts.tmp_dir).unwrap().count(), 0);

    let again = Publication::new(&opts, Some(gate));
    again.add(&page("a.html", "<p>fine</p>")).unwrap();
    let report = again.finish().unwrap().report;
    assert_eq!(
        report,
        PublishReport {
            written: 0,
            unchanged: 2,
            removed: 0
        }
    );

    // Only the twin is wrong: only the twin is written.
    std::fs::write(opts.out_dir.join("a.html.gz"), b"torn").unwrap();
    let twin = Publication::new(&opts, None);
    twin.add(&page("a.html", "<p>fine</p>")).unwrap();
    let report = twin.finish().unwrap().report;
    assert_eq!((report.written, report.unchanged), (1, 1));
    assert_eq!(std::fs::read(opts.out_dir.join("a.html.gz")).unwrap(), gz);
}

/// Issue 23: gen is the only writer of out_dir.
#[test]
fn planted_symlinks_are_removed_never_followed_nor_written_through() {
    use std::os::unix::fs::symlink;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let opts = PublishOptions {
        out_dir: out.clone(),
        tmp_dir: root.path().join("tmp"),
        allow_mass_removal: false,
    };
    let artifact = |path: &str, kind, text: &str| Artifact {
        path: path.into(),
        kind,
        bytes: text.as_bytes().to_vec(),
    };
    let site = [
        artifact("index.html", ArtifactKind::Index, "<p>roster</p>"),
        artifact("p/zoe/index.html", ArtifactKind::Player, "<p>Zoé</p>"),
        artifact("p/ann/index.html", ArtifactKind::Player, "<p>Ann</p>"),
    ];
    publish(&site, &opts).unwrap();
    let outside = root.path().join("outside");
    std::fs::create_dir_all(outside.join("zoe")).unwrap();
    std::fs::write(outside.join("secret.json"), "482913").unwrap();
    symlink(outside.join("secret.json"), out.join("leak.json")).unwrap();
    std::fs::remove_dir_all(out.join("p/zoe")).unwrap();
    symlink(outside.join("zoe"), out.join("p/zoe")).unwrap();
    let planted = [PathBuf::from("leak.json"), PathBuf::from("p/zoe")];
    assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);
    assert_eq!(symlinks_under(&out, Reach::OutsidePlayerFolders), planted);
    symlink(outside.join("secret.json"), out.join("p/ann/x.json")).unwrap();
    let planted = [
        PathBuf::from("leak.json"),
        PathBuf::from("p/ann/x.json"),
        PathBuf::from("p/zoe"),
    ];
    assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);
    assert_eq!(
        symlinks_under(&out, Reach::OutsidePlayerFolders),
        [PathBuf::from("leak.json"), PathBuf::from("p/zoe")]
    );

    // A refused publish changes nothing, the links included.
    let secrets = SecretIndex::new([(2, "482913")]);
    let gate = SecretGate {
        secrets: &secrets,
        tab: "Players",
        column: "pin",
    };
    let refused = Publication::new(&opts, Some(gate));
    refused
        .add(&artifact("index.html", ArtifactKind::Index, "482913"))
        .unwrap();
    assert!(refused.finish().is_err());
    assert_eq!(symlinks_under(&out, Reach::Everywhere), planted);

    let report = publish(&site, &opts).unwrap();
    assert_eq!(
        symlinks_under(&out, Reach::Everywhere),
        Vec::<PathBuf>::new()
    );
    assert_eq!((report.written, report.unchanged), (2, 4));
    assert_eq!(
        std::fs::read(out.join("p/zoe/index.html")).unwrap(),
        "<p>Zoé</p>".as_bytes()
    );
    assert_eq!(std::fs::read_dir(outside.join("zoe")).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.json")).unwrap(),
        "482913"
    );

    // A folder made a symlink after the walk is not written through.
    std::fs::remove_dir_all(out.join("p/zoe")).unwrap();
    symlink(outside.join("zoe"), out.join("p/zoe")).unwrap();
    unlink_symlinked_folders(&out, "p/zoe/index.html").unwrap();
    assert!(!out.join("p/zoe").exists());
    assert_eq!(std::fs::read_dir(outside.join("zoe")).unwrap().count(), 0);
}

#[test]
fn unsafe_paths_are_refused() {
    for bad in [
        "",
        "../x",
        "p/../x",
        "/etc/passwd",
        "p//x",
        ".hidden",
        "a/.git/x",
        "a\\b",
    ] {
        assert!(!is_safe_rel_path(bad), "{bad}");
    }
    assert!(is_safe_rel_path("p/zoe-eloise/index.html"));
    assert!(is_safe_rel_path("assets/site.0123456789.css"));
}
