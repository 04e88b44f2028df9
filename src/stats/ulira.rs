//! The U-LiRA membership statistic (evaluation.md §7.3–7.4): per pool sample, a Gaussian fitted
//! to its scores in the runs where it was forgotten and one fitted to its scores in the runs
//! where it was never seen, the membership probability of every case under those two
//! Gaussians, and the summaries of §7.4 with sample-level confidence intervals.
//!
//! The pieces, in the order the engine uses them:
//! * [`PoolScores`]: what one model's prediction node stores — per sample of the dataset, whether
//!   the argmax is right and the logit-scaled confidence — with [`PoolScores::from_logits`] to
//!   compute it and a safetensors encoding ([`PoolScores::to_safetensors`]) to keep it.
//! * [`RunRoles`]: which samples a run (s, f) forgot and which it never saw, from its split.
//! * [`attack`]: the reference's statistic over a family's runs ([`Run`]), for either
//!   [`Statistic`], giving one [`SampleAttack`] per sample.
//! * [`summarize`]: mean membership probability, balanced accuracy, ROC-AUC and NaN fractions
//!   ([`UliraSummary`]).
//!
//! Numerics follow the reference's NumPy/SciPy calls operation for operation (`np.mean`,
//! `np.std`, `scipy.stats.norm.pdf`), so NaN appears exactly where the reference has it; see
//! [`Gaussian::density`] and [`membership_probability`]. No torch, no I/O.
#![cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "used by the torch backend (absent without the `torch` feature); accessors serve the tests"
    )
)]

use std::fmt;

use super::summary::{numpy_mean, numpy_sum};

/// z₀.₉₇₅ of the standard normal.
const Z_975: f64 = 1.959_963_984_540_054;

/// SciPy's `_norm_pdf_C = np.sqrt(2 * np.pi)`, the normal density's normaliser, as a float64.
const SQRT_2PI: f64 = 2.506_628_274_631_000_2;

/// Which per-case score the attack models with Gaussians.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Statistic {
    /// 1 if the model's argmax is the label, else 0: what the reference computes **[QUIRK]**.
    Correctness,
    /// log(p_y / (1 − p_y)), the classic LiRA / U-LiRA score of Hayes et al. (2024).
    LogitConfidence,
}

impl Statistic {
    /// The score of sample `x` under `scores`, as a float64.
    fn value(self, scores: &PoolScores, x: usize) -> f64 {
        match self {
            Self::Correctness => {
                if scores.correct[x] {
                    1.0
                } else {
                    0.0
                }
            }
            Self::LogitConfidence => f64::from(scores.confidence[x]),
        }
    }
}

/// One model's per-sample scores over a whole dataset (indexed by global sample index): what a
/// U-LiRA prediction node stores.
///
/// Invariant: `correct` and `confidence` have the same length.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PoolScores {
    correct: Vec<bool>,
    confidence: Vec<f32>,
}

/// The `format` entry of the safetensors metadata of [`PoolScores`].
const SCORES_FORMAT: &str = "munl-ulira-scores";
/// The `version` entry of the safetensors metadata; bump on any layout change.
const SCORES_VERSION: &str = "1";

impl PoolScores {
    /// Scores from their two columns; `None` when the lengths differ.
    pub(crate) fn new(correct: Vec<bool>, confidence: Vec<f32>) -> Option<Self> {
        (correct.len() == confidence.len()).then_some(Self { correct, confidence })
    }

    /// Scores of a model from its logits (row-major `[labels.len(), classes]`) and the labels.
    ///
    /// * `correct`: whether the label is the argmax, with the reference's semantics: it takes
    ///   `np.argmax` of torch's float32 softmax, which is the first maximal logit, except that a
    ///   row holding NaN or +∞, or only −∞, has an all-NaN softmax whose `np.argmax` is 0 — a
    ///   diverged model is "right" exactly on class 0 **[QUIRK]**. (Taking the argmax of the
    ///   logits instead of the rounded probabilities differs only where two logits are within
    ///   float32 rounding of each other.)
    /// * `confidence`: log(p_y / (1 − p_y)) computed as `logit_y − logsumexp(other logits)` in
    ///   float64, then rounded to float32. This is exact algebra, stable at any margin (a
    ///   float32 p_y of 1 would give +∞ through the probabilities) and finite for finite logits;
    ///   NaN if any logit is NaN, ±∞ where the probability is exactly 1 or 0.
    pub(crate) fn from_logits(logits: &[f32], classes: usize, labels: &[i64]) -> Result<Self, UliraError> {
        if classes < 2 || Some(logits.len()) != labels.len().checked_mul(classes) {
            return Err(UliraError::LogitsShape { len: logits.len(), classes, samples: labels.len() });
        }
        let mut correct = Vec::with_capacity(labels.len());
        let mut confidence = Vec::with_capacity(labels.len());
        for (sample, (row, &label)) in logits.chunks_exact(classes).zip(labels).enumerate() {
            let y = usize::try_from(label).ok().filter(|&y| y < classes).ok_or(UliraError::Label {
                sample,
                label,
                classes,
            })?;
            correct.push(reference_argmax(row) == y);
            // Rounding to the stored precision is the point of the cast.
            confidence.push(logit_confidence(row, y) as f32);
        }
        Ok(Self { correct, confidence })
    }

    /// Number of samples.
    pub(crate) fn len(&self) -> usize {
        self.correct.len()
    }

    /// Whether there are no samples.
    pub(crate) fn is_empty(&self) -> bool {
        self.correct.is_empty()
    }

    /// Whether the model's argmax is right on sample `x`.
    pub(crate) fn correct(&self, x: usize) -> bool {
        self.correct[x]
    }

    /// The logit-scaled confidence on sample `x`.
    pub(crate) fn confidence(&self, x: usize) -> f32 {
        self.confidence[x]
    }

    /// The scores as a safetensors file: tensors `confidence` (F32 `[n]`) and `correct`
    /// (BOOL `[n]`, one byte 0/1 each) in that data order, metadata
    /// `{"format": "munl-ulira-scores", "version": "1"}`, the header padded with spaces to a
    /// multiple of 8 bytes, as the `safetensors` package writes it (8-byte little-endian header
    /// length, JSON header, contiguous data). Deterministic: same scores, same bytes.
    pub(crate) fn to_safetensors(&self) -> Vec<u8> {
        let n = self.len();
        let (c_end, end) = (4 * n, 5 * n);
        let mut header = format!(
            "{{\"__metadata__\":{{\"format\":\"{SCORES_FORMAT}\",\"version\":\"{SCORES_VERSION}\"}},\
             \"confidence\":{{\"dtype\":\"F32\",\"shape\":[{n}],\"data_offsets\":[0,{c_end}]}},\
             \"correct\":{{\"dtype\":\"BOOL\",\"shape\":[{n}],\"data_offsets\":[{c_end},{end}]}}}}"
        );
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + end);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for c in &self.confidence {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.extend(self.correct.iter().map(|&b| u8::from(b)));
        out
    }

    /// Reads what [`to_safetensors`](Self::to_safetensors) writes. Strict: the metadata must
    /// name this format and version, the two tensors (and nothing else) must be 1-D of the same
    /// length with the right dtypes, their data must fill the buffer without overlap, and every
    /// BOOL byte must be 0 or 1.
    pub(crate) fn from_safetensors(bytes: &[u8]) -> Result<Self, ScoresError> {
        let len: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or(ScoresError::Truncated)?;
        let header_len = usize::try_from(u64::from_le_bytes(len))
            .ok()
            .filter(|&h| h <= bytes.len() - 8)
            .ok_or(ScoresError::Truncated)?;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len])
            .map_err(|e| ScoresError::Header(format!("the header is not JSON: {e}")))?;
        let map = header.as_object().ok_or_else(|| ScoresError::Header("the header is not an object".into()))?;
        if let Some(key) = map.keys().find(|k| !["__metadata__", "confidence", "correct"].contains(&k.as_str())) {
            return Err(ScoresError::Header(format!("unexpected entry `{key}`")));
        }
        let meta = &map.get("__metadata__").cloned().unwrap_or_default();
        if meta["format"] != SCORES_FORMAT || meta["version"] != SCORES_VERSION {
            return Err(ScoresError::Header(format!(
                "the metadata does not name format `{SCORES_FORMAT}` version `{SCORES_VERSION}`"
            )));
        }
        let data = &bytes[8 + header_len..];
        let (n, conf) = tensor_entry(map, "confidence", "F32", 4)?;
        let (n_correct, corr) = tensor_entry(map, "correct", "BOOL", 1)?;
        if n != n_correct {
            return Err(ScoresError::Header(format!("`confidence` has {n} entries, `correct` {n_correct}")));
        }
        let (lo, hi) = if conf.start <= corr.start { (&conf, &corr) } else { (&corr, &conf) };
        // Both lengths are checked against n, so adjacency from 0 to data.len() means no holes or
        // overlap (the safetensors rule).
        if lo.start != 0 || lo.end != hi.start || hi.end != data.len() {
            return Err(ScoresError::Size { expected: conf.len() + corr.len(), actual: data.len() });
        }
        let confidence = data[conf]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("chunks of four bytes")))
            .collect();
        let correct = data[corr]
            .iter()
            .enumerate()
            .map(|(sample, &byte)| match byte {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(ScoresError::NotBool { sample, byte }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { correct, confidence })
    }
}

