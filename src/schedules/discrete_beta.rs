//! Schedules defined by a discrete β sequence, as in DDPM: `ddpm-linear` (Ho et al. 2020) and
//! `ddpm-cosine` (Nichol & Dhariwal 2021).
//!
//! A sequence β_1 … β_T gives ᾱ_i = Π_{j≤i} (1 − β_j), ᾱ_0 = 1, at diffusion time τ = i/T,
//! i.e. at t = 1 − i/T. Between those points log ᾱ is interpolated linearly in τ, so at the grid
//! points the coefficients are exactly DDPM's and in between (log ᾱ)' is constant per segment:
//! α and σ are continuous, their derivatives jump at the grid points. At a grid point the
//! derivative is the one of the segment towards the noise (larger τ).
//!
//! Like every VP schedule these are not pure noise at t = 0 (α(0) = √ᾱ_T, about 0.006 for
//! `ddpm-linear`) and σ' → −∞ at t = 1, where the formula's −∞ is returned (see
//! [`super::vp::from_log_alpha_bar`]).

use std::f64::consts::FRAC_PI_2;

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use super::param_error;
use super::vp::from_log_alpha_bar;
use crate::registry::Entry;

/// Upper bound on `steps`, only to refuse absurd configurations before allocating.
const MAX_STEPS: i64 = 10_000_000;

#[derive(Debug, Clone)]
pub struct DiscreteBeta {
    /// log ᾱ_0 = 0, …, log ᾱ_T: cumulative sums of log(1 − β_j).
    log_alpha_bar: Vec<f64>,
}

impl DiscreteBeta {
    /// The schedule of `betas` = β_1 … β_T; each must lie in (0, 1). `plugin` names the
    /// schedule in errors.
    pub fn from_betas(plugin: &str, betas: &[f64]) -> Result<DiscreteBeta, PluginError> {
        if betas.is_empty() {
            return Err(param_error(plugin, "steps", "needs at least one step".to_string()));
        }
        let mut log_alpha_bar = Vec::with_capacity(betas.len() + 1);
        let mut acc = 0.0;
        log_alpha_bar.push(acc);
        for (j, &beta) in betas.iter().enumerate() {
            if !(beta > 0.0 && beta < 1.0) {
                return Err(PluginError::Invalid {
                    plugin: plugin.to_string(),
                    message: format!("β_{} = {beta} is outside (0, 1)", j + 1),
                });
            }
            // ln_1p keeps the digits of log(1 − β) for β ~ 1e-4.
            acc += (-beta).ln_1p();
            log_alpha_bar.push(acc);
        }
        Ok(DiscreteBeta { log_alpha_bar })
    }

    /// T, the number of diffusion steps.
    pub fn steps(&self) -> usize {
        self.log_alpha_bar.len() - 1
    }

    /// ᾱ_i, the cumulative product at step i (ᾱ_0 = 1).
    pub fn alpha_bar(&self, i: usize) -> f64 {
        self.log_alpha_bar[i].exp()
    }
}

impl Schedule for DiscreteBeta {
    fn coefficients(&self, t: f64) -> Coefficients {
        let steps = self.steps();
        let u = (1.0 - t) * steps as f64;
        // Outside [0, 1] the end segments extend linearly; a NaN t falls into segment 0 and
        // stays NaN through `frac`.
        let k = (u.floor().max(0.0) as usize).min(steps - 1);
        let frac = u - k as f64;
        let rise = self.log_alpha_bar[k + 1] - self.log_alpha_bar[k];
        from_log_alpha_bar(self.log_alpha_bar[k] + frac * rise, rise * steps as f64)
    }
}

/// DDPM's linear sequence: T values from `start` to `end` inclusive (numpy's `linspace`).
pub fn linear_betas(start: f64, end: f64, steps: usize) -> Vec<f64> {
    if steps == 1 {
        return vec![start];
    }
    let last = (steps - 1) as f64;
    (0..steps).map(|j| start + (end - start) * (j as f64 / last)).collect()
}

