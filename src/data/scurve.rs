//! `scurve`: scikit-learn's `make_s_curve` projected to 2-D as the conditional-flow-matching
//! benchmark uses it (BENCHMARKS.md §1): coordinates (x, z) of the 3-D S-curve, times 1.5.
//!
//! `make_s_curve` draws t = 3π(u − 0.5) with u ~ U(0, 1) and sets x = sin t, z = sign(t)(cos t − 1)
//! (and a depth y = 2v that the projection drops, so it is not drawn here), then adds N(0, noise²)
//! to every coordinate. Without noise, the points with t > 0 lie on the unit circle around
//! (0, −1) and those with t < 0 on the unit circle around (0, 1): an "S" made of two
//! three-quarter circles, symmetric under (x, z) → (−x, −z).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Dataset, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::checks::non_negative;
use crate::registry::Entry;

/// The benchmark's scaling of both kept coordinates.
pub const SCALE: f64 = 1.5;

const PARAMS: &[ParamSpec] = &[ParamSpec::float("noise", 0.05, "std of the Gaussian noise, before the ×1.5 scaling")];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "scurve",
        "S-curve (sklearn make_s_curve), coordinates (x, z), ×1.5",
        PARAMS,
    ),
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SCurve {
    pub noise: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(SCurve { noise: non_negative(p, "noise")? }))
}

impl Dataset for SCurve {
    fn dim(&self) -> usize {
        2
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("scurve", seed);
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let t = 3.0 * std::f64::consts::PI * (rng.random::<f64>() - 0.5);
            // numpy's sign(0) is 0; the curve is continuous there (cos 0 − 1 = 0) either way.
            let x = t.sin();
            let z = if t == 0.0 { 0.0 } else { t.signum() * (t.cos() - 1.0) };
            let ex: f64 = StandardNormal.sample(&mut rng);
            let ez: f64 = StandardNormal.sample(&mut rng);
            out.push((SCALE * (x + self.noise * ex)) as f32);
            out.push((SCALE * (z + self.noise * ez)) as f32);
        }
        out
    }
}
