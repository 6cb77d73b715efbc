//! How a URL may appear in a message or a log line (issue 14): never with
//! a `user:password@`, never with an API key or token in its query, and a
//! capability URL (a sheet published to the web: whoever holds it reads
//! every PIN) with its host only. Text that came from outside (Google's
//! error bodies, a photo host's answer) goes through [`upstream`], and a
//! photo's address through [`photo_url`], which hides its whole query
//! (issue 23: signed URLs carry `sig=`, `X-Amz-Signature=`…). Every module
//! that quotes a URL goes through here; a leaf, so config can use it too.

/// `url` as it may reach a message or a log line: without any
/// `user:password@` (a photo cell may carry one), and with the value of every
/// `key=`, `access_token=` and `token=` query parameter replaced by `***`.
/// Text that is not a URL (a photo cell with a typo) goes through the same
/// rules, so it can be quoted back to the organiser.
pub(crate) fn url(url: &str) -> String {
    let url = without_userinfo(url);
    let Some((head, query)) = url.split_once('?') else {
        return url;
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let query = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    match fragment {
        Some(f) => format!("{head}?{query}#{f}"),
        None => format!("{head}?{query}"),
    }
}

/// A capability URL (a sheet published to the web: whoever holds it reads
/// every PIN) as it may be shown: scheme and host only, the path and query
/// replaced by `…`. The tab names which URL it was.
pub(crate) fn capability_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(u) if u.host_str().is_some() => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}/…",
                u.scheme(),
                u.host_str().unwrap_or_default()
            )
        }
        _ => "(a published-CSV URL, not shown: it gives access to the sheet)".to_string(),
    }
}

/// Free text that may quote URLs (a TOML error shows the offending line):
/// every `http://` / `https://` URL in it shown as [`capability_url`]
/// does, since the text does not say which URL it was.
pub(crate) fn urls_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url_start(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        out.push_str(&capability_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where the next `http://` or `https://` (any case) starts in `text`.
fn find_url_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("http://"), lower.find("https://")]
        .into_iter()
        .flatten()
        .min()
}

/// `scheme://user:password@host/…` → `scheme://host/…`. The authority ends
/// at the first `/`, `?`, `#` or `\\` (browsers and the url crate read a
/// backslash as a slash); the userinfo at its last `@`.
fn without_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_len = url[start..]
        .find(['/', '?', '#', '\\'])
        .unwrap_or(url.len() - start);
    match url[start..start + authority_len].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    }
}

/// A photo's address as it may be shown to the organiser or logged: no
/// `user:password@`, and the value of every query parameter hidden, whatever
/// its name (a signed link's `sig=`, `X-Amz-Signature=`, `Expires=`… each
/// grant access; a list of known names would miss the next host's), and no
/// fragment. The names stay, so the organiser can tell two links apart.
pub(crate) fn photo_url(url: &str) -> String {
    let url = without_userinfo(url);
    let url = url.split_once('#').map_or(url.as_str(), |(u, _)| u);
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}=***"),
            None => "***".to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{head}?{query}")
}

/// Text that came from outside (an error body of Google or a photo host, an
/// OAuth error description) as it may reach a message or a log line: every
/// URL in it with its query values hidden, as [`photo_url`] does (an
/// upstream may echo the request's URL with its `key=`); every
/// `key=`/`token=`/`sig=`… pair outside a URL with its value hidden; and
/// anything shaped like a Google API key (`AIza…`) or OAuth access token
/// (`ya29.…`) replaced by `***`.
pub(crate) fn upstream(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url_start(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(ends_a_url).unwrap_or(tail.len());
        out.push_str(&photo_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    hide_secret_pairs(&hide_token_shapes(&out))
}

/// Where a URL quoted inside free text ends.
fn ends_a_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | '\\')
}

