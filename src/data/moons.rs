//! `moons`: scikit-learn's `make_moons` as the conditional-flow-matching benchmark uses it
//! (BENCHMARKS.md §1), scaled by 2 with 1 subtracted from the first coordinate.
//!
//! `make_moons` does not sample the moons at random: it puts `n/2` points at evenly spaced
//! angles θ = linspace(0, π) on the outer half circle (cos θ, sin θ) and the other `n − n/2` on
//! the inner one (1 − cos θ, 1 − sin θ − 0.5), adds N(0, noise²) to both coordinates and shuffles
//! the rows. Two draws therefore share their noise-free skeleton, which is why the finite-sample
//! W2 floor of moons is far below that of truly random sets of the same size; the benchmark's
//! figures are only comparable if we reproduce this construction exactly.
//! After the affine map the outer moon lies on the circle of radius 2 around (−1, 0) (y ≥ 0) and
//! the inner one on the circle of radius 2 around (1, 1) (y ≤ 1).

use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Dataset, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::checks::non_negative;
use crate::registry::Entry;

pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo {
        name: "moons",
        kind: PluginKind::Dataset,
        summary: "two moons (sklearn make_moons), ×2, first coordinate −1",
        params: &[ParamSpec::float("noise", 0.05, "std of the Gaussian noise, before the ×2 scaling")],
    },
    make,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moons {
    pub noise: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(Moons { noise: non_negative(p, "noise")? }))
}

/// numpy's `linspace(start, end, count)[i]` (a single point sits at `start`).
fn linspace(start: f64, end: f64, count: usize, i: usize) -> f64 {
    if count <= 1 {
        start
    } else {
        start + (end - start) * i as f64 / (count - 1) as f64
    }
}

impl Dataset for Moons {
    fn dim(&self) -> usize {
        2
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("moons", seed);
        let n_outer = n / 2;
        let n_inner = n - n_outer;
        let outer = (0..n_outer).map(|i| {
            let theta = linspace(0.0, std::f64::consts::PI, n_outer, i);
            [theta.cos(), theta.sin()]
        });
        let inner = (0..n_inner).map(|i| {
            let theta = linspace(0.0, std::f64::consts::PI, n_inner, i);
            [1.0 - theta.cos(), 1.0 - theta.sin() - 0.5]
        });
        let mut points: Vec<[f64; 2]> = outer.chain(inner).collect();
        for p in &mut points {
            for c in p.iter_mut() {
                let z: f64 = StandardNormal.sample(&mut rng);
                *c += self.noise * z;
            }
        }
        points.shuffle(&mut rng);
        points.iter().flat_map(|[x, y]| [(2.0 * x - 1.0) as f32, (2.0 * y) as f32]).collect()
    }
}