/// Nichol & Dhariwal's cosine sequence: f(τ) = cos²((τ + s)/(1 + s)·π/2), β_i = 1 − f(i/T)/f((i−1)/T)
/// clipped at `max_beta` (the last β would otherwise be 1, ᾱ_T = 0).
pub fn cosine_betas(s: f64, max_beta: f64, steps: usize) -> Vec<f64> {
    let f = |tau: f64| ((tau + s) / (1.0 + s) * FRAC_PI_2).cos().powi(2);
    let n = steps as f64;
    (1..=steps).map(|i| (1.0 - f(i as f64 / n) / f((i - 1) as f64 / n)).min(max_beta)).collect()
}

fn steps_param(plugin: &str, p: &Params) -> Result<usize, PluginError> {
    let steps = p.int("steps")?;
    if !(1..=MAX_STEPS).contains(&steps) {
        return Err(param_error(plugin, "steps", format!("must lie in [1, {MAX_STEPS}], got {steps}")));
    }
    Ok(steps as usize)
}

const LINEAR: &str = "ddpm-linear";
const COSINE: &str = "ddpm-cosine";

const LINEAR_PARAMS: &[ParamSpec] = &[
    ParamSpec::float("beta_start", 1e-4, "β_1, the first (least noisy) step"),
    ParamSpec::float("beta_end", 0.02, "β_T, the last (noisiest) step"),
    ParamSpec::int("steps", 1000, "T, the number of diffusion steps"),
];

fn make_linear(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    let steps = steps_param(LINEAR, p)?;
    for name in ["beta_start", "beta_end"] {
        let beta = p.float(name)?;
        if !(beta > 0.0 && beta < 1.0) {
            return Err(param_error(LINEAR, name, format!("must lie in (0, 1), got {beta}")));
        }
    }
    let betas = linear_betas(p.float("beta_start")?, p.float("beta_end")?, steps);
    Ok(Box::new(DiscreteBeta::from_betas(LINEAR, &betas)?))
}

const COSINE_PARAMS: &[ParamSpec] = &[
    ParamSpec::float("s", 0.008, "offset s that keeps β_1 from vanishing"),
    ParamSpec::float("max_beta", 0.999, "clip on β near the noise end"),
    ParamSpec::int("steps", 1000, "T, the number of diffusion steps"),
];

fn make_cosine(p: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    let steps = steps_param(COSINE, p)?;
    let s = p.float("s")?;
    if !(s >= 0.0 && s.is_finite()) {
        return Err(param_error(COSINE, "s", format!("must be finite and ≥ 0, got {s}")));
    }
    let max_beta = p.float("max_beta")?;
    if !(max_beta > 0.0 && max_beta < 1.0) {
        return Err(param_error(COSINE, "max_beta", format!("must lie in (0, 1), got {max_beta}")));
    }
    Ok(Box::new(DiscreteBeta::from_betas(COSINE, &cosine_betas(s, max_beta, steps))?))
}

pub const LINEAR_ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        LINEAR,
        "DDPM (Ho et al.): β linear from 1e-4 to 0.02 over T = 1000 steps, log ᾱ interpolated in between",
        LINEAR_PARAMS,
    ),
    make: make_linear,
};

pub const COSINE_ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        COSINE,
        "improved DDPM (Nichol & Dhariwal): cosine ᾱ with s = 0.008, β clipped at 0.999, T = 1000",
        COSINE_PARAMS,
    ),
    make: make_cosine,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_betas_match_numpy_linspace_at_the_ends_and_middle() {
        let b = linear_betas(1e-4, 0.02, 1000);
        assert_eq!(b.len(), 1000);
        assert_eq!(b[0], 1e-4);
        assert!((b[999] - 0.02).abs() < 1e-15);
        assert!((b[1] - (1e-4 + 0.0199 / 999.0)).abs() < 1e-15);
    }

    #[test]
    fn cosine_betas_clip_only_at_the_noise_end() {
        let b = cosine_betas(0.008, 0.999, 1000);
        assert_eq!(b[999], 0.999, "f(1) = 0 makes the last β 1 before clipping");
        assert!(b[..990].iter().all(|&beta| beta < 0.5), "only the last few β are large");
        assert!(b.windows(2).all(|w| w[1] > w[0]), "β increases with diffusion time");
    }

    #[test]
    fn bad_betas_are_refused_with_their_index() {
        let err = DiscreteBeta::from_betas("x", &[0.1, 1.0]).unwrap_err().to_string();
        assert!(err.contains("β_2"), "{err}");
    }
}