/// Length and byte range (relative to the data) of the 1-D tensor `name` of dtype `dtype`.
fn tensor_entry(
    map: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    dtype: &str,
    width: usize,
) -> Result<(usize, std::ops::Range<usize>), ScoresError> {
    let bad = |what: &str| ScoresError::Header(format!("tensor `{name}`: {what}"));
    let entry = map.get(name).ok_or_else(|| bad("missing"))?;
    if entry["dtype"] != dtype {
        return Err(bad(&format!("dtype is not {dtype}")));
    }
    let shape = entry["shape"].as_array().ok_or_else(|| bad("no shape"))?;
    let n = match shape.as_slice() {
        [d] => d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(|| bad("bad shape"))?,
        _ => return Err(bad("not one-dimensional")),
    };
    let offsets: Option<Vec<usize>> = entry["data_offsets"]
        .as_array()
        .and_then(|a| a.iter().map(|o| o.as_u64().and_then(|o| usize::try_from(o).ok())).collect());
    let Some([start, end]) = offsets.as_deref().and_then(|o| <[usize; 2]>::try_from(o).ok()) else {
        return Err(bad("bad data_offsets"));
    };
    if start > end || Some(end - start) != n.checked_mul(width) {
        return Err(bad("data_offsets do not match the shape"));
    }
    Ok((n, start..end))
}

/// `np.argmax(softmax(row))` as the reference gets it (see [`PoolScores::from_logits`]).
fn reference_argmax(row: &[f32]) -> usize {
    if row.iter().any(|v| v.is_nan() || *v == f32::INFINITY) || row.iter().all(|v| *v == f32::NEG_INFINITY) {
        return 0;
    }
    let mut best = 0;
    for (j, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = j;
        }
    }
    best
}

/// `logit_y − logsumexp_{j≠y} logit_j` in float64 (see [`PoolScores::from_logits`]).
fn logit_confidence(row: &[f32], y: usize) -> f64 {
    if row.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let others = || row.iter().enumerate().filter(move |&(j, _)| j != y).map(|(_, &v)| f64::from(v));
    let m = others().fold(f64::NEG_INFINITY, f64::max);
    // With a finite maximum the sum is at least 1 (the maximum's own term), so the log is exact
    // to rounding; an infinite maximum is the log-sum itself.
    let lse = if m.is_infinite() { m } else { m + others().map(|v| (v - m).exp()).sum::<f64>().ln() };
    f64::from(row[y]) - lse
}

/// A sample's part in one run (s, f) of the attack (datasets.md §4, "Per-sample bookkeeping").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// x ∈ forget_{s,f}.
    Forgotten,
    /// x ∈ OUT_s (the run's test set).
    NeverSeen,
    /// Retained, or outside the LiRA pool (LiRA-val, the official test part): not scored.
    Other,
}

/// The [`Role`] of every sample of the dataset in one run, indexed by global sample index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunRoles(Vec<Role>);

impl RunRoles {
    /// Roles of a dataset of `n` samples in a run that forgot `forget` and never saw
    /// `never_seen` (global indices, e.g. a U-LiRA split's `forget` and `test`); every other
    /// sample is [`Role::Other`]. Indices outside `0..n` and a sample in both sets (the
    /// reference asserts against it) are errors; repeats are harmless.
    pub(crate) fn new(n: usize, forget: &[i64], never_seen: &[i64]) -> Result<Self, UliraError> {
        let mut roles = vec![Role::Other; n];
        let position =
            |index: i64| usize::try_from(index).ok().filter(|&x| x < n).ok_or(UliraError::Index { index, n });
        for &index in forget {
            roles[position(index)?] = Role::Forgotten;
        }
        for &index in never_seen {
            let x = position(index)?;
            if roles[x] == Role::Forgotten {
                return Err(UliraError::Overlap { sample: x });
            }
            roles[x] = Role::NeverSeen;
        }
        Ok(Self(roles))
    }

    /// Number of samples.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no samples.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The role of sample `x`.
    pub(crate) fn role(&self, x: usize) -> Role {
        self.0[x]
    }
}

/// One run (s, f) of a model family: which samples it forgot or never saw, and the scores of
/// that family's model for the run (O_{s,f}, R_{s,f} or U^M_{s,f}).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run<'a> {
    pub roles: &'a RunRoles,
    pub scores: &'a PoolScores,
}

/// A normal distribution fitted by moments, as the reference's `np.mean` / `np.std` (ddof 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Gaussian {
    /// Number of values fitted.
    pub n: usize,
    /// `np.mean`: NaN for no values.
    pub mean: f64,
    /// `np.std` (population): 0 for one value or identical binary values, NaN for no values.
    pub std: f64,
}

impl Gaussian {
    /// The moment fit of `values`, with NumPy's operations and summation order: mean =
    /// pairwise sum / n; std = √(pairwise sum of (v − mean)² / n). For 0/1 values this is the
    /// reference's `np.mean`/`np.std` of a bool list to the last bit (the bool sum is exact in
    /// any order, and NumPy squares `bool − mean` as float64). Constant non-binary values may
    /// give a tiny positive std where the mean rounds (as NumPy does), not 0.
    pub(crate) fn fit(values: &[f64]) -> Self {
        let n = values.len();
        let mean = numpy_mean(values);
        let squares: Vec<f64> = values.iter().map(|v| (v - mean) * (v - mean)).collect();
        // 0 / 0 = NaN for no values, as `np.std([])`.
        let std = (numpy_sum(&squares) / n as f64).sqrt();
        Self { n, mean, std }
    }

    /// `scipy.stats.norm.pdf(z, mean, std)`: `exp(−x²/2) / √(2π) / std` with x = (z − mean)/std,
    /// in SciPy's operation order (agreeing to the last bit where NumPy's `exp` is the C
    /// library's, within an ulp or so where NumPy uses its own AVX-512 kernel).
    ///
    /// NaN rules, SciPy's: the density is computed only where `std > 0`; a std of 0 or NaN
    /// gives `badvalue` = NaN, as does a NaN x (NaN z or mean). An infinite x (z = ±∞ with a
    /// finite fit) lies outside the support's open interval and gives 0, as does underflow.
    pub(crate) fn density(&self, z: f64) -> f64 {
        if self.std.is_nan() || self.std <= 0.0 {
            return f64::NAN;
        }
        let x = (z - self.mean) / self.std;
        (-(x * x) / 2.0).exp() / SQRT_2PI / self.std
    }
}

/// The reference's membership probability of a case with score `z`:
/// `φ(z; F) / (φ(z; F) + φ(z; N))`, IEEE arithmetic throughout as NumPy's float64 scalars.
///
/// NaN exactly where the reference has it:
/// * either standard deviation 0 (e.g. the model is right on x in every forgotten run): that
///   density is NaN (see [`Gaussian::density`]), and NaN in the numerator or the denominator
///   makes the quotient NaN — so one degenerate side is enough;
/// * either set empty: `np.mean([])` and `np.std([])` are NaN, hence the density (the reference
///   scores no case of an empty forgotten set; an empty never-seen set makes all of x's P NaN);
/// * both densities 0 (underflow, |z − μ| > ~38.6 σ on both sides): 0 / 0. For 0/1 scores this
///   needs more than ~1 490 cases in a set (a score in a non-constant 0/1 sample of n lies
///   within √(n − 1) standard deviations of its mean), so it cannot occur in the reference's
///   setting (≈ 32 forgotten, ≈ 320 never-seen cases per sample); it can with
///   [`Statistic::LogitConfidence`];
/// * a NaN score (a NaN confidence of a diverged model) spreads to its sample's fits.
///
/// Otherwise P ∈ [0, 1]: 1 where only the never-seen density underflows, 0 where only the
/// forgotten one does.
pub(crate) fn membership_probability(z: f64, forgotten: &Gaussian, never_seen: &Gaussian) -> f64 {
    let f = forgotten.density(z);
    f / (f + never_seen.density(z))
}

