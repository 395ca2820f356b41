//! `linear-vp`: α = t with σ = √(1 − t²), so that α² + σ² = 1 (variance preserving).

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use crate::registry::Entry;

/// σ' = −t/σ diverges at t = 1 (σ = 0), like every VP schedule whose σ reaches zero with
/// infinite slope; at exactly t = 1 `d_sigma` is −∞, what the formula gives.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinearVp;

impl Schedule for LinearVp {
    fn coefficients(&self, t: f64) -> Coefficients {
        // (1 − t)(1 + t) rather than 1 − t², which loses the digits of σ near t = 1.
        let sigma = ((1.0 - t) * (1.0 + t)).sqrt();
        Coefficients { alpha: t, sigma, gamma: 0.0, d_alpha: 1.0, d_sigma: -t / sigma, d_gamma: 0.0 }
    }
}

const PARAMS: &[ParamSpec] = &[];

fn make(_: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(LinearVp))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        "linear-vp",
        "variance-preserving path α = t, σ = √(1 − t²); σ' → −∞ at t = 1",
        PARAMS,
    ),
    make,
};
