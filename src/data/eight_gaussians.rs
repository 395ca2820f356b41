//! `8gaussians`: eight isotropic Gaussians with equal weights, centred at angles k·45° on a
//! circle, as in the conditional-flow-matching benchmark (BENCHMARKS.md §1: radius 5, std 1).
//! The target of the benchmark's 8gaussians→moons task is the same dataset with other
//! parameters: the reference code (`two_dim.py`) draws radius 4, std 0.5 and multiplies the
//! points by 3, i.e. `radius = 12, std = 1.5`. (Only the 8 Gaussians are ×3 there; the moons
//! source is standardised and ×7, see `moons`.)

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Component, Dataset, Mixture, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::checks::non_negative;
use crate::registry::Entry;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("radius", 5.0, "radius of the circle of centres"),
    ParamSpec::float("std", 1.0, "standard deviation of each Gaussian"),
];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "8gaussians",
        "8 Gaussians at angles k·45° on a circle of radius 5, std 1",
        PARAMS,
    ),
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EightGaussians {
    pub radius: f64,
    pub std: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(EightGaussians { radius: non_negative(p, "radius")?, std: non_negative(p, "std")? }))
}

impl EightGaussians {
    /// The centre of component `k` (0..8), at angle k·45°.
    pub fn centre(&self, k: usize) -> [f64; 2] {
        let angle = k as f64 * std::f64::consts::FRAC_PI_4;
        [self.radius * angle.cos(), self.radius * angle.sin()]
    }
}

impl Dataset for EightGaussians {
    fn dim(&self) -> usize {
        2
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("8gaussians", seed);
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let c = self.centre(rng.random_range(0..8));
            for centre in c {
                let z: f64 = StandardNormal.sample(&mut rng);
                out.push((centre + self.std * z) as f32);
            }
        }
        out
    }

    fn mixture(&self) -> Option<Mixture> {
        let components =
            (0..8).map(|k| Component { weight: 1.0 / 8.0, mean: self.centre(k).to_vec(), std: self.std }).collect();
        Some(Mixture { dim: 2, components })
    }
}
