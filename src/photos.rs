//! Player photos (issue 8), the only module that fetches them: a sheet cell
//! (an image URL or a Google Drive link) → a cached, resized, metadata-free
//! JPEG pair (page photo and thumbnail) in `state_dir/photos/`.
//!
//! Downloads run as tasks of their own, at most [`CONCURRENCY`] at once, each
//! bounded by [`IMAGE_TIMEOUT`] and [`MAX_BYTES`]; a cycle waits for them at
//! most its photo budget, then publishes with what the cache holds (the
//! previous image, or nothing: render then draws an initials avatar), and a
//! later cycle picks up what finished meanwhile. A URL is asked for again
//! only after `[players] photo_recheck_hours`, conditionally (ETag /
//! Last-Modified → 304).
//!
//! A sheet cell must not make the server reach into its own network: only
//! http(s), and every host (redirect targets included) is resolved and
//! refused when ANY of its addresses is loopback, private, link-local, CGNAT,
//! unique-local, multicast, IPv4-mapped or otherwise special, unless `[players]
//! photo_allow` names it. The client's resolver re-checks at connect time, so
//! the connection goes to a checked address (no DNS rebinding in between).
//! This module never writes under `out_dir`: [`load`] hands the bytes to the
//! cycle as artifacts for publish.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::{Config, Secret};
use crate::error::PublishError;
use crate::redact;
use crate::render::{Artifact, ArtifactKind, Image, PhotoImages, PublishedPhoto};
use crate::source::Fetcher;
use crate::source::http::header_string;

/// The longest side of the photo on a player's page (shown at half size,
/// sharp on 2× screens).
pub const PAGE_SIZE: u32 = 320;
/// The side of the square thumbnail on the index.
pub const THUMB_SIZE: u32 = 64;
/// Downloads running at once.
pub const CONCURRENCY: usize = 4;
/// One image, redirects included.
pub const IMAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies are read up to this and abandoned past it.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_REDIRECTS: usize = 5;
/// Larger images are refused before decoding (a decompression bomb: a small
/// file that decodes to gigabytes). 40 MP covers phone cameras' defaults.
pub const MAX_PIXELS: u64 = 40_000_000;
pub const MAX_SIDE: u32 = 12_000;
/// A failed download is tried again after this (or the re-check interval,
/// when shorter).
const RETRY_FAILED: Duration = Duration::from_secs(15 * 60);
/// JPEG quality of the published images: ~80 is indistinguishable at these
/// sizes and about half the bytes of 95.
const JPEG_QUALITY: u8 = 80;
/// Part of every output name: a change in how images are processed gives new
/// names, so browsers holding the old `immutable` files fetch the new ones.
const PROCESS_VERSION: &[u8] = b"photos-v1 jpeg q80 320/64";

/// What a sheet cell asks for, once Drive links are turned into their
/// download form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRequest {
    pub url: String,
    /// Read through the Drive API with the service account's bearer token.
    pub drive_api: bool,
}

/// A Drive file id: letters, digits, `-` and `_`.
fn drive_id(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(s)
}

/// The id of a Google Drive share link: `/file/d/<ID>/view?…`, `open?id=<ID>`,
/// `uc?id=<ID>`.
fn drive_file_id(url: &Url) -> Option<String> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    if let Some(i) = segments.windows(2).position(|w| w == ["file", "d"]) {
        return segments
            .get(i + 2)
            .and_then(|s| drive_id(s))
            .map(str::to_string);
    }
    url.query_pairs()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| drive_id(&v).map(str::to_string))
}

