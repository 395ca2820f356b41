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
//!
//! `standardise = true` replaces that map by the one of the benchmark's 8gaussians→moons source
//! (`two_dim.py` of the reference code: `make_moons(noise=0.1)`, then (v − mean)/std with one
//! scalar mean and std over both coordinates, then ×7, i.e. `noise = 0.1, standardise = true,
//! scale = 7`). The reference takes the mean and std of its own 12,000-point draw; we use their
//! population values, so that the dataset is one fixed distribution whatever the draw size: with
//! θ uniform on [0, π], the coordinates have means 1/2 (x) and 1/4 (y), so the scalar mean is
//! 3/8, and second moments 1 + s² and 5/8 − 1/π + s², so the scalar variance is
//! 13/16 − 1/(2π) + s² − 9/64 = 43/64 − 1/(2π) + s² (s the noise). `scale` multiplies the
//! points after either map.

use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Dataset, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::checks::non_negative;
use crate::registry::Entry;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("noise", 0.05, "std of the Gaussian noise, before the ×2 scaling"),
    ParamSpec::boolean("standardise", false, "standardise by the scalar mean and std instead of ×2, x − 1"),
    ParamSpec::float("scale", 1.0, "factor applied after the map (8gaussians→moons source: 7)"),
];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "moons",
        "two moons (sklearn make_moons), ×2, first coordinate −1; or standardised (8gaussians→moons source)",
        PARAMS,
    ),
    make,
};

/// Two moons with noise `noise`, mapped by the benchmark's ×2, x − 1 or, with `standardise`,
/// by the scalar standardisation, then multiplied by `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moons {
    pub noise: f64,
    pub standardise: bool,
    pub scale: f64,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(Moons {
        noise: non_negative(p, "noise")?,
        standardise: p.boolean("standardise")?,
        scale: non_negative(p, "scale")?,
    }))
}

impl Moons {
    /// The scalar mean and standard deviation of make_moons's coordinates (both pooled) at this
    /// noise, over θ uniform on [0, π] (see the module documentation).
    pub fn pooled_moments(&self) -> (f64, f64) {
        let variance = 43.0 / 64.0 - 1.0 / (2.0 * std::f64::consts::PI) + self.noise * self.noise;
        (3.0 / 8.0, variance.sqrt())
    }

    /// The affine map of one raw make_moons coordinate: (gain, offset) for x and for y.
    fn map(&self) -> [(f64, f64); 2] {
        if self.standardise {
            let (mean, std) = self.pooled_moments();
            let gain = self.scale / std;
            [(gain, -gain * mean); 2]
        } else {
            [(2.0 * self.scale, -self.scale), (2.0 * self.scale, 0.0)]
        }
    }
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
        let [(gx, ox), (gy, oy)] = self.map();
        points.iter().flat_map(|[x, y]| [(gx * x + ox) as f32, (gy * y + oy) as f32]).collect()
    }
}
