//! Rosters as people (and attackers) really write them: path tricks, markup,
//! template syntax, duplicates, empty and ragged rows, BOMs, `;` and
//! Windows-1252. Good rows publish, bad rows are reported by row and column,
//! nothing escapes `out_dir`, every value is escaped.

use std::collections::BTreeSet;

use sheetgen_test_support::site::{Site, csv_config};
use sheetgen_test_support::tree::{self, files, player_slugs};

const LONG_ID: usize = 300;

fn hostile_players() -> String {
    let long = "x".repeat(LONG_ID);
    [
        "id,name,pin,team,points",
        "../../etc/passwd,Traveller,111222,Red,1", // row 2
        "<script>alert(1)</script>,<script>alert(2)</script>,222333,Blue,2", // 3
        "tpl,{{ 7*7 }},333444,{% if true %}yes{% endif %},3", // 4
        "dup,Dup First,444555,Red,4",              // 5
        "dup,Dup Second,555666,Red,5",             // 6
        "twin1,Sam Twin,666777,Blue,6",            // 7
        "twin2,  sam   TWIN ,777888,Blue,7",       // 8
        ",No Id,888999,Green,8",                   // 9
        "ragged,Ragged Rick",                      // 10
        "noname,,999000,Red,10",                   // 11
        "..,Dot Dot,101010,Red,11",                // 12
        &format!("{long},Long Id,712134,Red,12"), // 13 (a PIN no list calls common: this row is a good one)
        "\"quoted\nnewline\",\"Multi\nLine\",131313,Red,13", // 14-15
    ]
    .join("\n")
        + "\n"
}

fn hostile_matches() -> String {
    [
        "player_id,date,opponent",
        "tpl,2026-01-01,{{ 7*7 }} United",     // row 2
        "ghost,2026-01-02,Nobody FC",          // row 3
        "twin1,2026-01-03,<b>Bold</b> Rovers", // row 4
    ]
    .join("\n")
        + "\n"
}

fn hostile_site() -> Site {
    let site = Site::new();
    let mut config = csv_config("", "[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n");
    config = config.replace(
        "Players = \"players.csv\"",
        "Players = \"players.csv\"\nMatches = \"matches.csv\"",
    );
    site.write_config(&config);
    site.write("players.csv", hostile_players());
    site.write("matches.csv", hostile_matches());
    site
}

