//! Decoding JPEG and PNG files (recognised by their magic bytes, not their names) into one
//! `u8 [N, C, H, W]` buffer, in parallel, optionally resized with Pillow's bilinear filter (the
//! reference's deterministic resize, datasets.md §2.2).
//!
//! JPEG pixels are bit-identical to Pillow's: the decoder is libjpeg-turbo's (as built into
//! MozJPEG, linked statically by `mozjpeg-sys`), run with Pillow's settings.
//!
//! All images of a dataset must have the same size (the stored tensor is dense). Grey images are
//! stored with one channel when every image is grey, else expanded to RGB; alpha is dropped,
//! as PIL's `convert("RGB")` does.

use std::ffi::{c_int, c_ulong, CStr};
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};

use mozjpeg_sys::{
    jpeg_common_struct, jpeg_create_decompress, jpeg_decompress_struct, jpeg_destroy_decompress, jpeg_error_mgr,
    jpeg_finish_decompress, jpeg_mem_src, jpeg_read_header, jpeg_read_scanlines, jpeg_start_decompress, jpeg_std_error,
    JCS_CMYK, JCS_GRAYSCALE, JCS_RGB, JDIMENSION, JWRN_ADOBE_XFORM, JWRN_JFIF_MAJOR, J_DCT_METHOD,
};

use super::resize;
use crate::artifact::NodeFailure;

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

// libjpeg reports errors by unwinding (`JpegError`), which `panic = "abort"` would turn into an
// abort of the whole process on the first corrupt file.
#[cfg(panic = "abort")]
compile_error!(
    "JPEG decoding (torch/data/image.rs) reports libjpeg errors by unwinding: build with panic = \"unwind\""
);

/// `JMSG_LENGTH_MAX` (jpeglib.h): the size of the buffer libjpeg's `format_message` writes into.
const JMSG_LENGTH_MAX: usize = 200;

/// A libjpeg error (or strict-mode warning) on its way from libjpeg's callbacks, which must not
/// return, to `decode_jpeg`. It travels by unwinding through libjpeg's C frames, which is defined
/// behaviour here: mozjpeg-sys's `unwinding` feature compiles them with `-fexceptions` and
/// declares every libjpeg function and callback `C-unwind`, and C frames have nothing to drop.
/// libjpeg keeps all its memory in pools that `jpeg_destroy_decompress` frees afterwards, as
/// after the `longjmp` its own documentation uses for the same purpose.
struct JpegError(String);

/// libjpeg's text for the message in `cinfo.err` (message code and parameters).
fn jpeg_message(cinfo: &mut jpeg_common_struct) -> String {
    let unknown = || "unknown libjpeg error".to_string();
    // SAFETY: `err` points at the error manager that `decode_jpeg` set up, alive during the
    // decode, which is the only time libjpeg calls back.
    let Some(format) = (unsafe { (*cinfo.err).format_message }) else { return unknown() };
    let mut buf = [0u8; JMSG_LENGTH_MAX];
    // SAFETY: libjpeg's `format_message` (jerror.c) is `void (j_common_ptr, char *)` and writes
    // at most JMSG_LENGTH_MAX bytes, NUL included. The binding types the buffer `&[u8; 80]`, too
    // small and read-only, so the function is called through its C type instead: same ABI, both
    // arguments being thin pointers.
    unsafe {
        let format = std::mem::transmute::<
            unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &[u8; 80]),
            unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8),
        >(format);
        format(cinfo, buf.as_mut_ptr());
    }
    CStr::from_bytes_until_nul(&buf).map_or_else(|_| unknown(), |s| s.to_string_lossy().into_owned())
}

/// libjpeg's `error_exit`: unwinds to `decode_jpeg` with the message. `resume_unwind`, unlike
/// `panic!`, skips the panic hook, so nothing is printed.
extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    panic::resume_unwind(Box::new(JpegError(jpeg_message(cinfo))));
}

/// libjpeg's `emit_message`, the strict mode. Trace messages (level ≥ 0) are ignored. Warnings
/// (level -1) report corrupt or missing data (premature end of file, bad Huffman code, ...) that
/// libjpeg patches over, with grey blocks if need be: they are errors here, except the two about
/// metadata only (unknown Adobe transform code, unknown JFIF revision), which leave the pixels
/// as Pillow decodes them.
extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: as in `jpeg_message`.
    let code = unsafe { (*cinfo.err).msg_code };
    // (mozjpeg-sys's message codes after JERR_BAD_CROP_SPEC are off by two with `arith_dec`,
    // which adds two; these two come before it.)
    if level < 0 && code != JWRN_ADOBE_XFORM && code != JWRN_JFIF_MAJOR {
        error_exit(cinfo);
    }
}

