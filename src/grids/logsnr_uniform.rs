//! `logsnr-uniform`: times equally spaced in the log signal-to-noise ratio
//! λ(t) = log(α²/σ²), which increases with t on every affine path. DPM-Solver's analysis is in
//! λ, so its steps are naturally uniform there.
//!
//! λ is −∞ where α = 0 (t = 0 on most paths) and +∞ where σ = 0 (t = 1): the grid's λ range is
//! clamped to [`logsnr_min`, `logsnr_max`] (defaults ±10, i.e. σ/α from 148 to 0.0067); the
//! first and last times are then moved to exactly `t_start` and `t_end`, so only the two end
//! intervals are wider in λ than the others.

use runner_sdk::{ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, TimeGrid};

use crate::registry::Entry;

const NAME: &str = "logsnr-uniform";

#[derive(Debug, Clone, Copy)]
pub struct LogSnrUniform {
    pub logsnr_min: f64,
    pub logsnr_max: f64,
}

/// log(α²/σ²) at t (±∞ at the ends of most paths).
pub fn log_snr(s: &dyn Schedule, t: f64) -> f64 {
    let c = s.coefficients(t);
    2.0 * (c.alpha.ln() - c.sigma.ln())
}

impl TimeGrid for LogSnrUniform {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, schedule: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        super::check_span(NAME, steps, t_start, t_end)?;
        let lo = log_snr(schedule, t_start).max(self.logsnr_min);
        let hi = log_snr(schedule, t_end).min(self.logsnr_max);
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return Err(PluginError::Invalid {
                plugin: NAME.to_string(),
                message: format!(
                    "the logSNR range on [{t_start}, {t_end}] clamped to [{}, {}] is empty: [{lo}, {hi}]",
                    self.logsnr_min, self.logsnr_max
                ),
            });
        }
        let times = (0..=steps)
            .map(|i| {
                let target = lo + (hi - lo) * i as f64 / steps as f64;
                super::invert_increasing(|t| log_snr(schedule, t), target, t_start, t_end)
            })
            .collect();
        super::finish(NAME, times, t_start, t_end)
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("logsnr_min", -10.0, "the grid's lowest log(α²/σ²), used where the path's is −∞ (α = 0)"),
    ParamSpec::float("logsnr_max", 10.0, "the grid's highest log(α²/σ²), used where the path's is +∞ (σ = 0)"),
];

fn make(p: &Params) -> Result<Box<dyn TimeGrid>, PluginError> {
    let (logsnr_min, logsnr_max) = (p.float("logsnr_min")?, p.float("logsnr_max")?);
    if !(logsnr_min.is_finite() && logsnr_max.is_finite() && logsnr_min < logsnr_max) {
        return Err(p.invalid(
            "logsnr_min",
            format!("needs finite logsnr_min < logsnr_max, got {logsnr_min} and {logsnr_max}"),
        ));
    }
    Ok(Box::new(LogSnrUniform { logsnr_min, logsnr_max }))
}

pub const ENTRY: Entry<dyn TimeGrid> = Entry {
    info: PluginInfo::new(
        PluginKind::Grid,
        NAME,
        "equal steps in log(α²/σ²), clamped to [−10, 10] where the path's is infinite",
        PARAMS,
    ),
    make,
};
