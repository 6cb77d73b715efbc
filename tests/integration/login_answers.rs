//! Issue 27, items 1–2: players are never misled at login.
//!
//! Over real sockets (`gen watch`): during a lock the right PIN gets the
//! lock's answer, never "wrong PIN", and a real name and an invented one
//! get byte-identical answers (status, headers but `Date`, body) in about
//! the same time.
//!
//! In real Chromium on a 390×844 phone, in French and English, with
//! JavaScript off and on, through nginx (`gen nginx`'s file) and through
//! `gen serve`: each answer of the login page (logged out, wrong PIN,
//! locked with its wait, server trouble where gen can be stopped behind
//! nginx) shows its sentence. Screenshots in `target/screenshots/`
//! (`login-locked-nojs-fr-nginx.png`…).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use sheetgen::login_answers::LoginAnswer;
use sheetgen_test_support::browser::{Browser, Tools, path_of, query_param};
use sheetgen_test_support::demo::{Front, Player, Stack, demo_player, ui_string};
use sheetgen_test_support::http::{COOKIE, Response, form, get, post_form, request};
use sheetgen_test_support::process::Gen;
use sheetgen_test_support::site::{CSV_SOURCE, Site, csv_text, site_config};

// ---------------------------------------------------------------- sockets

fn login(addr: &str, ip: &str, name: &str, pin: &str) -> Response {
    post_form(
        addr,
        "/api/login",
        &[("X-Real-IP", ip)],
        &[("name", name), ("pin", pin)],
    )
}

fn norm(r: &Response) -> (String, Vec<u8>) {
    (r.head_without_date(), r.body.clone())
}

/// A real name and an invented one, locked alike from one network: every
/// answer during the lock, the right PIN's included, is the lock's, byte
/// for byte the same for both (forms and JSON), in about the same time
/// (interleaved, medians within 25 ms as `login.rs` bounds a wrong PIN
/// against an unknown name).
#[test]
fn during_a_lock_the_right_pin_and_an_invented_name_get_the_same_lock_answer() {
    let site = Site::new();
    site.write_config(&site_config(
        "FC Lock",
        Some(3600),
        CSV_SOURCE,
        "\n[api]\nlisten = \"127.0.0.1:0\"\nlogin_failures_per_address = 0\n",
    ));
    let rows: Vec<Vec<String>> = vec![vec!["bob".into(), "Bob Stone".into(), "739164".into()]];
    site.write("players.csv", csv_text(&["id", "name", "pin"], &rows));
    let g = Gen::start(&site.config_path(), site.root(), &["watch"]);
    g.wait_first_cycle();
    let addr = g.addr.as_str();

    let wrong = login(addr, "198.51.100.1", "Bob Stone", "000000");
    assert_eq!(wrong.header("Location"), Some("/login/?error=1"));
    for i in 0..4 {
        let ip = format!("198.51.100.{}", 2 + i);
        assert_eq!(norm(&login(addr, &ip, "bob stone", "000001")), norm(&wrong));
    }
    for i in 0..5 {
        let ip = format!("198.51.100.{}", 2 + i);
        let ghost = login(addr, &ip, "Ghost Player", "000001");
        assert_eq!(norm(&ghost), norm(&wrong), "an invented name's failure {i}");
    }

    let real = login(addr, "198.51.100.9", "Bob Stone", "739164");
    let ghost = login(addr, "198.51.100.9", "Ghost Player", "739164");
    assert_eq!(real.status, 303, "{}", real.head);
    assert_eq!(
        real.header("Location"),
        Some("/login/?error=locked&wait=60"),
        "the right PIN during the lock:\n{}",
        real.head
    );
    assert!(real.cookie(COOKIE).is_none(), "{}", real.head);
    assert_eq!(norm(&real), norm(&ghost), "real vs invented name, locked");

    let json = |name: &str, pin: &str| {
        request(
            addr,
            "POST",
            "/api/login",
            &[
                ("Accept", "application/json"),
                ("X-Real-IP", "198.51.100.9"),
            ],
            &form(&[("name", name), ("pin", pin)]),
        )
    };
    let (real_json, ghost_json) = (json("Bob Stone", "739164"), json("Ghost Player", "1"));
    assert_eq!(real_json.status, 429, "{}", real_json.head);
    assert_eq!(real_json.header("Retry-After"), Some("60"));
    assert_eq!(real_json.json()["error"], "name_locked");
    assert_eq!(norm(&real_json), norm(&ghost_json));

    let (mut t_real, mut t_ghost) = (Vec::new(), Vec::new());
    for i in 0..15 {
        let ip = format!("198.51.100.{}", 10 + i);
        let s = Instant::now();
        let r = login(addr, &ip, "Bob Stone", "739164");
        t_real.push(s.elapsed());
        let s = Instant::now();
        let gh = login(addr, &ip, "Ghost Player", "739164");
        t_ghost.push(s.elapsed());
        assert_eq!(norm(&r), norm(&real), "attempt {i} during the lock");
        assert_eq!(norm(&gh), norm(&real), "invented name {i} during the lock");
    }
    t_real.sort();
    t_ghost.sort();
    let (mr, mg) = (t_real[7], t_ghost[7]);
    assert!(
        mr.abs_diff(mg) < Duration::from_millis(25),
        "median locked real name {mr:?} vs invented name {mg:?}"
    );
}

