//! Issue 17 without a browser: the "my page" hint cookie the login sets
//! beside the session (readable by the pages' script, never HttpOnly;
//! `__Host-` and Secure unless `insecure_http`), cleared by a logout and by
//! every redirect to the login page for want of a session (nginx's and
//! `gen serve`'s); the themed login answers (locked with the real wait,
//! server trouble through nginx); `[index] filters` and `[site] contact` in
//! the config and on the pages. The browser side is `browser_players.rs`.

use sheetgen_test_support::demo::{Front, Stack, demo_player};
use sheetgen_test_support::http::{COOKIE, Response, form, get, post_form, request};
use sheetgen_test_support::nginx::{Nginx, NginxSetup};
use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{CSV_SOURCE, Site, csv_config, csv_text, run_gen, site_config};

const HINT: &str = "__Host-gen_player";
const PLAIN_HINT: &str = "gen_player";

/// The attributes of a `Set-Cookie` header, lower-cased, without the
/// name=value pair.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[track_caller]
fn assert_cleared(r: &Response, name: &str, secure: bool) {
    let set = r
        .set_cookie(name)
        .unwrap_or_else(|| panic!("{name} is not cleared:\n{}", r.head));
    assert_eq!(r.cookie(name).as_deref(), Some(""), "{set}");
    let attrs = attributes(set);
    assert!(attrs.contains(&"max-age=0".to_string()), "{set}");
    assert!(attrs.contains(&"path=/".to_string()), "{set}");
    assert_eq!(attrs.contains(&"secure".to_string()), secure, "{set}");
}

/// Through real nginx: login sets the hint (readable, Secure, `__Host-`,
/// the session's path, SameSite and lifetime); logout clears it; a private
/// page without a valid session sends to the login form and clears it.
#[test]
fn the_hint_is_set_with_the_session_and_cleared_with_it_through_nginx() {
    let stack = Stack::start_with(Some("en"), Front::Nginx, &|_| {});
    let addr = &stack.nginx.as_ref().unwrap().addr;
    let player = demo_player();
    let r = post_form(
        addr,
        "/api/login",
        &[],
        &[("name", &player.name), ("pin", &player.pin)],
    );
    assert_eq!(r.status, 303, "{}", r.head);
    let own = format!("/p/{}/", player.slug);
    assert_eq!(r.header("Location"), Some(own.as_str()));
    let session = r.set_cookie(COOKIE).expect("no session cookie");
    let hint = r.set_cookie(HINT).expect("no hint cookie");
    assert_eq!(r.cookie(HINT).as_deref(), Some(player.slug.as_str()));
    let (s, h) = (attributes(session), attributes(hint));
    assert!(s.contains(&"httponly".to_string()), "{session}");
    assert!(
        !h.contains(&"httponly".to_string()),
        "the hint must be readable: {hint}"
    );
    for a in ["secure", "path=/", "samesite=lax"] {
        assert!(h.contains(&a.to_string()), "{a}: {hint}");
    }
    let max_age = |attrs: &[String]| {
        attrs
            .iter()
            .find(|a| a.starts_with("max-age="))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        max_age(&h),
        max_age(&s),
        "the hint lives as long as the session"
    );
    assert!(!h.iter().any(|a| a.starts_with("domain")), "{hint}");
    let token = r.cookie(COOKIE).unwrap();
    let cookies = format!("{COOKIE}={token}; {HINT}={}", player.slug);

    // The page reads fine with both.
    let page = get(addr, &own, &[("Cookie", &cookies)]);
    assert_eq!(page.status, 200, "{}", page.head);
    assert!(page.set_cookie(HINT).is_none(), "{}", page.head);

    // A stale hint alone: the login form, the hint cleared, the usual
    // headers kept on that redirect.
    let r = get(
        addr,
        &own,
        &[("Cookie", &format!("{HINT}={}", player.slug))],
    );
    assert_eq!(r.status, 303, "{}", r.head);
    assert_eq!(
        r.header("Location"),
        Some(format!("/login/?next={own}").as_str())
    );
    assert_cleared(&r, HINT, true);
    assert!(r.set_cookie(COOKIE).is_none(), "{}", r.head);
    assert_eq!(r.header("Cache-Control"), Some("private, no-cache"));
    assert!(r.header("Content-Security-Policy").is_some(), "{}", r.head);
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));

    // Logout clears both.
    let r = request(addr, "POST", "/api/logout", &[("Cookie", &cookies)], b"");
    assert_eq!(r.status, 303, "{}", r.head);
    assert_cleared(&r, HINT, true);
    assert_cleared(&r, COOKIE, true);
    // The ended session (a Cookie header nginx's auth cache has not seen):
    // back to the form, hint cleared again.
    let ended = format!("{HINT}={}; {COOKIE}={token}", player.slug);
    let r = get(addr, &own, &[("Cookie", &ended)]);
    assert_eq!(r.status, 303, "{}", r.head);
    assert_cleared(&r, HINT, true);
}

