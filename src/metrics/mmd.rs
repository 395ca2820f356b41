//! `mmd`: the biased estimate of the squared maximum mean discrepancy (BENCHMARKS.md §3),
//!
//! ```text
//! MMD² = mean K(x, x') + mean K(y, y') − 2·mean K(x, y)     (all pairs, diagonals included)
//! ```
//!
//! with the multi-scale kernel K(x, y) = Σ_{s ∈ {0.01, 0.1, 1, 10, 100}} exp(−‖x − y‖² / (2s²)).
//! The value reported is MMD² itself, not its square root, as in the benchmark. The biased
//! estimate is the squared RKHS distance between the two empirical mean embeddings, so it is
//! ≥ 0 (rounding is clamped), 0 only when both sets are the same empirical distribution, and
//! defined for sets of different sizes.
//!
//! Because the diagonal terms are included, the estimate is biased upwards: bandwidths much
//! finer than the spacing of the points (0.01, often 0.1) see each point only against itself and
//! add about 1/n + 1/m each, so two draws of one 2-D dataset at 400 points score ≈ 0.008, not 0.
//! Compare values at equal set sizes.
//!
//! The five bandwidths span four decades so that no single length scale has to be tuned per
//! dataset; the price is five exponentials per pair and O(n²) pairs, hence the `max_points`
//! limit (default 5,000 per side: about 2·10⁸ exponentials, 2 s on this project's machines).

use runner_sdk::{Metric, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::points::{check_pair, PointsError};
use crate::registry::Entry;

/// The kernel's bandwidths s.
pub const BANDWIDTHS: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 100.0];

/// exp(−a) for a beyond this is below f64's smallest subnormal: the term is exactly 0.
const EXP_UNDERFLOW: f64 = 746.0;

const PARAMS: &[ParamSpec] =
    &[ParamSpec::int("max_points", 5000, "largest number of points per side (O(n²) kernel evaluations)")];
pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "mmd",
        "biased MMD² with a sum of Gaussian kernels, bandwidths 0.01–100",
        PARAMS,
    ),
    make,
};

fn make(p: &Params) -> Result<Box<dyn Metric>, PluginError> {
    let max = p.int("max_points")?;
    if max < 1 {
        return Err(p.invalid("max_points", format!("must be ≥ 1, got {max}")));
    }
    Ok(Box::new(Mmd { max_points: max as usize }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mmd {
    pub max_points: usize,
}

impl Metric for Mmd {
    fn max_points(&self, _dim: usize) -> Option<usize> {
        Some(self.max_points)
    }

    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError> {
        mmd2(samples, target, dim, Some(self.max_points)).map_err(|e| e.for_metric("mmd"))
    }
}

/// The kernel at squared distance `d2`.
pub fn kernel(d2: f64) -> f64 {
    BANDWIDTHS
        .iter()
        .map(|s| {
            let a = d2 / (2.0 * s * s);
            if a > EXP_UNDERFLOW {
                0.0
            } else {
                (-a).exp()
            }
        })
        .sum()
}

/// Biased MMD² between the sets `x` and `y` of `dim`-dimensional points (sizes may differ).
pub fn mmd2(x: &[f32], y: &[f32], dim: usize, max: Option<usize>) -> Result<f64, PointsError> {
    let (n, m) = check_pair(x, y, dim, max)?;
    let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
    let kxx = mean_within(&x, dim);
    let kyy = mean_within(&y, dim);
    let kxy = sum_between(&x, &y, dim) / (n * m) as f64;
    Ok((kxx + kyy - 2.0 * kxy).max(0.0))
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Mean of K over all ordered pairs of one set, diagonal included; K is symmetric, so each
/// unordered pair is evaluated once.
fn mean_within(a: &[f64], dim: usize) -> f64 {
    let n = a.len() / dim;
    let mut off_diagonal = 0.0;
    for (i, p) in a.chunks_exact(dim).enumerate() {
        off_diagonal += a[(i + 1) * dim..].chunks_exact(dim).map(|q| kernel(sq_dist(p, q))).sum::<f64>();
    }
    (2.0 * off_diagonal + n as f64 * kernel(0.0)) / (n * n) as f64
}

fn sum_between(a: &[f64], b: &[f64], dim: usize) -> f64 {
    a.chunks_exact(dim).map(|p| b.chunks_exact(dim).map(|q| kernel(sq_dist(p, q))).sum::<f64>()).sum()
}
