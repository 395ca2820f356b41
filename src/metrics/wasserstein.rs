//! `w2` and `w1`: exact Wasserstein distances between two equal-size, uniformly weighted point
//! sets (BENCHMARKS.md §3). W2 = √(mean ‖x − y‖² over the optimal pairing), W1 = mean ‖x − y‖
//! over the W1-optimal pairing.
//!
//! In one dimension the optimal pairing is found by sorting ([`super::sorted`]), for any n. In
//! more dimensions it is an exact assignment ([`crate::transport::assignment`]): an ε-scaling auction for
//! near-optimal prices, finished by exact shortest augmenting paths, with the ground costs
//! recomputed from the points as the solver sweeps rows ([`PointCosts`]) instead of stored.
//! That takes 5–12 s at 10,000 points per side on this project's 2-core machines (2-D and 5-D,
//! `metrics::wasserstein_at_10000_points` in tests/it measures it), so the metric
//! accepts up to `max_points` (default 10,000) points per side there; the host evaluates a
//! prefix of each set beyond that and reports how many points it used. Note the finite-sample
//! floor: two independent draws of the same distribution are already some distance apart
//! (BENCHMARKS.md §1), so compare a model's W2 with the floor at the same n.

use runner_sdk::{Metric, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::points::{check_equal_pair, PointsError};
use super::sorted::wasserstein_1d;
use crate::registry::Entry;
use crate::transport::assignment::{self, Start};
use crate::transport::costs::PointCosts;

pub use crate::transport::costs::Order;

/// The metric each order is.
fn metric_name(order: Order) -> &'static str {
    match order {
        Order::W1 => "w1",
        Order::W2 => "w2",
    }
}

/// The default largest set size, per side, in more than one dimension.
pub const DEFAULT_MAX_POINTS: i64 = 10_000;

const PARAMS: &[ParamSpec] = &[ParamSpec::int(
    "max_points",
    DEFAULT_MAX_POINTS,
    "largest number of points per side in 2+ dimensions (exact assignment: seconds at 10,000, O(n²) time at best)",
)];

pub const W2_ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "w2",
        "exact 2-Wasserstein distance (sorting in 1-D, exact assignment otherwise)",
        PARAMS,
    ),
    make: |p| make(p, Order::W2),
};

pub const W1_ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "w1",
        "exact 1-Wasserstein distance (sorting in 1-D, exact assignment otherwise)",
        PARAMS,
    ),
    make: |p| make(p, Order::W1),
};

fn make(p: &Params, order: Order) -> Result<Box<dyn Metric>, PluginError> {
    let max = p.int("max_points")?;
    if max < 1 {
        return Err(p.invalid("max_points", format!("must be ≥ 1, got {max}")));
    }
    Ok(Box::new(Wasserstein { order, max_points: max as usize }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wasserstein {
    pub order: Order,
    /// Limit per side in 2+ dimensions (1-D has none).
    pub max_points: usize,
}

impl Metric for Wasserstein {
    fn max_points(&self, dim: usize) -> Option<usize> {
        (dim > 1).then_some(self.max_points)
    }

    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError> {
        let name = metric_name(self.order);
        check_equal_pair(samples, target, dim, self.max_points(dim)).map_err(|e| e.for_metric(name))?;
        exact(samples, target, dim, self.order)
            .map_err(|e| PluginError::Invalid { plugin: name.to_string(), message: e.to_string() })
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum WassersteinError {
    #[error(transparent)]
    Points(#[from] PointsError),
}

/// Exact W_p between two equal-size sets of `dim`-dimensional points, without a size limit:
/// by sorting in 1-D, by assignment otherwise.
pub fn exact(samples: &[f32], target: &[f32], dim: usize, order: Order) -> Result<f64, WassersteinError> {
    check_equal_pair(samples, target, dim, None)?;
    if dim == 1 {
        Ok(wasserstein_1d(samples, target, order))
    } else {
        by_assignment(samples, target, dim, order)
    }
}

/// Exact W_p by solving the assignment problem on the n × n ground costs (any dimension; in 1-D
/// [`exact`] sorts instead, which is the same value far faster).
pub fn by_assignment(samples: &[f32], target: &[f32], dim: usize, order: Order) -> Result<f64, WassersteinError> {
    let n = check_equal_pair(samples, target, dim, None)?;
    let costs = PointCosts::new(samples, target, dim, order);
    let a = assignment::solve_costs(&costs, Start::for_size(n)).assignment;
    Ok(order.from_mean_cost(a.cost / n as f64))
}

/// The row-major n × m matrix of ground costs between the rows of `a` and of `b`, in f64: for
/// equal sizes, bit for bit the values the assignment sees through [`PointCosts`] (the squared
/// coordinate differences are summed in the same order).
pub fn cost_matrix(a: &[f32], b: &[f32], dim: usize, order: Order) -> Vec<f64> {
    let b64: Vec<f64> = b.iter().map(|&x| f64::from(x)).collect();
    let mut out = Vec::with_capacity((a.len() / dim) * (b.len() / dim));
    for x in a.chunks_exact(dim) {
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        out.extend(b64.chunks_exact(dim).map(|y| {
            let mut d2 = (x[0] - y[0]) * (x[0] - y[0]);
            for (p, q) in x.iter().zip(y).skip(1) {
                d2 += (p - q) * (p - q);
            }
            match order {
                Order::W1 => d2.sqrt(),
                Order::W2 => d2,
            }
        }));
    }
    out
}
