//! One training minibatch of the conditional matching loss, built on the CPU from the
//! datasets, the coupling, the schedule and the target: (x_t, t, regression target, weight).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runner_sdk::{PluginError, Target};

use crate::seed;
use crate::setup::Setup;

pub struct Batch {
    pub xt: Vec<f32>,
    pub t: Vec<f32>,
    pub y: Vec<f32>,
    /// Per-row loss weights (`None`: all 1). The score target uses σ², the standard
    /// denoising-score-matching weighting that keeps the loss finite as σ → 0.
    pub weight: Option<Vec<f32>>,
}

/// Where the data points of a batch come from.
pub enum DataSource<'a> {
    /// Fresh draws from the target dataset every step.
    Fresh,
    /// Uniform draws (with replacement) from a fixed training set.
    Fixed(&'a [f32]),
}

pub fn build(setup: &Setup, source: &DataSource<'_>, size: usize, trial_seed: u64, step: u64) -> Result<Batch, PluginError> {
    let dim = setup.dim;
    let mut rng = StdRng::seed_from_u64(seed::derive(trial_seed, "train-batch", step));
    let x1 = match source {
        DataSource::Fresh => setup.data.sample(size, seed::derive(trial_seed, "train-data", step)),
        DataSource::Fixed(points) => {
            let n = points.len() / dim;
            let mut out = Vec::with_capacity(size * dim);
            for _ in 0..size {
                let i = rng.random_range(0..n);
                out.extend_from_slice(&points[i * dim..(i + 1) * dim]);
            }
            out
        }
    };
    let x0 = setup.source.sample(size, seed::derive(trial_seed, "train-source", step));
    let pairing = setup.coupling.pair(&x0, &x1, dim)?;
    let mut batch = Batch {
        xt: Vec::with_capacity(size * dim),
        t: Vec::with_capacity(size),
        y: Vec::with_capacity(size * dim),
        weight: (setup.target == Target::Score).then(|| Vec::with_capacity(size)),
    };
    for (i, &j) in pairing.iter().enumerate() {
        let t: f64 = rng.random();
        let c = setup.schedule.coefficients(t);
        let (c1, c0) = setup.target.components(&c);
        for k in 0..dim {
            let a = x1[j * dim + k] as f64;
            let b = x0[i * dim + k] as f64;
            batch.xt.push((c.alpha * a + c.sigma * b) as f32);
            batch.y.push((c1 * a + c0 * b) as f32);
        }
        batch.t.push(t as f32);
        if let Some(w) = batch.weight.as_mut() {
            w.push((c.sigma * c.sigma) as f32);
        }
    }
    Ok(batch)
}
