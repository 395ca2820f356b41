//! Plugins that fail on purpose, for the host's failure tests: a step that panics, a step that
//! returns an error, a schedule that allocates in every call, and a metric whose error message
//! is longer than any reasonable error buffer.

use runner_sdk::{Coefficients, Dynamics, Handle, Metric, Params, PluginError, PluginInfo, PluginKind, Schedule};
use runner_sdk::{Solver, SolverKind, StepContext};

/// A first-order solver whose step fails, by panicking or by returning an error.
pub struct Faulty {
    panic: bool,
}

impl Solver for Faulty {
    fn kind(&self) -> SolverKind {
        SolverKind::Ode { order: 1 }
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    fn step(
        &self,
        _: &mut dyn Dynamics,
        _: &mut dyn StepContext,
        _: Handle,
        _: f64,
        _: f64,
    ) -> Result<Handle, PluginError> {
        if self.panic {
            panic!("deliberate panic in step");
        }
        Err(PluginError::Invalid { plugin: "failing-step".into(), message: "deliberate error status".into() })
    }
}

/// The straight path, computed through heap allocations, so that a host running it under
/// another allocator sees the plugin allocate and free on its own side of the boundary.
pub struct Allocating {
    label: String,
    weights: Vec<f64>,
}

impl Schedule for Allocating {
    fn coefficients(&self, t: f64) -> Coefficients {
        // Every weight is 1, so α = mean(t·w) = t; the label is formatted and dropped.
        let scratch: Vec<f64> = self.weights.iter().map(|w| t * w).collect();
        std::hint::black_box(format!("{} at {t}", self.label));
        let alpha = scratch.iter().sum::<f64>() / scratch.len() as f64;
        Coefficients { alpha, sigma: 1.0 - alpha, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 }
    }
}

/// A schedule whose coefficients panic past t = ½: the host must refuse it before training.
pub struct PanickingSchedule;

impl Schedule for PanickingSchedule {
    fn coefficients(&self, t: f64) -> Coefficients {
        if t > 0.5 {
            panic!("deliberate panic in coefficients at t = {t}");
        }
        Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 }
    }
}

/// A metric that always fails, with a message of more than 4 KiB.
pub struct ErrorMetric;

impl Metric for ErrorMetric {
    fn evaluate(&self, _: &[f32], _: &[f32], _: usize) -> Result<f64, PluginError> {
        let message = format!("deliberate long error: {}", "ü".repeat(3000));
        Err(PluginError::Invalid { plugin: "error-metric".into(), message })
    }
}

fn allocating_info() -> PluginInfo {
    let mut info = PluginInfo::new(PluginKind::Schedule, "allocating", "", &[]);
    info.summary = format!("the straight path, allocating in every call ({} allocations)", 2).into();
    info
}

runner_sdk::export_plugin! {
    library: "faulty",
    version: env!("CARGO_PKG_VERSION"),
    plugins: [
        runner_sdk::export::solver(
            PluginInfo::new(PluginKind::Solver, "panicking-step", "a solver whose step panics", &[]),
            |_: &Params| Ok(Faulty { panic: true }),
        ),
        runner_sdk::export::solver(
            PluginInfo::new(PluginKind::Solver, "failing-step", "a solver whose step returns an error", &[]),
            |_: &Params| Ok(Faulty { panic: false }),
        ),
        runner_sdk::export::schedule(allocating_info(), |p: &Params| {
            Ok(Allocating { label: format!("{} instance", p.plugin()), weights: vec![1.0; 16] })
        }),
        runner_sdk::export::schedule(
            PluginInfo::new(PluginKind::Schedule, "panicking-schedule", "a schedule whose coefficients panic past t = 0.5", &[]),
            |_: &Params| Ok(PanickingSchedule),
        ),
        runner_sdk::export::metric(
            PluginInfo::new(PluginKind::Metric, "error-metric", "a metric that fails with a long message", &[]),
            |_: &Params| Ok(ErrorMetric),
        ),
    ],
}
