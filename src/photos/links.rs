//! What a photo cell asks for: an http(s) address, or a Google Drive share
//! link turned into its download form. Pure text work: no network, no
//! disk; whether the host may be reached is [`super::guard`]'s call.

use reqwest::Url;

/// What a sheet cell asks for, once Drive links are turned into their
/// download form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhotoRequest {
    pub(crate) url: String,
    /// Read through the Drive API with the service account's bearer token.
    pub(crate) drive_api: bool,
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
pub(crate) fn photo_request(
    cell: &str,
    drive_api_base: Option<&str>,
) -> Result<PhotoRequest, String> {
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
}
