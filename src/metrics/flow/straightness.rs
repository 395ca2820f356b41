//! `straightness`: S = ∫₀¹ E‖(x̂1 − x0) − v(x_t, t)‖² dt, the mean squared deviation of the
//! velocity from the straight line between each trajectory's ends (0 exactly for straight paths
//! at constant speed, which one Euler step integrates exactly).
//!
//! It needs no second solve: expanding the square, and since ∫v dt = x̂1 − x0 along the solve,
//!
//!   S = E ∫‖v‖² dt − E‖x̂1 − x0‖²,
//!
//! which holds exactly in a Runge–Kutta method's discrete sums too, because the energy is
//! integrated with the same weights as the points ([`super::path`]).

use runner_sdk::{Metric, MetricInput, PathIntegrals, PluginError, PluginInfo, PluginKind};

use super::{finite_mean, invalid, not_points};
use crate::registry::Entry;

pub const ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "straightness",
        "∫ E‖(x̂1 − x0) − v‖² dt: how far the flow's trajectories are from straight lines",
        &[],
    ),
    make: |_| Ok(Box::new(Straightness)),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Straightness;

impl Metric for Straightness {
    fn input(&self) -> MetricInput {
        MetricInput::Path
    }

    fn evaluate(&self, _: &[f32], _: &[f32], _: usize) -> Result<f64, PluginError> {
        Err(not_points("straightness"))
    }

    fn evaluate_path(&self, path: &PathIntegrals<'_>) -> Result<f64, PluginError> {
        let energy = finite_mean("straightness", "path energy", path.energy)?;
        if path.end.len() != path.source.len() || path.source.len() != path.energy.len() * path.dim {
            return Err(invalid(
                "straightness",
                format!(
                    "{} source and {} end values for {} trajectories of dimension {}",
                    path.source.len(),
                    path.end.len(),
                    path.energy.len(),
                    path.dim
                ),
            ));
        }
        let chord: Vec<f64> = path
            .end
            .chunks_exact(path.dim)
            .zip(path.source.chunks_exact(path.dim))
            .map(|(e, s)| e.iter().zip(s).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect();
        Ok(energy - finite_mean("straightness", "displacement", &chord)?)
    }
}
