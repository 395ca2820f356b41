//! Training: the conditional matching loss for any (schedule, coupling, target), on burn.

mod batch;
mod checkpoint;

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use runner_sdk::PluginError;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use batch::{Batch, DataSource};
pub use checkpoint::{load_network, save_network, Checkpoints, Snapshot};

use crate::config::{RunnerConfig, TrainConfig};
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
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
}

/// Matched source and target points (x0, x1), row i with row i: a reflow's pairs.
pub type Pairs = (Vec<f32>, Vec<f32>);

/// One logged point of the loss curve: the mean loss over the steps since the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    pub step: usize,
    pub loss: f64,
}

pub struct Trained {
    /// The network used for sampling, on the plain device: the weights with the lowest
    /// validation loss when `train.val_size > 0`, else the EMA weights when
    /// `train.ema_decay > 0`, else the last ones.
    pub model: Mlp,
    /// The loss curve of the last training round (after the last reflow, if any).
    pub losses: Vec<LossPoint>,
    /// The validation losses of the last round (empty when `train.val_size` is 0).
    pub validation: Vec<LossPoint>,
    /// The step of the last round whose weights `model` holds.
    pub step: usize,
    /// All rounds, and the reflow pairs' solves, together.
    pub seconds: f64,
}

/// Batches are built ahead of the step that uses them, on threads of their own
/// ([`batch_builders`]), each at most this many steps ahead. The minibatch couplings (an exact
/// assignment, Sinkhorn) cost several times a small network's step and run there while the step
/// runs here. Batches are pure functions of (seed, step), so the results do not depend on the
/// overlap.
const PREFETCH: usize = 2;

/// One batch-building thread per compute thread of this process (its pool, which a local
/// worker sizes to its share of the cores), at most four: with an exact assignment of 512 rows
/// (about 12 ms) against a training step of 1–2 ms at width 64, two builders on two cores double
/// the steps per second.
fn batch_builders() -> usize {
    rayon::current_num_threads().clamp(1, 4)
}

/// What a training reports while it runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// `step` of `steps` steps of round `round` are done (after every step).
    Step {
        round: usize,
        step: usize,
        steps: usize,
    },
    /// A point of the loss curve.
    Loss {
        round: usize,
        point: LossPoint,
    },
    Validation {
        round: usize,
        point: LossPoint,
    },
    /// The state after `step` steps of `round` is saved.
    Checkpoint {
        round: usize,
        step: usize,
    },
    /// Training goes on from a checkpoint after `step` steps of `round`.
    Resumed {
        round: usize,
        step: usize,
    },
    /// Reflow round `round` trains on `pairs` pairs of the previous round's flow.
    Reflow {
        round: usize,
        pairs: usize,
    },
}

/// What the caller of [`train_with`] decides beyond the config: where the resumable state is
/// kept, and who hears the progress.
#[derive(Default)]
pub struct Hooks<'a> {
    /// None: nothing is saved, and a killed training starts over.
    pub checkpoints: Option<Checkpoints>,
    pub observer: Option<&'a mut dyn FnMut(&Progress)>,
}

impl Hooks<'_> {
    fn report(&mut self, progress: Progress) {
        if let Some(observer) = self.observer.as_mut() {
            observer(&progress);
        }
    }
}

/// Train a model as the config says, keeping nothing on disk.
pub fn train(setup: &Setup, config: &RunnerConfig, device: &Device) -> Result<Trained, TrainError> {
    train_with(setup, config, device, &mut Hooks::default())
}

