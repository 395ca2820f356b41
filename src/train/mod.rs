//! Training: the conditional matching loss for any (schedule, coupling, target), on burn.

mod batch;

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams};
use burn::optim::decay::WeightDecayConfig;
use burn::tensor::{Device, Tensor, TensorData};
use runner_sdk::PluginError;
use thiserror::Error;

pub use batch::{Batch, DataSource};

use crate::config::RunnerConfig;
use crate::models::{Mlp, Model, ModelError};
use crate::sampling::{self, Network, SampleError, SampleSpec};
use crate::seed;
use crate::setup::Setup;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("building a batch: {0}")]
    Batch(#[from] PluginError),
    #[error("unknown optimizer `{0}`; known: adam, adamw")]
    Optimizer(String),
    #[error("train.{key} must be at least 1")]
    Size { key: &'static str },
    #[error("training diverged: the mean loss of steps {first}–{step} is {loss}")]
    Diverged { first: usize, step: usize, loss: f64 },
    #[error("generating the pairs of reflow {round} (train.reflow_solver): {source}")]
    Reflow { round: usize, source: Box<SampleError> },
}

/// One logged point of the loss curve: the mean loss over the steps since the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct LossPoint {
    pub step: usize,
    pub loss: f64,
}

pub struct Trained {
    /// The network used for sampling (the EMA weights when `train.ema_decay > 0`), on the
    /// plain device.
    pub model: Mlp,
    /// The loss curve of the last training round (after the last reflow, if any).
    pub losses: Vec<LossPoint>,
    /// All rounds, and the reflow pairs' solves, together.
    pub seconds: f64,
}

/// Batches are built ahead of the step that uses them, on threads of their own
/// ([`batch_builders`]), each at most this many steps ahead. The minibatch couplings (an exact
/// assignment, Sinkhorn) cost several times a small network's step and run there while the step
/// runs here. Batches are pure functions of (seed, step), so the results do not depend on the
/// overlap.
const PREFETCH: usize = 2;

/// One batch-building thread per core, at most four: with an exact assignment of 512 rows
/// (about 12 ms) against a training step of 1–2 ms at width 64, two builders on two cores double the
/// steps per second.
fn batch_builders() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// Train a model as the config says: once, then once more per reflow on the previous model's
/// own pairs (`train.reflow`).
pub fn train(setup: &Setup, config: &RunnerConfig, device: &Device) -> Result<Trained, TrainError> {
    let tc = &config.train;
    if tc.batch_size == 0 {
        return Err(TrainError::Size { key: "batch_size" });
    }
    let start = Instant::now();
    let train_set = (config.data.train_size > 0)
        .then(|| setup.data.sample(config.data.train_size, seed::derive(config.seed, "train-set", 0)));
    let ad = device.clone().autodiff();
    let mut model = Mlp::new(&config.model, setup.dim, seed::derive(config.seed, "model-init", 0), &ad)?;
    let mut pairs: Option<(Vec<f32>, Vec<f32>)> = None;
    let mut round = 0;
    loop {
        let source = match (&pairs, &train_set) {
            (Some((x0, x1)), _) => DataSource::Pairs { source: x0, target: x1 },
            (None, Some(points)) => DataSource::Fixed(points),
            (None, None) => DataSource::Fresh,
        };
        let (trained, losses) = fit(setup, config, model, &source, round)?;
        if round == tc.reflow {
            return Ok(Trained { model: trained, losses, seconds: start.elapsed().as_secs_f64() });
        }
        round += 1;
        pairs = Some(reflow_pairs(setup, config, device, trained.clone(), round)?);
        tracing::info!(round, pairs = tc.reflow_pairs, "reflow");
        // The next round starts from these weights, as Liu et al. initialise the 2-rectified
        // flow from the 1-rectified one; `train` puts them back under autodiff.
        model = trained.train();
    }
}