/// `gen serve` does what nginx does, and with `insecure_http` the hint is
/// `gen_player` without Secure, like the session.
#[test]
fn gen_serve_clears_the_hint_too_and_insecure_http_drops_secure() {
    let stack = Stack::start_with(Some("fr"), Front::Serve, &|cfg| {
        let api = cfg.get_mut("api").unwrap().as_table_mut().unwrap();
        api.insert("insecure_http".into(), true.into());
    });
    let addr = &stack.gen_.addr;
    let player = demo_player();
    let r = post_form(
        addr,
        "/api/login",
        &[],
        &[("name", &player.name), ("pin", &player.pin)],
    );
    assert_eq!(r.status, 303, "{}", r.head);
    let hint = r.set_cookie(PLAIN_HINT).expect("no gen_player cookie");
    let h = attributes(hint);
    assert!(!h.contains(&"secure".to_string()), "{hint}");
    assert!(!h.contains(&"httponly".to_string()), "{hint}");
    assert!(r.set_cookie(HINT).is_none(), "{}", r.head);
    assert_eq!(r.cookie(PLAIN_HINT).as_deref(), Some(player.slug.as_str()));

    let own = format!("/p/{}/", player.slug);
    let r = get(addr, &own, &[("Cookie", &format!("{PLAIN_HINT}=x"))]);
    assert_eq!(r.status, 303, "{}", r.head);
    assert!(
        r.header("Location")
            .is_some_and(|l| l.starts_with("/login/?next=")),
        "{}",
        r.head
    );
    assert_cleared(&r, PLAIN_HINT, false);
}

/// An admin row's hint says so (the header then offers the organiser's
/// page); a player's does not.
#[test]
fn an_admin_rows_hint_says_admin() {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Hint",
        Some(3600),
        CSV_SOURCE,
        "admin = \"admin\"\n[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    site.write(
        "players.csv",
        csv_text(
            &["id", "name", "pin", "admin"],
            &[
                vec!["coach", "Coach Carter", "804417", "yes"],
                vec!["zoe", "Zoé Martin", "615482", ""],
            ],
        ),
    );
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_first_cycle();
    for (name, pin, hint) in [
        ("Coach Carter", "804417", "coach:admin"),
        ("Zoé Martin", "615482", "zoe"),
    ] {
        let r = post_form(&g.addr, "/api/login", &[], &[("name", name), ("pin", pin)]);
        assert_eq!(r.status, 303, "{}", r.head);
        assert_eq!(r.cookie(HINT).as_deref(), Some(hint), "{}", r.head);
    }
}

