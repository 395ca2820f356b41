//! runner's side of the benchmark: its real training and sampling code, timed. Every
//! measurement builds its config through the same layers as `--set` on the command line,
//! trains with [`train::train`] and samples with [`sampling::sample`]; nothing here is a
//! second training or sampling loop.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::tensor::Device;

use super::plan::{Plan, SampleCase, TrainCase};
use super::BenchError;
use crate::config::{Layers, RunnerConfig};
use crate::models::Model;
use crate::sampling::{self, Network, SampleSpec};
use crate::seed;
use crate::setup::Setup;
use crate::train::{self, Trained};

/// Flow matching as BENCHMARKS.md §4 measures it: straight conditional-OT path, velocity
/// target, independent coupling, on 8gaussians, with an MLP on [x, t] (raw t), SiLU and Adam.
fn config(
    device: &str,
    plan: &Plan,
    batch: usize,
    width: usize,
    steps: usize,
) -> Result<(Setup, RunnerConfig), BenchError> {
    let sets = [
        format!("device={}", toml::Value::String(device.into())),
        "data.target=\"8gaussians\"".into(),
        "path.schedule=\"cond-ot\"".into(),
        "path.target=\"velocity\"".into(),
        "path.coupling=\"independent\"".into(),
        "model.kind=\"mlp\"".into(),
        format!("model.width={width}"),
        format!("model.depth={}", plan.depth),
        "model.activation=\"silu\"".into(),
        "model.time_features=\"raw\"".into(),
        format!("train.steps={steps}"),
        format!("train.batch_size={batch}"),
        "train.optimizer=\"adam\"".into(),
        format!("train.lr={:?}", plan.lr),
        // One loss line per run, not one per 100 steps.
        format!("train.log_every={}", steps.max(1)),
    ];
    let mut layers = Layers::new();
    layers.set_args(&sets)?;
    let resolved = layers.resolve(&[])?;
    let setup = Setup::new(&resolved, std::sync::Arc::new(crate::plugins::Registry::builtin()))?;
    if setup.dim != plan.dim {
        return Err(BenchError::Plan(format!("the plan is for {}-D data but 8gaussians is {}-D", plan.dim, setup.dim)));
    }
    Ok((setup, resolved.config))
}

fn run_training(
    device_name: &str,
    device: &Device,
    plan: &Plan,
    batch: usize,
    width: usize,
    steps: usize,
) -> Result<(Trained, f64, Setup), BenchError> {
    let (setup, config) = config(device_name, plan, batch, width, steps)?;
    let start = Instant::now();
    let trained = train::train(&setup, &config, device)?;
    Ok((trained, start.elapsed().as_secs_f64(), setup))
}

/// Training steps per second: a warm-up run, then the fastest of `plan.rounds` runs, each long
/// enough to last `plan.seconds`.
pub fn train_rate(device_name: &str, device: &Device, plan: &Plan, case: &TrainCase) -> Result<f64, BenchError> {
    let (_, warm, _) = run_training(device_name, device, plan, case.batch, case.width, plan.warmup_steps)?;
    let steps = plan.repetitions(plan.warmup_steps, warm, 1, plan.min_steps.max(1));
    best_of(plan.rounds, || {
        let (_, seconds, _) = run_training(device_name, device, plan, case.batch, case.width, steps)?;
        Ok(steps as f64 / seconds)
    })
}

/// The highest of `rounds` (at least one) measured rates.
fn best_of(rounds: usize, mut rate: impl FnMut() -> Result<f64, BenchError>) -> Result<f64, BenchError> {
    let mut best = f64::NEG_INFINITY;
    for _ in 0..rounds.max(1) {
        best = best.max(rate()?);
    }
    Ok(best)
}

/// Samples per second of Euler at `case.nfe` on a network of the case's width (trained for one
/// step: the weights do not change the cost): a warm-up run at `plan.warmup_nfe`, then the
/// fastest of `plan.rounds` measurements, each as many full runs as fill `plan.seconds`.
pub fn sample_rate(device_name: &str, device: &Device, plan: &Plan, case: &SampleCase) -> Result<f64, BenchError> {
    let (trained, _, setup) = run_training(device_name, device, plan, 256, case.width, 1)?;
    let model = Model::Mlp(trained.model);
    let network = Network { model: &model, schedule: setup.schedule.as_ref(), target: setup.target };
    let params = BTreeMap::new();
    let x0 = setup.source.sample(case.points, seed::derive(0, "bench-source", 0));
    let run = |nfe: usize| -> Result<f64, BenchError> {
        let spec = SampleSpec {
            registry: &setup.registry,
            solver: "euler",
            solver_params: &params,
            nfe,
            grid: "uniform",
            span: setup.span,
        };
        let points = x0.clone();
        let start = Instant::now();
        sampling::sample(&network, device, points, setup.dim, &spec, 0)?;
        Ok(start.elapsed().as_secs_f64())
    };
    let warm = run(plan.warmup_nfe.max(1))?;
    let reps = plan.repetitions(plan.warmup_nfe.max(1), warm, case.nfe, 1);
    best_of(plan.rounds, || {
        let mut seconds = 0.0;
        for _ in 0..reps {
            seconds += run(case.nfe)?;
        }
        Ok((reps * case.points) as f64 / seconds)
    })
}
