//! `cond-ot`: the straight path of rectified flow and I-CFM, α = t, σ = 1 − t, with I-CFM's
//! constant noise γ = `sigma` (default 0: rectified flow, [`CondOt`]; above 0: [`Icfm`]).

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use super::param_error;
use crate::registry::Entry;

const NAME: &str = "cond-ot";

/// α = t, σ = 1 − t: the conditional optimal-transport path between a point of noise and a
/// point of data (constant velocity x1 − x0).
#[derive(Debug, Clone, Copy, Default)]
pub struct CondOt;

impl Schedule for CondOt {
    fn coefficients(&self, t: f64) -> Coefficients {
        Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 }
    }
}

/// The same straight path with constant noise γ = σ_c (I-CFM, Tong et al. 2024, σ = 0.1 in their
/// 2-D benchmark): every conditional path is a Gaussian tube of width σ_c around the line, and
/// the regression target stays x1 − x0 (γ' = 0). The marginal at t = 0 is then p0 smoothed by
/// N(0, σ_c²), while samplers start from p0 itself, as the reference implementation does: a
/// difference of σ_c² in variance.
#[derive(Debug, Clone, Copy)]
pub struct Icfm {
    sigma: f64,
}

impl Icfm {
    /// `sigma` must be finite and ≥ 0 (0 is [`CondOt`]).
    pub fn new(sigma: f64) -> Result<Icfm, PluginError> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(param_error(NAME, "sigma", format!("must be a finite number ≥ 0, got {sigma}")));
        }
        Ok(Icfm { sigma })
    }
}

impl Schedule for Icfm {
    fn coefficients(&self, t: f64) -> Coefficients {
        Coefficients { gamma: self.sigma, ..CondOt.coefficients(t) }
    }
}

const PARAMS: &[ParamSpec] =
    &[ParamSpec::float("sigma", 0.0, "I-CFM's constant noise γ = σ around the straight path (0: rectified flow)")];

fn make(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    let icfm = Icfm::new(p.float("sigma")?)?;
    Ok(if icfm.sigma == 0.0 { Box::new(CondOt) } else { Box::new(icfm) })
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        NAME,
        "straight path α = t, σ = 1 − t, constant noise γ = sigma (rectified flow; I-CFM with sigma > 0)",
        PARAMS,
    ),
    make,
};
