//! `gaussian`: the standard normal N(0, I) in `dim` dimensions, the default noise source p0
//! (DESIGN.md §1). The host sets `dim` to the target's dimension.

use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Dataset, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use crate::registry::Entry;

pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo {
        name: "gaussian",
        kind: PluginKind::Dataset,
        summary: "standard normal N(0, I), the usual noise source",
        params: &[ParamSpec::int("dim", 2, "dimension (the host sets it to the target's)")],
    },
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    pub dim: usize,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    let dim = p.int("dim");
    if dim < 1 {
        return Err(p.invalid("dim", format!("must be ≥ 1, got {dim}")));
    }
    Ok(Box::new(Gaussian { dim: dim as usize }))
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
                z as f32
            })
            .collect()
    }
}
