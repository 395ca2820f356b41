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

use runner_sdk::{Metric, MetricInput, PathIntegrals, PluginError, PluginInfo, PluginKind};

use super::{finite_mean, invalid, not_points};
use crate::registry::{self, Entry};

pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo {
        name: "npe",
        kind: PluginKind::Metric,
        summary: "normalized path energy |PE − W2²(p0, p1)| / W2²(p0, p1)",
        params: &[],
    },
    make: |_| {
        let w2 = registry::build(crate::metrics::REGISTRY, PluginKind::Metric, "w2", &BTreeMap::new())
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
        let w2 =
            self.w2.evaluate(&source, path.target, path.dim).map_err(|e| invalid("npe", format!("W2(p0, p1): {e}")))?;
        let cost = w2 * w2;
        if cost.is_nan() || cost <= 0.0 {
            return Err(invalid(
                "npe",
                format!("W2²(p0, p1) is {cost}: the source and target points coincide, NPE is undefined"),
            ));
        }
        Ok((energy - cost).abs() / cost)
    }
}
