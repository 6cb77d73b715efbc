//! `gen serve` only: a static server over `out_dir` that behaves like the
//! nginx config `gen nginx` prints (gzip twins with `Vary`, content types,
//! the `/p/<slug>/` and `/admin/` auth rules, `[site] visibility = "players"`
//! read from the config in force, GET/HEAD only, no dotfiles, nothing
//! outside `out_dir`), so newcomers can try the site without nginx. Not
//! for production: nginx is what serves players.

use std::path::{Component, Path, PathBuf};

use tiny_http::{Method, Request};

use crate::answer::{CSP, header, respond};
use crate::auth::{Auth, may_read};
use crate::config::Visibility;
use crate::login_answers::LoginAnswer;
use crate::model::Slug;
use crate::state::AppState;

pub struct Preview {
    root: PathBuf,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn accepts_gzip(request: &Request) -> bool {
    header(request, "Accept-Encoding").is_some_and(|v| {
        v.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
    })
}

/// What stays readable without a session under `visibility = "players"`,
/// as `gen nginx` prints it: the login page, the error pages and the
/// theme's assets (CSS, JS), never the photos. Everything else, including
/// every `.gz` twin of a page, needs a session.
fn public_without_session(segments: &[&str], dir_url: bool) -> bool {
    match segments {
        ["login"] => dir_url,
        ["login", "index.html"] | ["404.html"] | ["403.html"] => !dir_url,
        ["assets", rest @ ..] => rest.first() != Some(&"photos"),
        _ => false,
    }
}

/// Where the login page sends a visitor back: the normalised path when it
/// is plain (as nginx's `$sheetgen_next` map), else the roster.
fn next_of(segments: &[&str], dir_url: bool) -> String {
    let mut next = format!("/{}", segments.join("/"));
    if dir_url && !segments.is_empty() {
        next.push('/');
    }
    let plain = next
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
    if plain { next } else { "/".to_string() }
}

/// The page of the login answer a `/login/?…` URL asks for, if any.
fn login_answer_page(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or("");
    LoginAnswer::from_query(query).map(LoginAnswer::page)
}

/// A 303 to the login page, coming back to `next` after it.
fn to_login(request: Request, next: &str) {
    respond(
        request,
        303,
        "text/plain; charset=utf-8",
        Vec::new(),
        &[("Location", &format!("/login/?next={next}"))],
    );
}

impl Preview {
    pub fn new(root: PathBuf) -> Preview {
        Preview { root }
    }

