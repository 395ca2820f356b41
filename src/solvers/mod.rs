//! Built-in solvers and the single integration loop (DESIGN.md §2).
//!
//! A solver advances one step through the host's [`Dynamics`]; [`integrate`] is the only loop
//! over time. Explicit Runge–Kutta methods share one generic step over a Butcher tableau
//! ([`runge_kutta`]); the diffusion samplers (DDPM, DDIM) share the path's Gaussian transition
//! ([`posterior`]). [`vector::VectorDynamics`] runs any of them on CPU vectors.

use std::collections::BTreeMap;

use runner_sdk::{Dynamics, Handle, ParamValue, Params, PluginError, Solver, SolverKind};

use crate::plugins::{Registry, RegistryError};
use crate::registry::Entry;

pub mod controller;
pub mod ddim;
pub mod ddpm;
pub mod dpmpp_2m;
pub mod edm_heun;
pub mod embedded;
pub mod euler_ancestral;
pub mod euler_maruyama;
pub mod integrate;
pub mod posterior;
pub mod reverse_sde;
pub mod runge_kutta;
pub mod sde_heun;
pub mod vector;

pub use controller::StepControl;
pub use integrate::{integrate, steps_for_nfe, Integration, Options, SolveError};
pub use vector::VectorDynamics;

/// A solver from an evaluation's keys, with the controller its keys set: the controller's keys
/// (`rtol`, `atol`, …) are taken only by adaptive solvers; any other solver refuses them as it
/// refuses any parameter it does not declare.
pub fn build(
    registry: &Registry,
    name: &str,
    given: &BTreeMap<String, ParamValue>,
) -> Result<(Box<dyn Solver>, StepControl), RegistryError> {
    let (control, own) = StepControl::split(given);
    let entry = registry.find::<dyn Solver>(name)?;
    let solver = entry.build(&own)?;
    if solver.kind().is_adaptive() {
        return Ok((solver, StepControl::resolve(&control)?));
    }
    if !control.is_empty() {
        // The error a solver gives for any parameter it does not declare.
        Params::resolve(&entry.info.name, &entry.info.params, given)?;
    }
    Ok((solver, StepControl::default()))
}

pub static REGISTRY: &[Entry<dyn Solver>] = &[
    runge_kutta::EULER_ENTRY,
    runge_kutta::MIDPOINT_ENTRY,
    runge_kutta::HEUN_ENTRY,
    runge_kutta::RALSTON_ENTRY,
    runge_kutta::RK4_ENTRY,
    embedded::BOSH3_ENTRY,
    embedded::DOPRI5_ENTRY,
    embedded::TSIT5_ENTRY,
    ddpm::ENTRY,
    ddim::ENTRY,
    euler_maruyama::ENTRY,
    sde_heun::ENTRY,
    euler_ancestral::ENTRY,
    dpmpp_2m::ENTRY,
    edm_heun::ENTRY,
];

/// `f.lincomb` without the terms whose coefficient is zero (unless all are), so that a
/// coefficient that vanishes at a grid end costs no pass over the state.
pub(crate) fn lincomb_nonzero(f: &mut dyn Dynamics, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
    let kept: Vec<(f64, Handle)> = terms.iter().copied().filter(|&(c, _)| c != 0.0).collect();
    if kept.is_empty() {
        f.lincomb(terms)
    } else {
        f.lincomb(&kept)
    }
}

/// The kind of a sampler that may or may not add noise (DDIM and Euler-ancestral by η, the
/// reverse SDE by its diffusion): deterministic samples have a solver error, stochastic ones not.
pub(crate) fn kind_by_noise(adds_noise: bool) -> SolverKind {
    if adds_noise {
        SolverKind::Stochastic
    } else {
        SolverKind::Deterministic
    }
}
