//! The model's log density at data points by the probability-flow ODE (BENCHMARKS.md §3):
//!
//!   log p1(x) = log p0(x0) − ∫₀¹ div v(x_t, t) dt,
//!
//! with x0 the point the flow carries x back to. Both come from one solve in reversed time
//! s = t_end − t, started at the data point: d/ds [x | ℓ] = [−v(x, t) | div v(x, t)] ends at
//! [x0 | ∫ div v dt] (see [`super::augmented`]). The solver's grid is the forward grid traversed
//! backwards, so a grid that crowds steps near one end does so in this solve too.
//!
//! Over a span [t_start, t_end] other than [0, 1] (see `eval.t_start`, `eval.t_end`): the solve
//! starts at t_end with the data point itself (the last stretch to the data, which the samplers
//! take with one non-invertible jump, is not part of the flow), and the density at t_start is
//! that of the samplers' starting points, the source scaled by c = σ(t_start)/σ(0):
//! log p(x) = log p0(x/c) − dim·log c.
//!
//! Where the velocity is infinite at t_end (VP paths at t = 1, where σ' = −∞), the solve starts
//! instead at the latest t_e = t_end − 10⁻ᵏ at which σ(t_e) − σ(t_end) ≤ [`SIGMA_GAP`], with the
//! data point as the state there (the ε of Song et al.'s likelihoods): the density of the data
//! blurred by noise of that size, which differs from p1's by O(σ(t_e)²) relative to the data's
//! own scale. [`LogDensities::span`] says where the solve ran.

use std::sync::Arc;
use std::time::Instant;

use runner_sdk::{Likelihood, Mixture, Schedule};

/// How much noise (in σ) the data may carry where the solve starts short of a singular t_end.
pub const SIGMA_GAP: f64 = 1e-3;

use super::augmented::{plan, solve};
use super::field::{rademacher, Divergence, Field, FieldError};
use super::FlowError;
use crate::sampling::SampleSpec;

/// Which solve, and how the divergence is taken.
pub struct LikelihoodSpec<'a> {
    /// Solver, NFE, grid and span (the solver must be a velocity-form ODE method).
    pub solve: SampleSpec<'a>,
    pub divergence: Divergence,
    /// Seeds Hutchinson's probe (one Rademacher vector per point, fixed over the solve).
    pub probe_seed: u64,
}

/// Log densities of a set of points, and what they cost.
#[derive(Debug, Clone, PartialEq)]
pub struct LogDensities {
    pub dim: usize,
    /// log p1 in nats, one per point.
    pub log_density: Vec<f64>,
    /// Where the flow carried each point at t_start (row-major).
    pub source: Vec<f64>,
    pub divergence: Divergence,
    /// The solve's span in t: (t_start, where it started from the data).
    pub span: (f64, f64),
    pub nfe: usize,
    pub seconds: f64,
}

impl LogDensities {
    /// What a likelihood metric sees.
    pub fn likelihood(&self) -> Likelihood<'_> {
        Likelihood { dim: self.dim, log_density: &self.log_density }
    }
}

/// log p1 at every one of `points` (row-major) under the flow of `field`, whose source
/// distribution p0 is `source`.
pub fn log_density(
    mut field: Box<dyn Field>,
    schedule: Arc<dyn Schedule>,
    source: &Mixture,
    points: &[f32],
    spec: &LikelihoodSpec<'_>,
) -> Result<LogDensities, FlowError> {
    let started = Instant::now();
    let dim = field.dim();
    if source.dim != dim {
        return Err(FlowError::SourceDim { source_dim: source.dim, data: dim });
    }
    let (t_start, t_end) = spec.solve.span;
    let t_end = start_time(schedule.as_ref(), t_start, t_end);
    let solve_spec = SampleSpec { span: (t_start, t_end), ..spec.solve };
    let planned = plan(&solve_spec, schedule.as_ref())?;
    let times = &planned.times;
    let (t_start, t_end) = (times[0], times[times.len() - 1]);
    let mut reversed: Vec<f64> = times.iter().rev().map(|&t| t_end - t).collect();
    // Exact ends: the solve starts at the data and stops exactly at t_start.
    let last = reversed.len() - 1;
    (reversed[0], reversed[last]) = (0.0, t_end - t_start);
    let n = points.len() / dim;
    let probe = match spec.divergence {
        Divergence::Exact => None,
        Divergence::Hutchinson => Some(rademacher(n * dim, spec.probe_seed)),
    };
    let mut start: Vec<f64> = points.iter().map(|&v| f64::from(v)).collect();
    start.resize(n * dim + n, 0.0);
    let rhs = move |y: &[f64], s: f64| -> Result<Vec<f64>, FieldError> {
        let (v, div) = field.velocity_divergence(&y[..n * dim], t_end - s, probe.as_deref())?;
        let mut dy: Vec<f64> = v.into_iter().map(|c| -c).collect();
        dy.extend(div);
        Ok(dy)
    };
    let solved = solve(planned.solver.as_ref(), planned.control, rhs, start, &reversed)?;
    let (x_start, integral) = solved.state.split_at(n * dim);
    // The samplers' starting points are the source scaled by c past t = 0.
    let scale =
        if t_start > 0.0 { schedule.coefficients(t_start).sigma / schedule.coefficients(0.0).sigma } else { 1.0 };
    let log_density = x_start
        .chunks_exact(dim)
        .zip(integral)
        .map(|(x, &div)| {
            let x0: Vec<f64> = x.iter().map(|v| v / scale).collect();
            mixture_log_density(source, &x0) - dim as f64 * scale.ln() - div
        })
        .collect();
    Ok(LogDensities {
        dim,
        log_density,
        source: x_start.to_vec(),
        divergence: spec.divergence,
        span: (t_start, t_end),
        nfe: solved.nfe,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Where the reverse solve starts: `t_end`, or just before it where the velocity is infinite
/// there (see the module documentation).
fn start_time(schedule: &dyn Schedule, t_start: f64, t_end: f64) -> f64 {
    let c = schedule.coefficients(t_end);
    if c.d_alpha.is_finite() && c.d_sigma.is_finite() {
        return t_end;
    }
    (2..=12)
        .map(|k| t_end - 10f64.powi(-k))
        .filter(|&t| t > t_start)
        .find(|&t| schedule.coefficients(t).sigma - c.sigma <= SIGMA_GAP)
        .unwrap_or(t_end - 1e-12)
}

/// log Σ_k w_k·N(x; μ_k, s_k²·I), by log-sum-exp (far from every component the densities
/// underflow long before their logarithms do).
pub fn mixture_log_density(mixture: &Mixture, x: &[f64]) -> f64 {
    let d = mixture.dim as f64;
    let terms: Vec<f64> = mixture
        .components
        .iter()
        .map(|c| {
            let sq: f64 = x.iter().zip(&c.mean).map(|(xi, mi)| (xi - mi) * (xi - mi)).sum();
            let var = c.std * c.std;
            c.weight.ln() - 0.5 * d * (2.0 * std::f64::consts::PI * var).ln() - 0.5 * sq / var
        })
        .collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|l| (l - top).exp()).sum::<f64>().ln()
}