/// Decodes a JPEG exactly as Pillow does: libjpeg-turbo's decoder with libjpeg's defaults, which
/// Pillow keeps (integer IDCT `JDCT_ISLOW`, fancy upsampling, block smoothing), into interleaved
/// rows, grey (1 sample per pixel) or RGB (3). CMYK and YCCK files come out as RGB, converted as
/// Pillow's `convert("RGB")` does (`cmyk_to_rgb`). Returns the samples and samples per pixel.
fn decode_jpeg(bytes: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let len = c_ulong::try_from(bytes.len()).map_err(|_| "is a JPEG file too large to decode".to_string())?;
    // SAFETY: both are plain C structs for which all-zero bytes are valid (null pointers, `None`
    // callbacks, zero numbers, the enums' zero variants), and the state libjpeg expects before
    // `jpeg_std_error` and `jpeg_create_decompress`.
    let (mut err, mut cinfo) =
        unsafe { (std::mem::zeroed::<jpeg_error_mgr>(), std::mem::zeroed::<jpeg_decompress_struct>()) };
    // SAFETY: only fills in `err` (default methods, message table).
    unsafe { jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(emit_message);
    cinfo.common.err = &mut err;
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY (each libjpeg call in this closure): `cinfo` has an error manager whose
        // `error_exit` never returns, and the calls come in libjpeg's documented order
        // (libjpeg.txt, "Decompression details"). `bytes` outlives every use of `cinfo`, which is
        // destroyed before `decode_jpeg` returns.
        unsafe {
            jpeg_create_decompress(&mut cinfo);
            jpeg_mem_src(&mut cinfo, bytes.as_ptr(), len);
            jpeg_read_header(&mut cinfo, 1);
        }
        let (space, channels) = match cinfo.num_components {
            1 => (JCS_GRAYSCALE, 1),
            3 => (JCS_RGB, 3),
            4 => (JCS_CMYK, 4),
            n => return Err(format!("is a JPEG file with {n} colour components (only 1, 3 and 4 are supported)")),
        };
        // Pillow's settings, all libjpeg's defaults but the output colour space; set anyway, as
        // the pixels depend on them.
        cinfo.out_color_space = space;
        cinfo.dct_method = J_DCT_METHOD::JDCT_ISLOW;
        cinfo.do_fancy_upsampling = 1;
        cinfo.do_block_smoothing = 1;
        // SAFETY: as above.
        unsafe { jpeg_start_decompress(&mut cinfo) };
        if cinfo.output_components != channels as c_int {
            return Err(format!("decodes to {} channels, expected {channels}", cinfo.output_components));
        }
        let (w, h) = (cinfo.output_width as usize, cinfo.output_height as usize);
        let mut px = vec![0u8; w * h * channels];
        let mut rows: Vec<*mut u8> = px.chunks_exact_mut(w * channels).map(<[u8]>::as_mut_ptr).collect();
        while (cinfo.output_scanline as usize) < h {
            let done = cinfo.output_scanline as usize;
            // SAFETY: as above; `rows[done..]` are `h - done` pointers to distinct rows of `px`,
            // each `output_width × output_components` bytes long, which is what libjpeg writes.
            let n = unsafe { jpeg_read_scanlines(&mut cinfo, rows[done..].as_mut_ptr(), (h - done) as JDIMENSION) };
            if n == 0 {
                return Err("is not a valid JPEG file: the decoder returned no rows".into());
            }
        }
        // SAFETY: as above.
        unsafe { jpeg_finish_decompress(&mut cinfo) };
        Ok(if channels == 4 { (cmyk_to_rgb(&px), 3) } else { (px, channels) })
    }));
    // SAFETY: frees what libjpeg allocated, after success or after an error in any step above
    // (an unwind leaves the state libjpeg's own longjmp recovery leaves); a no-op if
    // `jpeg_create_decompress` did not finish (`cinfo.common.mem` is then null).
    unsafe { jpeg_destroy_decompress(&mut cinfo) };
    match result {
        Ok(decoded) => decoded,
        Err(payload) => match payload.downcast::<JpegError>() {
            Ok(e) => Err(format!("is not a valid JPEG file: {}", e.0)),
            Err(other) => panic::resume_unwind(other),
        },
    }
}

