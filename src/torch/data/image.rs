//! Decoding JPEG and PNG files (recognised by their magic bytes, not their names) into one
//! `u8 [N, C, H, W]` buffer, in parallel, optionally resized with Pillow's bilinear filter (the
//! reference's deterministic resize, datasets.md §2.2).
//!
//! All images of a dataset must have the same size (the stored tensor is dense). Grey images are
//! stored with one channel when every image is grey, else expanded to RGB; alpha is dropped,
//! as PIL's `convert("RGB")` does.

use std::num::NonZeroUsize;

use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::resize;
use crate::exec::NodeFailure;

/// One encoded image and how errors name it (a path, or an archive and its member).
pub(crate) struct Encoded<'a> {
    pub(crate) name: String,
    pub(crate) bytes: &'a [u8],
}

/// Decoded images: `[n, shape]` row-major.
pub(crate) struct Decoded {
    pub(crate) pixels: Vec<u8>,
    pub(crate) shape: [usize; 3],
}

/// Size and channel count (1 grey, 3 colour) from an image's header.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Header {
    width: usize,
    height: usize,
    grey: bool,
}

enum Format {
    Jpeg,
    Png,
}

fn format(bytes: &[u8]) -> Result<Format, String> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(Format::Png)
    } else {
        Err("is neither a JPEG nor a PNG file (wrong magic bytes)".into())
    }
}

/// Strict mode: a truncated or corrupt JPEG is an error, not grey blocks (zune-jpeg otherwise
/// recovers silently).
fn jpeg_options() -> DecoderOptions {
    DecoderOptions::default().set_strict_mode(true)
}

/// Size and colour of a JPEG from its frame header (SOFn), found by walking the marker segments:
/// far cheaper than the decoder's header pass, which also builds the Huffman tables. The full
/// decode later checks everything else.
fn jpeg_header(bytes: &[u8]) -> Result<Header, String> {
    let bad = || "is not a valid JPEG file: no frame header before the image data".to_string();
    let mut at = 2;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else { return Err(bad()) };
        let len =
            usize::from(u16::from_be_bytes([*bytes.get(at + 2).ok_or_else(bad)?, *bytes.get(at + 3).ok_or_else(bad)?]));
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let seg = bytes.get(at + 4..at + 2 + len).filter(|s| s.len() >= 6).ok_or_else(bad)?;
            let height = usize::from(u16::from_be_bytes([seg[1], seg[2]]));
            let width = usize::from(u16::from_be_bytes([seg[3], seg[4]]));
            if width == 0 || height == 0 {
                return Err("is a JPEG file of size zero".into());
            }
            return Ok(Header { width, height, grey: seg[5] == 1 });
        }
        if marker == 0xDA || marker == 0xD9 || len < 2 {
            return Err(bad());
        }
        at += 2 + len;
    }
}

fn header(bytes: &[u8]) -> Result<Header, String> {
    match format(bytes)? {
        Format::Jpeg => jpeg_header(bytes),
        Format::Png => {
            let r = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .map_err(|e| format!("is not a valid PNG file: {e}"))?;
            let info = r.info();
            let grey = matches!(info.color_type, png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha);
            Ok(Header { width: info.width as usize, height: info.height as usize, grey })
        }
    }
}

