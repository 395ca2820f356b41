//! Adaptive embedded Runge–Kutta pairs: `bosh3`, `dopri5`, `tsit5`. Each is only its Butcher
//! tableau with a second weight row `b_hat`; the generic step in [`super::runge_kutta`] runs
//! them, and the step-size controller ([`super::controller`]) in `integrate()` decides the steps.
//! All three are FSAL, so an accepted step costs one evaluation less than its stages.
//!
//! They take no parameters of their own: the controller's keys (`rtol`, `atol`, …) are the
//! loop's ([`super::controller::PARAMS`]). They ignore the requested NFE (`steps_for_nfe` answers one interval) and report what they
//! used.

use runner_sdk::{Params, PluginError, Solver};

use super::runge_kutta::{entry, RungeKutta, Tableau};
use crate::registry::Entry;

/// Bogacki–Shampine 3(2).
pub static BOSH3: Tableau = Tableau {
    a: &[&[], &[0.5], &[0.0, 0.75], &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0]],
    b: &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0],
    c: &[0.0, 0.5, 0.75, 1.0],
    order: 3,
    b_hat: &[7.0 / 24.0, 0.25, 1.0 / 3.0, 0.125],
    embedded_order: 2,
};

/// Dormand–Prince 5(4).
pub static DOPRI5: Tableau = Tableau {
    a: &[
        &[],
        &[1.0 / 5.0],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
        &[19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0],
        &[9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0],
        &[35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
    ],
    b: &[35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0, 0.0],
    c: &[0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0],
    order: 5,
    b_hat: &[5179.0 / 57600.0, 0.0, 7571.0 / 16695.0, 393.0 / 640.0, -92097.0 / 339200.0, 187.0 / 2100.0, 1.0 / 40.0],
    embedded_order: 4,
};

/// Tsitouras 5(4) (2011): the same cost as Dormand–Prince with smaller principal error terms.
/// The coefficients are Tsitouras's decimal values; `b_hat` is `b` minus his error weights.
pub static TSIT5: Tableau = Tableau {
    a: &[
        &[],
        &[0.161],
        &[-0.008480655492356989, 0.335480655492357],
        &[2.897153057105493, -6.359448489975075, 4.3622954328695815],
        &[5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
        &[5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
        &[0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774],
    ],
    b: &[0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0.0],
    c: &[0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0],
    order: 5,
    b_hat: &[
        0.09646076681806523 + 0.001780011052225777,
        0.01 + 0.0008164344596567469,
        0.4798896504144996 - 0.007880878010261995,
        1.379008574103742 + 0.1447110071732629,
        -3.290069515436081 - 0.5823571654525552,
        2.324710524099774 + 0.45808210592918697,
        -1.0 / 66.0,
    ],
    embedded_order: 4,
};

fn make_bosh3(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::adaptive(&BOSH3)))
}
fn make_dopri5(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::adaptive(&DOPRI5)))
}
fn make_tsit5(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::adaptive(&TSIT5)))
}

pub const BOSH3_ENTRY: Entry<dyn Solver> = entry(
    "bosh3",
    "Bogacki–Shampine 3(2), adaptive (rtol/atol), FSAL: 3 evaluations per accepted step",
    &[],
    make_bosh3,
);
pub const DOPRI5_ENTRY: Entry<dyn Solver> = entry(
    "dopri5",
    "Dormand–Prince 5(4), adaptive (rtol/atol), FSAL: 6 evaluations per accepted step",
    &[],
    make_dopri5,
);
pub const TSIT5_ENTRY: Entry<dyn Solver> =
    entry("tsit5", "Tsitouras 5(4), adaptive (rtol/atol), FSAL: 6 evaluations per accepted step", &[], make_tsit5);