/// The lockout, as a browser sees it through nginx: back to the form with
/// the real wait in seconds (login.js turns it into minutes); JSON clients
/// keep the 429. And gen stopped: nginx sends the form back with
/// `error=server` instead of its own 502 page.
#[test]
fn lockout_and_server_trouble_are_answers_of_the_form_through_nginx() {
    let mut stack = Stack::start_with(Some("en"), Front::Nginx, &|cfg| {
        let api = cfg.get_mut("api").unwrap().as_table_mut().unwrap();
        api.insert("login_failures_per_address".into(), 2.into());
    });
    let addr = stack.nginx.as_ref().unwrap().addr.clone();
    let player = demo_player();
    let post = |name: &str, pin: &str| {
        post_form(&addr, "/api/login", &[], &[("name", name), ("pin", pin)])
    };
    for i in 0..2 {
        let r = post(&format!("Nobody {i}"), "000000");
        assert_eq!(r.header("Location"), Some("/login/?error=1"), "{}", r.head);
    }
    let r = post(&player.name, &player.pin);
    assert_eq!(r.status, 303, "{}", r.head);
    let location = r.header("Location").unwrap_or_default();
    let wait: u64 = location
        .strip_prefix("/login/?error=limited&wait=")
        .unwrap_or_else(|| panic!("{}", r.head))
        .parse()
        .unwrap();
    // limits.rs: the address's failures count for 15 minutes.
    assert!((60..=900).contains(&wait), "{wait}");
    assert!(r.set_cookie(COOKIE).is_none() && r.set_cookie(HINT).is_none());
    let json = request(
        &addr,
        "POST",
        "/api/login",
        &[("Accept", "application/json")],
        &form(&[("name", &player.name), ("pin", &player.pin)]),
    );
    assert_eq!(json.status, 429, "{}", json.head);
    assert_eq!(json.header("Retry-After"), Some(wait.to_string().as_str()));

    stack.gen_.stop();
    let r = post(&player.name, &player.pin);
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.text());
    assert_eq!(r.header("Location"), Some("/login/?error=server"));
}

// ---------------------------------------------------------------- config

fn filter_site(index: &str) -> Site {
    let site = Site::new();
    site.write(
        "players.csv",
        "id,name,pin,team,email,points\na1,Alice,483920,Lions,a@x.example,3\nb2,Bob,572913,Tigers,b@x.example,5\n",
    );
    site.write_config(&csv_config(
        "",
        &format!("private = [\"email\"]\n[index]\n{index}\n"),
    ));
    site
}

