//! `ddpm`: ancestral sampling (Ho et al. 2020) in the general affine form: draw x_s from the
//! posterior q(x_s | x_t, x̂1) with x̂1 the model's data prediction at t.
//!
//! On `ddpm-linear` with a uniform grid of T steps from 0 to 1 this is DDPM exactly: α_ts² =
//! 1 − β_i, σ²_ts = β_i, the mean is (1/√α_i)(x − β_i/√(1 − ᾱ_i)·ε̂) and the small variance is β̃_i.
//! As in Ho et al.'s Algorithm 2, the step that lands on the data (σ_s = 0) adds no noise, with
//! either variance.

use runner_sdk::{
    Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext,
};

use super::posterior::{denoising_step, Transition};
use crate::registry::Entry;

const NAME: &str = "ddpm";

/// The fixed variances of Ho et al.: the posterior's β̃ (`small`) or the forward step's β
/// (`large`, σ²_ts), the two bounds on the reverse process variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variance {
    Small,
    Large,
}

impl Variance {
    pub fn from_name(name: &str) -> Option<Variance> {
        match name {
            "small" => Some(Variance::Small),
            "large" => Some(Variance::Large),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Ddpm {
    variance: Variance,
}

impl Ddpm {
    pub fn new(variance: Variance) -> Ddpm {
        Ddpm { variance }
    }
}

impl Solver for Ddpm {
    fn kind(&self) -> SolverKind {
        SolverKind::Stochastic
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        _: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        let tr = Transition::between(NAME, f, t, t_next)?;
        let (on_x, on_x1) = tr.posterior_mean();
        let variance = match self.variance {
            _ if tr.sigma_s == 0.0 => 0.0,
            Variance::Small => tr.posterior_variance(),
            Variance::Large => tr.sigma2_ts,
        };
        denoising_step(f, x, t, on_x, on_x1, variance.sqrt())
    }
}

const PARAMS: &[ParamSpec] =
    &[ParamSpec::string("variance", "small", "\"small\": posterior β̃ (Ho et al.'s σ² = β̃); \"large\": σ² = β")];

fn make(p: &Params) -> Result<Box<dyn Solver>, PluginError> {
    let name = p.string("variance")?;
    let variance = Variance::from_name(name)
        .ok_or_else(|| p.invalid("variance", format!("must be \"small\" or \"large\", got \"{name}\"")))?;
    Ok(Box::new(Ddpm::new(variance)))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "DDPM ancestral sampling from the posterior q(x_s | x_t, x̂1): stochastic, 1 evaluation per step",
        PARAMS,
    ),
    make,
};
