//! Pareto dominance and non-dominated sorting for minimised objectives (search.md §1, §4.6.1).

/// `a` dominates `b` (minimisation, every objective): `a ≤ b` everywhere and the vectors are not
/// identical. Identical vectors do not dominate each other; `+∞` compares as usual (`∞ ≤ ∞`).
pub(crate) fn dominates(a: &[f64], b: &[f64]) -> bool {
    a != b && a.iter().zip(b).all(|(x, y)| x <= y)
}

/// Pareto fronts of `points` as lists of indices: front 0 = the points no other point
/// dominates, then the same on the rest, and so on. Identical vectors share a front; within a
/// front, indices keep the input order (§4.6.1).
pub(crate) fn fronts(points: &[&[f64]]) -> Vec<Vec<usize>> {
    let mut rest: Vec<usize> = (0..points.len()).collect();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (front, next): (Vec<usize>, Vec<usize>) =
            rest.iter().partition(|&&i| !rest.iter().any(|&j| dominates(points[j], points[i])));
        out.push(front);
        rest = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn dominance_cases() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 3.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 3.0], &[2.0, 2.0]));
        assert!(dominates(&[1.0, INF], &[INF, INF]));
        assert!(!dominates(&[INF, INF], &[INF, INF]));
        assert!(dominates(&[0.0, 0.0, 0.0], &[0.0, 0.0, 1e-300]));
    }

    #[test]
    fn fronts_keep_input_order_and_share_identical_points() {
        let pts: Vec<Vec<f64>> = vec![
            vec![3.0, 3.0], // 0: dominated by 1, 2, 4
            vec![1.0, 2.0], // 1: front 0
            vec![2.0, 1.0], // 2: front 0
            vec![INF, INF], // 3: last
            vec![1.0, 2.0], // 4: identical to 1 → front 0
            vec![2.0, 2.0], // 5: dominated by 1, 2 → front 1
        ];
        let refs: Vec<&[f64]> = pts.iter().map(|v| v.as_slice()).collect();
        assert_eq!(fronts(&refs), vec![vec![1, 2, 4], vec![5], vec![0], vec![3]]);
        assert!(fronts(&[]).is_empty());
    }
}
