//! `euler-ancestral`: k-diffusion's Euler ancestral sampler, in our convention.
//!
//! k-diffusion works in the variance-exploding frame x̃ = x/α with noise level σ̃ = σ/α. From
//! σ̃_t to σ̃_s it splits the target level into a deterministic part and fresh noise,
//! σ̃_up = min(σ̃_s, η·σ̃_s·√(1 − σ̃_s²/σ̃_t²)) and σ̃_down = √(σ̃_s² − σ̃_up²), takes an Euler step
//! of the probability-flow ODE dx̃/dσ̃ = (x̃ − x̂1)/σ̃ to σ̃_down, and adds σ̃_up·z. Mapped back
//! (x = α·x̃) with ρ = σ̃_s/σ̃_t = σ_s·α_t/(α_s·σ_t), which stays finite where α_t = 0:
//!
//!   x_s = (d/σ_t)·x + (α_s − d·α_t/σ_t)·x̂1 + u·z,  u = min(σ_s, η·σ_s·√(1 − ρ²)), d = √(σ_s² − u²).
//!
//! Since σ_s²(1 − ρ²) is the posterior variance of the path's Gaussian transition, this is the
//! DDIM update with the same η — the two names describe one sampler (η = 1: DDPM's chain), a
//! fact the tests check; k-diffusion's defaults are η = 1.

use runner_sdk::{
    Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext,
};

use super::posterior::{denoising_step, Transition};
use crate::registry::Entry;

const NAME: &str = "euler-ancestral";

#[derive(Debug, Clone, Copy)]
pub struct EulerAncestral {
    pub eta: f64,
}

impl Solver for EulerAncestral {
    fn kind(&self) -> SolverKind {
        super::kind_by_noise(self.eta != 0.0)
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    fn default_nfe(&self) -> usize {
        // First order: as Euler, 2000 steps deterministic (η = 0), 1000 when it adds noise.
        self.nfe(if self.eta == 0.0 { 2000 } else { 1000 })
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
        let rho = tr.sigma_s * tr.alpha_t / (tr.alpha_s * tr.sigma_t);
        let up = (self.eta * tr.sigma_s * (1.0 - rho * rho).max(0.0).sqrt()).min(tr.sigma_s);
        let down = (tr.sigma_s * tr.sigma_s - up * up).max(0.0).sqrt();
        let on_x = down / tr.sigma_t;
        let on_x1 = tr.alpha_s - down * tr.alpha_t / tr.sigma_t;
        denoising_step(f, x, t, on_x, on_x1, up)
    }
}

const PARAMS: &[ParamSpec] = &[ParamSpec::float(
    "eta",
    1.0,
    "share of the ancestral noise: 0 is the deterministic Euler step, 1 k-diffusion's default",
)];

fn make(p: &Params) -> Result<Box<dyn Solver>, PluginError> {
    let eta = p.float("eta")?;
    if !(eta >= 0.0 && eta.is_finite()) {
        return Err(p.invalid("eta", format!("must be ≥ 0 and finite, got {eta}")));
    }
    Ok(Box::new(EulerAncestral { eta }))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "k-diffusion's Euler ancestral (σ_down/σ_up split, η = 1): stochastic, 1 evaluation per step",
        PARAMS,
    ),
    make,
};
