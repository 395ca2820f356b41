//! One training minibatch of the conditional matching loss, built on the CPU from the
//! datasets, the coupling, the schedule and the target: (x_t, t, regression target, weight).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Coefficients, PluginError, Target};

use crate::seed;
use crate::setup::Setup;

/// The arrays of one step, row-major, `size` rows.
pub struct Batch {
    /// The network's input points x_t.
    pub xt: Vec<f32>,
    /// The time of each row, in (0, 1).
    pub t: Vec<f32>,
    /// The regression target of each row, in the setup's target.
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
    /// Uniform draws (with replacement) of fixed (x0, x1) pairs, row i of `source` with row i
    /// of `target`: a reflow's pairs, which are their own coupling.
    Pairs { source: &'a [f32], target: &'a [f32] },
}

/// The batch of step `step`: `size` target points (fresh or from the fixed set), `size` fresh
/// source points, paired by the coupling, each row at its own time t.
///
/// Every random stream is derived from (trial seed, label, step), so a batch is a pure function
/// of them: the coupling's draws (`train-coupling`) and the path noise ε (`train-noise`, only
/// drawn where the schedule has γ ≠ 0) are separate streams, so that an affine path's batches
/// are the same whatever coupling or noise another configuration uses.
///
/// t is drawn from the open interval (0, 1): `sb`'s γ' is infinite at both ends, and no
/// schedule's target is needed there. A coefficient that is still not finite is an error naming
/// the time, never a NaN in the loss.
pub fn build(
    setup: &Setup,
    source: &DataSource<'_>,
    size: usize,
    trial_seed: u64,
    step: u64,
) -> Result<Batch, PluginError> {
    let dim = setup.dim;
    let mut rng = StdRng::seed_from_u64(seed::derive(trial_seed, "train-batch", step));
    let (x0, x1, pairing) = match source {
        DataSource::Pairs { source, target } => {
            let rows = draw_rows(&mut rng, source.len() / dim, size);
            (gather(source, &rows, dim), gather(target, &rows, dim), (0..size).collect())
        }
        DataSource::Fresh | DataSource::Fixed(_) => {
            let x1 = match source {
                DataSource::Fixed(points) => gather(points, &draw_rows(&mut rng, points.len() / dim, size), dim),
                _ => setup.data.sample(size, seed::derive(trial_seed, "train-data", step)),
            };
            let x0 = setup.source.sample(size, seed::derive(trial_seed, "train-source", step));
            let pairing = setup.coupling.pair(&x0, &x1, dim, seed::derive(trial_seed, "train-coupling", step))?;
            check_pairing(&pairing, size)?;
            (x0, x1, pairing)
        }
    };
    let mut noise = StdRng::seed_from_u64(seed::derive(trial_seed, "train-noise", step));
    let mut batch = Batch {
        xt: Vec::with_capacity(size * dim),
        t: Vec::with_capacity(size),
        y: Vec::with_capacity(size * dim),
        weight: (setup.target == Target::Score).then(|| Vec::with_capacity(size)),
    };
    // All times first (the generator draws nothing else in the loop), then their coefficients
    // in one call: one crossing for a loaded schedule.
    let times: Vec<f64> = pairing.iter().map(|_| open_unit(&mut rng)).collect();
    let mut coefficients = vec![Coefficients::default(); times.len()];
    setup.schedule.coefficients_batch(&times, &mut coefficients);
    for (i, &j) in pairing.iter().enumerate() {
        let (t, c) = (times[i], coefficients[i]);
        let (c1, c0) = setup.target.components(&c);
        // The ε term enters only the velocity target (u = α'·x1 + σ'·x0 + γ'·ε); the host
        // refuses the other targets on paths with γ ≠ 0 (`Setup::new`), and so does this.
        let stochastic = c.gamma != 0.0 || c.d_gamma != 0.0;
        if stochastic && setup.target != Target::Velocity {
            return Err(PluginError::Invalid {
                plugin: setup.target.name().into(),
                message: format!(
                    "the path has γ = {}, γ' = {} at t = {t}; only the velocity target includes its noise term",
                    c.gamma, c.d_gamma
                ),
            });
        }
        if ![c.alpha, c.sigma, c.gamma, c1, c0, c.d_gamma].iter().all(|v| v.is_finite()) {
            return Err(PluginError::Invalid {
                plugin: "schedule".into(),
                message: format!("non-finite path coefficients at training time t = {t}: {c:?}"),
            });
        }
        for k in 0..dim {
            let a = x1[j * dim + k] as f64;
            let b = x0[i * dim + k] as f64;
            let (mut x, mut y) = (c.alpha * a + c.sigma * b, c1 * a + c0 * b);
            if stochastic {
                let e: f64 = StandardNormal.sample(&mut noise);
                x += c.gamma * e;
                y += c.d_gamma * e;
            }
            batch.xt.push(x as f32);
            batch.y.push(y as f32);
        }
        batch.t.push(t as f32);
        if let Some(w) = batch.weight.as_mut() {
            w.push((c.sigma * c.sigma) as f32);
        }
    }
    Ok(batch)
}

/// `size` uniform draws, with replacement, of a row among `n`.
fn draw_rows(rng: &mut StdRng, n: usize, size: usize) -> Vec<usize> {
    (0..size).map(|_| rng.random_range(0..n)).collect()
}

/// The given rows of a row-major set of `dim` columns.
fn gather(points: &[f32], rows: &[usize], dim: usize) -> Vec<f32> {
    rows.iter().flat_map(|&i| &points[i * dim..(i + 1) * dim]).copied().collect()
}

/// A coupling's answer must pair every source row with a target row of the batch.
fn check_pairing(pairing: &[usize], size: usize) -> Result<(), PluginError> {
    if pairing.len() != size {
        return Err(PluginError::Invalid {
            plugin: "coupling".into(),
            message: format!("paired {} source rows of a batch of {size}", pairing.len()),
        });
    }
    if let Some(&j) = pairing.iter().find(|&&j| j >= size) {
        return Err(PluginError::Invalid {
            plugin: "coupling".into(),
            message: format!("paired a source row with target row {j} of a batch of {size}"),
        });
    }
    Ok(())
}

/// A uniform draw from (0, 1): the generator's [0, 1) draw, redrawn in the one case (probability
/// 2⁻⁵³) that it is exactly 0, so that the stream of every other draw is unchanged.
fn open_unit(rng: &mut StdRng) -> f64 {
    loop {
        let t: f64 = rng.random();
        if t > 0.0 {
            return t;
        }
    }
}
