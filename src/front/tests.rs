//! Parsing and rewriting heads, refusals and auth answers as bytes, and
//! which idle client is closed first.

use super::request::{AuthAsk, ParsedHead, parse_head};
use super::*;

fn parsed(raw: &str) -> Result<Option<ParsedHead>, Refusal> {
    parse_head(
        raw.as_bytes(),
        Some("127.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))),
    )
}

#[test]
fn the_forwarded_head_is_http_1_1_with_identity_bodies() {
    let Ok(Some(p)) = parsed(
        "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\
         Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    ) else {
        panic!("not parsed");
    };
    let head = String::from_utf8_lossy(&p.head).to_string();
    assert_eq!(
        head,
        "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\
         X-Real-IP: 127.0.0.1\r\nTE: identity\r\n\r\n"
    );
    assert_eq!(p.body_len, 3);
    assert!(p.expects_continue);
    assert!(p.keep_alive);
}

#[test]
fn nginx_real_ip_is_kept() {
    let Ok(Some(p)) = parsed("GET /api/auth?x HTTP/1.0\r\nX-Real-IP: 203.0.113.9\r\n\r\n") else {
        panic!("not parsed");
    };
    let head = String::from_utf8_lossy(&p.head).to_string();
    assert!(head.starts_with("GET /api/auth?x HTTP/1.1\r\n"), "{head}");
    assert_eq!(head.matches("X-Real-IP").count(), 1, "{head}");
    assert!(!p.keep_alive, "HTTP/1.0 closes");
}

#[test]
fn partial_heads_wait_and_refusals_are_named() {
    assert!(matches!(parsed("GET / HTTP/1.1\r\nHost"), Ok(None)));
    let status = |raw| parsed(raw).err().map(|r| r.status);
    assert_eq!(
        status("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n"),
        Some(413)
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        Some(413)
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        Some(400)
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        Some(400)
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
        Some(400)
    );
    assert_eq!(status("GARBAGE\r\n\r\n"), Some(400));
}

#[test]
fn auth_refusals_are_401_without_body() {
    let Err(refusal) = parsed("GET /api/auth HTTP/1.1\r\nContent-Length: 5000\r\n\r\n") else {
        panic!("not refused");
    };
    let bytes = refusal_bytes(&refusal);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 401 "), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[test]
fn auth_requests_carry_their_cookies_and_slug_and_nothing_else_does() {
    let Ok(Some(p)) = parsed(
        "GET /api/auth HTTP/1.1\r\nCookie: a=1\r\nX-Player-Slug: zoe\r\n\
         cookie: gen_session=t\r\n\r\n",
    ) else {
        panic!("not parsed");
    };
    assert_eq!(
        p.auth,
        Some(AuthAsk {
            cookies: vec!["a=1".to_string(), "gen_session=t".to_string()],
            slug: Some("zoe".to_string()),
        })
    );
    // No slug header: admins only, as before.
    let Ok(Some(bare)) = parsed("GET /api/auth HTTP/1.1\r\nCookie: a=1\r\n\r\n") else {
        panic!("not parsed");
    };
    assert_eq!(bare.auth.and_then(|a| a.slug), Some(String::new()));
    // The players' question ignores a slug, whoever set it.
    let Ok(Some(players)) =
        parsed("GET /api/auth/players HTTP/1.1\r\nCookie: a=1\r\nX-Player-Slug: zoe\r\n\r\n")
    else {
        panic!("not parsed");
    };
    assert_eq!(
        players.auth,
        Some(AuthAsk {
            cookies: vec!["a=1".to_string()],
            slug: None,
        })
    );
    let Ok(Some(login)) = parsed("POST /api/login HTTP/1.1\r\nCookie: a=1\r\n\r\n") else {
        panic!("not parsed");
    };
    assert_eq!(login.auth, None);
    let Ok(Some(other)) = parsed("GET /api/authx HTTP/1.1\r\n\r\n") else {
        panic!("not parsed");
    };
    assert_eq!(other.auth, None);
}

#[test]
fn the_idle_client_that_waited_longest_is_closed_first() {
    let idle = IdleClients::default();
    let (first, mut first_closing) = idle.park();
    let (second, mut second_closing) = idle.park();
    let (_, mut third_closing) = idle.park();
    // The first begins a request: no longer idle, never closed.
    idle.unpark(first);
    idle.close_oldest();
    assert!(first_closing.try_recv().is_err());
    assert_eq!(second_closing.try_recv(), Ok(()));
    assert!(third_closing.try_recv().is_err());
    // A client that stopped waiting without unparking yet (its request
    // just began) is passed over.
    idle.unpark(second);
    drop(third_closing);
    let (_, mut fourth_closing) = idle.park();
    idle.close_oldest();
    assert_eq!(fourth_closing.try_recv(), Ok(()));
    idle.close_oldest();
    assert!(idle.list().waiting.is_empty());
}

#[test]
fn auth_answers_are_bodiless_and_say_how_long_nginx_may_use_them() {
    let life = AuthLife {
        max_age: 25,
        stale_while_revalidate: 5,
        stale_if_error: 95,
    };
    for (status, line) in [
        (204, "HTTP/1.1 204 No Content\r\n"),
        (403, "HTTP/1.1 403 Forbidden\r\n"),
        (401, "HTTP/1.1 401 Unauthorized\r\n"),
        (500, "HTTP/1.1 401 Unauthorized\r\n"),
    ] {
        let bytes = auth_answer(status, life);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with(line), "{text}");
        assert!(
            text.contains(
                "\r\nCache-Control: max-age=25, stale-while-revalidate=5, stale-if-error=95\r\n"
            ),
            "{text}"
        );
        assert!(!text.contains("X-Accel-Expires"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
        assert_eq!(text.contains("Content-Length: 0"), status != 204, "{text}");
    }
}