/// Turns a photo cell into what to fetch. `drive_api_base` is set when a
/// service account can read Drive files shared with it.
pub fn photo_request(cell: &str, drive_api_base: Option<&str>) -> Result<PhotoRequest, String> {
    let cell = cell.trim();
    let url = Url::parse(cell).map_err(|_| "not a web address (URL)".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http(s) links are fetched, not \"{}:\"",
            url.scheme()
        ));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "drive.google.com" || host == "docs.google.com" {
        let id = drive_file_id(&url).ok_or(
            "a Google Drive link without a file id: use the file's \"Share → Copy link\" address",
        )?;
        return Ok(match drive_api_base {
            Some(base) => PhotoRequest {
                url: format!("{base}/drive/v3/files/{id}?alt=media"),
                drive_api: true,
            },
            None => PhotoRequest {
                url: format!("https://drive.google.com/uc?export=download&id={id}"),
                drive_api: false,
            },
        });
    }
    Ok(PhotoRequest {
        url: url.to_string(),
        drive_api: false,
    })
}

// ---- addresses a sheet may not make us reach -------------------------------

/// Loopback, private, link-local, CGNAT, unique-local, multicast, and the
/// other special-purpose ranges (RFC 6890): never a photo host.
pub fn is_refused_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_refused_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // IPv4-mapped (::ffff:0:0/96) and IPv4-translated
            // (::ffff:0:0:0/96) addresses are never a real host's public
            // address: a dual-stack socket connects to the embedded IPv4
            // one, whatever it is, so the whole ranges are refused (issue
            // 14). So is NAT64's local-use prefix 64:ff9b:1::/48 (RFC 8215).
            if v6.to_ipv4_mapped().is_some()
                || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0)
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
            {
                return true;
            }
            // NAT64 (64:ff9b::/96) and IPv4-compatible (::/96) embed an IPv4
            // address that the network may route to: judged by that address.
            if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4]) || s[..6] == [0; 6] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_refused_v4(Ipv4Addr::new(a, b, c, d)) || v6.is_unspecified();
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2001 && s[1] < 0x0200) // Teredo, benchmarking, ORCHID…
                || s[0] == 0x2002 // 6to4
                || s[0] == 0x0100 && s[1..4] == [0; 3] // discard-only
        }
    }
}

fn is_refused_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || ip.is_multicast()
        || a >= 240 // reserved and broadcast
}

