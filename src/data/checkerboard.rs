//! `checkerboard`: the 2-D checkerboard of FFJORD (Grathwohl et al., 2019, `toy_data.py`).
//!
//! x1 = 4u − 2 and x2 = v − 2b + (⌊x1⌋ mod 2) with u, v ~ U(0, 1) and b ~ {0, 1}, then both
//! coordinates ×2. Before scaling, ⌊x2⌋ has the parity of ⌊x1⌋, so the points fill, uniformly,
//! the 8 of the 16 unit squares of [−2, 2)² whose integer corners have an even sum; after
//! scaling, the 2×2 cells of [−4, 4)² with ⌊x/2⌋ + ⌊y/2⌋ even. The density is discontinuous on
//! every cell edge, which is what makes this set hard for smooth flows.

use rand::Rng;
use runner_sdk::{Dataset, Params, PluginError, PluginInfo, PluginKind};

use crate::registry::Entry;

pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "checkerboard",
        "FFJORD's 2-D checkerboard: 8 uniform 2×2 cells of [−4, 4)²",
        &[],
    ),
    make,
};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Checkerboard;

fn make(_: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(Checkerboard))
}

impl Dataset for Checkerboard {
    fn dim(&self) -> usize {
        2
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("checkerboard", seed);
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let x1 = 4.0 * rng.random::<f64>() - 2.0;
            let b = f64::from(rng.random_range(0..2u8));
            // rem_euclid is Python's `%`: ⌊x1⌋ mod 2 ∈ {0, 1} also for negative x1.
            let x2 = rng.random::<f64>() - 2.0 * b + x1.floor().rem_euclid(2.0);
            out.push((2.0 * x1) as f32);
            out.push((2.0 * x2) as f32);
        }
        out
    }
}
