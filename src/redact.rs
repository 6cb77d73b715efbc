//! How a URL may appear in a message or a log line (issue 14): never with
//! a `user:password@`, never with an API key or token in its query, and a
//! capability URL (a sheet published to the web: whoever holds it reads
//! every PIN) with its host only. Every module that quotes a URL goes
//! through here; a leaf, so config can use it too.

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

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "key" | "access_token" | "token")
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