/// The URL host as the allow-list spells it: lower case, IPv6 without
/// brackets.
fn host_key(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Refuses a URL a sheet may not make us fetch; resolves domain names (the
/// resolver of the client checks again at connect time).
async fn check_target(url: &Url, allow: &[String]) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "a redirect to a \"{}:\" address was refused",
            url.scheme()
        ));
    }
    let host = host_key(url);
    if host.is_empty() {
        return Err("the address has no host".into());
    }
    if allow.contains(&host) {
        return Ok(());
    }
    let refused = |ip: IpAddr| {
        format!(
            "the host \"{host}\" is a loopback/private/special address ({ip}); photos are only fetched from public hosts (allow it with [players] photo_allow)"
        )
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) if is_refused_ip(ip.into()) => Err(refused(ip.into())),
        Some(url::Host::Ipv6(ip)) if is_refused_ip(ip.into()) => Err(refused(ip.into())),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| format!("cannot resolve \"{host}\": {e}"))?
                .collect();
            match addrs.iter().find(|a| is_refused_ip(a.ip())) {
                Some(bad) => Err(refused(bad.ip())),
                None if addrs.is_empty() => Err(format!("\"{host}\" has no address")),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The client's resolver: only addresses that pass [`is_refused_ip`] (or of
/// allow-listed hosts) are ever connected to.
struct GuardedResolver {
    allow: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow.contains(&host)
                && let Some(bad) = addrs.iter().find(|a| is_refused_ip(a.ip()))
            {
                let message = format!("\"{host}\" resolves to a refused address ({})", bad.ip());
                return Err(message.into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

// ---- the cache in state_dir/photos -----------------------------------------

/// What the cache knows about one URL (`<key>.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Entry {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Unix seconds of the last answer (or failure).
    checked: u64,
    image: Option<Processed>,
    /// Why the last attempt failed (the image, if any, is an older one).
    error: Option<String>,
}

/// A processed photo: `<stem>-320.jpg` and `<stem>-64.jpg` in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Processed {
    stem: String,
    page: (u32, u32),
    thumb: (u32, u32),
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn url_key(url: &str) -> String {
    hex(&Sha256::digest(url.as_bytes()))[..32].to_string()
}

fn page_file(stem: &str) -> String {
    format!("{stem}-{PAGE_SIZE}.jpg")
}

fn thumb_file(stem: &str) -> String {
    format!("{stem}-{THUMB_SIZE}.jpg")
}

fn read_entry(dir: &Path, key: &str) -> Option<Entry> {
    let bytes = std::fs::read(dir.join(format!("{key}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Temp file + rename in the cache folder (an entry is never half written).
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

fn write_entry(dir: &Path, key: &str, entry: &Entry) {
    let result = serde_json::to_vec(entry)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomically(dir, &format!("{key}.json"), &bytes));
    if let Err(e) = result {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot write the photo cache");
    }
}

// ---- one photo's state, as a cycle sees it -----------------------------------

/// What a cycle can publish for one photo cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoStatus {
    /// Ready; `stale` says why it could not be refreshed, if it could not.
    Ready {
        stem: String,
        page: (u32, u32),
        thumb: (u32, u32),
        stale: Option<String>,
    },
    /// Not usable: the avatar is shown. The message is for the organiser.
    Failed(String),
    /// Still downloading: the avatar is shown until a later cycle.
    Pending,
}

/// The photos of one cycle, by sheet cell (trimmed).
#[derive(Debug, Clone, Default)]
pub struct PhotoSet {
    dir: PathBuf,
    pub by_cell: HashMap<String, PhotoStatus>,
}

impl PhotoSet {
    /// The warning for a player whose cell is `cell`, if any.
    pub fn problem(&self, cell: &str) -> Option<String> {
        let shown = shorten(&redact::url(cell.trim()));
        match self.by_cell.get(cell.trim())? {
            PhotoStatus::Ready { stale: None, .. } => None,
            PhotoStatus::Ready {
                stale: Some(why), ..
            } => Some(format!(
                "photo {shown} could not be refreshed ({why}); the previous image stays"
            )),
            PhotoStatus::Failed(why) => Some(format!(
                "photo {shown} not used ({why}); the initials avatar is shown"
            )),
            PhotoStatus::Pending => Some(format!(
                "photo {shown} is still downloading; the initials avatar is shown until a later cycle"
            )),
        }
    }
}

/// A cell as quoted in a warning: at most 120 characters.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 120 {
        format!("\"{s}\"")
    } else {
        format!("\"{}…\"", s.chars().take(119).collect::<String>())
    }
}

/// Where the published images of a photo come from.
fn ready_images(set: &PhotoSet) -> impl Iterator<Item = (&String, &String, PublishedPhoto)> {
    set.by_cell.iter().filter_map(|(cell, status)| {
        let PhotoStatus::Ready {
            stem, page, thumb, ..
        } = status
        else {
            return None;
        };
        let image = |name: String, (width, height): (u32, u32)| Image {
            url: format!("/assets/photos/{name}"),
            width,
            height,
        };
        Some((
            cell,
            stem,
            PublishedPhoto {
                page: image(page_file(stem), *page),
                thumb: image(thumb_file(stem), *thumb),
            },
        ))
    })
}

/// The URLs and sizes render puts in the pages (no disk access).
pub fn images(set: &PhotoSet) -> PhotoImages {
    PhotoImages {
        by_cell: ready_images(set)
            .map(|(cell, _, photo)| (cell.clone(), photo))
            .collect(),
    }
}

/// The bytes of every ready photo, from the cache, as artifacts to publish
/// under `assets/photos/`.
pub fn artifacts(set: &PhotoSet) -> Result<Vec<Artifact>, PublishError> {
    let mut out: BTreeMap<String, Artifact> = BTreeMap::new();
    for (_, stem, _) in ready_images(set) {
        for name in [page_file(stem), thumb_file(stem)] {
            let path = format!("assets/photos/{name}");
            if out.contains_key(&path) {
                continue;
            }
            let file = set.dir.join(&name);
            let bytes = std::fs::read(&file).map_err(|source| PublishError::Io {
                path: file.clone(),
                source,
            })?;
            out.insert(
                path.clone(),
                Artifact {
                    path,
                    kind: ArtifactKind::Asset,
                    bytes,
                },
            );
        }
    }
    Ok(out.into_values().collect())
}

// ---- the downloader ---------------------------------------------------------

/// Kept across cycles (by [`crate::cycle::CycleMemory`]): the HTTP client
/// and the downloads in flight.
pub struct Photos {
    client: reqwest::Client,
    allow: Arc<Vec<String>>,
    limit: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Photos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Photos")
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

/// A finished download.
enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

impl Photos {
    pub fn new(allow: &[String]) -> Result<Photos, String> {
        let allow = Arc::new(allow.to_vec());
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(IMAGE_TIMEOUT)
            // Redirects are followed by hand, each target checked.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the target itself, past our checks.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .user_agent(concat!("sheetgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the photo HTTP client: {e}"))?;
        Ok(Photos {
            client,
            allow,
            limit: Arc::new(Semaphore::new(CONCURRENCY)),
            in_flight: Arc::default(),
        })
    }

    /// True when this downloader was made for `allow` (the config changed
    /// otherwise).
    pub fn allows(&self, allow: &[String]) -> bool {
        self.allow.as_slice() == allow
    }

    /// Starts the downloads that are due for `cells`, waits for them at most
    /// `wait`, and tells what each cell has now. Downloads still running
    /// go on and land in the cache for a later cycle.
    pub async fn sync(
        &self,
        config: &Config,
        fetcher: &Fetcher,
        cells: &[String],
        wait: Duration,
    ) -> PhotoSet {
        let started = Instant::now();
        let deadline = started + wait;
        let dir = config.site.state_dir.join("photos");
        let mut set = PhotoSet {
            dir: dir.clone(),
            by_cell: HashMap::new(),
        };
        if let Err(e) = crate::files::create_private_dir(&config.site.state_dir)
            .map_err(|e| e.to_string())
            .and_then(|()| std::fs::create_dir_all(&dir).map_err(|e| e.to_string()))
        {
            tracing::warn!(dir = %dir.display(), error = %e, "no photo cache: avatars only");
            for cell in cells {
                set.by_cell
                    .insert(cell.clone(), PhotoStatus::Failed("no photo cache".into()));
            }
            return set;
        }
        let drive_api_base = match &config.source {
            crate::config::Source::Google(g) if g.credentials.is_some() => {
                Some(g.drive_api_base.as_str())
            }
            _ => None,
        };
        let recheck = config.players.photo_recheck.as_secs();
        let retry = recheck.min(RETRY_FAILED.as_secs());
        let now = unix_now();

        // cell → its request key, or why it has none.
        let mut keys: HashMap<&String, Result<(String, PhotoRequest), String>> = HashMap::new();
        let mut due: Vec<(String, PhotoRequest, Option<Entry>)> = Vec::new();
        let mut due_keys = HashSet::new();
        for cell in cells {
            let request = match photo_request(cell, drive_api_base) {
                Ok(r) => r,
                Err(why) => {
                    keys.insert(cell, Err(why));
                    continue;
                }
            };
            let key = url_key(&request.url);
            keys.insert(cell, Ok((key.clone(), request.clone())));
            if due_keys.contains(&key) {
                continue;
            }
            let entry = read_entry(&dir, &key).filter(|e| e.url == request.url);
            let files_there = |p: &Processed| {
                dir.join(page_file(&p.stem)).is_file() && dir.join(thumb_file(&p.stem)).is_file()
            };
            let is_due = match &entry {
                None => true,
                Some(e) => match &e.image {
                    Some(p) if !files_there(p) => true,
                    Some(_) if e.error.is_none() => now.saturating_sub(e.checked) >= recheck,
                    _ => now.saturating_sub(e.checked) >= retry,
                },
            };
            if is_due {
                due_keys.insert(key.clone());
                // Files gone: ask unconditionally.
                let entry = entry.map(|mut e| {
                    if e.image.as_ref().is_some_and(|p| !files_there(p)) {
                        e.image = None;
                        e.etag = None;
                        e.last_modified = None;
                    }
                    e
                });
                due.push((key, request, entry));
            }
        }

        // One token for every Drive API download of this cycle.
        let mut token: Option<Result<Secret, String>> = None;
        if due.iter().any(|(_, r, _)| r.drive_api) {
            token = Some(
                match fetcher
                    .service_account_token(config, Instant::now() + IMAGE_TIMEOUT)
                    .await
                {
                    Ok(Some(t)) => Ok(t),
                    Ok(None) => Err("no service account for the Drive API".to_string()),
                    Err(e) => Err(format!("no Drive access token: {e}")),
                },
            );
        }

        let mut handles = Vec::new();
        for (key, request, entry) in due {
            {
                let Ok(mut in_flight) = self.in_flight.lock() else {
                    continue;
                };
                if !in_flight.insert(key.clone()) {
                    continue; // a previous cycle's download is still running
                }
            }
            let token = if request.drive_api {
                token.clone()
            } else {
                None
            };
            let task = Download {
                client: self.client.clone(),
                allow: self.allow.clone(),
                limit: self.limit.clone(),
                in_flight: self.in_flight.clone(),
                dir: dir.clone(),
                key: key.clone(),
                request,
                previous: entry,
                token,
            };
            handles.push((key, tokio::spawn(task.run())));
        }
        let mut finished: HashMap<String, Entry> = HashMap::new();
        for (key, handle) in handles {
            if let Ok(Ok(entry)) = tokio::time::timeout_at(deadline.into(), handle).await {
                finished.insert(key, entry);
            }
        }

        let in_flight = self.in_flight.lock().map(|s| s.clone()).unwrap_or_default();
        for cell in cells {
            let status = match keys.get(cell) {
                None => continue,
                Some(Err(why)) => PhotoStatus::Failed(why.clone()),
                Some(Ok((key, request))) => {
                    let entry = finished
                        .get(key)
                        .cloned()
                        .or_else(|| read_entry(&dir, key).filter(|e| e.url == request.url));
                    match entry {
                        Some(Entry {
                            image: Some(p),
                            error,
                            ..
                        }) => PhotoStatus::Ready {
                            stem: p.stem,
                            page: p.page,
                            thumb: p.thumb,
                            stale: error,
                        },
                        _ if in_flight.contains(key) => PhotoStatus::Pending,
                        Some(Entry { error: Some(e), .. }) => PhotoStatus::Failed(e),
                        _ => PhotoStatus::Pending,
                    }
                }
            };
            set.by_cell.insert(cell.trim().to_string(), status);
        }
        if in_flight.is_empty() {
            let keep: HashSet<String> = keys
                .values()
                .filter_map(|k| k.as_ref().ok().map(|(key, _)| key.clone()))
                .collect();
            prune_cache(&dir, &keep);
        }
        tracing::debug!(
            cells = cells.len(),
            downloading = in_flight.len(),
            ms = started.elapsed().as_millis() as u64,
            "photos synced"
        );
        set
    }
}

/// Removes cache entries of URLs no sheet cell names any more, and image
/// files no entry references.
fn prune_cache(dir: &Path, keep: &HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut stems = HashSet::new();
    let mut images = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(key) = name.strip_suffix(".json") {
            if keep.contains(key) {
                if let Some(p) = read_entry(dir, key).and_then(|e| e.image) {
                    stems.insert(p.stem);
                }
            } else {
                let _ = std::fs::remove_file(entry.path());
            }
        } else if name.ends_with(".jpg") {
            images.push((name, entry.path()));
        }
    }
    for (name, path) in images {
        let stem = name.split('-').next().unwrap_or_default();
        if !stems.contains(stem) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One download task: fetch (bounded), process, store in the cache.
struct Download {
    client: reqwest::Client,
    allow: Arc<Vec<String>>,
    limit: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<String>>>,
    dir: PathBuf,
    key: String,
    request: PhotoRequest,
    previous: Option<Entry>,
    token: Option<Result<Secret, String>>,
}

impl Download {
    async fn run(self) -> Entry {
        let entry = self.attempt().await;
        write_entry(&self.dir, &self.key, &entry);
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(&self.key);
        }
        entry
    }

    async fn attempt(&self) -> Entry {
        let previous = self.previous.clone().unwrap_or_default();
        let failed = |why: String| {
            tracing::warn!(url = %redact::url(&self.request.url), error = %why, "photo download failed");
            Entry {
                url: self.request.url.clone(),
                checked: unix_now(),
                error: Some(why),
                ..previous.clone()
            }
        };
        let _permit = match self.limit.acquire().await {
            Ok(p) => p,
            Err(_) => return failed("the downloader stopped".into()),
        };
        let token = match &self.token {
            Some(Ok(t)) => Some(t),
            Some(Err(why)) => return failed(why.clone()),
            None => None,
        };
        let fetched = match tokio::time::timeout(IMAGE_TIMEOUT, self.fetch(&previous, token)).await
        {
            Err(_) => {
                return failed(format!(
                    "no complete answer within {} s",
                    IMAGE_TIMEOUT.as_secs()
                ));
            }
            Ok(Err(why)) => return failed(why),
            Ok(Ok(f)) => f,
        };
        match fetched {
            Fetched::NotModified if previous.image.is_some() => Entry {
                url: self.request.url.clone(),
                checked: unix_now(),
                error: None,
                ..previous.clone()
            },
            Fetched::NotModified => failed("304 Not Modified without a cached image".into()),
            Fetched::Body {
                bytes,
                etag,
                last_modified,
            } => {
                let processed = tokio::task::spawn_blocking(move || process(&bytes))
                    .await
                    .unwrap_or_else(|e| Err(format!("the image worker failed: {e}")));
                let (stem, page, thumb) = match processed {
                    Ok(p) => p,
                    Err(why) => return failed(why),
                };
                let stored = write_atomically(&self.dir, &page_file(&stem.stem), &page)
                    .and_then(|()| write_atomically(&self.dir, &thumb_file(&stem.stem), &thumb));
                if let Err(e) = stored {
                    return failed(format!("cannot store it in the cache: {e}"));
                }
                tracing::info!(url = %redact::url(&self.request.url), stem = %stem.stem, "photo processed");
                Entry {
                    url: self.request.url.clone(),
                    etag,
                    last_modified,
                    checked: unix_now(),
                    image: Some(stem),
                    error: None,
                }
            }
        }
    }

    /// GET with redirects followed by hand (each target checked), validators
    /// of the cached copy, the bearer token on the Drive API only.
    async fn fetch(&self, previous: &Entry, token: Option<&Secret>) -> Result<Fetched, String> {
        let mut url =
            Url::parse(&self.request.url).map_err(|_| "not a web address (URL)".to_string())?;
        let first_host = url.host_str().map(str::to_string);
        for _hop in 0..=MAX_REDIRECTS {
            check_target(&url, &self.allow).await?;
            let mut request = self.client.get(url.clone());
            if previous.image.is_some() {
                if let Some(etag) = &previous.etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &previous.last_modified {
                    request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
                }
            }
            // The token never follows a redirect to another host.
            if let Some(token) = token
                && url.host_str().map(str::to_string) == first_host
            {
                request = request.bearer_auth(token.expose());
            }
            let mut response = request.send().await.map_err(describe)?;
            let status = response.status();
            if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(format!("HTTP {} without a Location", status.as_u16()))?;
                url = url
                    .join(location)
                    .map_err(|_| "a redirect to an invalid address".to_string())?;
                continue;
            }
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified);
            }
            if !status.is_success() {
                return Err(match status.as_u16() {
                    401 | 403 => format!(
                        "HTTP {}: not shared publicly (on Drive: share as \"Anyone with the link\", or with the service account)",
                        status.as_u16()
                    ),
                    404 => "HTTP 404: no such file".into(),
                    s => format!("HTTP {s}"),
                });
            }
            let header = |name| header_string(&response, name);
            let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            if is_web_page(&content_type, &[]) {
                return Err(WEB_PAGE.into());
            }
            if response
                .content_length()
                .is_some_and(|n| n > MAX_BYTES as u64)
            {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(describe)? {
                if bytes.len() + chunk.len() > MAX_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            if is_web_page(&content_type, &bytes) {
                return Err(WEB_PAGE.into());
            }
            return Ok(Fetched::Body {
                bytes,
                etag,
                last_modified,
            });
        }
        Err(format!(
            "more than {MAX_REDIRECTS} redirects (a redirect loop?)"
        ))
    }
}

const WEB_PAGE: &str = "got a web page, not an image (a Drive file must be shared as \"Anyone with the link\", or with the service account)";

fn too_large() -> String {
    format!("larger than {} MB", MAX_BYTES / (1024 * 1024))
}

/// An HTML answer where an image was expected: Drive's sign-in or
/// virus-scan page.
fn is_web_page(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("text/html") || ct.starts_with("application/xhtml") {
        return true;
    }
    let start: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    start.starts_with(b"<!doctype html")
        || start.starts_with(b"<html")
        || start.starts_with(b"<head")
}

/// A transport error in words that carry no URL.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

// ---- image processing --------------------------------------------------------

/// Decodes (sizes checked first), applies the EXIF orientation, and encodes
/// the page photo (fit in [`PAGE_SIZE`]) and the square thumbnail as JPEG.
/// Re-encoding keeps no metadata: no EXIF, no GPS.
fn process(bytes: &[u8]) -> Result<(Processed, Vec<u8>, Vec<u8>), String> {
    let not_image = || "not an image (JPEG, PNG or WebP expected)".to_string();
    let format = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| not_image())?
        .format()
        .ok_or_else(not_image)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(format!("a {format:?} image; JPEG, PNG or WebP expected"));
    }
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| format!("not a readable image: {e}"))?;
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS || w > MAX_SIDE || h > MAX_SIDE
    {
        return Err(format!(
            "{w}×{h} pixels is too large (at most {} megapixels, {MAX_SIDE} px a side)",
            MAX_PIXELS / 1_000_000
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("not a readable image: {e}"))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| format!("not a readable image: {e}"))?;
    img.apply_orientation(orientation);
    let img = DynamicImage::ImageRgb8(onto_white(&img));

    let (w, h) = (img.width(), img.height());
    let page = if w <= PAGE_SIZE && h <= PAGE_SIZE {
        img.clone()
    } else {
        img.resize(PAGE_SIZE, PAGE_SIZE, image::imageops::FilterType::Triangle)
    };
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let thumb = square.resize_exact(
        THUMB_SIZE,
        THUMB_SIZE,
        image::imageops::FilterType::Triangle,
    );

    let encode = |img: &DynamicImage| -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(img)
            .map_err(|e| format!("cannot encode it: {e}"))?;
        Ok(out)
    };
    let page_bytes = encode(&page)?;
    let thumb_bytes = encode(&thumb)?;
    let mut h = Sha256::new();
    h.update(PROCESS_VERSION);
    h.update(bytes);
    let stem = hex(&h.finalize())[..16].to_string();
    Ok((
        Processed {
            stem,
            page: (page.width(), page.height()),
            thumb: (THUMB_SIZE, THUMB_SIZE),
        },
        page_bytes,
        thumb_bytes,
    ))
}

