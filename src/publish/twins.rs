//! The `.gz` twins nginx's `gzip_static` serves: which files get one, gzip
//! with deterministic bytes, and comparing both twins with the disk.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Extensions that get a pre-compressed `.gz` twin for nginx `gzip_static`.
const COMPRESSIBLE: [&str; 8] = [
    "html",
    "css",
    "js",
    "svg",
    "json",
    "txt",
    "xml",
    "webmanifest",
];

pub fn is_compressible(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| COMPRESSIBLE.contains(&ext))
}

/// gzip at the best level with a fixed header (no name, mtime 0), so equal
/// input gives equal bytes and an unchanged page keeps its ETag.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3 + 64),
        Compression::best(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The bytes that `gz` (made by [`gzip`]) holds.
pub(super) fn gunzip(gz: &[u8], len: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

/// True when the `.gz` on disk decompresses to exactly `expected`.
pub(super) fn gz_matches(path: &Path, expected: &[u8]) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut out = Vec::with_capacity(expected.len());
    // One byte more than expected is enough to tell "longer".
    let limit = expected.len() as u64 + 1;
    match GzDecoder::new(file).take(limit).read_to_end(&mut out) {
        Ok(_) => out == expected,
        Err(_) => false,
    }
}

/// True when the file at `path` holds exactly `expected`. A file of another
/// length is not read.
pub(super) fn file_matches(path: &Path, expected: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == expected.len() as u64)
        && std::fs::read(path).is_ok_and(|disk| disk == expected)
}
