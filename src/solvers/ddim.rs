//! `ddim`: denoising diffusion implicit models (Song, Meng & Ermon 2021) in the general affine
//! form. From x̂1 = model's data prediction and ε̂ = (x − α_t·x̂1)/σ_t,
//! x_s = α_s·x̂1 + √(σ_s² − s²)·ε̂ + s·z with s = η·√(σ²_ts·σ_s²/σ_t²) (η times the ancestral
//! standard deviation). η = 0 is deterministic (the first-order solver of the probability-flow
//! ODE in log-SNR time); η = 1 has DDPM's marginals.

use runner_sdk::{
    Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext,
};

use super::posterior::{denoising_step, Transition};
use crate::registry::Entry;

const NAME: &str = "ddim";

#[derive(Debug, Clone, Copy)]
pub struct Ddim {
    eta: f64,
}

impl Ddim {
    /// η in [0, 1]; beyond 1 the noise would exceed σ_s and √(σ_s² − s²) would not exist.
    pub fn new(eta: f64) -> Result<Ddim, PluginError> {
        if !(0.0..=1.0).contains(&eta) {
            return Err(PluginError::ParamValue {
                plugin: NAME.to_string(),
                param: "eta".to_string(),
                message: format!("must lie in [0, 1], got {eta}"),
            });
        }
        Ok(Ddim { eta })
    }
}

impl Solver for Ddim {
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
        let noise = self.eta * tr.posterior_variance().sqrt();
        let on_eps = (tr.sigma_s * tr.sigma_s - noise * noise).max(0.0).sqrt();
        // α_s·x̂1 + on_eps·(x − α_t·x̂1)/σ_t, written as one combination of x and x̂1.
        let on_x = on_eps / tr.sigma_t;
        let on_x1 = tr.alpha_s - on_eps * tr.alpha_t / tr.sigma_t;
        denoising_step(f, x, t, on_x, on_x1, noise)
    }
}

const PARAMS: &[ParamSpec] =
    &[ParamSpec::float("eta", 0.0, "noise scale: 0 deterministic, 1 the ancestral (DDPM) standard deviation")];

fn make(p: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(Ddim::new(p.float("eta")?)?))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "DDIM: deterministic at η = 0, η·(ancestral std) of fresh noise otherwise; 1 evaluation per step",
        PARAMS,
    ),
    make,
};
