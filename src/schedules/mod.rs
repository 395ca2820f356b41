//! Built-in schedules (DESIGN.md §1). One file per family; each converts its literature's time
//! convention to t ∈ [0, 1] (0 = noise, 1 = data) inside its `coefficients`.
//!
//! All built-ins have γ = 0. Documented exceptions to α(0) = 0, σ(0) = 1, α(1) = 1, σ(1) = 0:
//! `lipman` keeps σ(1) = σ_min; `vp`, `ddpm-linear` and `ddpm-cosine` start from α(0) > 0
//! (small, not 0). Every VP schedule except `cosine` has σ' → −∞ at t = 1.

use runner_sdk::{PluginError, Schedule};

use crate::registry::Entry;

pub mod cond_ot;
pub mod cosine;
pub mod discrete_beta;
pub mod linear_vp;
pub mod lipman;
pub mod vp;

pub static REGISTRY: &[Entry<dyn Schedule>] = &[
    cond_ot::ENTRY,
    lipman::ENTRY,
    cosine::ENTRY,
    linear_vp::ENTRY,
    vp::ENTRY,
    discrete_beta::LINEAR_ENTRY,
    discrete_beta::COSINE_ENTRY,
];

/// The error for a schedule parameter out of its range, for constructors that are also
/// called outside the registry.
pub(crate) fn param_error(plugin: &str, param: &str, message: String) -> PluginError {
    PluginError::ParamValue { plugin: plugin.to_string(), param: param.to_string(), message }
}