/// `name=value` with a secret-looking `name` (see [`is_secret_param`]),
/// anywhere in the text: the value, up to the next delimiter, becomes `***`.
fn hide_secret_pairs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let before = &rest[..eq];
        let name_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &before[name_start..];
        out.push_str(before);
        out.push('=');
        let after = &rest[eq + 1..];
        if is_secret_param(name) {
            let end = after
                .find(|c: char| ends_a_url(c) || matches!(c, '&' | ',' | ';'))
                .unwrap_or(after.len());
            if end > 0 && &after[..end] != "***" {
                out.push_str("***");
            } else {
                out.push_str(&after[..end]);
            }
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Google API keys (`AIza` + 35 characters) and OAuth access tokens
/// (`ya29.` + characters) wherever they stand → `***`.
fn hide_token_shapes(text: &str) -> String {
    let token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["AIza", "ya29."].iter().filter_map(|p| rest.find(p)).min();
        let Some(start) = next else { break };
        let starts_word = rest[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !token_char(c));
        let len = rest[start..]
            .find(|c: char| !token_char(c))
            .unwrap_or(rest.len() - start);
        out.push_str(&rest[..start]);
        if starts_word && len >= 20 {
            out.push_str("***");
        } else {
            out.push_str(&rest[start..start + len]);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// A query parameter whose value grants access: keys, tokens, signatures,
/// passwords, as Google, AWS, Azure and common hosts name them.
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "key"
            | "api_key"
            | "apikey"
            | "access_token"
            | "token"
            | "sig"
            | "signature"
            | "x-amz-signature"
            | "x-amz-credential"
            | "x-amz-security-token"
            | "x-goog-signature"
            | "x-goog-credential"
            | "password"
            | "pass"
            | "secret"
            | "client_secret"
            | "code"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_keys_and_keeps_the_rest() {
        assert_eq!(
            url("https://x/v4/s/1/values:batchGet?ranges=A&key=AIzaSECRET&majorDimension=ROWS"),
            "https://x/v4/s/1/values:batchGet?ranges=A&key=***&majorDimension=ROWS"
        );
        assert_eq!(url("https://x/a?KEY=s#f"), "https://x/a?KEY=***#f");
        assert_eq!(url("https://x/pub?output=csv"), "https://x/pub?output=csv");
        assert_eq!(url("https://x/a"), "https://x/a");
        assert_eq!(url("https://x/a?monkey=1"), "https://x/a?monkey=1");
    }

    #[test]
    fn redact_drops_userinfo_everywhere() {
        assert_eq!(
            url("https://bob:secretpass@photos.example/a.jpg?token=t1"),
            "https://photos.example/a.jpg?token=***"
        );
        assert_eq!(url("http://u@h:8080"), "http://h:8080");
        // The last `@` of the authority ends the userinfo; a later one is path.
        assert_eq!(url("http://a@b:p@c@h/x@y"), "http://h/x@y");
        assert_eq!(url("http://u:p@h\\x"), "http://h\\x");
        assert_eq!(url("u:secretpass@h/p.jpg"), "h/p.jpg");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn photo_urls_hide_every_query_value() {
        assert_eq!(
            photo_url(
                "https://u:pw@cdn.example/a.jpg?sv=2024&sig=SECRET%2B&X-Amz-Signature=S2#frag"
            ),
            "https://cdn.example/a.jpg?sv=***&sig=***&X-Amz-Signature=***"
        );
        assert_eq!(
            photo_url("https://cdn.example/a.jpg"),
            "https://cdn.example/a.jpg"
        );
        assert_eq!(
            photo_url("https://h/uc?id=1AbC&x"),
            "https://h/uc?id=***&***"
        );
    }

    #[test]
    fn upstream_text_hides_echoed_keys_and_signatures() {
        let body = "The requested URL /v4/spreadsheets/1/values:batchGet?ranges=A&key=AIzaSyTESTKEY0123456789abcdefghijklmn was not found (see https://h/x?sig=SIG1&id=2).";
        let shown = upstream(body);
        assert!(!shown.contains("AIzaSy"), "{shown}");
        assert!(!shown.contains("SIG1"), "{shown}");
        assert!(shown.contains("key=***"), "{shown}");
        assert!(shown.contains("https://h/x?sig=***&id=***)"), "{shown}");
        assert_eq!(
            upstream("API key not valid. Please pass a valid API key."),
            "API key not valid. Please pass a valid API key."
        );
        assert_eq!(
            upstream("token=abc; x=1, Signature=zz"),
            "token=***; x=1, Signature=***"
        );
        assert_eq!(
            upstream("bearer ya29.a0AfH6SMBxxxxxxxxxxxxxxxxx"),
            "bearer ***"
        );
        assert_eq!(upstream("monkey=1 AIzaShort"), "monkey=1 AIzaShort");
    }

    #[test]
    fn capability_urls_keep_only_scheme_and_host() {
        assert_eq!(
            capability_url(
                "https://docs.google.com/spreadsheets/d/e/2PACX-SECRET/pub?gid=0&single=true&output=csv"
            ),
            "https://docs.google.com/…"
        );
        assert_eq!(
            capability_url("http://u:pw@127.0.0.1:8123/pub/SECRET.csv"),
            "http://127.0.0.1:8123/…"
        );
        assert!(!capability_url("https://[garbage/SECRET").contains("SECRET"));
    }

    #[test]
    fn urls_in_free_text_are_redacted() {
        let text =
            "line 3: url = \"https://docs.google.com/d/e/SECRET/pub?output=csv\nexpected `\"`";
        let shown = urls_in_text(text);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("line 3: url = \"https://docs.google.com/…"),
            "{shown}"
        );
        assert_eq!(urls_in_text("no address here"), "no address here");
        assert_eq!(
            urls_in_text("a HTTP://h/S1 and https://u:p@g/S2."),
            "a http://h/… and https://g/…"
        );
    }
}
