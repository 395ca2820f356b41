//! `vp`: the continuous variance-preserving SDE of Song et al. (2021), and the one place where a
//! VP schedule given as log ᾱ over diffusion time τ = 1 − t becomes path coefficients.
//!
//! With β(τ) = β_min + (β_max − β_min)·τ, log ᾱ(τ) = −∫₀^τ β = −(β_min·τ + ½(β_max − β_min)·τ²),
//! and α = √ᾱ, σ = √(1 − ᾱ).
//!
//! Two exceptions to the boundary convention, both inherent to VP-SDEs: the noise end is not
//! pure noise, α(0) = √ᾱ(τ=1) ≈ 0.0066 with the defaults; and σ' → −∞ at t = 1 (σ = 0), where
//! [`from_log_alpha_bar`] returns the formula's −∞. Solvers should not ask for a velocity there.

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use super::param_error;
use crate::registry::Entry;

const NAME: &str = "vp";

#[derive(Debug, Clone, Copy)]
pub struct Vp {
    beta_min: f64,
    beta_max: f64,
}

impl Vp {
    /// 0 ≤ β_min ≤ β_max with β_max > 0, so that the noise level grows with diffusion time.
    pub fn new(beta_min: f64, beta_max: f64) -> Result<Vp, PluginError> {
        if !(beta_min >= 0.0 && beta_min.is_finite()) {
            return Err(param_error(NAME, "beta_min", format!("must be finite and ≥ 0, got {beta_min}")));
        }
        if !(beta_max >= beta_min && beta_max > 0.0 && beta_max.is_finite()) {
            return Err(param_error(
                NAME,
                "beta_max",
                format!("must be finite, > 0 and ≥ beta_min = {beta_min}, got {beta_max}"),
            ));
        }
        Ok(Vp { beta_min, beta_max })
    }
}

impl Schedule for Vp {
    fn coefficients(&self, t: f64) -> Coefficients {
        let tau = 1.0 - t;
        let spread = self.beta_max - self.beta_min;
        let log_alpha_bar = -(self.beta_min * tau + 0.5 * spread * tau * tau);
        let d_log_alpha_bar = -(self.beta_min + spread * tau);
        from_log_alpha_bar(log_alpha_bar, d_log_alpha_bar)
    }
}

/// VP coefficients from `log ᾱ` and its derivative with respect to diffusion time τ = 1 − t.
///
/// α = exp(½ log ᾱ), σ = √(1 − ᾱ); by the chain rule with dt = −dτ,
/// α' = −½·(log ᾱ)'·α and σ' = ᾱ·(log ᾱ)' / (2σ). The latter is −∞ where σ = 0 (t = 1) for
/// any schedule whose ᾱ leaves 1 at a finite rate; it is returned as is.
pub fn from_log_alpha_bar(log_alpha_bar: f64, d_log_alpha_bar_dtau: f64) -> Coefficients {
    let alpha_bar = log_alpha_bar.exp();
    let alpha = (0.5 * log_alpha_bar).exp();
    // −expm1 keeps σ's digits where ᾱ is close to 1 (near the data end). Adding +0.0 turns a
    // −0.0 (log ᾱ = −0.0 at t = 1 from a product with 0) into +0.0, so that σ' there is −∞.
    let sigma = (-log_alpha_bar.exp_m1() + 0.0).sqrt();
    Coefficients {
        alpha,
        sigma,
        gamma: 0.0,
        d_alpha: -0.5 * d_log_alpha_bar_dtau * alpha,
        d_sigma: alpha_bar * d_log_alpha_bar_dtau / (2.0 * sigma),
        d_gamma: 0.0,
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("beta_min", 0.1, "β at the data end (τ = 0)"),
    ParamSpec::float("beta_max", 20.0, "β at the noise end (τ = 1)"),
];

fn make(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(Vp::new(p.float("beta_min")?, p.float("beta_max")?)?))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        NAME,
        "continuous VP-SDE (β linear from β_min to β_max in τ = 1 − t); α(0) ≈ 0.0066, σ' → −∞ at t = 1",
        PARAMS,
    ),
    make,
};