/// The attack's result for one sample x.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SampleAttack {
    /// Global sample index.
    pub sample: usize,
    /// The fit on 𝔽(x), the scores of the runs where x is forgotten.
    pub forgotten: Gaussian,
    /// The fit on ℕ(x), the scores of the runs where x is never seen.
    pub never_seen: Gaussian,
    /// P of each forgotten case, in run order: the reference's output list for x.
    pub p_forgotten: Vec<f64>,
    /// P of each never-seen case, in run order, by the same formula and the same two fits (the
    /// negatives of the balanced accuracy and the AUC; not in the reference's output).
    pub p_never_seen: Vec<f64>,
}

/// The U-LiRA statistic of one model family (evaluation.md §7.3): for every sample that is
/// forgotten or never seen in at least one run, in increasing index order, fit a Gaussian on
/// its forgotten scores and one on its never-seen scores (in-sample), and score every case.
///
/// Pass the runs in (s, f) order, s then f, as the reference collects them: the P lists follow
/// run order, and the order of the squared deviations fixes the last bit of the std. Samples
/// never forgotten appear with an empty `p_forgotten` (the reference, which keys on never-seen
/// samples, would fail on a sample that is forgotten but never never-seen; here its P are NaN).
/// All runs must cover the same samples.
pub(crate) fn attack(runs: &[Run<'_>], statistic: Statistic) -> Result<Vec<SampleAttack>, UliraError> {
    let n = runs.first().map_or(0, |r| r.roles.len());
    for (run, r) in runs.iter().enumerate() {
        if r.roles.len() != n || r.scores.len() != n {
            return Err(UliraError::SampleCount { run, roles: r.roles.len(), scores: r.scores.len(), expected: n });
        }
    }
    let mut out = Vec::new();
    let (mut forgotten, mut never_seen) = (Vec::new(), Vec::new());
    for x in 0..n {
        forgotten.clear();
        never_seen.clear();
        for run in runs {
            match run.roles.role(x) {
                Role::Forgotten => forgotten.push(statistic.value(run.scores, x)),
                Role::NeverSeen => never_seen.push(statistic.value(run.scores, x)),
                Role::Other => {}
            }
        }
        if forgotten.is_empty() && never_seen.is_empty() {
            continue;
        }
        let (f, nv) = (Gaussian::fit(&forgotten), Gaussian::fit(&never_seen));
        out.push(SampleAttack {
            sample: x,
            forgotten: f,
            never_seen: nv,
            p_forgotten: forgotten.iter().map(|&z| membership_probability(z, &f, &nv)).collect(),
            p_never_seen: never_seen.iter().map(|&z| membership_probability(z, &f, &nv)).collect(),
        });
    }
    Ok(out)
}

/// A summary value and the half-width of its 95 % confidence interval over samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Estimate {
    pub value: f64,
    /// z₀.₉₇₅ · SE, SE the sample-clustered (delta-method) standard error; NaN when fewer than
    /// two samples contribute or the value is NaN.
    pub ci95: f64,
}

/// The §7.4 summaries of one family's attack.
///
/// NaN P values are left out of every summary and counted in the NaN fractions. Cases of one
/// sample share its fit and are correlated, so the confidence intervals treat samples as
/// clusters: for a summary θ with per-sample influence u_x (its linearisation),
/// SE² = G/(G − 1) · Σ_x u_x² over the G samples with at least one counted case — a normal
/// approximation, deterministic (no resampling), cheap at 47 500 samples × 352 cases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct UliraSummary {
    /// Samples in the attack.
    pub samples: usize,
    /// Forgotten (x, run) cases.
    pub forgotten_cases: usize,
    /// Never-seen (x, run) cases.
    pub never_seen_cases: usize,
    /// Share of forgotten cases with a NaN P (the reference's output lists); NaN for none.
    pub nan_fraction: f64,
    /// Share of never-seen cases with a NaN P; NaN for none.
    pub never_seen_nan_fraction: f64,
    /// (a) NaN-mean of P over all forgotten cases, `np.nanmean` of the concatenated lists (in
    /// sample then run order) to the last bit. Ideal 0.5; larger means forgotten samples still
    /// look like members. The influence of x is (Σ_x P − θ·n_x) / Σ n.
    pub mean_p: Estimate,
    /// (b) Balanced accuracy of "member iff P > 0.5" (a P of exactly 0.5 is no evidence, so it
    /// votes never-seen), positives the forgotten cases: (TPR + TNR) / 2. Each rate is a ratio
    /// of sums over samples; the influence of x is half the sum of the two ratios' influences.
    pub balanced_accuracy: Estimate,
    /// (c) ROC-AUC of P separating forgotten from never-seen cases, ties counted half (the
    /// Mann–Whitney statistic). The interval uses the clustered DeLong variance (Obuchowski
    /// 1997), the same formula with u_x = (Σ_{pos∈x} V₁₀ − m_x θ)/M + (Σ_{neg∈x} V₀₁ − n_x θ)/N.
    pub auc: Estimate,
}

/// θ ± z₀.₉₇₅ √(G/(G − 1) Σ u²) for the influences `u` of the G contributing samples.
fn clustered(value: f64, influences: &[f64]) -> Estimate {
    let g = influences.len();
    let ci95 = if g < 2 || value.is_nan() {
        f64::NAN
    } else {
        let sum: f64 = influences.iter().map(|u| u * u).sum();
        Z_975 * (g as f64 / (g - 1) as f64 * sum).sqrt()
    };
    Estimate { value, ci95 }
}

/// Non-NaN entries of `p`.
fn finite(p: &[f64]) -> impl Iterator<Item = f64> + '_ {
    p.iter().copied().filter(|v| !v.is_nan())
}

/// The §7.4 summaries of an [`attack`]'s result (see [`UliraSummary`]).
pub(crate) fn summarize(samples: &[SampleAttack]) -> UliraSummary {
    let forgotten_cases: usize = samples.iter().map(|s| s.p_forgotten.len()).sum();
    let never_seen_cases: usize = samples.iter().map(|s| s.p_never_seen.len()).sum();
    let pos: Vec<usize> = samples.iter().map(|s| finite(&s.p_forgotten).count()).collect();
    let neg: Vec<usize> = samples.iter().map(|s| finite(&s.p_never_seen).count()).collect();
    let (m, n) = (pos.iter().sum::<usize>(), neg.iter().sum::<usize>());
    UliraSummary {
        samples: samples.len(),
        forgotten_cases,
        never_seen_cases,
        nan_fraction: (forgotten_cases - m) as f64 / forgotten_cases as f64,
        never_seen_nan_fraction: (never_seen_cases - n) as f64 / never_seen_cases as f64,
        mean_p: mean_p(samples, &pos, m),
        balanced_accuracy: balanced_accuracy(samples, &pos, &neg),
        auc: auc(samples, &pos, &neg),
    }
}

/// (a): `np.nanmean` = pairwise sum with NaN as 0, over the count of non-NaN values.
fn mean_p(samples: &[SampleAttack], pos: &[usize], m: usize) -> Estimate {
    let zeroed: Vec<f64> =
        samples.iter().flat_map(|s| &s.p_forgotten).map(|&p| if p.is_nan() { 0.0 } else { p }).collect();
    let theta = numpy_sum(&zeroed) / m as f64;
    let influences: Vec<f64> = samples
        .iter()
        .zip(pos)
        .filter(|&(_, &k)| k > 0)
        .map(|(s, &k)| (finite(&s.p_forgotten).sum::<f64>() - theta * k as f64) / m as f64)
        .collect();
    clustered(theta, &influences)
}

/// (b): balanced accuracy of `P > 0.5`.
fn balanced_accuracy(samples: &[SampleAttack], pos: &[usize], neg: &[usize]) -> Estimate {
    let tp: Vec<usize> = samples.iter().map(|s| finite(&s.p_forgotten).filter(|&p| p > 0.5).count()).collect();
    let tn: Vec<usize> = samples.iter().map(|s| finite(&s.p_never_seen).filter(|&p| p <= 0.5).count()).collect();
    let (m, n) = (pos.iter().sum::<usize>() as f64, neg.iter().sum::<usize>() as f64);
    // 0 / 0 = NaN without positives or negatives.
    let tpr = tp.iter().sum::<usize>() as f64 / m;
    let tnr = tn.iter().sum::<usize>() as f64 / n;
    let influences: Vec<f64> = (0..samples.len())
        .filter(|&x| pos[x] + neg[x] > 0)
        .map(|x| 0.5 * ((tp[x] as f64 - tpr * pos[x] as f64) / m + (tn[x] as f64 - tnr * neg[x] as f64) / n))
        .collect();
    clustered(0.5 * (tpr + tnr), &influences)
}

