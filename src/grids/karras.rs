//! `karras`: the noise-level grid of Karras et al. (EDM, 2022),
//! σ_i = (σ_max^{1/ρ} + i/N·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0…N, which spends more steps at
//! low noise as ρ grows. EDM's σ is the noise-to-signal ratio σ(t)/α(t) of a variance-exploding
//! path; on any affine path that ratio falls monotonically from the noise end to the data end,
//! so each σ_i maps to the one t with σ(t)/α(t) = σ_i (by bisection). Where the span does not
//! reach σ_max or σ_min (a VP path stops at σ/α ≈ 156 at t = 0; a grid may end before the
//! data), the levels are clamped to the span's range first, so the N + 1 levels stay distinct.
//! The first and last times are `t_start` and `t_end` exactly.

use runner_sdk::{ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, TimeGrid};

use crate::registry::Entry;

const NAME: &str = "karras";

#[derive(Debug, Clone, Copy)]
pub struct Karras {
    pub rho: f64,
    pub sigma_min: f64,
    pub sigma_max: f64,
}

impl Karras {
    /// The EDM noise level of point i of N between `sigma_min` and `sigma_max`.
    pub fn sigma(&self, i: usize, n: usize, sigma_min: f64, sigma_max: f64) -> f64 {
        let (lo, hi) = (sigma_min.powf(1.0 / self.rho), sigma_max.powf(1.0 / self.rho));
        (hi + i as f64 / n as f64 * (lo - hi)).powf(self.rho)
    }
}

/// σ(t)/α(t), negated so that it increases with t (∞ where α = 0 becomes −∞).
fn neg_noise_to_signal(s: &dyn Schedule, t: f64) -> f64 {
    let c = s.coefficients(t);
    -(c.sigma / c.alpha)
}

impl TimeGrid for Karras {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, schedule: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        super::check_span(NAME, steps, t_start, t_end)?;
        let sigma_min = self.sigma_min.max(-neg_noise_to_signal(schedule, t_end));
        let sigma_max = self.sigma_max.min(-neg_noise_to_signal(schedule, t_start));
        if sigma_min.is_nan() || sigma_max.is_nan() || sigma_min >= sigma_max {
            return Err(PluginError::Invalid {
                plugin: NAME.to_string(),
                message: format!(
                    "the path's σ/α on [{t_start}, {t_end}] does not meet [{}, {}]",
                    self.sigma_min, self.sigma_max
                ),
            });
        }
        let times = (0..=steps)
            .map(|i| {
                let level = self.sigma(i, steps, sigma_min, sigma_max);
                super::invert_increasing(|t| neg_noise_to_signal(schedule, t), -level, t_start, t_end)
            })
            .collect();
        super::finish(NAME, times, t_start, t_end)
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("rho", 7.0, "the exponent ρ: larger puts more steps at low noise"),
    ParamSpec::float("sigma_min", 0.002, "the smallest noise-to-signal ratio σ/α of the grid"),
    ParamSpec::float("sigma_max", 80.0, "the largest noise-to-signal ratio σ/α of the grid"),
];

fn make(p: &Params) -> Result<Box<dyn TimeGrid>, PluginError> {
    let (rho, sigma_min, sigma_max) = (p.float("rho")?, p.float("sigma_min")?, p.float("sigma_max")?);
    if !(rho > 0.0 && rho.is_finite()) {
        return Err(p.invalid("rho", format!("must be positive, got {rho}")));
    }
    if !(0.0 < sigma_min && sigma_min < sigma_max && sigma_max.is_finite()) {
        return Err(
            p.invalid("sigma_min", format!("needs 0 < sigma_min < sigma_max < ∞, got {sigma_min} and {sigma_max}"))
        );
    }
    Ok(Box::new(Karras { rho, sigma_min, sigma_max }))
}

pub const ENTRY: Entry<dyn TimeGrid> = Entry {
    info: PluginInfo::new(
        PluginKind::Grid,
        NAME,
        "EDM's noise levels σ_i (ρ = 7, σ from 80 to 0.002) mapped to t through σ(t)/α(t)",
        PARAMS,
    ),
    make,
};
