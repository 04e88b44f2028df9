//! Hypervolume of minimised objective vectors and greedy hypervolume subset selection: munl's
//! counterparts of Optuna 3.6's `_hypervolume` package (its hypervolume and `_solve_hssp`), used
//! by the multi-objective TPE split and "below" weights (search.md §5).
//!
//! The volume is exact, computed by slicing along the last objective; Optuna sums the same
//! volume in another order, so results may differ in the last bits. The TPE split replaces +∞
//! objectives before it calls in here.

/// Hypervolume dominated by `points` (minimised) up to `reference`, by slicing along the last
/// objective (exact; points not strictly better than the reference everywhere add nothing).
pub(crate) fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let mut pts: Vec<&[f64]> =
        points.iter().map(Vec::as_slice).filter(|p| p.iter().zip(reference).all(|(x, r)| x < r)).collect();
    slice_volume(&mut pts, reference)
}

fn slice_volume(pts: &mut [&[f64]], reference: &[f64]) -> f64 {
    let d = reference.len();
    if pts.is_empty() || d == 0 {
        return 0.0;
    }
    if d == 1 {
        return reference[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    }
    pts.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
    if d == 2 {
        // Sweep: each slab between consecutive second coordinates is a box of the best first one.
        let mut volume = 0.0;
        let mut best = f64::INFINITY;
        for i in 0..pts.len() {
            best = best.min(pts[i][0]);
            let next = if i + 1 < pts.len() { pts[i + 1][1] } else { reference[1] };
            volume += (next - pts[i][1]) * (reference[0] - best);
        }
        return volume;
    }
    let mut volume = 0.0;
    for i in 0..pts.len() {
        let next = if i + 1 < pts.len() { pts[i + 1][d - 1] } else { reference[d - 1] };
        let height = next - pts[i][d - 1];
        if height > 0.0 {
            let mut lower: Vec<&[f64]> = pts[..=i].iter().map(|p| &p[..d - 1]).collect();
            volume += height * slice_volume(&mut lower, &reference[..d - 1]);
        }
    }
    volume
}

/// Greedy hypervolume subset selection: `k` positions into `vectors`, in selection order.
pub(crate) fn hssp(vectors: &[Vec<f64>], k: usize, reference: &[f64]) -> Vec<usize> {
    let mut contributions: Vec<f64> = vectors.iter().map(|v| hypervolume(std::slice::from_ref(v), reference)).collect();
    let mut taken = vec![false; vectors.len()];
    let mut selected: Vec<Vec<f64>> = Vec::new();
    let mut chosen = Vec::with_capacity(k);
    let mut hv_selected = 0.0;
    while chosen.len() < k.min(vectors.len()) {
        let mut best = None;
        for (j, &c) in contributions.iter().enumerate() {
            if !taken[j] && best.is_none_or(|b: usize| c > contributions[b]) {
                best = Some(j);
            }
        }
        let Some(b) = best else { break };
        taken[b] = true;
        for j in 0..vectors.len() {
            if taken[j] {
                continue;
            }
            let p: Vec<f64> = vectors[b].iter().zip(&vectors[j]).map(|(x, y)| x.max(*y)).collect();
            let mut with = selected.clone();
            with.push(p);
            contributions[j] -= hypervolume(&with, reference) - hv_selected;
        }
        selected.push(vectors[b].clone());
        chosen.push(b);
        hv_selected = hypervolume(&selected, reference);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypervolume_and_subset_selection() {
        let pts = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
        assert_eq!(hypervolume(&pts, &[4.0, 4.0]), 6.0);
        assert_eq!(hypervolume(&[vec![1.0, 1.0, 1.0], vec![0.0, 2.0, 2.0]], &[3.0, 3.0, 3.0]), 8.0 + 3.0 - 2.0);
        // Greedy: the middle point has the largest box (4), then either end (+1 each).
        assert_eq!(hssp(&pts, 2, &[4.0, 4.0]), vec![1, 0]);
    }
}
