//! Two interleaved spirals: arm 0 and its point reflection, arm 1, each one and a half turns
//! from the centre outwards, with Gaussian noise on every coordinate.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use runner_sdk::{Dataset, ParamSpec, Params, PluginError};

pub const PARAMS: &[ParamSpec] =
    &[ParamSpec::float("noise", 0.05, "standard deviation of the noise on each coordinate")];

/// The angle an arm turns through: one and a half turns.
const SWEEP: f64 = 3.0 * std::f64::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spiral {
    pub noise: f64,
}

impl Dataset for Spiral {
    fn dim(&self) -> usize {
        2
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let noise = Normal::new(0.0, self.noise).expect("a validated deviation");
        let mut points = Vec::with_capacity(2 * n);
        for _ in 0..n {
            // √u spreads the points evenly along the arm's length rather than its angle.
            let theta = rng.random::<f64>().sqrt() * SWEEP;
            let radius = theta / SWEEP;
            // Each point picks its arm at random, so that draws are i.i.d.
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            points.push((sign * radius * theta.cos() + noise.sample(&mut rng)) as f32);
            points.push((sign * radius * theta.sin() + noise.sample(&mut rng)) as f32);
        }
        points
    }
}

pub fn make_spiral(p: &Params) -> Result<Spiral, PluginError> {
    let noise = p.float("noise")?;
    if !(noise >= 0.0 && noise.is_finite()) {
        return Err(p.invalid("noise", format!("must be a finite number ≥ 0, got {noise}")));
    }
    Ok(Spiral { noise })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_conforms() {
        runner_testkit::check_dataset(&Spiral { noise: 0.05 }).unwrap();
        runner_testkit::check_dataset(&Spiral { noise: 0.0 }).unwrap();
    }

    #[test]
    fn without_noise_every_point_lies_on_an_arm_within_the_unit_disc() {
        let points = Spiral { noise: 0.0 }.sample(1000, 3);
        let mut arms = [0, 0];
        for p in points.chunks(2) {
            let (x, y) = (f64::from(p[0]), f64::from(p[1]));
            let radius = x.hypot(y);
            assert!(radius <= 1.0 + 1e-6, "{radius}");
            // On arm 0 the angle is radius·SWEEP (mod 2π); arm 1 is its reflection.
            let theta = radius * SWEEP;
            let on = |sign: f64| {
                (sign * x - radius * theta.cos()).abs() < 1e-5 && (sign * y - radius * theta.sin()).abs() < 1e-5
            };
            let arm = if on(1.0) {
                0
            } else if on(-1.0) {
                1
            } else {
                panic!("({x}, {y}) lies on neither arm")
            };
            arms[arm] += 1;
        }
        // Each point picks its arm at random: both get about half.
        assert!(arms.iter().all(|&n| n > 400), "{arms:?}");
    }

    #[test]
    fn negative_noise_is_refused() {
        let mut given = std::collections::BTreeMap::new();
        given.insert("noise".to_string(), runner_sdk::ParamValue::Float(-0.1));
        let p = runner_sdk::Params::resolve("spiral", PARAMS, &given).unwrap();
        assert!(make_spiral(&p).unwrap_err().to_string().contains("`noise`"));
    }
}
