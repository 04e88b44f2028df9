//! The two small dense-matrix operations of NSGA-III's normalisation (search.md §4.6.3, step 4):
//! NumPy's `matrix_rank` test and `linalg.solve`, for the M×M matrix of extreme points.
//!
//! Both follow their specification (SVD-based rank with NumPy's default tolerance; LU with
//! partial pivoting as LAPACK's `dgesv`), not the bits of a particular LAPACK build — search.md
//! §10 notes the same limit; only a near-degenerate matrix could decide differently.

/// NumPy's `matrix_rank(a)`: the number of singular values above `σ_max · n · ε`.
///
/// Singular values come from a one-sided Jacobi SVD (accurate to a few ulps of `σ_max`).
/// Non-finite entries give rank 0 (the caller tests finiteness first, as Optuna does).
pub(crate) fn matrix_rank(a: &[Vec<f64>]) -> usize {
    let n = a.len();
    if n == 0 || a.iter().any(|r| r.len() != n || r.iter().any(|x| !x.is_finite())) {
        return 0;
    }
    // Columns of `a`, orthogonalised in place by plane rotations.
    let mut cols: Vec<Vec<f64>> = (0..n).map(|j| (0..n).map(|i| a[i][j]).collect()).collect();
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let alpha: f64 = cols[p].iter().map(|x| x * x).sum();
                let beta: f64 = cols[q].iter().map(|x| x * x).sum();
                let gamma: f64 = cols[p].iter().zip(&cols[q]).map(|(x, y)| x * y).sum();
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                let (left, right) = cols.split_at_mut(q);
                for (x, y) in left[p].iter_mut().zip(right[0].iter_mut()) {
                    let (a, b) = (*x, *y);
                    *x = c * a - s * b;
                    *y = s * a + c * b;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let sigma: Vec<f64> = cols.iter().map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt()).collect();
    let max = sigma.iter().copied().fold(0.0, f64::max);
    let tol = max * n as f64 * f64::EPSILON;
    sigma.iter().filter(|&&s| s > tol).count()
}

/// Solves `a · x = b` by LU with partial pivoting (first largest |pivot| per column, multipliers
/// by the pivot's reciprocal, then forward and back substitution in LAPACK's `dgetrs` order).
/// `None` when a pivot is exactly zero (NumPy would raise `LinAlgError`).
pub(crate) fn solve(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut piv: Vec<usize> = (0..n).collect();
    for j in 0..n {
        let mut p = j;
        for i in j + 1..n {
            if m[i][j].abs() > m[p][j].abs() {
                p = i;
            }
        }
        piv[j] = p;
        if m[p][j] == 0.0 {
            return None;
        }
        m.swap(j, p);
        let r = 1.0 / m[j][j];
        let (top, below) = m.split_at_mut(j + 1);
        let pivot_row = &top[j];
        for row in below.iter_mut() {
            row[j] *= r;
            let l = row[j];
            for (x, u) in row[j + 1..].iter_mut().zip(&pivot_row[j + 1..]) {
                *x -= l * u;
            }
        }
    }
    let mut x = b.to_vec();
    for (j, &p) in piv.iter().enumerate() {
        x.swap(j, p);
    }
    // L (unit lower) then U, column by column as the reference `dtrsm`.
    for k in 0..n {
        if x[k] != 0.0 {
            for i in k + 1..n {
                x[i] -= x[k] * m[i][k];
            }
        }
    }
    for k in (0..n).rev() {
        if x[k] != 0.0 {
            x[k] /= m[k][k];
            for i in 0..k {
                x[i] -= x[k] * m[i][k];
            }
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_of_small_matrices() {
        let id = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
        assert_eq!(matrix_rank(&id), 3);
        let dup = vec![vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 6.0], vec![0.0, 1.0, 0.0]];
        assert_eq!(matrix_rank(&dup), 2);
        let zero = vec![vec![0.0, 0.0], vec![0.0, 0.0]];
        assert_eq!(matrix_rank(&zero), 0);
        let near = vec![vec![1.0, 1.0], vec![1.0, 1.0 + 1e-17]];
        assert_eq!(matrix_rank(&near), 1);
    }

    #[test]
    fn solve_with_pivoting() {
        let a = vec![vec![0.0, 2.0, 1.0], vec![1.0, 1.0, 0.0], vec![3.0, 0.0, 1.0]];
        let x = solve(&a, &[1.0, 1.0, 1.0]).expect("regular");
        for (row, want) in a.iter().zip([1.0, 1.0, 1.0]) {
            let got: f64 = row.iter().zip(&x).map(|(p, q)| p * q).sum();
            assert!((got - want).abs() < 1e-14);
        }
        assert_eq!(solve(&[vec![0.0, 0.0], vec![0.0, 1.0]], &[1.0, 1.0]), None);
    }
}
