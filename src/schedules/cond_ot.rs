//! `cond-ot`: the straight path of rectified flow and I-CFM, α = t, σ = 1 − t.

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use crate::registry::Entry;

/// α = t, σ = 1 − t: the conditional optimal-transport path between a point of noise and a
/// point of data (constant velocity x1 − x0).
#[derive(Debug, Clone, Copy, Default)]
pub struct CondOt;

impl Schedule for CondOt {
    fn coefficients(&self, t: f64) -> Coefficients {
        Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 }
    }
}

const PARAMS: &[ParamSpec] = &[];

fn make(_: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(CondOt))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo {
        name: "cond-ot",
        kind: PluginKind::Schedule,
        summary: "straight path α = t, σ = 1 − t (rectified flow, I-CFM)",
        params: PARAMS,
    },
    make,
};
