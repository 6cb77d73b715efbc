//! Player photos (issue 8), a stage of its own beside the source: sheet
//! cells (image URLs or Google Drive links) in, a plain `PhotoSet` out:
//! what the pages show ([`PhotoImages`], for render), the files to publish
//! under `assets/photos/` (for publish), and a warning per cell that could
//! not be used. It never writes under `out_dir` and knows nothing of render
//! or of the cycle that calls it.
//!
//! Downloads run as tasks of their own, at most `CONCURRENCY` at once, each
//! bounded by `IMAGE_TIMEOUT`; a cycle waits for them at most its photo
//! budget, then publishes with what the cache holds (the previous image, or
//! nothing: render then draws an initials avatar), and a later cycle picks
//! up what finished meanwhile. A URL is asked for again only after
//! `[players] photo_recheck_hours`, conditionally (ETag / Last-Modified →
//! 304).
//!
//! One file per job: `links` (Drive links → download URLs), `guard`
//! (which hosts a sheet may make us reach), `fetch` (one bounded
//! download), `process` (decode, resize, re-encode), `cache` (the
//! folder in `state_dir/photos/`); this file schedules the downloads.

mod cache;
mod fetch;
mod guard;
mod links;
mod process;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::config::{Config, Secret};
use crate::error::PublishError;
use crate::model::ProblemKind;
use crate::photo_view::{Image, PhotoImages, PublishedPhoto};
use crate::redact;
use crate::source::Fetcher;
use cache::{Cache, Entry, page_file, thumb_file, unix_now, url_key};
pub(crate) use fetch::IMAGE_TIMEOUT;
use fetch::{Fetched, ImageClient, Validators};
use links::{PhotoRequest, photo_request};

/// Downloads running at once.
pub(crate) const CONCURRENCY: usize = 4;
/// A failed download is tried again after this (or the re-check interval,
/// when shorter).
const RETRY_FAILED: Duration = Duration::from_secs(15 * 60);

/// What a cycle can publish for one photo cell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PhotoStatus {
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

/// One published image: its path under `out_dir` and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhotoFile {
    pub(crate) path: String,
    pub(crate) bytes: Vec<u8>,
}

/// The photos of one cycle, by sheet cell (trimmed): the stage's product.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhotoSet {
    by_cell: HashMap<String, PhotoStatus>,
    images: PhotoImages,
    /// Published path → the cache file holding its bytes.
    files: BTreeMap<String, PathBuf>,
}

impl PhotoSet {
    fn new(by_cell: HashMap<String, PhotoStatus>, cache: Option<&Cache>) -> PhotoSet {
        let mut images = PhotoImages::default();
        let mut files = BTreeMap::new();
        for (cell, status) in &by_cell {
            let (
                PhotoStatus::Ready {
                    stem, page, thumb, ..
                },
                Some(cache),
            ) = (status, cache)
            else {
                continue;
            };
            let mut image = |name: String, (width, height): (u32, u32)| {
                let path = format!("assets/photos/{name}");
                files.insert(path.clone(), cache.path(&name));
                Image {
                    url: format!("/{path}"),
                    width,
                    height,
                }
            };
            let photo = PublishedPhoto {
                page: image(page_file(stem), *page),
                thumb: image(thumb_file(stem), *thumb),
            };
            images.by_cell.insert(cell.clone(), photo);
        }
        PhotoSet {
            by_cell,
            images,
            files,
        }
    }

    /// The warning for a player whose cell is `cell`, if any: the photo as
    /// it may be shown (query values hidden, cut) and why.
    pub(crate) fn problem(&self, cell: &str) -> Option<ProblemKind> {
        let photo = shorten(&redact::photo_url(cell.trim()));
        match self.by_cell.get(cell.trim())? {
            PhotoStatus::Ready { stale: None, .. } => None,
            PhotoStatus::Ready {
                stale: Some(why), ..
            } => Some(ProblemKind::PhotoStale {
                photo,
                why: why.clone(),
            }),
            PhotoStatus::Failed(why) => Some(ProblemKind::PhotoFailed {
                photo,
                why: why.clone(),
            }),
            PhotoStatus::Pending => Some(ProblemKind::PhotoPending { photo }),
        }
    }

    /// The URLs and sizes render puts in the pages.
    pub(crate) fn images(&self) -> &PhotoImages {
        &self.images
    }