/// Pillow's RGB of libjpeg's CMYK samples: inverted first (raw mode `CMYK;I`: Pillow always
/// assumes Adobe's inverted convention), then its `cmyk2rgb` (Convert.c),
/// `nk - c·nk/255` with `nk = 255 - k`, rounded as its `MULDIV255` does.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let muldiv255 = |a: u32, b: u32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        // Pillow's k is 255 - px[3], so its nk = 255 - k is px[3].
        let nk = u32::from(px[3]);
        // muldiv255(c, nk) ≤ nk, so no underflow and the result fits a byte.
        rgb.extend(px[..3].iter().map(|&c| (nk - muldiv255(255 - u32::from(c), nk)) as u8));
    }
    rgb
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
        Format::Jpeg => decode_jpeg(bytes)?,
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
    let fail = |img: &Encoded<'_>, what: String| NodeFailure::invalid_data(format!("{} {what}", img.name));
    let first = images.first().ok_or_else(|| NodeFailure::invalid_data("there are no images to decode"))?;
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use sha2::{Digest, Sha256};

    use super::{cmyk_to_rgb, decode_all, Decoded, Encoded};

    fn decode(images: &[(&str, &[u8])]) -> Result<Decoded, String> {
        let images: Vec<Encoded<'_>> =
            images.iter().map(|&(name, bytes)| Encoded { name: name.to_string(), bytes }).collect();
        decode_all(&images, None).map_err(|e| e.message)
    }

    /// A flat `w × h` JPEG of one colour, as `jpeg-encoder` writes it.
    fn flat(w: u16, h: u16, colour: &[u8], kind: jpeg_encoder::ColorType) -> Vec<u8> {
        let data: Vec<u8> = (0..usize::from(w) * usize::from(h)).flat_map(|_| colour.iter().copied()).collect();
        let mut out = vec![];
        jpeg_encoder::Encoder::new(&mut out, 90).encode(&data, w, h, kind).unwrap();
        out
    }

    /// Every JPEG of the shared CIFAR-10 archive (data/README.md; `MUNL_DATA`, as set by
    /// scripts/with-torch) decodes to Pillow's pixels, byte for byte. The numbers come from
    /// Pillow 13.0.0 (libjpeg-turbo 3.2.0): the images in archive order, each as its R, G and B
    /// planes, concatenated. To recompute them:
    ///
    /// ```text
    /// scripts/with-torch python3 -c '
    /// import hashlib, sys, tarfile; from PIL import Image
    /// t, h, n, s = tarfile.open(sys.argv[1]), hashlib.sha256(), 0, 0
    /// for m in t:
    ///     if m.isfile() and m.name.endswith(".jpg"):
    ///         b = b"".join(c.tobytes() for c in Image.open(t.extractfile(m)).convert("RGB").split())
    ///         h.update(b); n += 1; s += sum(b)
    /// print(n, s, h.hexdigest())' "$MUNL_DATA/cifar10-jpeg/cifar10-jpeg.tar.gz"
    /// ```
    #[test]
    fn jpeg_pixels_equal_pillows_on_cifar10() {
        let Some(path) = crate::torch::data::testing::shared_data("cifar10-jpeg/cifar10-jpeg.tar.gz") else {
            return;
        };
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()));
        let mut files = vec![];
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".jpg") {
                let mut bytes = vec![];
                entry.read_to_end(&mut bytes).unwrap();
                files.push((name, bytes));
            }
        }
        let images: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let d = decode(&images).unwrap();
        assert_eq!(d.shape, [3, 32, 32]);
        let sum: u64 = d.pixels.iter().map(|&p| u64::from(p)).sum();
        let sha = format!("{:x}", Sha256::digest(&d.pixels));
        assert_eq!(
            (images.len(), sum, sha.as_str()),
            (60_000, 22_270_452_944, "26b55cddafdea9cce1fa4f511911da5fdd4017bcdb1dde8746a837f6bed70ee6")
        );
    }

    /// Grey JPEGs stay one channel unless mixed with colour ones; CMYK ones become Pillow's RGB.
    #[test]
    fn jpeg_grey_and_cmyk() {
        use jpeg_encoder::ColorType::{Cmyk, Luma, Rgb};
        let grey = flat(8, 8, &[77], Luma);
        let d = decode(&[("g.jpg", &grey)]).unwrap();
        assert_eq!(d.shape, [1, 8, 8]);
        assert!(d.pixels.iter().all(|&p| p.abs_diff(77) <= 1), "{:?}", d.pixels);
        let rgb = flat(8, 8, &[200, 100, 50], Rgb);
        let d = decode(&[("g.jpg", &grey), ("c.jpg", &rgb)]).unwrap();
        assert_eq!(d.shape, [3, 8, 8]);
        let (g, c) = d.pixels.split_at(3 * 64);
        assert!(g.iter().all(|&p| p.abs_diff(77) <= 1), "{g:?}");
        for (plane, want) in c.chunks_exact(64).zip([200u8, 100, 50]) {
            assert!(plane.iter().all(|&p| p.abs_diff(want) <= 2), "{plane:?}, expected about {want}");
        }
        // Pillow 13.0.0 reads this file as CMYK (30, 60, 90, 40) and converts it to RGB
        // (190, 164, 139).
        let cmyk = flat(16, 16, &[30, 60, 90, 40], Cmyk);
        let d = decode(&[("k.jpg", &cmyk)]).unwrap();
        assert_eq!(d.shape, [3, 16, 16]);
        for (plane, want) in d.pixels.chunks_exact(256).zip([190u8, 164, 139]) {
            assert!(plane.iter().all(|&p| p.abs_diff(want) <= 1), "{plane:?}, expected about {want}");
        }
    }

    /// libjpeg's CMYK samples to RGB, against Pillow 13.0.0:
    /// `Image.new("CMYK", (1, 1), tuple(255 - v for v in s)).convert("RGB")` (Pillow inverts
    /// libjpeg's samples `s`).
    #[test]
    fn cmyk_to_rgb_is_pillows() {
        let cases: [([u8; 4], [u8; 3]); 6] = [
            ([0, 0, 0, 0], [0, 0, 0]),
            ([255, 255, 255, 255], [255, 255, 255]),
            ([10, 200, 30, 128], [5, 100, 15]),
            ([255, 0, 128, 64], [64, 0, 32]),
            ([77, 154, 231, 250], [75, 151, 226]),
            ([1, 2, 3, 4], [0, 0, 0]),
        ];
        let cmyk: Vec<u8> = cases.iter().flat_map(|c| c.0).collect();
        let rgb: Vec<u8> = cases.iter().flat_map(|c| c.1).collect();
        assert_eq!(cmyk_to_rgb(&cmyk), rgb);
    }

    /// Truncated or corrupt JPEGs are errors naming the file and libjpeg's complaint, never
    /// grey-filled images.
    #[test]
    fn bad_jpegs_are_errors() {
        let noise: Vec<u8> = (0..32 * 32 * 3).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let mut good = vec![];
        jpeg_encoder::Encoder::new(&mut good, 90).encode(&noise, 32, 32, jpeg_encoder::ColorType::Rgb).unwrap();
        assert!(decode(&[("good.jpg", &good)]).is_ok());

        let e = decode(&[("good.jpg", &good), ("cut.jpg", &good[..good.len() / 2])]).err().unwrap();
        assert_eq!(e, "cut.jpg is not a valid JPEG file: Premature end of JPEG file");
        // The end-of-image marker alone missing.
        let e = decode(&[("cut.jpg", &good[..good.len() - 2])]).err().unwrap();
        assert!(e.contains("cut.jpg") && e.contains("Premature end of JPEG file"), "{e}");

        // A fatal error (not a warning): 12-bit samples, in the frame header.
        let mut bad = good.clone();
        let sof = bad.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bad[sof + 4] = 12;
        let e = decode(&[("deep.jpg", &bad)]).err().unwrap();
        assert_eq!(e, "deep.jpg is not a valid JPEG file: Unsupported JPEG data precision 12");

        // Garbage in the entropy-coded data.
        let mut bad = good.clone();
        let sos = bad.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for b in &mut bad[sos + 40..sos + 60] {
            *b = 0xFF;
        }
        let e = decode(&[("junk.jpg", &bad)]).err().unwrap();
        assert!(e.starts_with("junk.jpg is not a valid JPEG file: Corrupt JPEG data"), "{e}");
    }
}
