//! What a page shows in a player's photo place (issue 8): the published
//! images of a photo, or an initials avatar. A leaf shared by the photo
//! stage, which produces [`PhotoImages`], and render, which reads them: it
//! imports nothing of ours and touches no disk or network.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The longest side of the photo on a player's page (shown at half size,
/// sharp on 2× screens).
pub(crate) const PAGE_SIZE: u32 = 320;
/// The side of the square thumbnail on the index.
pub(crate) const THUMB_SIZE: u32 = 64;

/// The published images of the players' photos, by photo cell (trimmed),
/// as the photo stage hands them to render. A player whose cell is not
/// here gets an initials avatar.
#[derive(Debug, Clone, Default)]
pub struct PhotoImages {
    pub by_cell: HashMap<String, PublishedPhoto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PublishedPhoto {
    pub page: Image,
    pub thumb: Image,
}

/// An image as a template uses it: `<img src=url width height>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Image {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

impl PhotoImages {
    /// A digest of what the pages will reference (names are content hashes).
    pub fn digest(&self) -> [u8; 32] {
        let mut cells: Vec<_> = self.by_cell.iter().collect();
        cells.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = Sha256::new();
        for (cell, p) in cells {
            for s in [cell, &p.page.url, &p.thumb.url] {
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            for n in [p.page.width, p.page.height, p.thumb.width, p.thumb.height] {
                h.update(n.to_le_bytes());
            }
        }
        h.finalize().into()
    }
}

/// Up to two initials of a name, upper case: "zoé dupont" → "ZD".
fn initials(name: &str) -> String {
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
pub(crate) fn avatar(name: &str) -> (String, Vec<u8>) {
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
    let stem = format!("{:x}", Sha256::digest(svg.as_bytes()));
    (format!("avatar-{}.svg", &stem[..16]), svg.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
