//! The oracle: the exact minimizer of the matching loss for a Gaussian-mixture target, in
//! closed form. With it, what a sampler gets wrong is the sampler's own error, not the
//! network's, so solvers can be compared (and checked for convergence) on their own.
//!
//! For x0 ~ N(0, I), x1 ~ Σ_k w_k·N(μ_k, s_k²·I) and an affine path x_t = α·x1 + σ·x0 (γ = 0),
//! component k gives x_t ~ N(α·μ_k, v_k·I) with v_k = α²s_k² + σ². Its posterior weight is
//! r_k ∝ w_k·N(x_t; α·μ_k, v_k·I) (normalized in log space: far from every component the
//! densities underflow long before their ratios do), and Gaussian conditioning inside the
//! component gives
//!
//!   E[x1 | x_t] = Σ_k r_k·(μ_k + α·s_k²/v_k·(x_t − α·μ_k)),
//!   E[x0 | x_t] = Σ_k r_k·σ/v_k·(x_t − α·μ_k).
//!
//! Both stay finite at the path ends where a conversion between targets would divide by zero
//! (σ = 0 at the data end, α = 0 at the noise end), so the oracle computes the velocity
//! directly as α'·E[x1 | x_t] + σ'·E[x0 | x_t] and lets the host convert that to the other
//! targets. The velocity is its native target for this reason: flow-matching solvers evaluate
//! it at t = 1, where on `cond-ot` it is finite but a data prediction cannot be converted to it.
//! On VP paths σ' = −∞ at t = 1 and the velocity there is NaN: the probability-flow ODE of a
//! VP path is singular at the data end, whatever the model.

use std::sync::Arc;

use runner_sdk::{Mixture, Schedule, Target};
use thiserror::Error;

use crate::solvers::VectorDynamics;

#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum OracleError {
    #[error(
        "the oracle needs a Gaussian-mixture target; dataset `{0}` is not one (gaussian, gmm1d, gmm, 8gaussians are)"
    )]
    NotAMixture(String),
    #[error("the oracle needs the standard normal source N(0, I); `{0}` is not it")]
    Source(String),
    #[error("the oracle needs an affine path (γ = 0); the schedule has γ({t}) = {gamma}")]
    Stochastic { t: f64, gamma: f64 },
    #[error("the oracle needs mixture components of positive std; component {0} has std {1}")]
    Degenerate(usize, f64),
    #[error("the mixture's weights must be positive and sum to 1, got a sum of {0}")]
    Weights(f64),
}

/// The exact posterior means of a mixture target on an affine path.
#[derive(Clone)]
pub struct Oracle {
    mixture: Mixture,
    schedule: Arc<dyn Schedule>,
}

/// `E[x1 | x_t]` and `E[x0 | x_t]` for a batch of states (flat, batch-major).
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorMeans {
    pub data: Vec<f64>,
    pub noise: Vec<f64>,
}

impl Oracle {
    /// The oracle of `mixture` (the target, called `name` in errors) on `schedule`. The source
    /// must be the standard normal: the formulas integrate x0 out as N(0, I).
    pub fn new(
        name: &str,
        mixture: Option<Mixture>,
        source: (&str, Option<Mixture>),
        schedule: Arc<dyn Schedule>,
    ) -> Result<Oracle, OracleError> {
        let mixture = mixture.ok_or_else(|| OracleError::NotAMixture(name.to_string()))?;
        if !source.1.is_some_and(|m| m.is_standard_normal()) {
            return Err(OracleError::Source(source.0.to_string()));
        }
        // A schedule is six scalar functions; γ ≠ 0 anywhere shows up at a few interior points.
        for t in [0.1, 0.25, 0.5, 0.75, 0.9] {
            let gamma = schedule.coefficients(t).gamma;
            if gamma != 0.0 {
                return Err(OracleError::Stochastic { t, gamma });
            }
        }
        for (k, c) in mixture.components.iter().enumerate() {
            // A point mass has no density at t = 1, where v_k = 0.
            if !(c.std > 0.0 && c.std.is_finite()) {
                return Err(OracleError::Degenerate(k, c.std));
            }
        }
        let total: f64 = mixture.components.iter().map(|c| c.weight).sum();
        if (total - 1.0).abs() > 1e-9 || mixture.components.iter().any(|c| c.weight <= 0.0) {
            return Err(OracleError::Weights(total));
        }
        Ok(Oracle { mixture, schedule })
    }

    pub fn mixture(&self) -> &Mixture {
        &self.mixture
    }

    pub fn dim(&self) -> usize {
        self.mixture.dim
    }

    /// E[x1 | x_t] and E[x0 | x_t] at every point of `x` (flat, batch-major, `dim` columns).
    pub fn posterior_means(&self, x: &[f64], t: f64) -> PosteriorMeans {
        let c = self.schedule.coefficients(t);
        let (alpha, sigma) = (c.alpha, c.sigma);
        let d = self.mixture.dim;
        let comps = &self.mixture.components;
        let variances: Vec<f64> = comps.iter().map(|k| alpha * alpha * k.std * k.std + sigma * sigma).collect();
        // log w_k − (d/2)·log v_k: the part of the log density that does not depend on x.
        let offsets: Vec<f64> =
            comps.iter().zip(&variances).map(|(k, &v)| k.weight.ln() - 0.5 * d as f64 * v.ln()).collect();
        let mut data = vec![0.0; x.len()];
        let mut noise = vec![0.0; x.len()];
        let mut log_r = vec![0.0; comps.len()];
        for (i, point) in x.chunks_exact(d).enumerate() {
            for (k, comp) in comps.iter().enumerate() {
                let sq: f64 = point.iter().zip(&comp.mean).map(|(&xj, &mj)| (xj - alpha * mj).powi(2)).sum();
                log_r[k] = offsets[k] - 0.5 * sq / variances[k];
            }
            let top = log_r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let norm: f64 = log_r.iter().map(|&l| (l - top).exp()).sum();
            let out = i * d..(i + 1) * d;
            for (k, comp) in comps.iter().enumerate() {
                let r = (log_r[k] - top).exp() / norm;
                let shrink = alpha * comp.std * comp.std / variances[k];
                let to_noise = sigma / variances[k];
                for ((j, &xj), &mj) in out.clone().zip(point).zip(&comp.mean) {
                    let residual = xj - alpha * mj;
                    data[j] += r * (mj + shrink * residual);
                    noise[j] += r * to_noise * residual;
                }
            }
        }
        PosteriorMeans { data, noise }
    }

    /// The marginal velocity α'·E[x1 | x_t] + σ'·E[x0 | x_t] of the probability-flow ODE.
    pub fn velocity(&self, x: &[f64], t: f64) -> Vec<f64> {
        let c = self.schedule.coefficients(t);
        let m = self.posterior_means(x, t);
        m.data.iter().zip(&m.noise).map(|(&x1, &x0)| c.d_alpha * x1 + c.d_sigma * x0).collect()
    }

    /// The oracle as exact f64 dynamics on the CPU (native target: the velocity, see the module
    /// docs); `seed` seeds the noise of stochastic samplers.
    pub fn dynamics(&self, seed: u64) -> VectorDynamics {
        let oracle = self.clone();
        VectorDynamics::new(self.schedule.clone(), Target::Velocity, move |x: &[f64], t| oracle.velocity(x, t), seed)
    }
}
