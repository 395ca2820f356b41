//! Metrics of the model's flow rather than of its samples (BENCHMARKS.md §1, §3): `nll` and
//! `bpd` (likelihood by the probability-flow ODE), `path-energy`, `npe` (normalized path energy)
//! and `straightness`.
//!
//! The metric plugins only reduce ([`runner_sdk::MetricInput`]); the host measures, here:
//! [`field`] sees any model as a velocity field with a divergence, [`augmented`] integrates
//! integrals along the flow as extra coordinates of one ODE through the single `integrate()`
//! loop, [`path`] and [`likelihood`] are the two such solves.

pub mod augmented;
pub mod field;
pub mod likelihood;
pub mod network;
pub mod nll;
pub mod npe;
pub mod oracle;
pub mod path;
pub mod path_energy;
pub mod straightness;

use runner_sdk::PluginError;
use thiserror::Error;

pub use field::{field, Divergence, Field, FieldError};
pub use likelihood::{log_density, LikelihoodSpec, LogDensities};
pub use path::{integrate_path, Path};

use crate::registry::RegistryError;
use crate::solvers::SolveError;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FlowError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(
        "solver `{solver}` is not a velocity-form ODE method (euler, heun, rk4, dopri5, …): flow metrics integrate \
         extra coordinates along the flow, which diffusion and stochastic samplers cannot carry"
    )]
    NotAnOde { solver: String },
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error("the velocity field: {0}")]
    Field(FieldError),
    #[error("the source distribution has dimension {source_dim} but the data has {data}")]
    SourceDim { source_dim: usize, data: usize },
}

/// The error of a flow metric given the wrong input, naming the metric.
fn invalid(metric: &str, message: impl Into<String>) -> PluginError {
    PluginError::Invalid { plugin: metric.to_string(), message: message.into() }
}

/// The mean of `values`, refused when empty or non-finite (naming `metric` and what they are).
fn finite_mean(metric: &str, what: &str, values: &[f64]) -> Result<f64, PluginError> {
    if values.is_empty() {
        return Err(invalid(metric, format!("no {what}")));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(metric, format!("the {what} of point {i} is {}", values[i])));
    }
    Ok(values.iter().sum::<f64>() / values.len() as f64)
}

/// What a flow metric answers when given point sets.
fn not_points(metric: &str) -> PluginError {
    invalid(metric, "it is computed from the model's flow, not from two point sets (the host supplies it in a sweep)")
}
