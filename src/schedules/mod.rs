//! Built-in schedules (DESIGN.md §1). One file per family; each converts its literature's time
//! convention to t ∈ [0, 1] (0 = noise, 1 = data) inside its `coefficients`.
//!
//! Built-ins have γ = 0 except `sb` (γ = σ√(t(1−t)), zero at both ends) and `cond-ot` with
//! `sigma > 0` (I-CFM, γ = σ everywhere); [`noise_term`] finds such paths, which the host
//! restricts to the velocity target and ODE solvers.
//!
//! Documented exceptions to α(0) = 0, σ(0) = 1, α(1) = 1, σ(1) = 0: `lipman` keeps
//! σ(1) = σ_min; `vp`, `ddpm-linear` and `ddpm-cosine` start from α(0) > 0 (small, not 0). Every VP schedule except `cosine` has σ' → −∞ at t = 1.

use runner_sdk::{Coefficients, PluginError, Schedule};

use crate::registry::Entry;

pub mod cond_ot;
pub mod cosine;
pub mod discrete_beta;
pub mod linear_vp;
pub mod lipman;
pub mod sb;
pub mod vp;

pub static REGISTRY: &[Entry<dyn Schedule>] = &[
    cond_ot::ENTRY,
    lipman::ENTRY,
    cosine::ENTRY,
    linear_vp::ENTRY,
    vp::ENTRY,
    discrete_beta::LINEAR_ENTRY,
    discrete_beta::COSINE_ENTRY,
    sb::ENTRY,
];

/// Intervals of [`probe_times`]: both ends and 99 interior points.
const PROBES: usize = 100;

/// The first probed time t and its coefficients where the schedule has an ε term (γ(t) ≠ 0),
/// or `None` for an affine path x_t = α·x1 + σ·x0. The probe is t = k/100, k = 0..=100: a
/// plugin whose γ is non-zero only between those points would escape it, which no path of
/// the literature does.
pub fn noise_term(schedule: &dyn Schedule) -> Option<(f64, Coefficients)> {
    probe_times().map(|t| (t, schedule.coefficients(t))).find(|(_, c)| c.gamma != 0.0)
}

/// The times at which the host probes a schedule for properties of its path: t = k/100,
/// k = 0..=100.
pub fn probe_times() -> impl Iterator<Item = f64> {
    (0..=PROBES).map(|k| k as f64 / PROBES as f64)
}

/// The error for a schedule parameter out of its range, for constructors that are also
/// called outside the registry.
pub(crate) fn param_error(plugin: &str, param: &str, message: String) -> PluginError {
    PluginError::ParamValue { plugin: plugin.to_string(), param: param.to_string(), message }
}
