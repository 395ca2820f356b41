//! `shifted`: the timestep shift of Stable Diffusion 3 (Esser et al. 2024). With u uniform in
//! [0, 1] and the noise level s = 1 − u (1 at the noise end), the shifted level is
//! s' = shift·s / (1 + (shift − 1)·s) and t = 1 − s', rescaled to [t_start, t_end]. shift > 1
//! spends more steps at high noise (near t = 0), shift = 1 is `uniform`.

use runner_sdk::{ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, TimeGrid};

use crate::registry::Entry;

const NAME: &str = "shifted";

#[derive(Debug, Clone, Copy)]
pub struct Shifted {
    pub shift: f64,
}

impl Shifted {
    /// The shifted position in [0, 1] of the uniform position `u`.
    pub fn warp(&self, u: f64) -> f64 {
        let s = 1.0 - u;
        1.0 - self.shift * s / (1.0 + (self.shift - 1.0) * s)
    }
}

impl TimeGrid for Shifted {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, _: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        super::check_span(NAME, steps, t_start, t_end)?;
        let times = (0..=steps)
            .map(|i| {
                let w = self.warp(i as f64 / steps as f64);
                t_start * (1.0 - w) + t_end * w
            })
            .collect();
        super::finish(NAME, times, t_start, t_end)
    }
}

const PARAMS: &[ParamSpec] =
    &[ParamSpec::float("shift", 3.0, "SD3's shift: > 1 puts more steps near the noise, 1 is uniform")];

fn make(p: &Params) -> Result<Box<dyn TimeGrid>, PluginError> {
    let shift = p.float("shift")?;
    if !(shift > 0.0 && shift.is_finite()) {
        return Err(p.invalid("shift", format!("must be positive and finite, got {shift}")));
    }
    Ok(Box::new(Shifted { shift }))
}

pub const ENTRY: Entry<dyn TimeGrid> = Entry {
    info: PluginInfo::new(
        PluginKind::Grid,
        NAME,
        "SD3's shifted times: noise level s' = shift·s/(1 + (shift − 1)·s), shift 3",
        PARAMS,
    ),
    make,
};
