//! Evaluating point sets with the configured metrics.

use std::collections::BTreeMap;

use runner_sdk::{PluginError, PluginKind};

use crate::registry::{self, RegistryError};

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

/// Every metric in `names` between `samples` and `target` (row-major, `dim` columns, same
/// size). A metric with a size cap (e.g. exact assignment in 2-D) sees the first points of
/// each set up to its cap — both sets are i.i.d. draws, so a prefix is an unbiased subsample —
/// and the number used is reported, never hidden.
pub fn evaluate(names: &[String], samples: &[f32], target: &[f32], dim: usize) -> Result<Scores, EvaluateError> {
    let mut scores = Scores::default();
    let n = samples.len().min(target.len()) / dim;
    for name in names {
        let metric = registry::build(crate::metrics::REGISTRY, PluginKind::Metric, name, &BTreeMap::new())?;
        let used = metric.max_points(dim).map_or(n, |cap| cap.min(n));
        let value = metric
            .evaluate(&samples[..used * dim], &target[..used * dim], dim)
            .map_err(|source| EvaluateError::Metric { metric: name.clone(), source })?;
        if used < n {
            scores.points_used.insert(name.clone(), used);
        }
        scores.values.insert(name.clone(), value);
    }
    Ok(scores)
}