/// Train a model as the config says: once, then once more per reflow on the previous model's
/// own pairs (`train.reflow`); from the newest checkpoint of `hooks.checkpoints` if there is
/// one.
pub fn train_with(
    setup: &Setup,
    config: &RunnerConfig,
    device: &Device,
    hooks: &mut Hooks<'_>,
) -> Result<Trained, TrainError> {
    let tc = &config.train;
    if tc.batch_size == 0 {
        return Err(TrainError::Size { key: "batch_size" });
    }
    if tc.val_size > 0 && tc.val_every == 0 {
        return Err(TrainError::Size { key: "val_every" });
    }
    let start = Instant::now();
    let train_set = (config.data.train_size > 0)
        .then(|| setup.data.sample(config.data.train_size, seed::derive(config.data_seed(), "train-set", 0)));
    // Held out from the same distribution as the training data, with a stream of its own.
    let val_set =
        (tc.val_size > 0).then(|| setup.data.sample(tc.val_size, seed::derive(config.data_seed(), "val-set", 0)));
    let ad = device.clone().autodiff();
    let mut resumed = match &hooks.checkpoints {
        Some(c) => c.load(config, setup.dim, optimizer(tc)?, device)?,
        None => None,
    };
    let mut model = match &resumed {
        Some(snapshot) => snapshot.model.clone(),
        None => Mlp::new(&config.model, setup.dim, seed::derive(config.seed, "model-init", 0), &ad)?,
    };
    // The round's pairs move out of the snapshot: the round holds them from here on.
    let mut pairs: Option<Pairs> = resumed.as_mut().and_then(|s| s.pairs.take());
    let mut val_pairs: Option<Pairs> = resumed.as_mut().and_then(|s| s.val_pairs.take());
    let mut round = resumed.as_ref().map_or(0, |s| s.round);
    let elapsed = Elapsed { before: resumed.as_ref().map_or(0.0, |s| s.seconds), start };
    if let Some(s) = &resumed {
        hooks.report(Progress::Resumed { round: s.round, step: s.step });
    }
    loop {
        let source = held(&pairs, &train_set).unwrap_or(DataSource::Fresh);
        let validation = held(&val_pairs, &val_set);
        let this = Round {
            index: round,
            source: &source,
            validation: validation.as_ref(),
            pairs: &pairs,
            val_pairs: &val_pairs,
            resumed: resumed.take(),
        };
        let fitted = fit(setup, config, model, this, elapsed, hooks)?;
        if round == tc.reflow {
            return Ok(Trained { seconds: elapsed.seconds(), ..fitted });
        }
        let trained = fitted.model;
        round += 1;
        // A reflow round validates on held-out pairs of its own flow, solved with the training
        // pairs.
        let (mut x0, mut x1) =
            reflow_pairs(setup, config, device, trained.clone(), tc.reflow_pairs + tc.val_size, round)?;
        let held_out = tc.reflow_pairs * setup.dim;
        val_pairs = (tc.val_size > 0).then(|| (x0.split_off(held_out), x1.split_off(held_out)));
        pairs = Some((x0, x1));
        hooks.report(Progress::Reflow { round, pairs: tc.reflow_pairs });
        // The next round starts from these weights, as Liu et al. initialise the 2-rectified
        // flow from the 1-rectified one; `train` puts them back under autodiff.
        model = trained.train();
    }
}

/// The data a round draws from: a reflow's pairs once there are any, else the fixed set, if
/// any.
fn held<'a>(pairs: &'a Option<Pairs>, set: &'a Option<Vec<f32>>) -> Option<DataSource<'a>> {
    match (pairs, set) {
        (Some((x0, x1)), _) => Some(DataSource::Pairs { source: x0, target: x1 }),
        (None, Some(points)) => Some(DataSource::Fixed(points)),
        (None, None) => None,
    }
}

/// The names `train.optimizer` takes.
pub const OPTIMIZERS: [&str; 2] = ["adam", "adamw"];

/// A fresh optimizer as `train.optimizer` says.
fn optimizer(tc: &TrainConfig) -> Result<ModuleOptimizer, TrainError> {
    Ok(match tc.optimizer.as_str() {
        "adam" => {
            let wd = (tc.weight_decay > 0.0).then(|| WeightDecayConfig::new(tc.weight_decay as f32));
            AdamConfig::new().with_epsilon(1e-8).with_weight_decay(wd).init()
        }
        "adamw" => AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(tc.weight_decay as f32).init(),
        other => return Err(TrainError::Optimizer(other.to_string())),
    })
}

/// The training seconds: those of earlier processes (from the checkpoint) and this one's.
#[derive(Clone, Copy)]
struct Elapsed {
    before: f64,
    start: Instant,
}

impl Elapsed {
    fn seconds(&self) -> f64 {
        self.before + self.start.elapsed().as_secs_f64()
    }
}

