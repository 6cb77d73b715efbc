//! The player's page and the "data as of" line (issue 17 items 2 and 3),
//! through the real binary: the line in fr and en in `[site] timezone`
//! (also on a machine without a system time zone database), a no-change
//! build and a `gen watch` restart on unchanged data writing nothing, a
//! change moving the line; rank out of how many; fields and labels as
//! configured, the id hidden by default; a joined tab sorted by dates as
//! organisers type them, a bad date named in a warning; a wrong time zone
//! refused naming the key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{
    CSV_SOURCE, Site, csv_config, repo, roster_pin, roster_with, site_config,
};
use sheetgen_test_support::tree::stamps;

/// `state_dir/data-changed.json`: when gen saw the data change.
fn recorded_change(site: &Site) -> (String, u64) {
    let text = std::fs::read_to_string(site.state().join("data-changed.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (
        v["digest"].as_str().unwrap().to_string(),
        v["changed_at"].as_u64().unwrap(),
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// The line the pages must show for `secs` in `zone`, and the
/// `datetime` attribute, worked out here with jiff on its own.
fn expected_line(lang: &str, zone: &str, secs: u64) -> (String, String) {
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let z = jiff::Timestamp::from_second(secs as i64)
        .unwrap()
        .to_zoned_datetime(tz);
    let month = z.month() as usize - 1;
    let text = match lang {
        "fr" => {
            let day = if z.day() == 1 {
                "1er".to_string()
            } else {
                z.day().to_string()
            };
            format!(
                "Données du {day} {} {} à {} h {:02}",
                MONTHS_FR[month],
                z.year(),
                z.hour(),
                z.minute()
            )
        }
        _ => format!(
            "Data as of {} {} {}, {}:{:02}",
            z.day(),
            MONTHS_EN[month],
            z.year(),
            z.hour(),
            z.minute()
        ),
    };
    (text, z.strftime("%Y-%m-%dT%H:%M%:z").to_string())
}

/// A 120-player roster sorted by points, in `lang` and `timezone`.
fn roster_site(lang: &str, timezone: &str, extra: &str) -> Site {
    let site = Site::new();
    site.write("players.csv", roster_with(120, |i| i as i64));
    let config = csv_config(
        "",
        &format!("[index]\nsort_by = \"points\"\ndescending = true\n{extra}"),
    )
    .replace(
        "lang = \"en\"",
        &format!("lang = \"{lang}\"\ntimezone = \"{timezone}\""),
    );
    site.write_config(&config);
    site
}

#[test]
fn data_as_of_is_shown_in_the_site_time_zone_in_english_and_french() {
    for lang in ["en", "fr"] {
        let site = roster_site(lang, "America/New_York", "per_page = 50\n");
        let before = unix_now();
        // No system time zone database: the copy built into gen answers.
        let empty = site.root().join("no-zoneinfo");
        std::fs::create_dir(&empty).unwrap();
        site.run_env(&["build"], &[("TZDIR", empty.to_str().unwrap())])
            .expect_ok();
        let after = unix_now();
        let (_, at) = recorded_change(&site);
        assert!(before <= at && at <= after, "{before} <= {at} <= {after}");
        let (text, iso) = expected_line(lang, "America/New_York", at);
        assert!(
            iso.ends_with("-05:00") || iso.ends_with("-04:00"),
            "New York's offset: {iso}"
        );
        let line = format!("<time datetime=\"{iso}\">{text}</time>");
        for page in ["index.html", "page/2/index.html", "p/p0042/index.html"] {
            let html = site.page(page);
            assert!(html.contains(&line), "{lang} {page} lacks {line}:\n{html}");
        }
    }
}

#[test]
fn unchanged_data_writes_nothing_across_builds_and_watch_restarts_and_a_change_moves_the_line() {
    let site = roster_site("en", "Europe/Paris", "[api]\nlisten = \"127.0.0.1:0\"\n");
    site.build_ok();
    let (digest, first) = recorded_change(&site);

    // The data last changed long ago (as a site built on 15 January would
    // have recorded): the pages say so, and keep saying so while nothing
    // changes.
    let old = 1_768_469_400; // 2026-01-15 09:30 UTC
    std::fs::write(
        site.state().join("data-changed.json"),
        format!("{{\"digest\":\"{digest}\",\"changed_at\":{old}}}"),
    )
    .unwrap();
    // Nor does it know when each page changed: every page takes that time.
    std::fs::remove_file(site.state().join("page-times.json")).unwrap();
    let run = site.build_ok();
    assert!(!run.stdout.contains(" 0 files written"), "{}", run.stdout);
    let (text, _) = expected_line("en", "Europe/Paris", old);
    assert_eq!(text, "Data as of 15 January 2026, 10:30");
    assert!(site.page("p/p0001/index.html").contains(&text));
    assert!(site.page("index.html").contains(&text));
    assert!(first >= old);

    // A build on the same data: nothing written, not one file touched.
    let stamped = stamps(&site.out());
    std::thread::sleep(Duration::from_millis(20));
    let run = site.build_ok();
    assert!(run.stdout.contains(" 0 files written"), "{}", run.stdout);
    assert_eq!(stamped, stamps(&site.out()));

    // `gen watch`, twice (a restart), on the same data: cycles that write
    // nothing.
    for start in 1..=2 {
        let mut w = Gen::start(
            &site.config_path(),
            site.root(),
            &["--log-format", "json", "watch"],
        );
        w.wait_log_count("\"event\":\"cycle\"", 1, Duration::from_secs(15));
        let cycle: Value = w
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "cycle")
            .unwrap();
        assert_eq!(cycle["written"], 0, "watch start {start}: {cycle}");
        assert_eq!(cycle["changed"], false, "watch start {start}: {cycle}");
        w.signal("TERM");
        assert!(w.wait_exit(Duration::from_secs(5)).is_some());
        assert_eq!(stamped, stamps(&site.out()), "watch start {start}");
    }
    assert_eq!(recorded_change(&site), (digest.clone(), old));

    // The data changes: the line moves to the time of that build.
    site.write(
        "players.csv",
        roster_with(120, |i| if i == 7 { 500 } else { i as i64 }),
    );
    let before = unix_now();
    site.build_ok();
    let (new_digest, at) = recorded_change(&site);
    assert_ne!(new_digest, digest);
    assert!(at >= before, "{at} >= {before}");
    let (moved, _) = expected_line("en", "Europe/Paris", at);
    for changed in ["p/p0007/index.html", "index.html"] {
        let page = site.page(changed);
        assert!(page.contains(&moved), "{changed}: {moved}:\n{page}");
        assert!(!page.contains(&text), "{changed}: {page}");
    }
    // A page whose content did not change keeps its time and its bytes:
    // p0001 is last before and after (p0007 passed it by).
    let kept = site.page("p/p0001/index.html");
    assert!(kept.contains(&text), "{kept}");
    assert!(!kept.contains(&moved), "{kept}");
}

#[test]
fn the_player_page_shows_rank_and_fields_as_configured() {
    // Default: the id and the name are not fields, the rank is out of 120.
    let site = roster_site("en", "Europe/Paris", "");
    site.build_ok();
    let page = site.page("p/p0118/index.html");
    // Points 118 of 1..=120, high to low: third.
    assert!(
        page.contains(
            "Rank <strong>3</strong><span aria-hidden=\"true\"> / </span><span class=\"visually-hidden\"> out of </span>120"
        ),
        "{page}"
    );
    assert!(page.contains("<dt>team</dt>"), "{page}");
    assert!(page.contains("<dt>points</dt><dd>118</dd>"), "{page}");
    assert!(!page.contains("<dt>id</dt>"), "the id is hidden: {page}");
    assert!(
        !page.contains("<dt>name</dt>"),
        "the name is the title: {page}"
    );
    assert!(!page.contains("p0118</dd>"), "{page}");
    assert!(!page.contains(&roster_pin(118)), "a PIN: {page}");

    // Configured: order, the id on request, labels shared with the roster.
    let site = roster_site(
        "fr",
        "Europe/Paris",
        "[player_page]\nfields = [\"points\", \"id\"]\n[labels]\npoints = \"Score\"\nid = \"Licence\"\n",
    );
    site.build_ok();
    let page = site.page("p/p0118/index.html");
    let score = page.find("<dt>Score</dt><dd>118</dd>").expect(&page);
    let licence = page.find("<dt>Licence</dt><dd>p0118</dd>").expect(&page);
    assert!(score < licence, "fields in the configured order: {page}");
    assert!(
        !page.contains("<dt>team</dt>"),
        "only configured fields: {page}"
    );
    assert!(page.contains("Classement <strong>3</strong>"), "{page}");
    assert!(page.contains(" sur </span>120"), "{page}");
    let index = site.page("index.html");
    assert!(
        index.contains(">Score<span class=\"visually-hidden\">"),
        "{index}"
    );

    // No roster sort: no rank on the page.
    let site = Site::csv(roster_with(5, |i| i as i64));
    site.build_ok();
    let page = site.page("p/p0002/index.html");
    assert!(!page.contains("class=\"rank\""), "{page}");
}

/// One player's matches with dates in every way organisers type them.
const MATCHES: &str = "player_id,date,opponent,result\n\
p0001,3 mars 2026,Lyon,W\n\
p0001,2026-01-10,Paris,L\n\
p0001,14/02/2026,Nantes,D\n\
p0001,5/4/26,Lille,W\n\
p0001,1er janv. 2026,Brest,W\n\
p0001,12 févr. 2026,Metz,L\n\
p0001,3 March 2026,Nice,D\n\
p0001,31/02/2026,Lens,W\n\
p0002,2026-05-01,Rennes,W\n";

fn matches_site(table: &str) -> Site {
    let site = Site::new();
    site.write("players.csv", roster_with(3, |i| i as i64));
    site.write("matches.csv", MATCHES);
    site.write_config(&site_config(
        "FC Test",
        None,
        &format!("{CSV_SOURCE}Matches = \"matches.csv\"\n"),
        &format!("[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n{table}"),
    ));
    site
}

/// The opponents in the order the page lists them.
fn opponents(page: &str) -> Vec<&str> {
    [
        "Lyon", "Paris", "Nantes", "Lille", "Brest", "Metz", "Nice", "Lens",
    ]
    .into_iter()
    .filter_map(|o| page.find(&format!(">{o}<")).map(|at| (at, o)))
    .collect::<std::collections::BTreeMap<_, _>>()
    .into_values()
    .collect()
}

#[test]
fn a_table_sorts_by_dates_as_typed_and_names_a_bad_date() {
    let site = matches_site(
        "sort_by = \"date\"\ndescending = true\ncolumns = [\"opponent\", \"date\", \"result\"]\n[labels]\nopponent = \"Adversaire\"\n",
    );
    let run = site.build_ok();
    let page = site.html("p/p0001/index.html");
    // Latest first; the one that is not a date last.
    assert_eq!(
        opponents(&page),
        [
            "Lille", "Lyon", "Nice", "Nantes", "Metz", "Paris", "Brest", "Lens"
        ],
        "{page}"
    );
    // Columns in the configured order, labelled.
    assert!(
        page.contains(
            "<th scope=\"col\">Adversaire</th><th scope=\"col\">date</th><th scope=\"col\">result</th>"
        ),
        "{page}"
    );
    assert!(
        page.contains(
            "<tr><td data-label=\"Adversaire\">Lille</td><td data-label=\"date\">5/4/26</td><td data-label=\"result\">W</td></tr>"
        ),
        "{page}"
    );
    // The bad date, named: tab, row, column, what to do.
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("31/02/2026"))
        .unwrap_or_else(|| panic!("no warning for the bad date:\n{}", run.stderr));
    assert!(
        warning.contains("tab \"Matches\", row 9, column \"date\""),
        "{warning}"
    );
    assert!(warning.contains("is not a date"), "{warning}");
    assert!(warning.contains("Write a date like"), "{warning}");

    // Ascending; without `columns`, every column but the key.
    let site = matches_site("sort_by = \"date\"\n");
    site.build_ok();
    let page = site.page("p/p0001/index.html");
    assert_eq!(
        opponents(&page),
        [
            "Brest", "Paris", "Metz", "Nantes", "Lyon", "Nice", "Lille", "Lens"
        ],
        "{page}"
    );
    assert!(
        page.contains("<th scope=\"col\">date</th><th scope=\"col\">opponent</th>"),
        "{page}"
    );
}

/// Issue 26: long dates as French and English Excel show them, weekday
/// first, sort as dates: October after January, not below it; none is
/// named as "not a date".
#[test]
fn long_dates_with_a_weekday_sort_as_dates() {
    let site = Site::new();
    site.write("players.csv", roster_with(3, |i| i as i64));
    site.write(
        "matches.csv",
        "player_id,date,opponent,result\n\
         p0001,lundi 5 octobre 2026,Lyon,W\n\
         p0001,jeu. 15 janv. 2026,Paris,L\n\
         p0001,\"Monday, March 2, 2026\",Nantes,D\n\
         p0001,sam. 1er août 2026,Lille,W\n\
         p0001,Sun 6 Dec 2026,Brest,W\n",
    );
    site.write_config(&site_config(
        "FC Test",
        None,
        &format!("{CSV_SOURCE}Matches = \"matches.csv\"\n"),
        "[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\nsort_by = \"date\"\n",
    ));
    let run = site.build_ok();
    assert!(!run.stderr.contains("not a date"), "{}", run.stderr);
    let page = site.page("p/p0001/index.html");
    assert_eq!(
        opponents(&page),
        ["Paris", "Nantes", "Lille", "Lyon", "Brest"],
        "{page}"
    );
}

#[test]
fn a_configured_column_that_is_not_in_its_tab_is_named() {
    let site = matches_site("sort_by = \"when\"\n");
    let run = site.build();
    run.expect_code(2);
    assert!(run.stderr.contains("\"when\""), "{}", run.stderr);
    assert!(run.stderr.contains("tables.sort_by"), "{}", run.stderr);
    assert!(run.stderr.contains("Matches"), "{}", run.stderr);

    let site = roster_site(
        "en",
        "Europe/Paris",
        "[player_page]\nfields = [\"Points\"]\n",
    );
    let run = site.build();
    run.expect_code(2);
    assert!(run.stderr.contains("player_page.fields"), "{}", run.stderr);
    assert!(run.stderr.contains("\"Points\""), "{}", run.stderr);
}

#[test]
fn a_wrong_time_zone_is_refused_naming_the_key() {
    let site = roster_site("en", "Europe/Pari", "");
    let run = site.build();
    run.expect_code(2);
    assert!(run.stderr.contains("site.timezone"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean \"Europe/Paris\"?"),
        "{}",
        run.stderr
    );
    assert!(!site.out().exists(), "nothing published");
}

// ---------------------------------------------------------------- a phone

/// The demo player's rank among the demo's players by points, high to
/// low (the demo's `[index]`), with equal points sharing a rank; and how
/// many players there are.
fn demo_rank(slug: &str) -> (usize, usize) {
    let mut players = csv::Reader::from_path(repo().join("examples/demo/players.csv")).unwrap();
    let h = players.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (id, points) = (col("id"), col("points"));
    let rows: Vec<(String, f64)> = players
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[id].to_string(), r[points].trim().parse().unwrap())
        })
        .collect();
    let mine = rows.iter().find(|(i, _)| i == slug).unwrap().1;
    let above = rows.iter().filter(|(_, p)| *p > mine).count();
    (above + 1, rows.len())
}