// ---------------------------------------------------------------- pages

/// `&`, `<`, `>`, `"`, `'` and `/` as the theme's autoescape writes them.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The sentence the page of `answer` shows, in `lang`.
fn sentence(lang: &str, answer: LoginAnswer) -> String {
    let with = |key: &str, m: u32| ui_string(lang, key).replace("{n}", &m.to_string());
    match answer {
        LoginAnswer::Wrong => ui_string(lang, "login_error"),
        LoginAnswer::HttpsNeeded => ui_string(lang, "login_https"),
        LoginAnswer::Server => ui_string(lang, "login_server"),
        LoginAnswer::Limited(None) => ui_string(lang, "login_limited"),
        LoginAnswer::Limited(Some(1)) => ui_string(lang, "login_wait_one"),
        LoginAnswer::Limited(Some(m)) => with("login_wait_many", m),
        LoginAnswer::Locked(m) => with("login_locked", m),
        LoginAnswer::LoggedOut => ui_string(lang, "login_out"),
    }
}

/// Every answer's `/login/?…` through `stack`'s front, as a browser
/// without JavaScript gets it: its own paragraph shown (no `hidden`) with
/// its sentence, every other one hidden. The plain page shows none.
fn every_answer_is_served(stack: &Stack, lang: &str) {
    let addr = format!("127.0.0.1:{}", stack.port());
    let messages = ["out", "error", "https", "limited", "locked", "server"];
    let mut answers: Vec<Option<LoginAnswer>> = LoginAnswer::all().into_iter().map(Some).collect();
    answers.push(None);
    for answer in answers {
        let query = answer.map_or("next=%2Fadmin%2F".to_string(), |a| {
            format!("{}&next=%2Fadmin%2F", a.query())
        });
        let r = get(&addr, &format!("/login/?{query}"), &[]);
        assert_eq!(r.status, 200, "{query}: {}", r.head);
        let html = r.text();
        for m in messages {
            let at = html
                .find(&format!("id=\"login-{m}\""))
                .unwrap_or_else(|| panic!("{query}: no #login-{m}"));
            let tag = &html[at..at + html[at..].find('>').unwrap()];
            let shown = answer.is_some_and(|a| a.message() == m);
            assert_eq!(!tag.contains(" hidden"), shown, "{query}: {tag}");
        }
        if let Some(a) = answer {
            let said = escaped(&sentence(lang, a));
            assert!(html.contains(&said), "{query}: {said:?} not in\n{html}");
        }
    }
}

// ---------------------------------------------------------------- browser

