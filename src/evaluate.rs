//! Evaluating a row with the configured metrics: point metrics on the samples and held-out
//! target points, flow metrics on what the host measured along the model's flow
//! ([`runner_sdk::MetricInput`]).

use std::collections::BTreeMap;

use runner_sdk::{Likelihood, Metric, MetricInput, PathIntegrals, PluginError};

use crate::plugins::{Registry, RegistryError};

/// Metric values, and for metrics that cap their input size, how many points they used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub values: BTreeMap<String, f64>,
    pub points_used: BTreeMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    #[error("eval.metrics: {0}")]
    Registry(#[from] RegistryError),
    #[error("metric `{metric}`: {source}")]
    Metric { metric: String, source: PluginError },
}

/// What one row's metrics are computed from. The flow measurements are optional: a metric whose
/// input is missing (path metrics of a stochastic sampler, anything of the flow in the floor's
/// `reference` row) is left out of the scores — absent, not zero.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Generated points and held-out target points (row-major, `dim` columns, same size).
    pub samples: &'a [f32],
    pub target: &'a [f32],
    pub dim: usize,
    /// Integrals along the row's own deterministic solve.
    pub path: Option<PathIntegrals<'a>>,
    /// The model's log densities at held-out target points.
    pub likelihood: Option<Likelihood<'a>>,
}

/// Which measurements along the flow the metrics of a row need, so that the host makes only
/// those (each is a solve of its own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub path: bool,
    pub likelihood: bool,
}

/// What the metrics in `names` are computed from.
pub fn needs(registry: &Registry, names: &[String]) -> Result<Needs, EvaluateError> {
    let mut needs = Needs::default();
    for name in names {
        match build(registry, name)?.input() {
            MetricInput::Path => needs.path = true,
            MetricInput::Likelihood => needs.likelihood = true,
            _ => {}
        }
    }
    Ok(needs)
}

fn build(registry: &Registry, name: &str) -> Result<Box<dyn Metric>, EvaluateError> {
    Ok(registry.build::<dyn Metric>(name, &BTreeMap::new())?)
}

/// Every point metric in `names` between `samples` and `target` (row-major, `dim` columns,
/// same size); flow metrics in `names` are absent (see [`evaluate_inputs`]).
pub fn evaluate(
    registry: &Registry,
    names: &[String],
    samples: &[f32],
    target: &[f32],
    dim: usize,
) -> Result<Scores, EvaluateError> {
    evaluate_inputs(registry, names, &Inputs { samples, target, dim, path: None, likelihood: None })
}

/// Every metric in `names` on what it is computed from. A metric with a size cap (e.g. exact
/// assignment in 2-D) sees the first points of each set up to its cap — both sets are i.i.d.
/// draws, and a deterministic solve maps each source point on its own, so a prefix is an
/// unbiased subsample — and the number used is reported, never hidden.
pub fn evaluate_inputs(registry: &Registry, names: &[String], inputs: &Inputs<'_>) -> Result<Scores, EvaluateError> {
    let mut scores = Scores::default();
    let dim = inputs.dim;
    for name in names {
        let metric = build(registry, name)?;
        let failed = |source| EvaluateError::Metric { metric: name.clone(), source };
        let (value, used, n) = match metric.input() {
            MetricInput::Path => {
                let Some(path) = &inputs.path else { continue };
                let n = path.energy.len();
                let used = metric.max_points(dim).map_or(n, |cap| cap.min(n));
                let prefix = PathIntegrals {
                    dim: path.dim,
                    source: &path.source[..used * dim],
                    end: &path.end[..used * dim],
                    energy: &path.energy[..used],
                    target: &path.target[..(used * dim).min(path.target.len())],
                };
                (metric.evaluate_path(&prefix).map_err(failed)?, used, n)
            }
            MetricInput::Likelihood => {
                let Some(likelihood) = &inputs.likelihood else { continue };
                let n = likelihood.log_density.len();
                (metric.evaluate_likelihood(likelihood).map_err(failed)?, n, n)
            }
            _ => {
                let n = inputs.samples.len().min(inputs.target.len()) / dim;
                let used = metric.max_points(dim).map_or(n, |cap| cap.min(n));
                let value = metric
                    .evaluate(&inputs.samples[..used * dim], &inputs.target[..used * dim], dim)
                    .map_err(failed)?;
                (value, used, n)
            }
        };
        if used < n {
            scores.points_used.insert(name.clone(), used);
        }
        scores.values.insert(name.clone(), value);
    }
    Ok(scores)
}
