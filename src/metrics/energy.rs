//! `energy`: the energy distance of Székely and Rizzo (BENCHMARKS.md §3),
//!
//! ```text
//! D² = 2·E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖
//! ```
//!
//! estimated by the **V-statistic**: every mean runs over all ordered pairs, the zero diagonal
//! of the within-set means included (n² pairs for X, m² for Y, n·m between). That is exactly
//! the energy distance between the two empirical distributions, hence ≥ 0 (rounding is clamped),
//! 0 when both sets are the same empirical distribution (identical sets in any order), symmetric,
//! and defined for sets of different sizes — the same choice as the biased MMD² (`mmd`). The
//! U-statistic (within-set means over the n(n − 1) distinct pairs) would be unbiased for the
//! population D², but can be negative and is not 0 on identical sets. As with any V-statistic,
//! two independent draws of one distribution score about (E‖X − X'‖)/n above 0: compare values
//! at equal set sizes. The value reported is D² itself (no square root), in units of distance.
//!
//! Cost: (n + m)²/2 distances, spread over the cores; 0.5 s at 10,000 points per side in 2-D
//! on this project's 2-core machines, hence the `max_points` limit (default 10,000 per side).

use runner_sdk::{Metric, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::parallel::map_indices;
use super::points::{check_pair, PointsError};
use crate::registry::Entry;

/// The default largest set size, per side.
pub const DEFAULT_MAX_POINTS: i64 = 10_000;

const PARAMS: &[ParamSpec] =
    &[ParamSpec::int("max_points", DEFAULT_MAX_POINTS, "largest number of points per side (O(n²) distances)")];
/// The registry entry of `energy`.
pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "energy",
        "energy distance 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ (V-statistic over all pairs)",
        PARAMS,
    ),
    make,
};

fn make(p: &Params) -> Result<Box<dyn Metric>, PluginError> {
    let max = p.int("max_points")?;
    if max < 1 {
        return Err(p.invalid("max_points", format!("must be ≥ 1, got {max}")));
    }
    Ok(Box::new(Energy { max_points: max as usize }))
}

/// The `energy` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Energy {
    /// Limit per side.
    pub max_points: usize,
}

impl Metric for Energy {
    fn max_points(&self, _dim: usize) -> Option<usize> {
        Some(self.max_points)
    }

    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError> {
        energy_distance(samples, target, dim, Some(self.max_points)).map_err(|e| e.for_metric("energy"))
    }
}

/// The energy distance (V-statistic) between the sets `x` and `y` of `dim`-dimensional points,
/// each of at most `max` points when a limit is given.
pub fn energy_distance(x: &[f32], y: &[f32], dim: usize, max: Option<usize>) -> Result<f64, PointsError> {
    let (n, m) = check_pair(x, y, dim, max)?;
    let (x, y) = (Coordinates::new(x, dim), Coordinates::new(y, dim));
    let xy = pair_sum(&x, &y, false) / (n * m) as f64;
    let xx = 2.0 * pair_sum(&x, &x, true) / (n * n) as f64;
    let yy = 2.0 * pair_sum(&y, &y, true) / (m * m) as f64;
    Ok((2.0 * xy - xx - yy).max(0.0))
}

/// A point set in f64, kept both point-major (to read one point) and coordinate-major (so that
/// the distances from one point to many are contiguous sweeps the compiler vectorises).
struct Coordinates {
    points: Vec<f64>,
    /// `by_coordinate[d * len + j]` is coordinate d of point j.
    by_coordinate: Vec<f64>,
    len: usize,
    dim: usize,
}

impl Coordinates {
    fn new(buf: &[f32], dim: usize) -> Self {
        let len = buf.len() / dim;
        let mut by_coordinate = vec![0.0; buf.len()];
        for (j, p) in buf.chunks_exact(dim).enumerate() {
            for (d, &v) in p.iter().enumerate() {
                by_coordinate[d * len + j] = f64::from(v);
            }
        }
        Coordinates { points: buf.iter().map(|&v| f64::from(v)).collect(), by_coordinate, len, dim }
    }
}

/// Σ_i Σ_j ‖a_i − b_j‖, over j > i only when `upper` (a and b the same set: each unordered pair
/// once). Rows are summed separately, in parallel, then in row order.
fn pair_sum(a: &Coordinates, b: &Coordinates, upper: bool) -> f64 {
    let rows = map_indices(
        a.len,
        || vec![0.0; b.len],
        |i, scratch| {
            let from = if upper { i + 1 } else { 0 };
            let out = &mut scratch[from..];
            let x = &a.points[i * a.dim..(i + 1) * a.dim];
            for (d, &xd) in x.iter().enumerate() {
                let col = &b.by_coordinate[d * b.len + from..(d + 1) * b.len];
                if d == 0 {
                    out.iter_mut().zip(col).for_each(|(o, &y)| *o = (xd - y) * (xd - y));
                } else {
                    out.iter_mut().zip(col).for_each(|(o, &y)| *o += (xd - y) * (xd - y));
                }
            }
            out.iter_mut().for_each(|d| *d = d.sqrt());
            lane_sum(out)
        },
    );
    rows.iter().sum()
}

/// Σ values, in four interleaved partial sums: a single running sum is one long chain of
/// dependent additions, four chains keep the adder busy.
fn lane_sum(values: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l += v;
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}
