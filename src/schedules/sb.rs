//! `sb`: the Brownian-bridge path of SB-CFM (Tong et al., AISTATS 2024): α = t, σ = 1 − t,
//! γ = σ_sb·√(t(1 − t)).
//!
//! With x0 and x1 coupled by the entropic OT plan of regularisation 2σ_sb² (the `sinkhorn`
//! coupling with `reg = 2σ²`), these conditional paths are the Brownian bridges of the
//! Schrödinger bridge with noise σ_sb, and u_t = x1 − x0 + γ'·ε is the velocity whose flow has the
//! bridge's marginals. Its noise derivative
//!
//!   γ' = σ_sb·(1 − 2t) / (2√(t(1 − t)))
//!
//! is infinite at both ends: the bridge leaves and reaches its pinned ends with infinite speed.
//! At exactly t = 0 and t = 1 `d_gamma` is +∞ and −∞ (what the formula gives, as for VP paths'
//! σ' at t = 1). What that means downstream:
//! - training draws t from the open interval (0, 1) and refuses non-finite coefficients
//!   (`train::batch`), so no target is infinite. The target's variance still grows like
//!   σ_sb²/(4t) near the ends: the mean loss is dominated by the rare small-t rows, as in the
//!   reference implementation, and is larger and noisier than on γ = 0 paths;
//! - sampling integrates the learned velocity and never evaluates γ': the velocity field itself
//!   (E[u_t | x_t]) is finite, so ODE solvers on any grid from 0 to 1 are safe;
//! - everything that needs γ = 0 (targets other than `velocity`, the diffusion and stochastic
//!   samplers, eval.t_start > 0, eval.t_end < 1, the oracle) is refused by the host with an error.

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use super::param_error;
use crate::registry::Entry;

const NAME: &str = "sb";

/// α = t, σ = 1 − t, γ = σ_sb·√(t(1 − t)).
#[derive(Debug, Clone, Copy)]
pub struct Sb {
    sigma: f64,
}

impl Sb {
    /// `sigma` (σ_sb) must be finite and ≥ 0; 0 is `cond-ot`.
    pub fn new(sigma: f64) -> Result<Sb, PluginError> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(param_error(NAME, "sigma", format!("must be a finite number ≥ 0, got {sigma}")));
        }
        Ok(Sb { sigma })
    }
}

impl Schedule for Sb {
    fn coefficients(&self, t: f64) -> Coefficients {
        let root = (t * (1.0 - t)).sqrt();
        // σ_sb = 0 would give 0·∞ = NaN at the ends; the path is then cond-ot, with γ' = 0.
        let d_gamma = if self.sigma == 0.0 { 0.0 } else { self.sigma * (1.0 - 2.0 * t) / (2.0 * root) };
        Coefficients { alpha: t, sigma: 1.0 - t, gamma: self.sigma * root, d_alpha: 1.0, d_sigma: -1.0, d_gamma }
    }
}

const PARAMS: &[ParamSpec] = &[ParamSpec::float("sigma", 1.0, "bridge noise σ: γ = σ·√(t(1 − t)) (SB-CFM uses 1)")];

fn make(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(Sb::new(p.float("sigma")?)?))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        NAME,
        "Brownian-bridge path of SB-CFM: α = t, σ = 1 − t, γ = sigma·√(t(1 − t)); γ' infinite at both ends",
        PARAMS,
    ),
    make,
};
