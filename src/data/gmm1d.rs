//! `gmm1d`: the bimodal 1-D Gaussian mixture of the source article's example (BENCHMARKS.md §2),
//! 0.5·N(−mean, std²) + 0.5·N(+mean, std²).
//!
//! The article turns a standard normal into "a bimodal Gaussian mixture" without giving numbers.
//! The defaults, modes at ±1.5 with standard deviation 0.5, are this project's choice: the modes
//! are six standard deviations apart, so the density between them is nearly zero and a sampler
//! that smears mass across the gap shows up in W2, while the overall variance
//! (mean² + std² = 2.5) stays of the order of the N(0, 1) source.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Component, Dataset, Mixture, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::checks::non_negative;
use crate::registry::Entry;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("mean", 1.5, "the modes sit at ±mean"),
    ParamSpec::float("std", 0.5, "standard deviation of each mode"),
];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "gmm1d",
        "1-D bimodal mixture 0.5·N(−1.5, 0.5²) + 0.5·N(1.5, 0.5²) (the source article's example)",
        PARAMS,
    ),
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gmm1d {
    pub mean: f64,
    pub std: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(Gmm1d { mean: non_negative(p, "mean")?, std: non_negative(p, "std")? }))
}

impl Dataset for Gmm1d {
    fn dim(&self) -> usize {
        1
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("gmm1d", seed);
        (0..n)
            .map(|_| {
                let centre = if rng.random_bool(0.5) { self.mean } else { -self.mean };
                let z: f64 = StandardNormal.sample(&mut rng);
                (centre + self.std * z) as f32
            })
            .collect()
    }

    fn mixture(&self) -> Option<Mixture> {
        let mode = |centre: f64| Component { weight: 0.5, mean: vec![centre], std: self.std };
        Some(Mixture { dim: 1, components: vec![mode(-self.mean), mode(self.mean)] })
    }
}