/// Every non-NaN value of one side of every sample, with its sample, in ascending order
/// (`total_cmp` orders −0 before +0, consistently with `<` and `==`).
fn sorted_cases(samples: &[SampleAttack], side: fn(&SampleAttack) -> &[f64]) -> Vec<(f64, u32)> {
    let mut v: Vec<(f64, u32)> =
        samples.iter().enumerate().flat_map(|(x, s)| finite(side(s)).map(move |p| (p, x as u32))).collect();
    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// For each case of `cases` (sorted), 2·(values of `other` (sorted) on its `low` side) + (values
/// tied with it), added to its sample's count: one merge pass, no search per case. With
/// `low_is_below`, the low side is the values below the case; otherwise those above it.
fn merge_counts(cases: &[(f64, u32)], other: &[(f64, u32)], low_is_below: bool, counts: &mut [u64]) {
    let (mut below, mut not_above) = (0usize, 0usize);
    for &(v, x) in cases {
        while below < other.len() && other[below].0 < v {
            below += 1;
        }
        not_above = not_above.max(below);
        while not_above < other.len() && other[not_above].0 <= v {
            not_above += 1;
        }
        let tied = (not_above - below) as u64;
        let low = if low_is_below { below } else { other.len() - not_above } as u64;
        counts[x as usize] += 2 * low + tied;
    }
}

/// (c): Mann–Whitney AUC with the clustered DeLong interval.
fn auc(samples: &[SampleAttack], pos: &[usize], neg: &[usize]) -> Estimate {
    let positives = sorted_cases(samples, |s| &s.p_forgotten);
    let negatives = sorted_cases(samples, |s| &s.p_never_seen);
    let (m, n) = (positives.len() as f64, negatives.len() as f64);
    if positives.is_empty() || negatives.is_empty() {
        return Estimate { value: f64::NAN, ci95: f64::NAN };
    }
    // Per sample, in integers (exact): Σ over its positives of 2N·V₁₀ = 2·(negatives below) +
    // (negatives tied), and Σ over its negatives of 2M·V₀₁ = 2·(positives above) + (tied).
    let mut twice_pos = vec![0u64; samples.len()];
    let mut twice_neg = vec![0u64; samples.len()];
    merge_counts(&positives, &negatives, true, &mut twice_pos);
    merge_counts(&negatives, &positives, false, &mut twice_neg);
    let theta = twice_pos.iter().sum::<u64>() as f64 / (2.0 * m * n);
    let influences: Vec<f64> = (0..samples.len())
        .filter(|&x| pos[x] + neg[x] > 0)
        .map(|x| {
            let a = twice_pos[x] as f64 / (2.0 * n);
            let b = twice_neg[x] as f64 / (2.0 * m);
            (a - pos[x] as f64 * theta) / m + (b - neg[x] as f64 * theta) / n
        })
        .collect();
    clustered(theta, &influences)
}

/// Why the attack's inputs are unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UliraError {
    /// The logits are not `samples × classes` values, or there are fewer than two classes.
    LogitsShape { len: usize, classes: usize, samples: usize },
    /// A label outside `0..classes`.
    Label { sample: usize, label: i64, classes: usize },
    /// A split index outside the dataset's `0..n`.
    Index { index: i64, n: usize },
    /// A sample both forgotten and never seen in one run.
    Overlap { sample: usize },
    /// A run's roles or scores cover a different number of samples than the first run's roles.
    SampleCount { run: usize, roles: usize, scores: usize, expected: usize },
}

impl fmt::Display for UliraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LogitsShape { len, classes, samples } => {
                write!(f, "u-lira scores: {len} logits are not {samples} samples × {classes} classes (at least 2)")
            }
            Self::Label { sample, label, classes } => {
                write!(f, "u-lira scores: sample {sample} has label {label}, outside 0..{classes}")
            }
            Self::Index { index, n } => write!(f, "u-lira roles: index {index} outside the dataset's 0..{n}"),
            Self::Overlap { sample } => write!(f, "u-lira roles: sample {sample} is both forgotten and never seen"),
            Self::SampleCount { run, roles, scores, expected } => write!(
                f,
                "u-lira attack: run {run} has roles for {roles} and scores for {scores} samples, expected {expected}"
            ),
        }
    }
}

impl std::error::Error for UliraError {}

/// Why bytes are not a [`PoolScores`] safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScoresError {
    /// Shorter than its 8-byte length prefix says.
    Truncated,
    /// The JSON header is not this format's.
    Header(String),
    /// The data part's length does not match the tensors.
    Size { expected: usize, actual: usize },
    /// A `correct` byte that is neither 0 nor 1.
    NotBool { sample: usize, byte: u8 },
}

impl fmt::Display for ScoresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("u-lira scores: the file is truncated"),
            Self::Header(what) => write!(f, "u-lira scores: {what}"),
            Self::Size { expected, actual } => {
                write!(f, "u-lira scores: {actual} data bytes where the tensors need {expected}, contiguous")
            }
            Self::NotBool { sample, byte } => {
                write!(f, "u-lira scores: `correct` of sample {sample} is {byte}, not 0 or 1")
            }
        }
    }
}

