//! `lipman`: the optimal-transport path of Lipman et al. (2023), α = t, σ = 1 − (1 − σ_min)·t.
//!
//! Unlike `cond-ot` the data end keeps a little noise, σ(1) = σ_min, which keeps the
//! conditional velocity field well defined at t = 1 (a documented exception to σ(1) = 0).

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use super::param_error;
use crate::registry::Entry;

const NAME: &str = "lipman";

#[derive(Debug, Clone, Copy)]
pub struct Lipman {
    sigma_min: f64,
}

impl Lipman {
    /// `sigma_min` must lie in [0, 1): σ has to decrease from 1 at the noise end.
    pub fn new(sigma_min: f64) -> Result<Lipman, PluginError> {
        if !(0.0..1.0).contains(&sigma_min) {
            return Err(param_error(NAME, "sigma_min", format!("must lie in [0, 1), got {sigma_min}")));
        }
        Ok(Lipman { sigma_min })
    }
}

impl Schedule for Lipman {
    fn coefficients(&self, t: f64) -> Coefficients {
        let slope = 1.0 - self.sigma_min;
        Coefficients { alpha: t, sigma: 1.0 - slope * t, gamma: 0.0, d_alpha: 1.0, d_sigma: -slope, d_gamma: 0.0 }
    }
}

const PARAMS: &[ParamSpec] = &[ParamSpec::float("sigma_min", 1e-4, "noise left at the data end, σ(1)")];

fn make(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(Lipman::new(p.float("sigma_min")?)?))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        NAME,
        "OT path of Lipman et al.: α = t, σ = 1 − (1 − σ_min)·t, σ(1) = σ_min",
        PARAMS,
    ),
    make,
};