    pub fn serve(&self, request: Request, state: &AppState, auth: &Auth) {
        let players_only = state.visibility() == Visibility::Players;
        if !matches!(request.method(), Method::Get | Method::Head) {
            respond(
                request,
                405,
                "text/plain; charset=utf-8",
                b"method not allowed\n".to_vec(),
                &[("Allow", "GET, HEAD")],
            );
            return;
        }
        let raw = request
            .url()
            .split(['?', '#'])
            .next()
            .unwrap_or("/")
            .to_string();
        let Ok(path) = percent_encoding::percent_decode_str(&raw).decode_utf8() else {
            self.error_page(request, 400, players_only);
            return;
        };
        // Like nginx: merge slashes, resolve "..", refuse dotfiles.
        let mut segments: Vec<&str> = Vec::new();
        for seg in path.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                s if s.starts_with('.') || s.contains('\0') || s.contains('\\') => {
                    self.error_page(request, 404, players_only);
                    return;
                }
                s => segments.push(s),
            }
        }
        let dir_url = path.ends_with('/') || segments.is_empty();
        // As nginx's `location ~ ^/p/(?<slug>[a-z0-9-]+)/` and `location
        // ^~ /admin/`: whose page it is ("" for the organiser's page, which
        // only an admin session may read) and where a login comes back.
        let below = segments.len() > 1 || dir_url;
        let private = match segments.as_slice() {
            ["p", slug, ..] if Slug::parse(slug).is_some() && (segments.len() > 2 || dir_url) => {
                Some((*slug, format!("/p/{slug}/")))
            }
            ["admin", ..] if below => Some(("", "/admin/".to_string())),
            _ => None,
        };
        if let Some((slug, home)) = private {
            let allowed = state.snapshot().and_then(|s| {
                auth.session_player(&request, &s)
                    .map(|p| may_read(&s, p, slug))
            });
            match allowed {
                Some(true) => {}
                Some(false) => return self.error_page(request, 403, players_only),
                None => {
                    let location = format!(
                        "/login/?next={}",
                        form_urlencoded::byte_serialize(home.as_bytes()).collect::<String>()
                    );
                    // As nginx's: a stale "my page" hint goes with the
                    // session it outlived (issue 17).
                    let clear = auth.clear_hint();
                    respond(
                        request,
                        303,
                        "text/plain; charset=utf-8",
                        Vec::new(),
                        &[("Location", &location), ("Set-Cookie", &clear)],
                    );
                    return;
                }
            }
        } else if players_only && !public_without_session(&segments, dir_url) {
            // As `gen nginx` under visibility = "players": any valid
            // session reads the roster and photos; nothing else does,
            // whether the file exists or not.
            let session = state
                .snapshot()
                .and_then(|s| auth.session_player(&request, &s));
            if session.is_none() {
                to_login(request, &next_of(&segments, dir_url));
                return;
            }
        }
        // As nginx's `$sheetgen_login_page`: each answer of the login page
        // has its own page, shown without JavaScript (issue 27).
        if segments == ["login"]
            && dir_url
            && let Some(page) = login_answer_page(request.url())
            && self.root.join(&page).is_file()
        {
            return self.file(request, Path::new(&page), 200, players_only);
        }
        let mut rel: PathBuf = segments.iter().collect();
        if dir_url {
            rel.push("index.html");
        } else if self.root.join(&rel).is_dir() {
            let location = format!("/{}/", segments.join("/"));
            respond(
                request,
                301,
                "text/plain; charset=utf-8",
                Vec::new(),
                &[("Location", &location)],
            );
            return;
        }
        self.file(request, &rel, 200, players_only);
    }

    fn error_page(&self, request: Request, status: u16, players_only: bool) {
        let page = match status {
            403 => "403.html",
            _ => "404.html",
        };
        self.file_or_text(request, Path::new(page), status, players_only);
    }

    fn file_or_text(&self, request: Request, rel: &Path, status: u16, players_only: bool) {
        if self.root.join(rel).is_file() {
            self.file(request, rel, status, players_only);
        } else {
            respond(
                request,
                status,
                "text/plain; charset=utf-8",
                format!("{status}\n").into_bytes(),
                &[],
            );
        }
    }

    fn file(&self, request: Request, rel: &Path, status: u16, players_only: bool) {
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return self.error_page(request, 404, players_only);
        }
        let full = self.root.join(rel);
        // Symlinks must not lead out of the served tree.
        let inside = match (full.canonicalize(), self.root.canonicalize()) {
            (Ok(f), Ok(r)) => f.starts_with(r) && f.is_file(),
            _ => false,
        };
        if !inside {
            if status == 404 {
                respond(
                    request,
                    404,
                    "text/plain; charset=utf-8",
                    b"404\n".to_vec(),
                    &[],
                );
            } else {
                self.error_page(request, 404, players_only);
            }
            return;
        }
        let ctype = content_type(&full);
        let compressible = crate::publish::is_compressible(&rel.to_string_lossy());
        let gz = PathBuf::from(format!("{}.gz", full.display()));
        let use_gz = compressible && accepts_gzip(&request) && gz.is_file();
        let Ok(body) = std::fs::read(if use_gz { &gz } else { &full }) else {
            respond(
                request,
                500,
                "text/plain; charset=utf-8",
                b"500\n".to_vec(),
                &[],
            );
            return;
        };
        // As `gen nginx` sends them: no shared cache stores a player's page,
        // nor, under visibility = "players", anything that names or shows
        // one; a CDN may keep the shared pages 10 s, but no error page.
        let cache = match (rel.starts_with("assets"), players_only) {
            (true, true) if rel.starts_with("assets/photos") => {
                "private, max-age=31536000, immutable"
            }
            (true, _) => "public, max-age=31536000, immutable",
            (false, true) => "private, no-cache",
            (false, false) if rel.starts_with("p") || rel.starts_with("admin") => {
                "private, no-cache"
            }
            (false, false) if rel == Path::new("403.html") || rel == Path::new("404.html") => {
                "no-cache"
            }
            (false, false) => "public, max-age=0, s-maxage=10",
        };
        let mut extra: Vec<(&str, &str)> = vec![
            ("Content-Security-Policy", CSP),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
        ];
        if compressible {
            extra.push(("Vary", "Accept-Encoding"));
        }
        if use_gz {
            extra.push(("Content-Encoding", "gzip"));
        }
        crate::answer::respond_with_cache(request, status, ctype, body, cache, &extra);
    }
}
