//! `gen build` end to end: the demo, secrets, incremental writes, guarded
//! removals and pagination, on real temp dirs with the real binary.

use std::collections::BTreeSet;

use sheetgen_test_support::site::{Site, TEMPLATES, csv_config, repo, roster, roster_with};
use sheetgen_test_support::tree::{
    self, assert_absent, assert_gz_twins, files, player_slugs, stamps,
};

/// The repo's `site.toml`, pointed at the repo's demo data and theme but
/// publishing into `site`'s temp folder.
fn demo_site() -> Site {
    let repo = repo();
    let text = std::fs::read_to_string(repo.join("site.toml")).unwrap();
    let mut config: toml::Table = toml::from_str(&text).unwrap();
    let site = Site::new();
    let abs = |p: std::path::PathBuf| toml::Value::String(p.to_string_lossy().into_owned());

    let s = config["site"].as_table_mut().unwrap();
    s.insert("out_dir".into(), abs(site.out()));
    s.insert("state_dir".into(), abs(site.state()));
    s.insert("templates".into(), abs(TEMPLATES.into()));
    let files = config["source"]["files"].as_table_mut().unwrap();
    for (_, value) in files.iter_mut() {
        let rel = value.as_str().unwrap().to_string();
        *value = abs(repo.join(rel));
    }
    site.write_config(&toml::to_string(&config).unwrap());
    site
}