/// A page without its fingerprinted asset URLs (their hex could hold "49").
fn without_asset_urls(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("assets/") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find('"').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn good_rows_publish_and_bad_rows_are_reported_by_row_and_column() {
    let site = hostile_site();
    let run = site.build_ok();

    let slugs = player_slugs(&site.out());
    for s in &slugs {
        assert!(tree::is_slug(s) && s.len() <= 64, "unsafe slug {s:?}");
    }
    for expected in [
        "etc-passwd",
        "script-alert-1-script",
        "tpl",
        "dup",
        "twin1",
        "twin2",
        "ragged",
    ] {
        assert!(
            slugs.contains(expected),
            "no page for {expected}: {slugs:?}"
        );
    }
    assert!(
        slugs.iter().any(|s| s.starts_with("player-")),
        "'..' got no page: {slugs:?}"
    );
    assert!(
        slugs.iter().any(|s| s.starts_with("xxxx")),
        "long id got no page: {slugs:?}"
    );
    // Rows 9 (empty id), 6 (duplicate id), 11 (empty name) and 14 (an id
    // and a name holding line breaks, issue 14) are skipped.
    assert!(!slugs.contains("quoted-newline"), "{slugs:?}");
    assert_eq!(slugs.len(), 9, "{slugs:?}");
    assert!(run.stdout.contains("published 9 players"), "{}", run.stdout);
    let dup = site.page("p/dup/index.html");
    assert!(dup.contains("Dup First") && !dup.contains("Dup Second"));
    assert!(!site.page("index.html").contains("No Id"));

    let warnings = run.warnings();
    let has = |needle: &[&str]| {
        warnings
            .iter()
            .any(|w| needle.iter().all(|n| w.contains(n)))
    };
    let expect = [
        vec![
            "tab \"Players\", row 6, column \"id\"",
            "duplicate id \"dup\"",
            "row 5",
            "skipped",
        ],
        vec![
            "tab \"Players\", row 9, column \"id\"",
            "empty id",
            "skipped",
        ],
        vec![
            "tab \"Players\", row 11, column \"name\"",
            "empty login",
            "skipped",
        ],
        vec![
            "tab \"Players\", row 7, column \"name\"",
            "row 8",
            "neither",
        ],
        vec![
            "tab \"Players\", row 8, column \"name\"",
            "row 7",
            "neither",
        ],
        vec!["tab \"Players\", row 10, column \"pin\"", "no PIN"],
        vec![
            "tab \"Matches\", row 3, column \"player_id\"",
            "\"ghost\" matches no player",
        ],
        vec![
            "tab \"Players\", row 14, column \"id\"",
            "from line 14 to line 15",
            "skipped",
        ],
    ];
    for e in &expect {
        assert!(has(e), "no warning with {e:?} in:\n{}", run.stderr);
    }
    // No warning about good rows.
    for row in [2, 3, 4, 5, 12, 13] {
        let tag = format!("tab \"Players\", row {row},");
        assert!(
            !warnings.iter().any(|w| w.contains(&tag)),
            "{tag}\n{}",
            run.stderr
        );
    }
    // Row problems never quote a PIN.
    for pin in [
        "444555", "555666", "666777", "777888", "888999", "999000", "131313",
    ] {
        assert!(!run.stderr.contains(pin), "stderr shows {pin}");
    }
}

#[test]
fn nothing_is_written_outside_out_dir_and_state_dir() {
    let site = hostile_site();
    let before: BTreeSet<String> = files(site.root()).into_keys().collect();
    let outside = site.root().parent().unwrap().join("etc/passwd");
    let outside_existed = outside.exists();
    site.build_ok();

    let after: BTreeSet<String> = files(site.root()).into_keys().collect();
    for rel in after.difference(&before) {
        assert!(
            rel.starts_with("public/") || rel.starts_with(".sheetgen/"),
            "{rel} written outside out_dir and state_dir"
        );
        assert!(
            !rel.split('/').any(|c| c == "etc" || c == "passwd"),
            "{rel}"
        );
    }
    assert_eq!(
        outside.exists(),
        outside_existed,
        "{} created",
        outside.display()
    );
    let out = std::fs::canonicalize(site.out()).unwrap();
    for (rel, path) in files(&out) {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file(), "{rel} is not a plain file");
        assert!(
            std::fs::canonicalize(&path).unwrap().starts_with(&out),
            "{rel}"
        );
        let ok = rel.split('/').all(|c| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
        assert!(ok, "odd path under out_dir: {rel:?}");
    }
}

#[test]
fn markup_is_escaped_and_template_syntax_stays_text() {
    let site = hostile_site();
    site.build_ok();
    for (rel, bytes) in tree::readable_contents(&site.out()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("<script>alert"), "{rel} has a live <script>");
        assert!(!text.contains("<b>Bold"), "{rel} has live <b>");
        assert!(
            !text.contains(">yes<"),
            "{rel} ran a {{% if %}} from the sheet"
        );
    }
    let page = site.page("p/script-alert-1-script/index.html");
    assert!(page.contains("&lt;script&gt;alert(2)"), "{page}");
    assert!(site.page("index.html").contains("&lt;script&gt;alert(2)"));
    assert!(site.page("p/twin1/index.html").contains("&lt;b&gt;Bold"));

    for rel in ["p/tpl/index.html", "index.html"] {
        let page = site.page(rel);
        assert!(
            page.contains("{{ 7*7 }}"),
            "{rel} does not show the name literally"
        );
        assert!(
            !without_asset_urls(&page).contains("49"),
            "{rel} evaluated 7*7:\n{page}"
        );
    }
    let page = site.page("p/tpl/index.html");
    assert!(page.contains("{{ 7*7 }} United"), "{page}");
    assert!(page.contains("{% if true %}yes{% endif %}"), "{page}");
}

#[test]
fn colliding_ids_get_distinct_stable_slugs() {
    let csv = "id,name,pin\nZoé Éloïse,Zoé,123987\nzoe eloise,Zoe Two,456321\nZOE-ELOISE,Zoe Three,789654\n";
    let site = Site::csv(csv);
    site.build_ok();
    let slugs = player_slugs(&site.out());
    assert_eq!(slugs.len(), 3, "{slugs:?}");
    // "ZOE-ELOISE" sorts first and keeps the plain slug.
    assert!(slugs.contains("zoe-eloise"), "{slugs:?}");
    for s in slugs.iter().filter(|s| *s != "zoe-eloise") {
        let suffix = s
            .strip_prefix("zoe-eloise-")
            .unwrap_or_else(|| panic!("{s}"));
        assert!(
            suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
            "{s}"
        );
    }
    assert!(site.page("p/zoe-eloise/index.html").contains("Zoe Three"));

    // Row order does not move a player to another URL.
    let reversed = "id,name,pin\nZOE-ELOISE,Zoe Three,789654\nzoe eloise,Zoe Two,456321\nZoé Éloïse,Zoé,123987\n";
    let before = tree::stamps(&site.out());
    site.write("players.csv", reversed);
    site.build_ok();
    assert_eq!(player_slugs(&site.out()), slugs);
    // Only the index may differ (it is sorted by name anyway).
    let changed = tree::changed(&before, &tree::stamps(&site.out()));
    assert!(
        changed.iter().all(|r| r.starts_with("index.html")),
        "{changed:?}"
    );
}

