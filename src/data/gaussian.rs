//! `gaussian`: the isotropic normal N(mean, std²·I) in `dim` dimensions; with its defaults the
//! standard normal, the default noise source p0 (DESIGN.md §1). The host sets `dim` to the
//! target's dimension. As a target (e.g. N(3, 0.5²)) it is the simplest test of learning.

use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Component, Dataset, Mixture, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use crate::registry::Entry;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("dim", 2, "dimension (the host sets it to the target's)"),
    ParamSpec::float("mean", 0.0, "mean of every coordinate"),
    ParamSpec::float("std", 1.0, "standard deviation of every coordinate"),
];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "gaussian",
        "isotropic normal N(mean, std²·I); the standard normal is the usual noise source",
        PARAMS,
    ),
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    pub dim: usize,
    pub mean: f64,
    pub std: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    let dim = p.int("dim")?;
    if dim < 1 {
        return Err(p.invalid("dim", format!("must be ≥ 1, got {dim}")));
    }
    let std = p.float("std")?;
    if !(std > 0.0 && std.is_finite()) {
        return Err(p.invalid("std", format!("must be positive and finite, got {std}")));
    }
    Ok(Box::new(Gaussian { dim: dim as usize, mean: p.float("mean")?, std }))
}

impl Dataset for Gaussian {
    fn dim(&self) -> usize {
        self.dim
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("gaussian", seed);
        (0..n * self.dim)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                (self.mean + self.std * z) as f32
            })
            .collect()
    }

    fn mixture(&self) -> Option<Mixture> {
        Some(Mixture {
            dim: self.dim,
            components: vec![Component { weight: 1.0, mean: vec![self.mean; self.dim], std: self.std }],
        })
    }
}