/// `train.steps` steps of the conditional matching loss from `model` (on the autodiff device)
/// with a fresh optimizer; returns the sampling network and the loss curve.
fn fit(
    setup: &Setup,
    config: &RunnerConfig,
    mut model: Mlp,
    source: &DataSource<'_>,
    round: usize,
) -> Result<(Mlp, Vec<LossPoint>), TrainError> {
    let tc = &config.train;
    let log_every = tc.log_every.max(1);
    let ad = model.devices().into_iter().next().expect("a network has parameters");
    let mut optim = match tc.optimizer.as_str() {
        "adam" => {
            let wd = (tc.weight_decay > 0.0).then(|| WeightDecayConfig::new(tc.weight_decay as f32));
            AdamConfig::new().with_epsilon(1e-8).with_weight_decay(wd).init()
        }
        "adamw" => AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(tc.weight_decay as f32).init(),
        other => return Err(TrainError::Optimizer(other.to_string())),
    };
    let mut ema = (tc.ema_decay > 0.0).then(|| model.valid());
    // Each reflow round draws batches of its own.
    let batch_seed = if round == 0 { config.seed } else { seed::derive(config.seed, "train-round", round as u64) };

    let mut losses = Vec::new();
    // The loss is summed on the device and read back only at log points: reading a value waits
    // for the device, which on a GPU would stall every step. A non-finite loss stays non-finite
    // in the sum, so divergence is caught at the next log point.
    let mut window: Option<Tensor<1>> = None;
    let model = std::thread::scope(|scope| {
        // Builder k builds the batches of steps k, k + K, k + 2K, … and the loop takes them in
        // step order, so K couplings are solved at once while the network trains.
        let builders = batch_builders();
        let received: Vec<_> = (0..builders)
            .map(|k| {
                let (batches, received) = std::sync::mpsc::sync_channel(PREFETCH);
                scope.spawn(move || {
                    for step in (k..tc.steps).step_by(builders) {
                        let b = batch::build(setup, source, tc.batch_size, batch_seed, step as u64);
                        let failed = b.is_err();
                        // A closed channel: the training loop has stopped (an error); so does this.
                        if batches.send(b).is_err() || failed {
                            break;
                        }
                    }
                });
                received
            })
            .collect();
        for step in 0..tc.steps {
            let b = received[step % builders].recv().expect("a batch builder sends a batch for each of its steps")?;
            let n = tc.batch_size;
            let xt = Tensor::<2>::from_data(TensorData::new(b.xt, [n, setup.dim]), &ad);
            let t = Tensor::<2>::from_data(TensorData::new(b.t, [n, 1]), &ad);
            let y = Tensor::<2>::from_data(TensorData::new(b.y, [n, setup.dim]), &ad);
            let sq = (model.forward(xt, t) - y).powi_scalar(2);
            let loss = match b.weight {
                Some(w) => (sq * Tensor::<2>::from_data(TensorData::new(w, [n, 1]), &ad)).mean(),
                None => sq.mean(),
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let value = loss.detach();
            window = Some(match window.take() {
                Some(sum) => sum + value,
                None => value,
            });
            model = optim.step(tc.lr, model, grads);
            if let Some(e) = ema.take() {
                ema = Some(e.ema_update(&model, tc.ema_decay));
            }
            if (step + 1) % log_every == 0 || step + 1 == tc.steps {
                let count = step % log_every + 1;
                let sum: f32 = window.take().expect("a step since the last log point").into_scalar();
                let mean = f64::from(sum) / count as f64;
                if !mean.is_finite() {
                    return Err(TrainError::Diverged { first: step + 2 - count, step: step + 1, loss: mean });
                }
                let point = LossPoint { step: step + 1, loss: mean };
                tracing::info!(round, step = point.step, loss = point.loss, "train");
                losses.push(point);
            }
        }
        Ok(model)
    })?;
    Ok((ema.unwrap_or_else(|| model.valid()), losses))
}

/// The pairs (x0, x̂1) of reflow round `round`: fresh source points and where the model's ODE
/// (`train.reflow_solver` at `train.reflow_nfe`, over the evaluation span) carries them.
fn reflow_pairs(
    setup: &Setup,
    config: &RunnerConfig,
    device: &Device,
    model: Mlp,
    round: usize,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let tc = &config.train;
    let x0 = setup.source.sample(tc.reflow_pairs, seed::derive(config.seed, "reflow-source", round as u64));
    let model = Model::Mlp(model);
    let network = Network { model: &model, schedule: setup.schedule.as_ref(), target: setup.target };
    let no_params = Default::default();
    let spec = SampleSpec {
        solver: &tc.reflow_solver,
        solver_params: &no_params,
        nfe: tc.reflow_nfe,
        grid: &config.eval.grid,
        span: setup.span,
    };
    let sampled = sampling::sample(&network, device, x0.clone(), setup.dim, &spec, seed::derive(config.seed, "reflow-noise", round as u64))
        .map_err(|e| TrainError::Reflow { round, source: Box::new(e) })?;
    Ok((x0, sampled.points))
}
