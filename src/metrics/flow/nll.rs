//! `nll` and `bpd`: the negative log-likelihood of held-out target points under the model's
//! probability-flow ODE, in nats per point and in bits per dimension (nats / (dim·ln 2)). The
//! host computes the log densities ([`super::likelihood`]); these reduce them.

use runner_sdk::{Likelihood, Metric, MetricInput, PluginError, PluginInfo, PluginKind};

use super::{finite_mean, not_points};
use crate::registry::Entry;

pub const NLL_ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(
        PluginKind::Metric,
        "nll",
        "negative log-likelihood of held-out data by the probability-flow ODE, nats per point",
        &[],
    ),
    make: |_| Ok(Box::new(Nll { bits_per_dim: false })),
};

pub const BPD_ENTRY: Entry<dyn Metric> = Entry {
    info: PluginInfo::new(PluginKind::Metric, "bpd", "the same negative log-likelihood in bits per dimension", &[]),
    make: |_| Ok(Box::new(Nll { bits_per_dim: true })),
};

/// −mean log p1, in nats per point or bits per dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nll {
    pub bits_per_dim: bool,
}

impl Nll {
    fn name(&self) -> &'static str {
        if self.bits_per_dim {
            "bpd"
        } else {
            "nll"
        }
    }
}

impl Metric for Nll {
    fn input(&self) -> MetricInput {
        MetricInput::Likelihood
    }

    fn evaluate(&self, _: &[f32], _: &[f32], _: usize) -> Result<f64, PluginError> {
        Err(not_points(self.name()))
    }

    fn evaluate_likelihood(&self, likelihood: &Likelihood<'_>) -> Result<f64, PluginError> {
        let nats = -finite_mean(self.name(), "log density", likelihood.log_density)?;
        Ok(if self.bits_per_dim { nats / (likelihood.dim as f64 * std::f64::consts::LN_2) } else { nats })
    }
}
