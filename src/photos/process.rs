//! Image processing: downloaded bytes → the page photo and the square
//! thumbnail as metadata-free JPEGs. CPU only (run it off the async
//! workers): no network, no disk.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::photo_view::{PAGE_SIZE, THUMB_SIZE};

/// Larger images are refused before decoding (a decompression bomb: a small
/// file that decodes to gigabytes). 40 MP covers phone cameras' defaults.
const MAX_PIXELS: u64 = 40_000_000;
const MAX_SIDE: u32 = 12_000;
/// JPEG quality of the published images: ~80 is indistinguishable at these
/// sizes and about half the bytes of 95.
const JPEG_QUALITY: u8 = 80;
/// Part of every output name: a change in how images are processed gives new
/// names, so browsers holding the old `immutable` files fetch the new ones.
const PROCESS_VERSION: &[u8] = b"photos-v1 jpeg q80 320/64";

/// A processed photo: its name stem and the sizes of its two JPEGs (the
/// cache stores this in each entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Processed {
    pub(crate) stem: String,
    pub(crate) page: (u32, u32),
    pub(crate) thumb: (u32, u32),
}

/// The encoded bytes of a [`Processed`] photo.
pub(crate) struct Jpegs {
    pub(crate) page: Vec<u8>,
    pub(crate) thumb: Vec<u8>,
}

/// Decodes (sizes checked first), applies the EXIF orientation, and encodes
/// the page photo (fit in [`PAGE_SIZE`]) and the square thumbnail as JPEG.
/// Re-encoding keeps no metadata: no EXIF, no GPS.
pub(crate) fn process(bytes: &[u8]) -> Result<(Processed, Jpegs), String> {
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
    let jpegs = Jpegs {
        page: encode(&page)?,
        thumb: encode(&thumb)?,
    };
    let mut h = Sha256::new();
    h.update(PROCESS_VERSION);
    h.update(bytes);
    let stem = format!("{:x}", h.finalize())[..16].to_string();
    Ok((
        Processed {
            stem,
            page: (page.width(), page.height()),
            thumb: (THUMB_SIZE, THUMB_SIZE),
        },
        jpegs,
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