/// Decodes one image into channel planes `out` (`c × h × w`, c ∈ {1, 3}).
fn decode_planar(bytes: &[u8], h: &Header, c: usize, out: &mut [u8]) -> Result<(), String> {
    let (interleaved, channels) = match format(bytes)? {
        Format::Jpeg => {
            let space = if h.grey { ColorSpace::Luma } else { ColorSpace::RGB };
            let mut d = JpegDecoder::new_with_options(bytes, jpeg_options().jpeg_set_out_colorspace(space));
            let px = d.decode().map_err(|e| format!("is not a valid JPEG file: {e}"))?;
            (px, if h.grey { 1 } else { 3 })
        }
        Format::Png => {
            let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
            d.set_transformations(png::Transformations::normalize_to_color8());
            let mut r = d.read_info().map_err(|e| format!("is not a valid PNG file: {e}"))?;
            let size = r.output_buffer_size().ok_or("is a PNG file too large to decode")?;
            let mut px = vec![0u8; size];
            let info = r.next_frame(&mut px).map_err(|e| format!("is not a valid PNG file: {e}"))?;
            px.truncate(info.buffer_size());
            let channels = info.color_type.samples();
            (px, channels)
        }
    };
    let plane = h.width * h.height;
    if interleaved.len() != plane * channels {
        return Err(format!("decodes to {} bytes, expected {}", interleaved.len(), plane * channels));
    }
    // Colour channels are the first three (grey: the first); alpha is dropped. One pass per
    // source layout, as this runs for every pixel of every image.
    let (first, rest) = out[..c * plane].split_at_mut(plane);
    match (channels, c) {
        (1, 1) => first.copy_from_slice(&interleaved),
        (_, 1) => {
            for (d, px) in first.iter_mut().zip(interleaved.chunks_exact(channels)) {
                *d = px[0];
            }
        }
        (1 | 2, _) => {
            for (d, px) in first.iter_mut().zip(interleaved.chunks_exact(channels)) {
                *d = px[0];
            }
            let (g, b) = rest.split_at_mut(plane);
            g.copy_from_slice(first);
            b.copy_from_slice(first);
        }
        _ => {
            let (g, b) = rest.split_at_mut(plane);
            for (i, px) in interleaved.chunks_exact(channels).enumerate() {
                first[i] = px[0];
                g[i] = px[1];
                b[i] = px[2];
            }
        }
    }
    Ok(())
}

/// Decodes `images` (all the same size) into one buffer, resized to `size × size` if given,
/// using every core. Errors name the first bad image in input order.
pub(crate) fn decode_all(images: &[Encoded<'_>], size: Option<usize>) -> Result<Decoded, NodeFailure> {
    let fail = |img: &Encoded<'_>, what: String| NodeFailure::new(format!("{} {what}", img.name));
    let first = images.first().ok_or_else(|| NodeFailure::new("there are no images to decode"))?;
    let mut headers = Vec::with_capacity(images.len());
    for img in images {
        let h = header(img.bytes).map_err(|e| fail(img, e))?;
        if (h.width, h.height) != (headers.first().map_or((h.width, h.height), |f: &Header| (f.width, f.height))) {
            let f = headers[0];
            return Err(fail(
                img,
                format!(
                    "is {}×{}, but {} is {}×{}: all images must have the same size",
                    h.width, h.height, first.name, f.width, f.height
                ),
            ));
        }
        headers.push(h);
    }
    let c = if headers.iter().all(|h| h.grey) { 1 } else { 3 };
    let (w, h) = (headers[0].width, headers[0].height);
    let (out_h, out_w) = size.map_or((h, w), |s| (s, s));
    // Pillow's resize to the same size is the identity.
    let resizing = (out_h, out_w) != (h, w);
    let per = c * out_h * out_w;
    let mut pixels = vec![0u8; images.len() * per];
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let chunk = images.len().div_ceil(threads).max(1);
    let errors: Vec<Option<NodeFailure>> = std::thread::scope(|s| {
        let workers: Vec<_> = pixels
            .chunks_mut(chunk * per)
            .zip(images.chunks(chunk).zip(headers.chunks(chunk)))
            .map(|(out, (imgs, hdrs))| {
                s.spawn(move || {
                    let mut planes = vec![0u8; c * h * w];
                    for ((img, hd), out) in imgs.iter().zip(hdrs).zip(out.chunks_exact_mut(per)) {
                        let target: &mut [u8] = if resizing { &mut planes } else { &mut *out };
                        if let Err(e) = decode_planar(img.bytes, hd, c, target) {
                            return Some(fail(img, e));
                        }
                        if resizing {
                            for (src, dst) in planes.chunks_exact(h * w).zip(out.chunks_exact_mut(out_h * out_w)) {
                                dst.copy_from_slice(&resize::resize_bilinear(src, h, w, out_h, out_w));
                            }
                        }
                    }
                    None
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Some(NodeFailure::new("an image decoder panicked"))))
            .collect()
    });
    if let Some(e) = errors.into_iter().flatten().next() {
        return Err(e);
    }
    Ok(Decoded { pixels, shape: [c, out_h, out_w] })
}