#[test]
fn bom_semicolons_and_crlf_are_read() {
    let csv = "\u{feff}id;name;pin;team\r\nb1;\"Dupont; Jo\";246810;Rouge\r\nb2;Zoé Éloïse;135791;Bleu\r\n";
    let site = Site::csv(csv);
    let run = site.build_ok();
    assert!(
        run.warnings().iter().all(|w| !w.contains("row")),
        "{}",
        run.stderr
    );
    let slugs: BTreeSet<String> = ["b1", "b2"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), slugs);
    let page = site.page("p/b1/index.html");
    assert!(page.contains("Dupont; Jo"), "{page}");
    assert!(page.contains("Rouge"), "{page}");
    assert!(!page.contains('\u{feff}'), "the BOM leaked into a page");
    assert!(site.page("p/b2/index.html").contains("Zoé Éloïse"));
    tree::assert_absent(&site.out(), &["246810".into(), "135791".into()]);
}

const CP1252: &[u8] = b"id,name,pin,team\r\nZo\xe9 \xc9lo\xefse,Zo\xe9 \xc9lo\xefse,314159,Cr\xe8me\r\ng2,Gar\xe7on,271828,Caf\xe9\r\n";

#[test]
fn windows_1252_reads_with_the_setting() {
    let site = Site::new();
    site.write_config(&csv_config("encoding = \"windows-1252\"", ""));
    site.write("players.csv", CP1252);
    site.build_ok();
    let slugs: BTreeSet<String> = ["zoe-eloise", "g2"].map(String::from).into();
    assert_eq!(player_slugs(&site.out()), slugs);
    let page = site.page("p/zoe-eloise/index.html");
    assert!(
        page.contains("Zoé Éloïse") && page.contains("Crème"),
        "{page}"
    );
    assert!(site.page("p/g2/index.html").contains("Garçon"));
}

#[test]
fn windows_1252_without_the_setting_names_the_file_and_line() {
    let site = Site::csv(CP1252);
    let not_utf8 = |line: u32| {
        format!(
            "{} (tab \"Players\"), line {line}: not valid UTF-8 (set `encoding = \"windows-1252\"` \
             under [source] if the file comes from Excel on Windows)",
            site.root().join("players.csv").display()
        )
    };
    let run = site.build();
    run.expect_error(1, &not_utf8(2));
    assert!(run.stderr.contains("error:"), "{}", run.stderr);
    assert!(run.stderr.contains("players.csv"), "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    assert!(run.stderr.contains("windows-1252"), "{}", run.stderr);
    assert!(!site.out().exists(), "a failed build created out_dir");

    // Valid lines first: the error points at the first bad one.
    let mut bytes = b"id,name,pin\r\nok1,Fine,111333\r\nok2,Fine Too,222444\r\n".to_vec();
    bytes.extend_from_slice(b"g3,Gar\xe7on,333555\r\n");
    site.write("players.csv", bytes);
    let run = site.build();
    run.expect_error(1, &not_utf8(4));
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
}

#[test]
fn column_names_are_escaped_too() {
    let csv =
        "id,name,pin,<img src=x onerror=alert(1)>,{{ 6*7 }}\nh1,Header Test,864209,<b>v</b>,x\n";
    let site = Site::csv(csv);
    site.build_ok();
    for rel in ["p/h1/index.html", "index.html"] {
        let page = site.page(rel);
        assert!(
            !page.contains("<img src=x"),
            "{rel}: live markup from a header"
        );
        assert!(
            page.contains("&lt;img src=x"),
            "{rel}: header not shown:\n{page}"
        );
        assert!(page.contains("{{ 6*7 }}"), "{rel}");
        assert!(
            !without_asset_urls(&page).contains("42"),
            "{rel} evaluated a header"
        );
    }
    assert!(!site.page("p/h1/index.html").contains("<b>v"));
}