    /// The bytes of every ready photo, read from the cache, to publish
    /// under `assets/photos/`.
    pub(crate) fn read_files(&self) -> Result<Vec<PhotoFile>, PublishError> {
        self.files
            .iter()
            .map(|(path, file)| {
                let bytes = std::fs::read(file).map_err(|source| PublishError::Io {
                    path: file.clone(),
                    source,
                })?;
                Ok(PhotoFile {
                    path: path.clone(),
                    bytes,
                })
            })
            .collect()
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

/// What a cell's cache entry says now: its images (perhaps stale), still
/// downloading, or why not.
fn status_of(entry: Option<Entry>, downloading: bool) -> PhotoStatus {
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
        _ if downloading => PhotoStatus::Pending,
        Some(Entry { error: Some(e), .. }) => PhotoStatus::Failed(e),
        _ => PhotoStatus::Pending,
    }
}

/// Each cell's request key (or why it has none), and the downloads that
/// are due: never asked, images gone from the cache, or checked longer ago
/// than `recheck` (`retry` after a failure).
type Plan<'c> = (
    HashMap<&'c String, Result<(String, PhotoRequest), String>>,
    Vec<(String, PhotoRequest, Option<Entry>)>,
);

fn plan<'c>(
    cells: &'c [String],
    drive_api_base: Option<&str>,
    cache: &Cache,
    recheck: u64,
    retry: u64,
    now: u64,
) -> Plan<'c> {
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
        let entry = cache.entry(&key, &request.url);
        let is_due = match &entry {
            None => true,
            Some(e) => match &e.image {
                Some(p) if !cache.has_images(p) => true,
                Some(_) if e.error.is_none() => now.saturating_sub(e.checked) >= recheck,
                _ => now.saturating_sub(e.checked) >= retry,
            },
        };
        if is_due {
            due_keys.insert(key.clone());
            // Files gone: ask unconditionally.
            let entry = entry.map(|mut e| {
                if e.image.as_ref().is_some_and(|p| !cache.has_images(p)) {
                    e.image = None;
                    e.etag = None;
                    e.last_modified = None;
                }
                e
            });
            due.push((key, request, entry));
        }
    }
    (keys, due)
}

/// Kept across cycles (by `cycle::CycleMemory`): the HTTP client
/// and the downloads in flight.
#[derive(Debug)]
pub(crate) struct Photos {
    client: ImageClient,
    limit: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl Photos {
    pub(crate) fn new(allow: &[String]) -> Result<Photos, String> {
        Ok(Photos {
            client: ImageClient::new(allow)?,
            limit: Arc::new(Semaphore::new(CONCURRENCY)),
            in_flight: Arc::default(),
        })
    }

    /// True when this downloader was made for `allow` (the config changed
    /// otherwise).
    pub(crate) fn allows(&self, allow: &[String]) -> bool {
        self.client.allows(allow)
    }

    /// Starts the downloads that are due for `cells`, waits for them at most
    /// `wait`, and tells what each cell has now. Downloads still running
    /// go on and land in the cache for a later cycle.
    pub(crate) async fn sync(
        &self,
        config: &Config,
        fetcher: &Fetcher,
        cells: &[String],
        wait: Duration,
    ) -> PhotoSet {
        let started = Instant::now();
        let deadline = started + wait;
        let cache = match Cache::open(&config.site.state_dir) {
            Ok(cache) => cache,
            Err(e) => {
                let dir = config.site.state_dir.join("photos");
                tracing::warn!(dir = %dir.display(), error = %e, "no photo cache: avatars only");
                let failed = PhotoStatus::Failed("no photo cache".into());
                let by_cell = cells.iter().map(|c| (c.clone(), failed.clone()));
                return PhotoSet::new(by_cell.collect(), None);
            }
        };
        let drive_api_base = match &config.source {
            crate::config::Source::Google(g) if g.credentials.is_some() => {
                Some(g.drive_api_base.as_str())
            }
            _ => None,
        };
        let recheck = config.players.photo_recheck.as_secs();
        let retry = recheck.min(RETRY_FAILED.as_secs());
        let now = unix_now();

        let (keys, due) = plan(cells, drive_api_base, &cache, recheck, retry, now);

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
                limit: self.limit.clone(),
                in_flight: self.in_flight.clone(),
                cache: cache.clone(),
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
        let mut by_cell = HashMap::new();
        for cell in cells {
            let status = match keys.get(cell) {
                None => continue,
                Some(Err(why)) => PhotoStatus::Failed(why.clone()),
                Some(Ok((key, request))) => {
                    let entry = finished
                        .get(key)
                        .cloned()
                        .or_else(|| cache.entry(key, &request.url));
                    status_of(entry, in_flight.contains(key))
                }
            };
            by_cell.insert(cell.trim().to_string(), status);
        }
        if in_flight.is_empty() {
            let keep: HashSet<String> = keys
                .values()
                .filter_map(|k| k.as_ref().ok().map(|(key, _)| key.clone()))
                .collect();
            cache.prune(&keep);
        }
        tracing::debug!(
            cells = cells.len(),
            downloading = in_flight.len(),
            ms = started.elapsed().as_millis() as u64,
            "photos synced"
        );
        PhotoSet::new(by_cell, Some(&cache))
    }
}

/// One download task: fetch (bounded), process, store in the cache.
struct Download {
    client: ImageClient,
    limit: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashSet<String>>>,
    cache: Cache,
    key: String,
    request: PhotoRequest,
    previous: Option<Entry>,
    token: Option<Result<Secret, String>>,
}

impl Download {
    async fn run(self) -> Entry {
        let entry = self.attempt().await;
        self.cache.write_entry(&self.key, &entry);
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(&self.key);
        }
        entry
    }

