//! `cosine`: the trigonometric variance-preserving path (GVP), α = sin(πt/2), σ = cos(πt/2).

use std::f64::consts::FRAC_PI_2;

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

use crate::registry::Entry;

/// α² + σ² = 1 at every t; unlike the other VP schedules its derivatives stay finite at both
/// ends, because σ reaches 0 with a finite slope (−π/2).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cosine;

impl Schedule for Cosine {
    fn coefficients(&self, t: f64) -> Coefficients {
        let (sin, cos) = (FRAC_PI_2 * t).sin_cos();
        Coefficients {
            alpha: sin,
            sigma: cos,
            gamma: 0.0,
            d_alpha: FRAC_PI_2 * cos,
            d_sigma: -FRAC_PI_2 * sin,
            d_gamma: 0.0,
        }
    }
}

const PARAMS: &[ParamSpec] = &[];

fn make(_: &Params) -> Result<Box<dyn Schedule>, PluginError> {
    Ok(Box::new(Cosine))
}

pub const ENTRY: Entry<dyn Schedule> = Entry {
    info: PluginInfo::new(
        PluginKind::Schedule,
        "cosine",
        "trigonometric VP path α = sin(πt/2), σ = cos(πt/2) (GVP)",
        PARAMS,
    ),
    make,
};
