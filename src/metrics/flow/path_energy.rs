//! `path-energy`: PE = E ∫₀¹ ‖v(t, x_t)‖² dt over the trajectories of the row's own solve
//! (BENCHMARKS.md §1). The optimal transport map's flow has the least energy of all flows between
//! p0 and p1, W2²(p0, p1) (Benamou–Brenier); `npe` measures the excess.

use runner_sdk::{Metric, MetricInput, PathIntegrals, PluginError, PluginInfo, PluginKind};

use super::{finite_mean, not_points};
use crate::registry::Entry;

pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "path-energy",
        "mean kinetic energy ∫‖v‖² dt of the flow's trajectories",
        &[],
    ),
    make: |_| Ok(Box::new(PathEnergy)),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathEnergy;

impl Metric for PathEnergy {
    fn input(&self) -> MetricInput {
        MetricInput::Path
    }

    fn evaluate(&self, _: &[f32], _: &[f32], _: usize) -> Result<f64, PluginError> {
        Err(not_points("path-energy"))
    }

    fn evaluate_path(&self, path: &PathIntegrals<'_>) -> Result<f64, PluginError> {
        finite_mean("path-energy", "path energy", path.energy)
    }
}