    async fn attempt(&self) -> Entry {
        let previous = self.previous.clone().unwrap_or_default();
        let failed = |why: String| {
            tracing::warn!(url = %redact::photo_url(&self.request.url), error = %why, "photo download failed");
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
        // Only a cached image makes a 304 useful.
        let validators = match previous.image {
            Some(_) => Validators {
                etag: previous.etag.as_deref(),
                last_modified: previous.last_modified.as_deref(),
            },
            None => Validators::default(),
        };
        let download = self.client.get(&self.request.url, validators, token);
        let fetched = match tokio::time::timeout(IMAGE_TIMEOUT, download).await {
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
                let processed = tokio::task::spawn_blocking(move || process::process(&bytes))
                    .await
                    .unwrap_or_else(|e| Err(format!("the image worker failed: {e}")));
                let (image, jpegs) = match processed {
                    Ok(p) => p,
                    Err(why) => return failed(why),
                };
                if let Err(e) = self.cache.store(&image, &jpegs) {
                    return failed(format!("cannot store it in the cache: {e}"));
                }
                tracing::info!(url = %redact::photo_url(&self.request.url), stem = %image.stem, "photo processed");
                Entry {
                    url: self.request.url.clone(),
                    etag,
                    last_modified,
                    checked: unix_now(),
                    image: Some(image),
                    error: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use process::{Jpegs, Processed};

    #[test]
    fn a_set_tells_render_publish_and_the_organiser_what_each_cell_has() {
        let state = tempfile::tempdir().unwrap();
        let cache = Cache::open(state.path()).unwrap();
        let ready = |stale: Option<&str>| PhotoStatus::Ready {
            stem: "abc".into(),
            page: (160, 320),
            thumb: (64, 64),
            stale: stale.map(str::to_string),
        };
        let set = PhotoSet::new(
            HashMap::from([
                ("https://a.example/ok.jpg".to_string(), ready(None)),
                (
                    "https://a.example/old.jpg".to_string(),
                    ready(Some("HTTP 500")),
                ),
                (
                    "https://u:pw@a.example/x.jpg".to_string(),
                    PhotoStatus::Failed("HTTP 404: no such file".into()),
                ),
                (
                    "https://a.example/slow.jpg".to_string(),
                    PhotoStatus::Pending,
                ),
            ]),
            Some(&cache),
        );

        assert_eq!(set.problem(" https://a.example/ok.jpg "), None);
        let stale = set
            .problem("https://a.example/old.jpg")
            .unwrap()
            .to_string();
        assert!(
            stale.contains("could not be refreshed (HTTP 500)"),
            "{stale}"
        );
        let failed = set
            .problem("https://u:pw@a.example/x.jpg")
            .unwrap()
            .to_string();
        assert!(failed.contains("initials avatar"), "{failed}");
        assert!(!failed.contains("pw"), "{failed}");
        let pending = set
            .problem("https://a.example/slow.jpg")
            .unwrap()
            .to_string();
        assert!(pending.contains("still downloading"), "{pending}");

        let images = &set.images().by_cell;
        assert_eq!(images.len(), 2);
        let ok = &images["https://a.example/ok.jpg"];
        assert_eq!(ok.page.url, "/assets/photos/abc-320.jpg");
        assert_eq!((ok.page.width, ok.page.height), (160, 320));
        assert_eq!(ok.thumb.url, "/assets/photos/abc-64.jpg");

        // Publish reads the cache; a file gone is an error, not a hole.
        assert!(set.read_files().is_err());
        let processed = Processed {
            stem: "abc".into(),
            page: (160, 320),
            thumb: (64, 64),
        };
        let jpegs = Jpegs {
            page: b"page".to_vec(),
            thumb: b"thumb".to_vec(),
        };
        cache.store(&processed, &jpegs).unwrap();
        let files = set.read_files().unwrap();
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.as_slice()))
            .collect();
        assert_eq!(
            files,
            [
                ("assets/photos/abc-320.jpg", &b"page"[..]),
                ("assets/photos/abc-64.jpg", &b"thumb"[..]),
            ]
        );
    }
}