fn player_page_on_a_phone(lang: &str) {
    use sheetgen_test_support::browser::{Browser, Tools, path_of};
    use sheetgen_test_support::demo::{Stack, demo_player, ui_string};

    let tools = Tools::find();
    let stack = Stack::start(Some(lang));
    let player = demo_player();
    let private = format!("/p/{}/", player.slug);
    let mut b = Browser::start(&tools, &stack.site.root().join("chrome"));
    b.goto(&stack.url(&private));
    b.wait_url("the login form", |u| path_of(u) == "/login/");
    b.login(&player.name, &player.pin);
    b.wait_url("the player's page after login", |u| path_of(u) == private);
    b.wait_text("the player's page", |t| t.contains(&player.name));

    // Rank out of how many, read as a person reads it.
    let (rank, total) = demo_rank(&player.slug);
    let shown = b.text(&b.find(".player-meta .rank"));
    let words: Vec<&str> = shown.split_whitespace().collect();
    assert_eq!(
        words.first().copied(),
        Some(ui_string(lang, "player_rank").as_str()),
        "{shown}"
    );
    assert!(
        words.contains(&rank.to_string().as_str()),
        "rank {rank}: {shown}"
    );
    assert!(
        words.contains(&total.to_string().as_str()),
        "of {total}: {shown}"
    );
    let strong = b.text(&b.find(".player-meta .rank strong"));
    assert_eq!(strong, rank.to_string());

    // When the data last changed, in the demo's time zone.
    let (_, at) = recorded_change(&stack.site);
    let (line, iso) = expected_line(lang, "Europe/Paris", at);
    let time = b.find(".player-meta time");
    assert_eq!(b.text(&time), line);
    assert_eq!(
        b.exec(
            "return document.querySelector('.player-meta time').getAttribute('datetime')",
            serde_json::json!([])
        ),
        Value::String(iso)
    );

    // Nothing is wider than the phone: the page never scrolls sideways,
    // the e-mail address fits its box (tables scroll inside their own).
    let width = b.exec(
        "return document.documentElement.scrollWidth",
        serde_json::json!([]),
    );
    assert!(width.as_u64().unwrap() <= 390, "page width {width}");
    let overflowing = b.exec(
        "const out = [];
         for (const el of document.querySelectorAll('body *')) {
           if (el.closest('.table-wrap') || el.closest('.visually-hidden') || el.closest('.skip')) continue;
           const r = el.getBoundingClientRect();
           if (r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5))
             out.push(el.tagName + '.' + el.className + ' ' + r.left + '..' + r.right);
         }
         return out;", serde_json::json!([]));
    assert_eq!(overflowing, Value::Array(vec![]), "elements past 390 px");
    let email = b.exec(
        "const dd = [...document.querySelectorAll('.fields dd')].find(d => d.textContent.includes('@'));
         return dd ? [dd.scrollWidth, dd.clientWidth, dd.getClientRects().length, dd.textContent] : null;", serde_json::json!([]));
    let email = email
        .as_array()
        .expect("an e-mail field on the demo player's page");
    assert!(
        email[0].as_u64() <= email[1].as_u64(),
        "the e-mail overflows its box: {email:?}"
    );
    // Not broken mid-word at 390 px: a line after the first starts right
    // after the `@`, or at a `.` before it.
    let breaks = b.exec(
        "const dd = [...document.querySelectorAll('.fields dd')].find(d => d.textContent.includes('@'));
         const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
         const out = []; let top = null, prev = '', at = 0;
         for (let n = walker.nextNode(); n; n = walker.nextNode()) {
           for (let i = 0; i < n.length; i++, at++) {
             const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
             const t = r.getBoundingClientRect().top;
             if (top !== null && t > top + 1) out.push([prev + n.data[i], at]);
             top = t; prev = n.data[i];
           }
         }
         return out;", serde_json::json!([]));
    let at = email[3].as_str().unwrap().find('@').unwrap();
    for line_break in breaks.as_array().unwrap() {
        let pair = line_break[0].as_str().unwrap();
        let index = line_break[1].as_u64().unwrap() as usize;
        assert!(
            pair.starts_with('@') || pair.ends_with('.') && index < at,
            "the e-mail address {email:?} breaks mid-word: {pair:?} ({breaks})"
        );
    }
    b.screenshot(&format!("player-page-{lang}.png"));
    b.assert_no_console_errors(&[]);
}

#[test]
fn player_page_on_a_phone_en() {
    player_page_on_a_phone("en");
}

#[test]
fn player_page_on_a_phone_fr() {
    player_page_on_a_phone("fr");
}

#[test]
fn a_label_for_a_column_no_page_shows_is_a_warning_with_the_nearest_column() {
    let site = roster_site(
        "en",
        "Europe/Paris",
        "[labels]\npoitns = \"Score\"\nteam = \"Squad\"\n",
    );
    let run = site.run(&["check"]);
    run.expect_ok();
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("`[labels]` gives \"poitns\" the label \"Score\"")
            && out.contains("did you mean \"points\"?"),
        "{out}"
    );
    // The label that names a real column is used, and not reported.
    assert!(!out.contains("\"team\" the label"), "{out}");
    site.build_ok();
    assert!(site.page("index.html").contains("Squad"));
}