#[test]
fn index_filters_name_columns_of_the_sheet_and_never_a_private_one() {
    let site = filter_site("filters = [\"teem\"]");
    for cmd in ["build", "check"] {
        let run = site.run(&[cmd]);
        run.expect_code(2);
        assert!(
            run.stderr
                .contains("no column \"teem\" (named by `index.filters` in the config)")
                && run.stderr.contains("Did you mean \"team\"?"),
            "{cmd}:\n{}",
            run.stderr
        );
    }
    let site = filter_site("filters = [\"email\"]");
    let run = site.run(&["build"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("\"email\", a private column"),
        "{}",
        run.stderr
    );
    let site = filter_site("filters = \"team\"");
    let run = site.run(&["build"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("`index.filters` must be a list of column names"),
        "{}",
        run.stderr
    );
}

/// A filter column the roster shows is marked on its header; one it does
/// not show rides on each row (`data-f`); the sort column comes right after
/// the name; `[site] contact` shows, escaped, on the login page.
#[test]
fn filters_and_contact_reach_the_pages() {
    let site = filter_site(
        "columns = [\"team\", \"points\"]\nsort_by = \"points\"\nfilters = [\"team\", \"id\"]",
    );
    let config = std::fs::read_to_string(site.config_path())
        .unwrap()
        .replace(
            "[site]\n",
            "[site]\ncontact = \"coach@club.example <b>06 12</b>\"\n",
        );
    site.write_config(&config);
    site.run(&["build"]).expect_code(0);
    let index = site.html("index.html");
    assert!(
        index.contains("<th scope=\"col\">Player<th scope=\"col\" aria-sort=\"ascending\">points"),
        "the sort column first after the name:\n{index}"
    );
    assert!(
        index.contains("<th scope=\"col\" data-filter>team"),
        "{index}"
    );
    assert!(index.contains(" data-f=\"a1\">"), "{index}");
    // Without JavaScript: "Log in", every name a link, no search box.
    assert!(
        index.contains("id=\"roster-search\" role=\"search\" hidden>"),
        "{index}"
    );
    assert!(
        index.contains(
            "<nav aria-label=\"Site\"><a class=\"nav-login\" href=\"/login/\">Log in</a></nav>"
        ),
        "{index}"
    );
    assert_eq!(index.matches("<td><a href=").count(), 2, "{index}");
    let login = site.html("login/index.html");
    assert!(
        login.contains("<span class=\"contact\">coach@club.example &lt;b&gt;06 12&lt;")
            && !login.contains("<b>06"),
        "{login}"
    );
    assert!(
        !index.contains("this page of the roster"),
        "one page: {index}"
    );
    // Several pages: the box says it searches this page only.
    let paged = filter_site("per_page = 1");
    paged.run(&["build"]).expect_code(0);
    let page2 = paged.html("page/2/index.html");
    assert!(
        page2.contains("<p class=\"muted\">The search covers this page of the roster.</p>"),
        "{page2}"
    );
    // Without a contact, the page says to ask the organiser.
    let plain = filter_site("");
    plain.run(&["build"]).expect_code(0);
    let login = plain.html("login/index.html");
    assert!(!login.contains("class=\"contact\""), "{login}");
    assert!(login.contains("Ask the club"), "{login}");
}

/// gen up but no roster read yet (a first start on a broken sheet): the
/// form says the service is unavailable, not "wrong PIN".
#[test]
fn no_roster_yet_is_server_trouble_not_a_wrong_pin() {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Hint",
        Some(3600),
        CSV_SOURCE,
        "[api]\nlisten = \"127.0.0.1:0\"\n",
    ));
    // No PIN column: every cycle fails, nothing is ever published.
    site.write("players.csv", "id,name\nzoe,Zoé Martin\n");
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_log_count("cycle failed", 1, std::time::Duration::from_secs(10));
    let r = post_form(
        &g.addr,
        "/api/login",
        &[],
        &[
            ("name", "Zoé Martin"),
            ("pin", "615482"),
            ("next", "/p/zoe/"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.head);
    assert_eq!(
        r.header("Location"),
        Some("/login/?error=server&next=%2Fp%2Fzoe%2F")
    );
    assert!(r.set_cookie(COOKIE).is_none() && r.set_cookie(HINT).is_none());
}

/// nginx's own limit on `/api/login` (per address, per minute) sends the
/// browser back to the form too, which says to wait a minute, instead of
/// nginx's bare 429 page.
#[test]
fn nginx_own_login_limit_is_an_answer_of_the_form() {
    let stack = Stack::start_with(Some("en"), Front::Nginx, &|_| {});
    let nginx_toml = stack.site.root().join("nginx-site.toml");
    let root = stack.site.root().to_path_buf();
    let strict = move |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--login-rate", "1", "--login-burst", "0"]);
        let run = run_gen(&nginx_toml, &root, &args, &[]);
        run.expect_ok();
        run.stdout
    };
    let nginx = Nginx::start(
        &strict,
        NginxSetup {
            workers: 1,
            access_log: true,
        },
    );
    let player = demo_player();
    let post = || {
        post_form(
            &nginx.addr,
            "/api/login",
            &[],
            &[("name", &player.name), ("pin", "000000")],
        )
    };
    let first = post();
    assert_eq!(
        first.header("Location"),
        Some("/login/?error=1"),
        "{}",
        first.head
    );
    let second = post();
    assert_eq!(second.status, 303, "{}\n{}", second.head, second.text());
    assert_eq!(second.header("Location"), Some("/login/?error=limited"));
}