/// Submits the login form and waits for the next page to be loaded (the
/// URL alone cannot tell two wrong PINs apart).
fn submit(b: &Browser, name: &str, pin: &str) {
    b.exec("window.sheetgenOld = true", json!([]));
    // Enter in the PIN field (implicit submission), as a phone's "Go" key:
    // a click that submits a form left chromedriver waiting for the next
    // page without JavaScript.
    b.type_into(&b.find(r#"input[name="name"]"#), name);
    b.type_into(&b.find(r#"input[name="pin"]"#), &format!("{pin}\u{E007}"));
    for _ in 0..200 {
        let loaded = b.exec(
            "return !window.sheetgenOld && document.readyState === 'complete'",
            json!([]),
        );
        if loaded == Value::Bool(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no new page after the login at {}", b.url());
}

/// Waits for the page at `/login/` whose query has `key=value`, then checks
/// that the paragraph `#login-<message>` shows `expected`; screenshot.
#[track_caller]
fn shows(b: &Browser, key: &str, value: &str, message: &str, expected: &str, shot: &str) {
    b.wait_url(&format!("/login/?{key}={value}"), |u| {
        path_of(u) == "/login/" && query_param(u, key).as_deref() == Some(value)
    });
    b.wait_text(shot, |t| t.contains(expected));
    let p = b.find(&format!("#login-{message}"));
    assert!(b.displayed(&p), "{shot}: #login-{message} hidden");
    assert_eq!(b.text(&p).trim(), expected, "{shot}");
    b.screenshot(&format!("{shot}.png"));
}

/// Logged in then out, a wrong PIN, four more, then the right PIN during
/// the lock: each answer's sentence, in `b` (`tag` names the screenshots).
fn out_wrong_locked(b: &Browser, stack: &Stack, player: &Player, js: bool, tag: &str) {
    let lang = stack.lang.as_str();
    b.goto(&stack.url("/login/"));
    submit(b, &player.name, &player.pin);
    b.wait_url("the player's page", |u| {
        path_of(u) == format!("/p/{}/", player.slug)
    });
    // From the keyboard: a click that submits a form left chromedriver
    // waiting for the next page without JavaScript.
    b.send_keys(&b.find("form.logout [type=submit]"), "\u{E007}");
    let out = sentence(lang, LoginAnswer::LoggedOut);
    shows(b, "out", "1", "out", &out, &format!("login-out-{tag}"));

    submit(b, &player.name, "000000");
    let wrong = sentence(lang, LoginAnswer::Wrong);
    shows(
        b,
        "error",
        "1",
        "error",
        &wrong,
        &format!("login-wrong-{tag}"),
    );
    // Proof that the page ran its script or not: login.js keeps the name.
    let kept = b.prop(&b.find("input[name=name]"), "value");
    assert_eq!(
        kept == player.name,
        js,
        "{tag}: the name field holds {kept:?}"
    );
    for pin in ["000001", "000002", "000003", "000004"] {
        submit(b, &player.name, pin);
    }
    // Five failures lock this device's allowance for 30 s: "1 min".
    submit(b, &player.name, &player.pin);
    let locked = sentence(lang, LoginAnswer::Locked(1));
    shows(
        b,
        "error",
        "locked",
        "locked",
        &locked,
        &format!("login-locked-{tag}"),
    );
    assert_eq!(query_param(&b.url(), "wait").as_deref(), Some("60"));
}

fn login_answers(lang: &str) {
    let tools = Tools::find();
    let player = demo_player();
    for front in [Front::Nginx, Front::Serve] {
        let mut stack = Stack::start_with(Some(lang), front, &|cfg| {
            // Two browsers fail 6 times each from 127.0.0.1: under the
            // per-address limit, each draws on its own device's allowance.
            let api = cfg.get_mut("api").unwrap().as_table_mut().unwrap();
            api.insert("login_failures_per_address".into(), 0.into());
        });
        every_answer_is_served(&stack, lang);
        let dir = |js: &str| stack.site.root().join(format!("chrome-{js}"));
        let browsers = [
            ("nojs", Browser::start_with(&tools, &dir("nojs"), false)),
            ("js", Browser::start_with(&tools, &dir("js"), true)),
        ];
        for (js, b) in &browsers {
            let tag = format!("{js}-{lang}-{}", front.name());
            out_wrong_locked(b, &stack, &player, *js == "js", &tag);
        }
        if front == Front::Nginx {
            // gen stopped: nginx sends the form back, which says so.
            stack.gen_.stop();
            let server = sentence(lang, LoginAnswer::Server);
            for (js, b) in &browsers {
                b.goto(&stack.url("/login/"));
                submit(b, &player.name, &player.pin);
                let shot = format!("login-server-{js}-{lang}");
                shows(b, "error", "server", "server", &server, &shot);
            }
        }
    }
}

#[test]
fn login_answers_with_and_without_javascript_fr() {
    login_answers("fr");
}

#[test]
fn login_answers_with_and_without_javascript_en() {
    login_answers("en");
}
