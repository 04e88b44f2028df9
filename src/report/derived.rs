//! Derived metrics of evaluation.md §4 and the ranking of §6, as pure functions of numbers.

use crate::stats::summary::intervals_overlap;

use crate::artifact::table::{Ranked, Row, Table};

/// Accuracy retention `new / reference`; `None` when the reference is not positive or either
/// value is not finite (the reference's helper asserts instead).
pub(crate) fn retention(new: f64, reference: f64) -> Option<f64> {
    (new.is_finite() && reference.is_finite() && reference > 0.0).then(|| new / reference)
}

/// RetDev = |RR − 1| + |FR − 1| + |TR − 1|; `None` if any ratio is undefined.
pub(crate) fn retdev(rr: Option<f64>, fr: Option<f64>, tr: Option<f64>) -> Option<f64> {
    Some((rr? - 1.0).abs() + (fr? - 1.0).abs() + (tr? - 1.0).abs())
}

/// SAPE(a, b) = 100 · |b − a| / (|a| + |b|), the symmetric absolute percentage error with `a`
/// the reference; `None` when both are 0 (or either is not finite).
pub(crate) fn sape(a: f64, b: f64) -> Option<f64> {
    let d = a.abs() + b.abs();
    (a.is_finite() && b.is_finite() && d > 0.0).then(|| 100.0 * (b - a).abs() / d)
}

/// Indiscernibility `1 − |2m − 1|` of an MIA value.
pub(crate) fn indiscernibility(mia: f64) -> Option<f64> {
    mia.is_finite().then(|| 1.0 - (2.0 * mia - 1.0).abs())
}

/// RR, FR, TR and RetDev as ratio of means of one row against the reference row.
pub(crate) fn ratio_of_means(row: &Row, reference: &Row) -> [(&'static str, Option<f64>); 4] {
    let ratio = |c: &str| {
        let mean = |r: &Row| r.summary.get(c).and_then(|a| a.value());
        retention(mean(row)?, mean(reference)?)
    };
    let (rr, fr, tr) = (ratio("retain_acc"), ratio("forget_acc"), ratio("test_acc"));
    [("rr", rr), ("fr", fr), ("tr", tr), ("retdev", retdev(rr, fr, tr))]
}

/// Ranks the shown rows other than the reference (evaluation.md §6, the third-party reading):
/// RetDev as ratio of means ascending, then Indisc of the mean T-MIA descending (the reference's
/// Indisc), then declaration order;
/// undefined keys sort last. Two methods are *statistically tied* when the 95 % confidence
/// intervals (mean ± half-width over the seeds) of their per-seed RetDev overlap, touching
/// included; an interval that is undefined (no seed with a defined RetDev) ties with nothing.
/// Ranks stay 1, 2, 3, …: the tie is a mark, not a shared rank.
pub(crate) fn rank(t: &Table) -> Vec<Ranked> {
    let Some(reference) = t.reference else { return vec![] };
    let key = |row: usize| {
        let r = &t.rows[row];
        let retdev = r.ratio_of_means.get("retdev").copied().flatten();
        let indisc = r.indisc_of_mean;
        (retdev, indisc)
    };
    let mut order: Vec<usize> = (0..t.shown.min(t.rows.len())).filter(|&i| i != reference).collect();
    order.sort_by(|&a, &b| {
        let ((ra, ia), (rb, ib)) = (key(a), key(b));
        // None last in both keys; RetDev ascending, Indisc descending.
        let by_retdev = match (ra, rb) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        let by_indisc = match (ia, ib) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_retdev.then(by_indisc).then(a.cmp(&b))
    });
    let interval = |row: usize| t.rows[row].summary.get("retdev").map(|a| (a.mean, a.ci95));
    order
        .iter()
        .enumerate()
        .map(|(i, &row)| {
            let (retdev, indisc) = key(row);
            let tied_with = order
                .iter()
                .copied()
                .filter(|&other| other != row)
                .filter(|&other| match (interval(row), interval(other)) {
                    (Some(a), Some(b)) => intervals_overlap(a, b),
                    _ => false,
                })
                .collect();
            let note =
                retdev.is_none().then(|| "RetDev unavailable: no accuracy of this model or the reference".to_string());
            Ranked { row, rank: i + 1, retdev, indisc, tied_with, note }
        })
        .collect()
}