/// The demo's players rows, as the csv crate reads them.
fn demo_players() -> Vec<csv::StringRecord> {
    let path = repo().join("examples/demo/players.csv");
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

fn demo_header() -> csv::StringRecord {
    let path = repo().join("examples/demo/players.csv");
    csv::Reader::from_path(path)
        .unwrap()
        .headers()
        .unwrap()
        .clone()
}

#[test]
fn demo_builds_every_page_with_gz_twins_and_no_pin() {
    let site = demo_site();
    let run = site.build_ok();
    let out = site.out();

    let header = demo_header();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, name, pin, email) = (col("id"), col("name"), col("pin"), col("email"));
    let rows = demo_players();
    assert!(rows.len() >= 100, "the demo should have 100+ players");

    // One page per valid player: the demo has no bad rows.
    let expected: BTreeSet<String> = rows
        .iter()
        .map(|r| sheetgen::model::slugify(&r[id]))
        .collect();
    assert_eq!(
        expected.len(),
        rows.len(),
        "demo ids should give distinct slugs"
    );
    assert_eq!(player_slugs(&out), expected);
    assert!(
        run.stdout
            .contains(&format!("published {} players", rows.len())),
        "{}",
        run.stdout
    );

    let all = files(&out);
    for required in ["index.html", "login/index.html", "404.html", "403.html"] {
        assert!(all.contains_key(required), "missing {required}");
    }
    let asset = |prefix: &str, ext: &str| {
        all.keys().any(|rel| {
            rel.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(ext))
                .is_some_and(|h| h.len() == 10 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    };
    assert!(
        asset("assets/site.", ".css"),
        "no fingerprinted site.css: {all:?}"
    );
    assert!(
        asset("assets/login.", ".js"),
        "no fingerprinted login.js: {all:?}"
    );
    assert_gz_twins(&out);

    // Nothing but the published files: no temp file left in out_dir.
    for rel in all.keys() {
        assert!(
            !rel.split('/').any(|c| c.starts_with('.')),
            "hidden file in out_dir: {rel}"
        );
    }

    // Each page shows its player; the private column stays off the index.
    let index = site.page("index.html");
    for r in &rows {
        let page = site.page(&format!(
            "p/{}/index.html",
            sheetgen::model::slugify(&r[id])
        ));
        if !r[name].contains(['&', '<', '>', '"', '\'', '/']) {
            assert!(page.contains(&r[name]), "page of {} lacks the name", &r[id]);
            assert!(index.contains(&r[name]), "index lacks {}", &r[name]);
        }
        // Long values carry line-break hints (`<wbr>`, issue 17).
        assert!(
            page.replace("<wbr>", "").contains(&r[email]),
            "page of {} lacks the e-mail",
            &r[id]
        );
        assert!(
            !index.contains(&r[email]),
            "index shows the private e-mail of {}",
            &r[id]
        );
    }

    let pins: Vec<String> = rows.iter().map(|r| r[pin].to_string()).collect();
    assert!(pins.iter().all(|p| !p.is_empty()));
    assert_absent(&out, &pins);
    for p in &pins {
        assert!(!run.stdout.contains(p.as_str()) && !run.stderr.contains(p.as_str()));
    }
}

#[test]
fn canary_pins_never_reach_out_dir_or_the_terminal() {
    let canaries = ["CANARY-PIN-7731", "493817", "Zz9-canary-&<pin>", "081274"];
    let csv = format!(
        "id,name,pin,team,points\n\
         a1,Alice Canary,{},Red,3\n\
         b2,Bob Canary,{},Blue,5\n\
         c3,Chloé Canary,\"{}\",Green,7\n\
         d4,Dan Canary,{},Red,1\n",
        canaries[0], canaries[1], canaries[2], canaries[3]
    );
    let site = Site::csv(csv);
    let run = site.build_ok();
    assert_eq!(player_slugs(&site.out()).len(), 4);
    let needles: Vec<String> = canaries.iter().map(|s| s.to_string()).collect();
    assert_absent(&site.out(), &needles);
    // Escaped forms would leak just as well.
    assert_absent(
        &site.out(),
        &[
            "Zz9-canary-&amp;&lt;pin&gt;".to_string(),
            "CANARY".to_string(),
        ],
    );
    let check = site.run(&["check"]);
    for c in canaries {
        for text in [&run.stdout, &run.stderr, &check.stdout, &check.stderr] {
            assert!(!text.contains(c), "{c} printed:\n{text}");
        }
    }
    // Nothing under the state dir is served, but it must not hold a PIN in
    // clear either (only a session key and temp files belong there).
    for (rel, path) in files(&site.state()) {
        let bytes = std::fs::read(path).unwrap();
        for c in canaries {
            assert!(!tree::contains(&bytes, c.as_bytes()), "{rel} holds {c}");
        }
    }
}

#[test]
fn unchanged_data_rewrites_nothing_and_a_change_rewrites_only_changed_files() {
    let site = Site::csv(roster_with(20, |i| i as i64));
    site.write_config(&csv_config(
        "",
        "[index]\nsort_by = \"points\"\ndescending = true\n",
    ));
    site.build_ok();
    let before = stamps(&site.out());
    assert!(before.len() > 40, "{before:?}");

    // Same bytes in: not one file touched (mtime in ns, inode, size).
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = site.build_ok();
    assert!(run.stdout.contains(" 0 files written"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("{} unchanged", before.len())),
        "{}",
        run.stdout
    );
    let after = stamps(&site.out());
    assert_eq!(before, after, "a build with unchanged data rewrote files");

    // Player 7 scores. Pages show ranks and when their content last
    // changed (issue 17): p0007's page, the index and the pages of the
    // players it passed change; the assets do not, and exactly the files
    // whose bytes changed are written.
    let bytes_before = tree::tree_bytes(&site.out());
    site.write(
        "players.csv",
        roster_with(20, |i| if i == 7 { 99 } else { i as i64 }),
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = site.build_ok();
    let changed = tree::changed(&after, &stamps(&site.out()));
    let bytes_after = tree::tree_bytes(&site.out());
    let differ: BTreeSet<String> = bytes_after
        .iter()
        .filter(|(rel, bytes)| bytes_before.get(*rel) != Some(*bytes))
        .map(|(rel, _)| rel.clone())
        .collect();
    assert_eq!(changed, differ, "written files = files whose bytes changed");
    assert!(
        run.stdout
            .contains(&format!(" {} files written", changed.len())),
        "{}",
        run.stdout
    );
    assert!(changed.contains("p/p0007/index.html"), "{changed:?}");
    assert!(changed.contains("index.html.gz"), "{changed:?}");
    // Players 1 to 6 keep their rank (p0007 passed them by): their pages,
    // "data as of" included, are the same bytes and were not written.
    for i in 1..=6 {
        let page = format!("p/p{i:04}/index.html");
        assert!(!changed.contains(&page), "{page} rewritten: {changed:?}");
    }
    assert!(
        !changed.iter().any(|rel| rel.starts_with("assets/")),
        "{changed:?}"
    );
    let page = site.page("p/p0007/index.html");
    assert!(page.contains(">99<"), "{page}");
    // The new leader heads the index.
    let index = site.page("index.html");
    let first = index.find("Player 0007").unwrap();
    assert!(index.find("Player 0020").unwrap() > first);
    assert_gz_twins(&site.out());
}

#[test]
fn a_deleted_file_is_repaired_and_a_stale_gz_is_replaced() {
    let site = Site::csv(roster(5));
    site.build_ok();
    std::fs::remove_file(site.out().join("p/p0003/index.html.gz")).unwrap();
    std::fs::write(site.out().join("p/p0004/index.html.gz"), b"not gzip").unwrap();
    std::fs::write(site.out().join("p/p0005/index.html"), b"torn").unwrap();
    let run = site.build_ok();
    // p0003's gz, p0004's gz, p0005's html and (re-written alongside) its gz.
    assert!(run.stdout.contains(" 4 files written"), "{}", run.stdout);
    assert_gz_twins(&site.out());
    assert!(site.page("p/p0005/index.html").contains("Player 0005"));
}

fn page_bytes(site: &Site) -> std::collections::BTreeMap<String, Vec<u8>> {
    files(&site.out())
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("p/"))
        .map(|(rel, path)| (rel, std::fs::read(path).unwrap()))
        .collect()
}

#[test]
fn mass_removal_is_refused_without_the_flag_and_changes_nothing() {
    let site = Site::csv(roster(10));
    site.build_ok();
    assert_eq!(player_slugs(&site.out()).len(), 10);
    let pages = page_bytes(&site);
    let before = stamps(&site.out());

    site.write("players.csv", roster(2));
    let run = site.build();
    run.expect_code(1);
    assert!(
        run.stderr.contains("--allow-mass-removal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("error:"), "{}", run.stderr);
    assert_eq!(page_bytes(&site), pages, "player pages changed");
    assert_eq!(stamps(&site.out()), before, "a refused cycle touched files");

    let run = site.run(&["build", "--allow-mass-removal"]);
    run.expect_ok();
    let left: BTreeSet<String> = ["p0001", "p0002"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), left);
    let dirs = tree::dirs(&site.out().join("p"));
    assert_eq!(dirs, left, "folders of removed players remain");
    assert!(run.stdout.contains(" 16 removed"), "{}", run.stdout);
    // The index no longer links to them.
    let index = site.html("index.html");
    assert!(index.contains("href=\"/p/p0002/\""), "{index}");
    assert!(!index.contains("/p/p0003/"), "{index}");
}

#[test]
fn removing_one_of_ten_players_needs_no_flag() {
    let site = Site::csv(roster(10));
    site.build_ok();
    // Player 4 left the club.
    let text: String = roster(10)
        .lines()
        .filter(|l| !l.starts_with("p0004,"))
        .map(|l| format!("{l}\n"))
        .collect();
    site.write("players.csv", text);
    let run = site.build_ok();
    assert!(run.stdout.contains(" 2 removed"), "{}", run.stdout);
    let slugs = player_slugs(&site.out());
    assert_eq!(slugs.len(), 9);
    assert!(!slugs.contains("p0004"));
    assert!(
        !site.out().join("p/p0004").exists(),
        "empty folder left behind"
    );
}

#[test]
fn a_long_roster_is_paginated_and_extra_pages_are_pruned() {
    let site = Site::csv(roster(1200));
    site.write_config(&csv_config("", "[index]\nper_page = 500\n"));
    site.build_ok();
    let out = site.out();
    assert_eq!(player_slugs(&out).len(), 1200);
    for rel in ["index.html", "page/2/index.html", "page/3/index.html"] {
        assert!(out.join(rel).is_file(), "missing {rel}");
        assert!(out.join(format!("{rel}.gz")).is_file(), "missing {rel}.gz");
    }
    assert!(!out.join("page/4").exists());
    assert!(!out.join("page/1").exists(), "page 1 is the index");
    // 500, 500 and 200 rows: every player is linked from exactly one page.
    let mut linked = 0;
    for (rel, expect) in [
        ("index.html", 500),
        ("page/2/index.html", 500),
        ("page/3/index.html", 200),
    ] {
        let n = site.html(rel).matches("href=\"/p/").count();
        assert_eq!(n, expect, "{rel} links {n} players");
        linked += n;
    }
    assert_eq!(linked, 1200);
    assert!(site.html("page/2/index.html").contains("href=\"/page/3/\""));

    site.write("players.csv", roster(600));
    site.run(&["build", "--allow-mass-removal"]).expect_ok();
    assert_eq!(player_slugs(&out).len(), 600);
    assert!(out.join("page/2/index.html").is_file());
    assert!(!out.join("page/3").exists(), "page/3/ should be removed");
    assert!(!site.html("page/2/index.html").contains("/page/3/"));
}

#[test]
fn removing_exactly_half_is_allowed_and_one_more_is_not() {
    let site = Site::csv(roster(10));
    site.build_ok();
    let keep = |n: usize| -> String {
        roster(10)
            .lines()
            .take(n + 1)
            .map(|l| format!("{l}\n"))
            .collect()
    };
    site.write("players.csv", keep(4)); // 6 of 10 gone
    let run = site.build();
    run.expect_code(1);
    assert!(run.stderr.contains("6 of 10"), "{}", run.stderr);
    assert_eq!(player_slugs(&site.out()).len(), 10);
    site.write("players.csv", keep(5)); // 5 of 10 gone
    site.build_ok();
    assert_eq!(player_slugs(&site.out()).len(), 5);
}

#[test]
fn published_files_are_world_readable_and_state_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::csv(roster(3));
    site.build_ok();
    for (rel, path) in files(&site.out()) {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{rel} has mode {mode:o}");
    }
    let mode = std::fs::metadata(site.state())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "state_dir has mode {mode:o}");
    // Temp files went through state_dir/tmp and none is left behind.
    let leftovers = files(&site.state().join("tmp"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!site.out().join(".sheetgen-tmp").exists());
}
