//! PIL's bilinear resize of 8-bit grey images (`Image.resize(size, BILINEAR)`), the resize the
//! reference's torchvision pipeline applies to MNIST-family images (datasets.md §2.2).
//!
//! Reproduces Pillow's separable resampling for 8-bit images: a triangle filter of support 1
//! (widened by the scale factor when down-sampling), sample centres at half pixels, weights
//! normalised per output pixel and quantised to fixed point with 22 fractional bits, the
//! horizontal pass first and each pass rounded and clamped to `u8`.

/// Fractional bits of Pillow's fixed-point weights for 8-bit images (32 − 8 − 2).
const PRECISION_BITS: u32 = 22;

/// The triangle ("bilinear") filter.
fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Per output pixel: the first input pixel and the fixed-point weights of its window.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i64>)> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // Pillow truncates `c ± support + 0.5` towards zero, then clamps to the image.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (xmin..xmax).map(|x| triangle((x as f64 - center + 0.5) / filter_scale)).collect();
            let total: f64 = raw.iter().sum();
            let one = f64::from(1u32 << PRECISION_BITS);
            let fixed = raw
                .iter()
                .map(|w| {
                    let w = if total != 0.0 { w / total } else { *w };
                    // Round half away from zero, as Pillow does.
                    if w < 0.0 {
                        (-0.5 + w * one) as i64
                    } else {
                        (0.5 + w * one) as i64
                    }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

/// Applies one pass of fixed-point weights, rounding and clamping to `u8`.
fn apply(window: impl Iterator<Item = u8>, weights: &[i64]) -> u8 {
    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
    for (p, w) in window.zip(weights) {
        acc += i64::from(p) * w;
    }
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes one row-major `h × w` grey image to `out_h × out_w`.
pub(crate) fn resize_bilinear(pixels: &[u8], h: usize, w: usize, out_h: usize, out_w: usize) -> Vec<u8> {
    debug_assert_eq!(pixels.len(), h * w);
    let horizontal = coefficients(w, out_w);
    let mut tmp = vec![0u8; h * out_w];
    for y in 0..h {
        let row = &pixels[y * w..(y + 1) * w];
        for (x, (start, weights)) in horizontal.iter().enumerate() {
            tmp[y * out_w + x] = apply(row[*start..].iter().copied(), weights);
        }
    }
    let vertical = coefficients(h, out_h);
    let mut out = vec![0u8; out_h * out_w];
    for (y, (start, weights)) in vertical.iter().enumerate() {
        for x in 0..out_w {
            let column = (*start..h).map(|yy| tmp[yy * out_w + x]);
            out[y * out_w + x] = apply(column, weights);
        }
    }
    out
}
