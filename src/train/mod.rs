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
use crate::models::{Mlp, ModelError};
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
    pub losses: Vec<LossPoint>,
    pub seconds: f64,
}

pub fn train(setup: &Setup, config: &RunnerConfig, device: &Device) -> Result<Trained, TrainError> {
    let tc = &config.train;
    if tc.batch_size == 0 {
        return Err(TrainError::Size { key: "batch_size" });
    }
    let log_every = tc.log_every.max(1);
    let start = Instant::now();
    let ad = device.clone().autodiff();
    let mut model = Mlp::new(&config.model, setup.dim, seed::derive(config.seed, "model-init", 0), &ad)?;
    let mut optim = match tc.optimizer.as_str() {
        "adam" => {
            let wd = (tc.weight_decay > 0.0).then(|| WeightDecayConfig::new(tc.weight_decay as f32));
            AdamConfig::new().with_epsilon(1e-8).with_weight_decay(wd).init()
        }
        "adamw" => AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(tc.weight_decay as f32).init(),
        other => return Err(TrainError::Optimizer(other.to_string())),
    };
    let mut ema = (tc.ema_decay > 0.0).then(|| model.valid());

    let train_set = (config.data.train_size > 0)
        .then(|| setup.data.sample(config.data.train_size, seed::derive(config.seed, "train-set", 0)));
    let source = match &train_set {
        Some(points) => DataSource::Fixed(points),
        None => DataSource::Fresh,
    };

    let mut losses = Vec::new();
    // The loss is summed on the device and read back only at log points: reading a value waits
    // for the device, which on a GPU would stall every step. A non-finite loss stays non-finite
    // in the sum, so divergence is caught at the next log point.
    let mut window: Option<Tensor<1>> = None;
    for step in 0..tc.steps {
        let b = batch::build(setup, &source, tc.batch_size, config.seed, step as u64)?;
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
            tracing::info!(step = point.step, loss = point.loss, "train");
            losses.push(point);
        }
    }
    let model = ema.unwrap_or_else(|| model.valid());
    Ok(Trained { model, losses, seconds: start.elapsed().as_secs_f64() })
}