/// One round of training: its number, where its batches come from, a reflow's pairs (for the
/// checkpoints) and the state it resumes from, if any.
struct Round<'a> {
    index: usize,
    source: &'a DataSource<'a>,
    validation: Option<&'a DataSource<'a>>,
    pairs: &'a Option<Pairs>,
    val_pairs: &'a Option<Pairs>,
    resumed: Option<Snapshot>,
}

/// `train.steps` steps of the conditional matching loss from `model` (on the autodiff device)
/// with a fresh optimizer, or from the round's resumed state; returns the sampling network, its
/// step and the loss curves (`seconds` is left to the caller).
fn fit(
    setup: &Setup,
    config: &RunnerConfig,
    mut model: Mlp,
    data: Round<'_>,
    elapsed: Elapsed,
    hooks: &mut Hooks<'_>,
) -> Result<Trained, TrainError> {
    let tc = &config.train;
    let (round, source, validation) = (data.index, data.source, data.validation);
    let log_every = tc.log_every.max(1);
    let ad = model.devices().into_iter().next().expect("a network has parameters");
    let plain = ad.clone().inner();
    let mut optim = optimizer(tc)?;
    let mut ema = (tc.ema_decay > 0.0).then(|| model.valid());
    let mut first = 0;
    let mut losses = Vec::new();
    let mut validated = Vec::new();
    let mut best: Option<(f64, usize, Mlp)> = None;
    // The loss is summed on the device and read back only at log points: reading a value waits
    // for the device, which on a GPU would stall every step. A non-finite loss stays non-finite
    // in the sum, so divergence is caught at the next log point.
    let mut window: Option<Tensor<1>> = None;
    if let Some(s) = data.resumed {
        (first, optim, ema, best, window, losses, validated) =
            (s.step, s.optimizer, s.ema, s.best, s.window, s.losses, s.validation);
    }
    // Each reflow round draws batches of its own.
    let batch_seed = if round == 0 { config.seed } else { seed::derive(config.seed, "train-round", round as u64) };
    let validation = match validation {
        Some(v) => Some(Validation::new(setup, v, tc, seed::derive(config.seed, "validation", round as u64), &plain)?),
        None => None,
    };
    let checkpoints = hooks.checkpoints.clone();
    let model = std::thread::scope(|scope| {
        // Builder k builds the batches of steps k, k + K, k + 2K, … and the loop takes them in
        // step order, so K couplings are solved at once while the network trains.
        let builders = batch_builders();
        let received: Vec<_> = (0..builders)
            .map(|k| {
                let (batches, received) = std::sync::mpsc::sync_channel(PREFETCH);
                scope.spawn(move || {
                    for step in (first + k..tc.steps).step_by(builders) {
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
        for step in first..tc.steps {
            let b = received[(step - first) % builders]
                .recv()
                .expect("a batch builder sends a batch for each of its steps")?;
            let loss = Uploaded::new(b, setup.dim, &ad).loss(&model);
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
                tracing::debug!(round, step = point.step, loss = point.loss, "train");
                hooks.report(Progress::Loss { round, point: point.clone() });
                losses.push(point);
            }
            let due = (step + 1) % tc.val_every.max(1) == 0 || step + 1 == tc.steps;
            if let (Some(v), true) = (&validation, due) {
                // The candidate is the network that would be sampled: the EMA weights if any.
                let candidate = ema.clone().unwrap_or_else(|| model.valid());
                let loss = v.loss(&candidate);
                let point = LossPoint { step: step + 1, loss };
                hooks.report(Progress::Validation { round, point: point.clone() });
                validated.push(point);
                // A diverged checkpoint (a NaN loss) is never kept.
                if loss.is_finite() && best.as_ref().is_none_or(|(lowest, _, _)| loss < *lowest) {
                    best = Some((loss, step + 1, candidate));
                }
            }
            hooks.report(Progress::Step { round, step: step + 1, steps: tc.steps });
            // The last step needs no checkpoint: the trained network is saved instead.
            let due = |c: &&Checkpoints| c.every > 0 && (step + 1) % c.every == 0 && step + 1 < tc.steps;
            if let Some(checkpoints) = checkpoints.as_ref().filter(due) {
                let snapshot = Snapshot {
                    round,
                    step: step + 1,
                    model: model.clone(),
                    optimizer: optim.clone(),
                    ema: ema.clone(),
                    best: best.clone(),
                    window: window.clone(),
                    losses: losses.clone(),
                    validation: validated.clone(),
                    pairs: data.pairs.clone(),
                    val_pairs: data.val_pairs.clone(),
                    seconds: elapsed.seconds(),
                };
                checkpoints.save(&snapshot, setup.dim)?;
                hooks.report(Progress::Checkpoint { round, step: step + 1 });
            }
        }
        Ok(model)
    })?;
    let (step, model) = match best {
        Some((_, step, kept)) => (step, kept),
        None => (tc.steps, ema.unwrap_or_else(|| model.valid())),
    };
    Ok(Trained { model, losses, validation: validated, step, seconds: 0.0 })
}

/// One batch's arrays on a device, as the network's inputs and the loss's target and weights.
struct Uploaded {
    xt: Tensor<2>,
    t: Tensor<2>,
    y: Tensor<2>,
    weight: Option<Tensor<2>>,
}

impl Uploaded {
    fn new(b: Batch, dim: usize, device: &Device) -> Self {
        let n = b.t.len();
        Uploaded {
            xt: Tensor::from_data(TensorData::new(b.xt, [n, dim]), device),
            t: Tensor::from_data(TensorData::new(b.t, [n, 1]), device),
            y: Tensor::from_data(TensorData::new(b.y, [n, dim]), device),
            weight: b.weight.map(|w| Tensor::from_data(TensorData::new(w, [n, 1]), device)),
        }
    }

    /// The (weighted) mean squared error of the network's output against the target.
    fn loss(&self, model: &Mlp) -> Tensor<1> {
        let sq = (model.forward(self.xt.clone(), self.t.clone()) - self.y.clone()).powi_scalar(2);
        match &self.weight {
            Some(w) => (sq * w.clone()).mean(),
            None => sq.mean(),
        }
    }
}

/// The validation loss: ⌈val_size / batch_size⌉ batches of the training batch size, drawn once
/// from the held-out set (with replacement, as training batches are) with the training coupling,
/// and kept on the device. The same x0, t and noise serve every checkpoint, so successive values
/// differ only by the weights.
struct Validation {
    batches: Vec<Uploaded>,
}

impl Validation {
    fn new(
        setup: &Setup,
        held_out: &DataSource<'_>,
        tc: &TrainConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let count = tc.val_size.div_ceil(tc.batch_size);
        let batches = (0..count)
            .map(|k| {
                Ok(Uploaded::new(batch::build(setup, held_out, tc.batch_size, seed, k as u64)?, setup.dim, device))
            })
            .collect::<Result<_, TrainError>>()?;
        Ok(Validation { batches })
    }

    fn loss(&self, model: &Mlp) -> f64 {
        let sum = self.batches.iter().map(|b| b.loss(model)).reduce(|a, b| a + b).expect("at least one batch");
        f64::from(sum.into_scalar::<f32>()) / self.batches.len() as f64
    }
}

/// The pairs (x0, x̂1) of reflow round `round`: `count` fresh source points and where the model's ODE
/// (`train.reflow_solver` at `train.reflow_nfe`, over the evaluation span) carries them.
fn reflow_pairs(
    setup: &Setup,
    config: &RunnerConfig,
    device: &Device,
    model: Mlp,
    count: usize,
    round: usize,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let tc = &config.train;
    let x0 = setup.source.sample(count, seed::derive(config.seed, "reflow-source", round as u64));
    let model = Model::Mlp(model);
    let network = Network { model: &model, schedule: setup.schedule.as_ref(), target: setup.target };
    let no_params = Default::default();
    let spec = SampleSpec {
        registry: &setup.registry,
        solver: &tc.reflow_solver,
        solver_params: &no_params,
        nfe: tc.reflow_nfe,
        grid: &config.eval.grid,
        span: setup.span,
    };
    let sampled = sampling::sample(
        &network,
        device,
        x0.clone(),
        setup.dim,
        &spec,
        seed::derive(config.seed, "reflow-noise", round as u64),
    )
    .map_err(|e| TrainError::Reflow { round, source: Box::new(e) })?;
    Ok((x0, sampled.points))
}
