//! `npe`: the normalized path energy NPE = |PE − W2²(p0, p1)| / W2²(p0, p1) (BENCHMARKS.md §1).
//! By Benamou–Brenier no flow from p0 to p1 has less energy than W2²(p0, p1), reached by the
//! optimal transport map's straight, constant-speed flow, so NPE measures how far the learned
//! flow is from optimal transport (0 for OT-CFM in the limit, large for independent couplings).
//!
//! W2² is estimated by exact OT between the trajectories' source points and the held-out target
//! points, through the `w2` metric of the registry: the same solver and the same size cap (the
//! host gives this metric at most `w2`'s `max_points` trajectories and target points, and says
//! how many it used). Its finite-sample bias (BENCHMARKS.md §1's floor) inflates W2², so compare
//! NPE at equal sizes.

use std::collections::BTreeMap;

use runner_sdk::{Metric, MetricInput, Params, PathIntegrals, PluginError, PluginInfo, PluginKind};

use super::{finite_mean, invalid, not_points};
use crate::registry::Entry;

pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(PluginKind::Metric, "npe", "normalized path energy |PE − W2²(p0, p1)| / W2²(p0, p1)", &[]),
    make: |_| {
        // NPE's transport cost is the exact W2 by definition: the built-in, not whatever a
        // registry calls `w2`.
        let w2 = &crate::metrics::wasserstein::W2_ENTRY;
        let w2 = Params::resolve(&w2.info.name, &w2.info.params, &BTreeMap::new())
            .and_then(|p| (w2.make)(&p))
            .map_err(|e| invalid("npe", format!("building `w2`: {e}")))?;
        Ok(Box::new(Npe { w2 }))
    },
};

/// NPE, with the exact W2 metric it measures the transport cost with.
pub struct Npe {
    w2: Box<dyn Metric>,
}

impl Metric for Npe {
    fn input(&self) -> MetricInput {
        MetricInput::Path
    }

    fn max_points(&self, dim: usize) -> Option<usize> {
        self.w2.max_points(dim)
    }

    fn evaluate(&self, _: &[f32], _: &[f32], _: usize) -> Result<f64, PluginError> {
        Err(not_points("npe"))
    }

    fn evaluate_path(&self, path: &PathIntegrals<'_>) -> Result<f64, PluginError> {
        let energy = finite_mean("npe", "path energy", path.energy)?;
        let source: Vec<f32> = path.source.iter().map(|&v| v as f32).collect();
        let cost = match transport_cost::recall(&source, path.target, path.dim) {
            Some(cost) => cost,
            None => {
                let w2 = self
                    .w2
                    .evaluate(&source, path.target, path.dim)
                    .map_err(|e| invalid("npe", format!("W2(p0, p1): {e}")))?;
                transport_cost::remember(source, path.target, path.dim, w2 * w2);
                w2 * w2
            }
        };
        if cost.is_nan() || cost <= 0.0 {
            return Err(invalid(
                "npe",
                format!("W2²(p0, p1) is {cost}: the source and target points coincide, NPE is undefined"),
            ));
        }
        Ok((energy - cost).abs() / cost)
    }
}

/// W2²(p0, p1) of the last few (source, target) point sets. Every trial of one seed and dataset
/// is evaluated from the same source points against the same held-out points, so a table of
/// methods would otherwise solve the same exact assignment (seconds at 10,000 points) once per
/// row. Entries are matched on the points themselves, bit for bit, so a hit is the value the
/// solver would return.
mod transport_cost {
    use std::sync::Mutex;

    /// Sets remembered (a table's datasets × seeds in flight at once is far fewer).
    const KEEP: usize = 8;

    struct Entry {
        source: Vec<f32>,
        target: Vec<f32>,
        dim: usize,
        cost: f64,
    }

    static MEMO: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    pub fn recall(source: &[f32], target: &[f32], dim: usize) -> Option<f64> {
        let memo = MEMO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        memo.iter().find(|e| e.dim == dim && same(&e.source, source) && same(&e.target, target)).map(|e| e.cost)
    }

    pub fn remember(source: Vec<f32>, target: &[f32], dim: usize, cost: f64) {
        let mut memo = MEMO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if memo.len() == KEEP {
            memo.remove(0);
        }
        memo.push(Entry { source, target: target.to_vec(), dim, cost });
    }
}