/// Transparent pixels (PNG, WebP) on white: JPEG has no alpha.
fn onto_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

// ---- initials avatars --------------------------------------------------------

/// Up to two initials of a name, upper case: "zoé dupont" → "ZD".
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}

/// An SVG avatar: initials on a colour taken from the name's hash. Returns
/// (file name, bytes); the name is content-hashed like every photo.
pub fn avatar(name: &str) -> (String, Vec<u8>) {
    let digest = Sha256::digest(name.trim().as_bytes());
    let hue = u16::from_be_bytes([digest[0], digest[1]]) % 360;
    let text: String = initials(name)
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><rect width="64" height="64" fill="hsl({hue},40%,42%)"/><text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="26" fill="#fff">{text}</text></svg>
"##
    );
    let stem = hex(&Sha256::digest(svg.as_bytes()))[..16].to_string();
    (format!("avatar-{stem}.svg"), svg.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_links_become_downloads() {
        let direct = |cell: &str| photo_request(cell, None).map(|r| r.url);
        let want = Ok("https://drive.google.com/uc?export=download&id=1AbC-d_9".to_string());
        assert_eq!(
            direct("https://drive.google.com/file/d/1AbC-d_9/view?usp=sharing"),
            want
        );
        assert_eq!(direct("https://drive.google.com/open?id=1AbC-d_9"), want);
        assert_eq!(
            direct("https://drive.google.com/uc?id=1AbC-d_9&export=view"),
            want
        );
        assert_eq!(direct(" https://drive.google.com/file/d/1AbC-d_9 "), want);
        assert!(direct("https://drive.google.com/drive/folders").is_err());
        let api = photo_request(
            "https://drive.google.com/file/d/XYZ/view",
            Some("https://www.googleapis.com"),
        )
        .unwrap();
        assert_eq!(
            api,
            PhotoRequest {
                url: "https://www.googleapis.com/drive/v3/files/XYZ?alt=media".into(),
                drive_api: true
            }
        );
        assert_eq!(
            direct("https://example.org/a b.jpg"),
            Ok("https://example.org/a%20b.jpg".to_string())
        );
    }

    #[test]
    fn only_web_schemes() {
        for cell in [
            "file:///etc/passwd",
            "ftp://example.org/x.jpg",
            "gopher://x",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "/etc/passwd",
            "photo.jpg",
        ] {
            assert!(photo_request(cell, None).is_err(), "{cell}");
        }
    }

    #[test]
    fn special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_refused_ip(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "142.250.74.46",
            "100.128.0.1",
            "172.32.0.1",
            "2a00:1450:4007:80e::200e",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_refused_ip(ip), "{ip}");
        }
    }

    #[test]
    fn ipv4_embedding_forms_are_refused_or_judged_by_their_ipv4() {
        // The whole IPv4-mapped and IPv4-translated ranges, public or not,
        // and NAT64's local-use prefix.
        for ip in [
            "::ffff:8.8.8.8",
            "::ffff:0.0.0.0",
            "::ffff:127.0.0.1",
            "::ffff:0:a00:1",    // translated 10.0.0.1
            "::ffff:0:808:808",  // translated 8.8.8.8
            "::ffff:0:7f00:1",   // translated 127.0.0.1
            "64:ff9b:1::a00:1",  // local-use NAT64
            "64:ff9b:1:ffff::1", // local-use NAT64
            // IPv4-compatible and well-known NAT64 of special IPv4.
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::c0a8:101",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_refused_ip(ip), "{ip}");
        }
        for ip in [
            // Embedded public IPv4 in the forms that route to it.
            "64:ff9b::808:808",
            "::8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_refused_ip(ip), "{ip}");
        }
    }

    #[test]
    fn avatars_escape_and_are_stable() {
        assert_eq!(initials("zoé dupont"), "ZD");
        assert_eq!(initials("  <b>  &x "), "BX");
        assert_eq!(initials("---"), "?");
        let (name, svg) = avatar("<Zed> \"&Co\"");
        let svg = String::from_utf8(svg).unwrap();
        assert!(!svg.contains("<Z"));
        assert!(name.starts_with("avatar-") && name.ends_with(".svg"));
        assert_eq!(avatar("<Zed> \"&Co\"").0, name);
    }

    #[test]
    fn html_is_sniffed() {
        assert!(is_web_page("text/html; charset=utf-8", b""));
        assert!(is_web_page(
            "application/octet-stream",
            b"\n  <!DOCTYPE html><html>"
        ));
        assert!(!is_web_page("image/jpeg", b"\xff\xd8\xff"));
    }
}