impl std::error::Error for ScoresError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::lira::lira_split;
    use crate::stats::pcg64::Pcg64;

    /// Asserts |got − want| ≤ tol, NaN-aware (NaN only matches NaN).
    #[track_caller]
    fn close(got: f64, want: f64, tol: f64) {
        assert!(got.is_nan() == want.is_nan() && (got.is_nan() || (got - want).abs() <= tol), "{got} vs {want}");
    }

    fn fit(values: &[f64]) -> Gaussian {
        Gaussian::fit(values)
    }

    /// σ(t) = 1 / (1 + e^−t).
    fn sigmoid(t: f64) -> f64 {
        1.0 / (1.0 + (-t).exp())
    }

    /// Scores with the given correctness and a zero confidence.
    fn correctness(bits: &[u8]) -> PoolScores {
        PoolScores::new(bits.iter().map(|&b| b == 1).collect(), vec![0.0; bits.len()]).expect("same length")
    }

    #[test]
    fn constants_are_scipys() {
        assert_eq!(SQRT_2PI, (2.0 * std::f64::consts::PI).sqrt());
    }

    #[test]
    fn moment_fits_are_numpys() {
        // F = {1, 0, 1}: μ = 2/3; deviations 1/3, −2/3, 1/3 → σ² = (1/9 + 4/9 + 1/9)/3 = 2/9.
        let g = fit(&[1.0, 0.0, 1.0]);
        assert_eq!((g.n, g.mean), (3, 2.0 / 3.0));
        close(g.std, (2.0f64 / 9.0).sqrt(), 1e-16);
        // A single value or identical 0/1 values: σ = 0 exactly (the mean is exact).
        assert_eq!(fit(&[1.0]).std, 0.0);
        assert_eq!(fit(&[1.0; 33]).std, 0.0);
        assert_eq!(fit(&[0.0; 320]).std, 0.0);
        // `np.mean([])`, `np.std([])`: NaN.
        let empty = fit(&[]);
        assert_eq!(empty.n, 0);
        assert!(empty.mean.is_nan() && empty.std.is_nan());
        // Population std: {1, 3} → μ 2, σ 1 (not √2).
        assert_eq!(fit(&[1.0, 3.0]), Gaussian { n: 2, mean: 2.0, std: 1.0 });
        // Three 0.1 sum to 0.30000000000000004, so the mean is 0.10000000000000002 and the
        // "constant" has σ = 1.3877787807814457e-17 > 0, as `np.std([0.1] * 3)`.
        let tenths = fit(&[0.1; 3]);
        assert_eq!((tenths.mean, tenths.std), (0.100_000_000_000_000_02, 1.387_778_780_781_445_7e-17));
    }

    #[test]
    fn density_follows_scipy() {
        // norm.pdf(0, 0, 1) = 1/√(2π); norm.pdf(1, 0, 2) = e^(−1/8) / (2√(2π)).
        let unit = Gaussian { n: 2, mean: 0.0, std: 1.0 };
        close(unit.density(0.0), 0.398_942_280_401_432_7, 1e-16);
        close(Gaussian { n: 2, mean: 0.0, std: 2.0 }.density(1.0), 0.176_032_663_382_149_76, 1e-16);
        // scale 0 or NaN → badvalue NaN, whatever z (on the mean, off it).
        let point = Gaussian { n: 3, mean: 1.0, std: 0.0 };
        assert!(point.density(1.0).is_nan() && point.density(0.0).is_nan());
        assert!(fit(&[]).density(0.0).is_nan());
        assert!(unit.density(f64::NAN).is_nan());
        // Outside the open support, or underflow: 0, not NaN.
        assert_eq!(unit.density(f64::INFINITY), 0.0);
        assert_eq!(unit.density(f64::NEG_INFINITY), 0.0);
        assert_eq!(unit.density(40.0), 0.0);
    }

    #[test]
    fn hand_computed_probabilities_equal_spreads() {
        // F = {1, 0, 1}: μF = 2/3, σF = √2/3; N = {0, 0, 1}: μN = 1/3, σN = √2/3.
        let (f, n) = (fit(&[1.0, 0.0, 1.0]), fit(&[0.0, 0.0, 1.0]));
        // z = 1: xF = (1/3)/(√2/3) = 1/√2, φF = e^(−1/4)/(√(2π)·√2/3) = 0.659086934201584;
        //        xN = (2/3)/(√2/3) = √2,   φN = e^(−1)  /(√(2π)·√2/3) = 0.311330623065446.
        close(f.density(1.0), 0.659_086_934_201_583_7, 1e-15);
        close(n.density(1.0), 0.311_330_623_065_445_95, 1e-15);
        // P = e^(−1/4) / (e^(−1/4) + e^(−1)) = σ(3/4) = 0.679178699175393.
        close(membership_probability(1.0, &f, &n), 0.679_178_699_175_393, 1e-15);
        close(membership_probability(1.0, &f, &n), sigmoid(0.75), 1e-15);
        // z = 0: the roles swap, P = σ(−3/4) = 0.320821300824607.
        close(membership_probability(0.0, &f, &n), 0.320_821_300_824_607, 1e-15);
    }

    #[test]
    fn hand_computed_probabilities_unequal_spreads() {
        // F = {1, 1, 0, 1}: μF = 3/4, σF = √3/4; N = {0, 1}: μN = 1/2, σN = 1/2.
        let (f, n) = (fit(&[1.0, 1.0, 0.0, 1.0]), fit(&[0.0, 1.0]));
        // z = 1: xF = 1/√3 → φF = e^(−1/6)/(√(2π)·√3/4); xN = 1 → φN = e^(−1/2)/(√(2π)/2);
        // P = 1 / (1 + e^(−1/3)·√3/2) = 0.617080421661971.
        close(membership_probability(1.0, &f, &n), 0.617_080_421_661_970_7, 1e-15);
        // z = 0: xF = −√3 → e^(−3/2); xN = −1 → e^(−1/2); P = 1 / (1 + e·√3/2) = 0.298142472391861.
        close(membership_probability(0.0, &f, &n), 0.298_142_472_391_861, 1e-15);
    }

    #[test]
    fn zero_spread_on_either_side_is_nan() {
        let mixed = fit(&[0.0, 1.0]);
        let always = fit(&[1.0, 1.0]);
        // σF = 0 only: NaN / (NaN + φN).
        assert!(membership_probability(1.0, &always, &mixed).is_nan());
        // σN = 0 only: φF / (φF + NaN), for both possible scores.
        assert!(membership_probability(1.0, &mixed, &always).is_nan());
        assert!(membership_probability(0.0, &mixed, &always).is_nan());
        // Both.
        assert!(membership_probability(1.0, &always, &fit(&[0.0, 0.0])).is_nan());
        // An empty side: NaN moments → NaN density.
        assert!(membership_probability(1.0, &mixed, &fit(&[])).is_nan());
        assert!(membership_probability(1.0, &fit(&[]), &mixed).is_nan());
    }

    #[test]
    fn both_densities_underflowing_is_nan() {
        // 1 999 zeros and one 1 on both sides: μ = 1/2000, σ = √(μ(1 − μ)) ≈ 0.02236. At z = 1,
        // x = 0.9995/0.02236 ≈ 44.7 standard deviations: e^(−999.5) underflows on both sides → 0/0.
        let mut values = vec![0.0; 2000];
        values[0] = 1.0;
        let g = fit(&values);
        assert_eq!(g.density(1.0), 0.0);
        assert!(membership_probability(1.0, &g, &g).is_nan());
        // z = 0 is near both means: identical fits give exactly 1/2.
        assert_eq!(membership_probability(0.0, &g, &g), 0.5);
        // One side underflowing alone gives 0 or 1.
        let far = Gaussian { n: 2, mean: 100.0, std: 1.0 };
        let near = Gaussian { n: 2, mean: 0.0, std: 1.0 };
        assert_eq!(membership_probability(0.0, &near, &far), 1.0);
        assert_eq!(membership_probability(0.0, &far, &near), 0.0);
    }

    #[test]
    fn logits_give_correctness_and_stable_confidence() {
        let logits = [2.0, 1.0, 0.5, 100.0, 0.0, 0.0, 100.0, 0.0, 0.0];
        let s = PoolScores::from_logits(&logits, 3, &[0, 0, 1]).expect("scores");
        assert_eq!(s.len(), 3);
        assert!(s.correct(0) && s.correct(1) && !s.correct(2));
        // log(p/(1 − p)) = 2 − ln(e + e^0.5) = 2 − 1.474077… for the softmax of [2, 1, 0.5].
        let p0 = 2f64.exp() / (2f64.exp() + 1f64.exp() + 0.5f64.exp());
        close(f64::from(s.confidence(0)), (p0 / (1.0 - p0)).ln(), 1e-6);
        // A margin of 100: p_y is 1 in float32, but the log-odds are 100 − ln 2 and −100 − ln(1 + e^−100)·….
        assert_eq!(s.confidence(1), (100.0 - std::f64::consts::LN_2) as f32);
        assert_eq!(s.confidence(2), -100.0);
        // Two classes: logits [0, c] with label 1 give exactly c.
        let two = PoolScores::from_logits(&[0.0, 3.25, 0.0, -7.5], 2, &[1, 1]).expect("scores");
        assert_eq!((two.confidence(0), two.confidence(1)), (3.25, -7.5));
    }

    #[test]
    fn argmax_follows_the_reference() {
        let check = |row: &[f32], label: i64, want: bool| {
            let s = PoolScores::from_logits(row, row.len(), &[label]).expect("scores");
            assert_eq!(s.correct(0), want, "{row:?} label {label}");
        };
        // Ties: the first maximum.
        check(&[3.0, 3.0, 1.0], 0, true);
        check(&[3.0, 3.0, 1.0], 1, false);
        // −∞ logits are ordinary (zero probability).
        check(&[f32::NEG_INFINITY, 0.5, f32::NEG_INFINITY], 1, true);
        // NaN, +∞ or only −∞: an all-NaN softmax, whose np.argmax is 0 [QUIRK].
        check(&[f32::NAN, 1.0, 2.0], 0, true);
        check(&[f32::NAN, 1.0, 2.0], 2, false);
        check(&[1.0, f32::INFINITY, 0.0], 1, false);
        check(&[1.0, f32::INFINITY, 0.0], 0, true);
        check(&[f32::NEG_INFINITY, f32::NEG_INFINITY], 0, true);
        // Confidence of such rows: NaN for NaN, ±∞ where p is 1 or 0.
        let s = PoolScores::from_logits(&[f32::NAN, 1.0, f32::NEG_INFINITY, 1.0, 1.0, f32::INFINITY], 2, &[1, 1, 0])
            .expect("scores");
        assert!(s.confidence(0).is_nan());
        assert_eq!((s.confidence(1), s.confidence(2)), (f32::INFINITY, f32::NEG_INFINITY));
    }

    #[test]
    fn bad_logits_are_errors() {
        assert_eq!(
            PoolScores::from_logits(&[0.0; 7], 3, &[0, 1]),
            Err(UliraError::LogitsShape { len: 7, classes: 3, samples: 2 })
        );
        assert!(matches!(PoolScores::from_logits(&[0.0; 2], 1, &[0, 0]), Err(UliraError::LogitsShape { .. })));
        assert_eq!(
            PoolScores::from_logits(&[0.0; 6], 3, &[0, 3]),
            Err(UliraError::Label { sample: 1, label: 3, classes: 3 })
        );
        assert!(matches!(PoolScores::from_logits(&[0.0; 3], 3, &[-1]), Err(UliraError::Label { label: -1, .. })));
        assert_eq!(PoolScores::from_logits(&[], 10, &[]).map(|s| s.is_empty()), Ok(true));
        assert!(PoolScores::new(vec![true], vec![]).is_none());
    }

    #[test]
    fn storage_round_trip() {
        let scores =
            PoolScores::new(vec![true, false, false, true, true], vec![1.5, -0.0, f32::NAN, f32::INFINITY, -3.25e-7])
                .expect("same length");
        let bytes = scores.to_safetensors();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        assert_eq!(header_len % 8, 0, "data aligned to 8 bytes");
        assert_eq!(bytes.len(), 8 + header_len + 5 * 5);
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).expect("JSON header");
        assert_eq!(header["correct"]["data_offsets"], serde_json::json!([20, 25]));
        assert_eq!(header["__metadata__"]["format"], "munl-ulira-scores");
        // Little-endian data after the header: 1.5f32 = 0x3FC00000, then the bools.
        assert_eq!(&bytes[8 + header_len..8 + header_len + 4], &[0x00, 0x00, 0xC0, 0x3F]);
        assert_eq!(&bytes[bytes.len() - 5..], &[1, 0, 0, 1, 1]);
        let back = PoolScores::from_safetensors(&bytes).expect("decodes");
        assert_eq!(back.correct, scores.correct);
        let bits = |s: &PoolScores| s.confidence.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&scores), "bit-exact, NaN and −0 included");
        assert_eq!(back.to_safetensors(), bytes, "deterministic");
        let empty = PoolScores::new(vec![], vec![]).expect("empty");
        assert_eq!(PoolScores::from_safetensors(&empty.to_safetensors()), Ok(empty));
    }

    #[test]
    fn storage_rejects_other_bytes() {
        let scores = correctness(&[1, 0, 1]);
        let bytes = scores.to_safetensors();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        assert_eq!(PoolScores::from_safetensors(&bytes[..5]), Err(ScoresError::Truncated));
        assert_eq!(PoolScores::from_safetensors(&bytes[..header_len]), Err(ScoresError::Truncated));
        assert_eq!(
            PoolScores::from_safetensors(&bytes[..bytes.len() - 1]),
            Err(ScoresError::Size { expected: 15, actual: 14 })
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(PoolScores::from_safetensors(&longer), Err(ScoresError::Size { .. })));
        let mut not_bool = bytes.clone();
        let last = not_bool.len() - 1;
        not_bool[last] = 2;
        assert_eq!(PoolScores::from_safetensors(&not_bool), Err(ScoresError::NotBool { sample: 2, byte: 2 }));
        // Same-length header edits: another dtype, another format, another tensor name.
        let edit = |from: &str, to: &str| {
            assert_eq!(from.len(), to.len());
            let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).expect("in the header");
            let mut edited = bytes.clone();
            edited[at..at + to.len()].copy_from_slice(to.as_bytes());
            PoolScores::from_safetensors(&edited)
        };
        assert!(matches!(edit("\"BOOL\"", "\"U8\"  "), Err(ScoresError::Header(_))));
        assert!(matches!(edit("munl-ulira-scores", "munl-ulira-losses"), Err(ScoresError::Header(_))));
        assert!(matches!(edit("\"version\":\"1\"", "\"version\":\"2\""), Err(ScoresError::Header(_))));
        assert!(matches!(edit("\"correct\"", "\"corrupt\""), Err(ScoresError::Header(_))));
        assert!(matches!(edit("\"shape\":[3]", "\"shape\":[4]"), Err(ScoresError::Header(_))));
        // Hand-made files: the data in the other order is fine, a negative offset is not.
        let file = |offsets: (&str, &str), data: &[u8]| {
            let header = format!(
                "{{\"__metadata__\":{{\"format\":\"munl-ulira-scores\",\"version\":\"1\"}},\
                 \"correct\":{{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":{}}},\
                 \"confidence\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}}}",
                offsets.0, offsets.1
            );
            let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(data);
            PoolScores::from_safetensors(&bytes)
        };
        let swapped = file(("[0,1]", "[1,5]"), &[1, 0, 0, 0xC0, 0x3F]).expect("decodes");
        assert_eq!(swapped, PoolScores::new(vec![true], vec![1.5]).expect("one sample"));
        assert!(matches!(file(("[0,1]", "[-1,3]"), &[1, 0, 0, 0xC0, 0x3F]), Err(ScoresError::Header(_))));
        assert!(matches!(file(("[0,1]", "[0,4]"), &[1, 0, 0, 0xC0, 0x3F]), Err(ScoresError::Size { .. })));
    }

    #[test]
    fn roles_from_index_sets() {
        let r = RunRoles::new(5, &[3, 1, 3], &[0, 4]).expect("roles");
        let roles: Vec<Role> = (0..r.len()).map(|x| r.role(x)).collect();
        assert_eq!(roles, [Role::NeverSeen, Role::Forgotten, Role::Other, Role::Forgotten, Role::NeverSeen]);
        assert_eq!(RunRoles::new(5, &[1], &[2, 1]), Err(UliraError::Overlap { sample: 1 }));
        assert_eq!(RunRoles::new(5, &[5], &[]), Err(UliraError::Index { index: 5, n: 5 }));
        assert_eq!(RunRoles::new(5, &[], &[-1]), Err(UliraError::Index { index: -1, n: 5 }));
        assert!(RunRoles::new(0, &[], &[]).expect("empty").is_empty());
    }

    /// Six runs over six samples (the forgotten / never-seen runs of each sample in brackets):
    /// 0: F {1, 0, 1} (runs 0–2), N {0, 0, 1} (3–5) — the equal-spread hand case;
    /// 1: F {1, 1, 0, 1} (0–3), N {0, 1} (4, 5) — the unequal-spread hand case;
    /// 2: F {1, 1} (0, 1), N {0, 1} (2, 3) — σF = 0;
    /// 3: F {}, N {1, 0, 1, 0, 1, 0} (all) — never forgotten;
    /// 4: F {1, 0, 1} (0–2), N {} — never never-seen;
    /// 5: retained everywhere — absent from the result.
    fn six_runs() -> (Vec<RunRoles>, Vec<PoolScores>) {
        let sets: [(&[i64], &[i64]); 6] = [
            (&[0, 1, 2, 4], &[3]),
            (&[0, 1, 2, 4], &[3]),
            (&[0, 1, 4], &[2, 3]),
            (&[1], &[0, 2, 3]),
            (&[], &[0, 1, 3]),
            (&[], &[0, 1, 3]),
        ];
        // correct[run][sample]
        let correct: [[u8; 6]; 6] = [
            [1, 1, 1, 1, 1, 0],
            [0, 1, 1, 0, 0, 1],
            [1, 0, 0, 1, 1, 0],
            [0, 1, 1, 0, 0, 1],
            [0, 0, 0, 1, 0, 0],
            [1, 1, 0, 0, 0, 1],
        ];
        let roles = sets.iter().map(|(f, n)| RunRoles::new(6, f, n).expect("roles")).collect();
        let scores = correctness_rows(&correct);
        (roles, scores)
    }

    fn correctness_rows(rows: &[[u8; 6]]) -> Vec<PoolScores> {
        rows.iter().map(|r| correctness(r)).collect()
    }

    fn runs<'a>(roles: &'a [RunRoles], scores: &'a [PoolScores]) -> Vec<Run<'a>> {
        roles.iter().zip(scores).map(|(roles, scores)| Run { roles, scores }).collect()
    }

    #[test]
    fn attack_on_hand_cases() {
        let (roles, scores) = six_runs();
        let out = attack(&runs(&roles, &scores), Statistic::Correctness).expect("attack");
        assert_eq!(out.iter().map(|s| s.sample).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        let (a, p1, p0) = (0.679_178_699_175_393, 0.617_080_421_661_970_7, 0.298_142_472_391_861);
        let expect = |got: &[f64], want: &[f64]| {
            assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
            for (&g, &w) in got.iter().zip(want) {
                close(g, w, 1e-15);
            }
        };
        expect(&out[0].p_forgotten, &[a, 1.0 - a, a]);
        expect(&out[0].p_never_seen, &[1.0 - a, 1.0 - a, a]);
        assert_eq!(out[0].forgotten.mean, 2.0 / 3.0);
        assert_eq!(out[0].never_seen.n, 3);
        expect(&out[1].p_forgotten, &[p1, p1, p0, p1]);
        expect(&out[1].p_never_seen, &[p0, p1]);
        // σF = 0: every case NaN, forgotten and never-seen alike.
        assert_eq!(out[2].forgotten.std, 0.0);
        expect(&out[2].p_forgotten, &[f64::NAN; 2]);
        expect(&out[2].p_never_seen, &[f64::NAN; 2]);
        // Never forgotten: nothing to report in the reference's list; never-seen cases NaN.
        assert!(out[3].p_forgotten.is_empty() && out[3].forgotten.mean.is_nan());
        expect(&out[3].p_never_seen, &[f64::NAN; 6]);
        // Never never-seen: all forgotten cases NaN.
        expect(&out[4].p_forgotten, &[f64::NAN; 3]);
        assert!(out[4].p_never_seen.is_empty());

        // The logit variant reads the other column: all confidences 0 → σ = 0 → all NaN.
        let logit = attack(&runs(&roles, &scores), Statistic::LogitConfidence).expect("attack");
        assert!(logit.iter().all(|s| s.p_forgotten.iter().chain(&s.p_never_seen).all(|p| p.is_nan())));
    }

    #[test]
    fn summaries_of_hand_cases() {
        let (roles, scores) = six_runs();
        let out = attack(&runs(&roles, &scores), Statistic::Correctness).expect("attack");
        let s = summarize(&out);
        assert_eq!((s.samples, s.forgotten_cases, s.never_seen_cases), (5, 12, 13));
        // NaN: samples 2 (2) and 4 (3) of 12 forgotten; samples 2 (2) and 3 (6) of 13 never-seen.
        assert_eq!((s.nan_fraction, s.never_seen_nan_fraction), (5.0 / 12.0, 8.0 / 13.0));
        // (a) over the 7 counted cases: (a + (1 − a) + a + 3·P1 + P0) / 7 = 0.546937490936167.
        close(s.mean_p.value, 0.546_937_490_936_166_6, 1e-15);
        // Two clusters, u₀ = −u₁ = (S₀ − 3θ)/7, S₀ = 1 + a: ci = z·2|u₀| = 0.021484691971949.
        close(s.mean_p.ci95, 0.021_484_691_971_949_015, 1e-15);
        // (b) positives: a ✓, 1 − a ✗, a ✓, P1 ✓✓✓, P0 ✗ → TPR 5/7; negatives: 1 − a ✓✓, a ✗,
        // P0 ✓, P1 ✗ → TNR 3/5; BA = 23/35. u₀ = ½((2 − 3·5/7)/7 + (2 − 3·3/5)/5) = 12/1225.
        close(s.balanced_accuracy.value, 23.0 / 35.0, 1e-15);
        close(s.balanced_accuracy.ci95, Z_975 * 24.0 / 1225.0, 1e-15);
        // (c) P0 < 1 − a < P1 < a. Negatives below (ties half) per positive: a 4.5 (×2),
        // 1 − a 2, P1 3.5 (×3), P0 0.5 → 22 of 7·5 pairs. Cluster influences ±13/1225:
        // A₀ = 2.2, B₀ = 12/7, u₀ = (2.2 − 3θ)/7 + (12/7 − 3θ)/5 = 13/1225.
        close(s.auc.value, 22.0 / 35.0, 1e-15);
        close(s.auc.ci95, Z_975 * 26.0 / 1225.0, 1e-15);
    }

    /// Scores of runs where each sample has the given forgotten / never-seen logit confidences:
    /// sample x is forgotten in runs 0..|F| and never seen in the next |N| runs. Confidences
    /// come from two-class logits [0, c] with label 1, so they are exactly c.
    fn logit_family(cases: &[(&[f32], &[f32])]) -> (Vec<RunRoles>, Vec<PoolScores>) {
        let n = cases.len();
        let runs = cases.iter().map(|(f, nv)| f.len() + nv.len()).max().unwrap_or(0);
        let mut roles = vec![];
        let mut scores = vec![];
        for r in 0..runs {
            let (mut forget, mut never) = (vec![], vec![]);
            let mut logits = vec![];
            for (x, (f, nv)) in cases.iter().enumerate() {
                let c = if r < f.len() {
                    forget.push(x as i64);
                    f[r]
                } else if r < f.len() + nv.len() {
                    never.push(x as i64);
                    nv[r - f.len()]
                } else {
                    0.0
                };
                logits.extend([0.0, c]);
            }
            roles.push(RunRoles::new(n, &forget, &never).expect("roles"));
            scores.push(PoolScores::from_logits(&logits, 2, &vec![1; n]).expect("scores"));
        }
        (roles, scores)
    }

    #[test]
    fn logit_confidence_with_known_gaussians() {
        // F = {1, 3}: μ 2, σ 1; N = {−2, 0}: μ −1, σ 1. With equal spreads
        // P = 1 / (1 + exp(((z − μF)² − (z − μN)²) / 2)):
        // z = 3: (1 − 16)/2 = −7.5 → σ(7.5) = 0.999447221363076; z = 1: (1 − 4)/2 → σ(1.5);
        // z = −2: (16 − 1)/2 → σ(−7.5); z = 0: (4 − 1)/2 → σ(−1.5).
        let (roles, scores) = logit_family(&[(&[1.0, 3.0], &[-2.0, 0.0]), (&[3.0, 1.0], &[0.0, -2.0])]);
        let out = attack(&runs(&roles, &scores), Statistic::LogitConfidence).expect("attack");
        assert_eq!(out[0].forgotten, Gaussian { n: 2, mean: 2.0, std: 1.0 });
        assert_eq!(out[0].never_seen, Gaussian { n: 2, mean: -1.0, std: 1.0 });
        close(out[0].p_forgotten[0], sigmoid(1.5), 1e-15);
        close(out[0].p_forgotten[1], 0.999_447_221_363_076_4, 1e-15);
        close(out[0].p_never_seen[0], sigmoid(-7.5), 1e-15);
        close(out[0].p_never_seen[1], sigmoid(-1.5), 1e-15);
        close(out[1].p_forgotten[0], sigmoid(7.5), 1e-15);
        // Every forgotten P > 1/2 > every never-seen P: a perfect separation.
        let s = summarize(&out);
        assert_eq!((s.balanced_accuracy.value, s.auc.value), (1.0, 1.0));
        close(s.mean_p.value, (sigmoid(1.5) + sigmoid(7.5)) / 2.0, 1e-15);
        // Both samples have the same cases: every influence is 0.
        assert_eq!((s.mean_p.ci95, s.balanced_accuracy.ci95, s.auc.ci95), (0.0, 0.0, 0.0));
        // The reference's statistic on the same models: every forgotten case has c > 0, so the
        // label is always the argmax, σF = 0 and every P is NaN.
        let binary = summarize(&attack(&runs(&roles, &scores), Statistic::Correctness).expect("attack"));
        assert_eq!(binary.nan_fraction, 1.0);
        assert!(binary.mean_p.value.is_nan() && binary.auc.value.is_nan() && binary.balanced_accuracy.value.is_nan());
    }

    #[test]
    fn perfect_attacker() {
        // Forgotten confidences around +5, never-seen around −5, σ 1 on both sides: P of a
        // forgotten case is 1/(1 + e^−40) = 1 in float64, of a never-seen one ≈ e^−40.
        let (roles, scores) = logit_family(&[
            (&[4.0, 6.0], &[-6.0, -4.0, -5.0, -5.0]),
            (&[6.0, 4.0, 5.0], &[-4.0, -6.0]),
            (&[5.5, 4.5], &[-5.5, -4.5, -5.0]),
        ]);
        let out = attack(&runs(&roles, &scores), Statistic::LogitConfidence).expect("attack");
        assert!(out.iter().all(|s| s.p_forgotten.iter().all(|&p| p > 1.0 - 1e-12)));
        assert!(out.iter().all(|s| s.p_never_seen.iter().all(|&p| p < 1e-12)));
        let s = summarize(&out);
        assert_eq!((s.balanced_accuracy.value, s.auc.value), (1.0, 1.0));
        assert!(s.mean_p.value > 1.0 - 1e-12);
        assert_eq!((s.nan_fraction, s.never_seen_nan_fraction), (0.0, 0.0));
        // A perfect attack has no spread across samples to speak of.
        assert!(s.auc.ci95 == 0.0 && s.balanced_accuracy.ci95 == 0.0 && s.mean_p.ci95 < 1e-12);
    }

    #[test]
    fn pure_noise_is_one_half_everywhere() {
        // Identical multisets → bit-identical fits → φF = φN → P = φ/(2φ) = 1/2 exactly.
        let (roles, scores) =
            logit_family(&[(&[-1.0, 2.0], &[2.0, -1.0, -1.0, 2.0]), (&[0.5, 0.5, 3.0], &[3.0, 0.5, 0.5])]);
        let out = attack(&runs(&roles, &scores), Statistic::LogitConfidence).expect("attack");
        assert!(out.iter().all(|s| s.p_forgotten.iter().chain(&s.p_never_seen).all(|&p| p == 0.5)));
        let s = summarize(&out);
        // All ties: AUC 1/2; P = 1/2 votes never-seen: TPR 0, TNR 1.
        assert_eq!((s.mean_p.value, s.balanced_accuracy.value, s.auc.value), (0.5, 0.5, 0.5));
        assert_eq!((s.mean_p.ci95, s.balanced_accuracy.ci95, s.auc.ci95), (0.0, 0.0, 0.0));
        // The same with 0/1 scores: F = {0, 1}, N = {1, 0, 0, 1}.
        let rows = [[0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]];
        let roles: Vec<RunRoles> = [(&[0, 1][..], &[][..]), (&[0, 1], &[]), (&[], &[0, 1]), (&[], &[0, 1])]
            .iter()
            .map(|(f, n)| RunRoles::new(6, f, n).expect("roles"))
            .collect();
        let out = attack(&runs(&roles, &correctness_rows(&rows)), Statistic::Correctness).expect("attack");
        assert!(out.iter().all(|s| s.p_forgotten.iter().chain(&s.p_never_seen).all(|&p| p == 0.5)));
        assert_eq!(summarize(&out).auc.value, 0.5);
    }

    #[test]
    fn summaries_of_nothing_are_nan() {
        let s = summarize(&[]);
        assert_eq!((s.samples, s.forgotten_cases, s.never_seen_cases), (0, 0, 0));
        assert!(s.nan_fraction.is_nan() && s.never_seen_nan_fraction.is_nan());
        for e in [s.mean_p, s.balanced_accuracy, s.auc] {
            assert!(e.value.is_nan() && e.ci95.is_nan(), "{e:?}");
        }
        // One counted sample: values, but no interval.
        let one = SampleAttack {
            sample: 0,
            forgotten: fit(&[]),
            never_seen: fit(&[]),
            p_forgotten: vec![0.75, f64::NAN],
            p_never_seen: vec![0.25],
        };
        let s = summarize(std::slice::from_ref(&one));
        assert_eq!((s.mean_p.value, s.balanced_accuracy.value, s.auc.value, s.nan_fraction), (0.75, 1.0, 1.0, 0.5));
        assert!(s.mean_p.ci95.is_nan() && s.auc.ci95.is_nan());
    }

    #[test]
    fn auc_counts_ties_half_across_samples() {
        let sample = |x, pos: Vec<f64>, neg: Vec<f64>| SampleAttack {
            sample: x,
            forgotten: fit(&[]),
            never_seen: fit(&[]),
            p_forgotten: pos,
            p_never_seen: neg,
        };
        // Positives {0.9, 0.2}, negatives {0.1, 0.8}: 0.9 beats both, 0.2 beats 0.1 → 3/4.
        // V₁₀: 1, 1/2; V₀₁: 1, 1/2. u_A = (1 − 3/4)/2 + (1 − 3/4)/2 = 1/4 = −u_B;
        // SE² = 2·(1/16 + 1/16) = 1/4 → ci = z/2.
        let s = summarize(&[sample(0, vec![0.9], vec![0.1]), sample(1, vec![0.2], vec![0.8])]);
        assert_eq!(s.auc.value, 0.75);
        close(s.auc.ci95, Z_975 / 2.0, 1e-15);
        // A tie between a positive and a negative counts half; NaN cases are left out.
        let s = summarize(&[sample(0, vec![0.5, f64::NAN], vec![0.5]), sample(1, vec![0.7], vec![f64::NAN, 0.1])]);
        // Pairs: 0.5 vs 0.5 → ½, 0.5 vs 0.1 → 1, 0.7 vs 0.5 → 1, 0.7 vs 0.1 → 1: 3.5/4.
        assert_eq!(s.auc.value, 0.875);
        assert_eq!((s.nan_fraction, s.never_seen_nan_fraction), (1.0 / 3.0, 1.0 / 3.0));
        // P = 1/2 exactly votes never-seen: the forgotten 0.5 is a miss (TPR 1/2, TNR 1), and a
        // lone 0.5 against clear negatives gives TPR 0, TNR 1.
        assert_eq!(s.balanced_accuracy.value, 0.75);
        let s = summarize(&[sample(0, vec![0.5], vec![0.2]), sample(1, vec![], vec![0.3])]);
        assert_eq!((s.balanced_accuracy.value, s.auc.value), (0.5, 1.0));
    }

    #[test]
    fn mismatched_runs_are_errors() {
        let roles = RunRoles::new(3, &[0], &[1]).expect("roles");
        let (three, four) = (correctness(&[1, 0, 1]), correctness(&[1, 0, 1, 1]));
        let ok = Run { roles: &roles, scores: &three };
        let bad = Run { roles: &roles, scores: &four };
        assert_eq!(
            attack(&[ok, bad], Statistic::Correctness),
            Err(UliraError::SampleCount { run: 1, roles: 3, scores: 4, expected: 3 })
        );
        assert_eq!(attack(&[], Statistic::Correctness), Ok(vec![]));
    }

    /// A uniform draw in [0, 1) from a seeded stream.
    fn uniform(rng: &mut Pcg64) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An attack driven by real U-LiRA splits (100 train samples, 16 shadows × 10 draws, half of
    /// IN forgotten): a family whose forgotten samples keep a higher confidence (an Original)
    /// against one where forgotten and never-seen scores share a distribution (a Retrain).
    #[test]
    fn lira_splits_drive_the_roles() {
        let n = 100;
        let mut roles = vec![];
        for shadow in 0..16 {
            for draw in 0..10 {
                let split = lira_split(n, 0.05, 0.5, 123, shadow, draw);
                roles.push(RunRoles::new(n, &split.forget, &split.test).expect("roles"));
            }
        }
        let family = |leak: f32, seed: u64| -> Vec<PoolScores> {
            let mut rng = Pcg64::from_seed(seed);
            roles
                .iter()
                .map(|r| {
                    let logits: Vec<f32> = (0..n)
                        .flat_map(|x| {
                            let noise = (uniform(&mut rng) * 4.0 - 2.0) as f32;
                            let shift = if r.role(x) == Role::Forgotten { leak } else { 0.0 };
                            [0.0, noise + shift]
                        })
                        .collect();
                    PoolScores::from_logits(&logits, 2, &vec![1; n]).expect("scores")
                })
                .collect()
        };
        let original = family(3.0, 1);
        let retrain = family(0.0, 2);
        let leaky = attack(&runs(&roles, &original), Statistic::LogitConfidence).expect("attack");
        let clean = attack(&runs(&roles, &retrain), Statistic::LogitConfidence).expect("attack");
        // The 5 LiRA-val samples are never scored; every pool sample is, with one P per
        // forgotten and per never-seen run.
        assert_eq!(leaky.len(), 95);
        for s in &leaky {
            let forgotten = roles.iter().filter(|r| r.role(s.sample) == Role::Forgotten).count();
            let never = roles.iter().filter(|r| r.role(s.sample) == Role::NeverSeen).count();
            assert_eq!((s.p_forgotten.len(), s.p_never_seen.len()), (forgotten, never));
            // Never seen in all 10 draws of a shadow, or in none.
            assert_eq!(never % 10, 0);
        }
        let (leaky, clean) = (summarize(&leaky), summarize(&clean));
        assert_eq!(leaky.nan_fraction, 0.0);
        assert!(leaky.mean_p.value > 0.8 && leaky.auc.value > 0.9 && leaky.balanced_accuracy.value > 0.8, "{leaky:?}");
        // No leak, but the in-sample fits still favour each set's own cases: the noise floor sits
        // above 1/2 (mean P 0.507, AUC 0.566 here; an independent simulation of the same setting
        // gives 0.506 and 0.566), beyond the sampling interval.
        assert!((clean.mean_p.value - 0.5).abs() < 0.02, "{clean:?}");
        assert!(clean.auc.value - clean.auc.ci95 > 0.5 && clean.auc.value < 0.6, "{clean:?}");
        assert!(leaky.mean_p.value - leaky.mean_p.ci95 > clean.mean_p.value + clean.mean_p.ci95);
        assert!(leaky.auc.ci95 > 0.0 && leaky.auc.ci95 < 0.05, "{leaky:?}");
        // The reference's statistic on the same models: label 1 is the argmax iff c > 0, which
        // every forgotten case of the leaky family has (c ≥ 1), so σF = 0 and every P is NaN.
        let binary = summarize(&attack(&runs(&roles, &original), Statistic::Correctness).expect("attack"));
        assert_eq!((binary.forgotten_cases, binary.nan_fraction), (leaky.forgotten_cases, 1.0));
        assert!(binary.mean_p.value.is_nan() && binary.auc.value.is_nan());
        let binary = summarize(&attack(&runs(&roles, &retrain), Statistic::Correctness).expect("attack"));
        assert!(binary.nan_fraction < 0.05 && (binary.mean_p.value - 0.5).abs() < 0.02, "{binary:?}");
    }
}
