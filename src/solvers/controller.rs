//! The step-size controller of adaptive solvers (an integral controller, Hairer–Nørsett–Wanner
//! II.4): from a step's error estimate, whether to accept it and how large the next step is.
//!
//! The error is measured relative to the state with a *global* scale,
//! `‖err‖ / (atol + rtol·max(‖x‖, ‖x_new‖))` with ‖·‖ the RMS over all entries. The textbook
//! norm scales each entry by its own magnitude; that needs an elementwise division the SDK's
//! `Dynamics` does not have, and every host would have to implement it. For states whose
//! entries share one scale (samples of a distribution, as here) the two agree within a factor
//! that rtol absorbs; the conformance test checks the tolerance is met.

use std::collections::BTreeMap;

use runner_sdk::{Dynamics, Handle, ParamSpec, ParamValue, Params, PluginError, Target};

/// The settings of the step-size controller. They belong to the loop, not to a solver: every
/// adaptive solver, built in or loaded, runs under the same controller and accepts the same
/// keys in an evaluation (`evaluate(#{ solver: "dopri5", rtol: 1e-6 })`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepControl {
    pub rtol: f64,
    pub atol: f64,
    /// The fraction of the optimal step actually taken (0.9 by custom).
    pub safety: f64,
    /// Bounds on the ratio of one step size to the previous.
    pub min_factor: f64,
    pub max_factor: f64,
    /// Accepted plus rejected steps before the loop gives up.
    pub max_steps: usize,
    /// The first step size; 0 picks it with Hairer–Nørsett–Wanner's heuristic (2 evaluations).
    pub initial_step: f64,
    /// At `max_steps`, return the state reached instead of failing.
    pub partial: bool,
}

/// The controller's keys, with their defaults, as an evaluation of an adaptive solver accepts
/// them.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("rtol", 1e-5, "relative tolerance of the local error"),
    ParamSpec::float("atol", 1e-5, "absolute tolerance of the local error"),
    ParamSpec::float("safety", 0.9, "fraction of the optimal step size taken"),
    ParamSpec::float("min_factor", 0.2, "smallest ratio of a step size to the previous"),
    ParamSpec::float("max_factor", 10.0, "largest ratio of a step size to the previous"),
    ParamSpec::int("max_steps", 10_000, "accepted + rejected steps before giving up"),
    ParamSpec::float("initial_step", 0.0, "first step size; 0 chooses it (2 model evaluations)"),
    ParamSpec::boolean("partial", false, "at max_steps, return the state reached instead of failing"),
];

/// What the errors of the controller's keys are attributed to.
const NAME: &str = "the step-size controller";

impl Default for StepControl {
    fn default() -> StepControl {
        StepControl::resolve(&BTreeMap::new()).expect("the defaults are valid")
    }
}

impl StepControl {
    /// The controller from an evaluation's keys (defaults fill the rest), checked.
    pub fn resolve(given: &BTreeMap<String, ParamValue>) -> Result<StepControl, PluginError> {
        let p = Params::resolve(NAME, PARAMS, given)?;
        let positive = |name: &str| {
            let v = p.float(name)?;
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(p.invalid(name, format!("must be positive and finite, got {v}")))
            }
        };
        let (rtol, atol, safety) = (positive("rtol")?, positive("atol")?, positive("safety")?);
        let (min_factor, max_factor) = (positive("min_factor")?, positive("max_factor")?);
        if safety > 1.0 || min_factor >= 1.0 || max_factor <= 1.0 {
            return Err(p.invalid("safety", "needs safety ≤ 1 and min_factor < 1 < max_factor".to_string()));
        }
        let max_steps = p.int("max_steps")?;
        if max_steps < 1 {
            return Err(p.invalid("max_steps", format!("must be at least 1, got {max_steps}")));
        }
        let initial_step = p.float("initial_step")?;
        if !(initial_step >= 0.0 && initial_step.is_finite()) {
            return Err(p.invalid("initial_step", format!("must be ≥ 0 (0: automatic), got {initial_step}")));
        }
        Ok(StepControl {
            rtol,
            atol,
            safety,
            min_factor,
            max_factor,
            max_steps: max_steps as usize,
            initial_step,
            partial: p.boolean("partial")?,
        })
    }

    /// Split an evaluation's keys into the controller's and the solver's.
    pub fn split(given: &BTreeMap<String, ParamValue>) -> (BTreeMap<String, ParamValue>, BTreeMap<String, ParamValue>) {
        given
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .partition(|(k, _)| PARAMS.iter().any(|s| s.name == k.as_str()))
    }
}

/// Steps below this fraction of the span mean the controller cannot make progress (a
/// non-finite or stiff vector field).
pub const MIN_RELATIVE_STEP: f64 = 1e-12;

/// The controller's state between steps.
#[derive(Debug, Clone, Copy)]
pub struct Controller {
    pub control: StepControl,
    /// The lower order of the solver's embedded pair: its error estimate is
    /// O(h^(error_order + 1)).
    pub error_order: u32,
    /// The size of the next attempted step.
    pub h: f64,
}

/// What the controller decided about one attempted step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub accept: bool,
    /// The scaled error norm (≤ 1 means within tolerance).
    pub error: f64,
}

impl Controller {
    /// Judge a step of size `h_taken` with scaled error `error`, and size the next one. A
    /// non-finite error rejects the step with the largest allowed shrink.
    pub fn judge(&mut self, h_taken: f64, error: f64) -> Verdict {
        let c = self.control;
        let accept = error <= 1.0;
        let factor = if !error.is_finite() {
            c.min_factor
        } else if error == 0.0 {
            c.max_factor
        } else {
            // The error scales as h^(q+1) with q the embedded order.
            let optimal = c.safety * error.powf(-1.0 / (self.error_order as f64 + 1.0));
            // After a rejection, never grow: the same step would be tried again.
            let upper = if accept { c.max_factor } else { 1.0 };
            optimal.clamp(c.min_factor, upper)
        };
        self.h = h_taken * factor;
        Verdict { accept, error }
    }
}

/// RMS of `x` (its distance to `zero`, a zero state).
pub fn rms(f: &mut dyn Dynamics, x: Handle, zero: Handle) -> Result<f64, PluginError> {
    f.error_norm(x, zero)
}

/// ‖err‖ / (atol + rtol·max(‖x‖, ‖x_new‖)).
pub fn scaled_error(c: &StepControl, err_rms: f64, x_rms: f64, x_new_rms: f64) -> f64 {
    err_rms / (c.atol + c.rtol * x_rms.max(x_new_rms))
}

/// The first step size by Hairer–Nørsett–Wanner's heuristic (II.4, "starting step size"):
/// h0 from the sizes of x and of its velocity, one trial Euler step to estimate the second
/// derivative, and h1 so that the leading error term of order p meets the tolerance.
/// `v0` is the velocity at (x, t); the trial evaluation is one model call.
#[allow(clippy::too_many_arguments)]
pub fn initial_step(
    f: &mut dyn Dynamics,
    c: &StepControl,
    error_order: u32,
    x: Handle,
    v0: Handle,
    zero: Handle,
    t: f64,
    span: f64,
) -> Result<f64, PluginError> {
    let x_rms = rms(f, x, zero)?;
    let scale = c.atol + c.rtol * x_rms;
    let d0 = x_rms / scale;
    let d1 = rms(f, v0, zero)? / scale;
    let h0 = if d0 < 1e-5 || d1 < 1e-5 { 1e-6 } else { 0.01 * d0 / d1 }.min(span);
    let x1 = f.lincomb(&[(1.0, x), (h0, v0)])?;
    let v1 = f.predict(x1, t + h0, Target::Velocity);
    f.release(x1);
    let v1 = v1?;
    let d2 = f.error_norm(v1, v0);
    f.release(v1);
    let d2 = d2? / scale / h0;
    let p = error_order as f64 + 1.0;
    let h1 = if d1.max(d2) <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / d1.max(d2)).powf(1.0 / p) };
    Ok((100.0 * h0).min(h1).min(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> StepControl {
        StepControl {
            rtol: 1e-3,
            atol: 1e-6,
            safety: 0.9,
            min_factor: 0.2,
            max_factor: 10.0,
            max_steps: 100,
            initial_step: 0.0,
            partial: false,
        }
    }

    #[test]
    fn small_errors_grow_the_step_within_bounds_and_large_ones_shrink_it() {
        let mut k = Controller { control: control(), error_order: 4, h: 0.1 };
        assert!(k.judge(0.1, 0.0).accept);
        assert!((k.h - 1.0).abs() < 1e-15, "an exact step grows by max_factor");
        let v = k.judge(0.1, 0.5);
        assert!(v.accept && k.h > 0.1 && k.h < 0.1 * 10.0);
        // error 1e6 would ask for a factor of 0.9·1e6^(−1/5) ≈ 0.057: clamped at 0.2.
        let v = k.judge(0.1, 1e6);
        assert!(!v.accept && (k.h - 0.02).abs() < 1e-15);
        // A rejection just above 1 must not grow the step.
        assert!(!k.judge(0.1, 1.0001).accept && k.h <= 0.1);
        assert!(!k.judge(0.1, f64::NAN).accept && (k.h - 0.02).abs() < 1e-15);
    }

    #[test]
    fn scaled_error_uses_the_larger_state() {
        let c = control();
        let e = scaled_error(&c, 1e-3, 1.0, 3.0);
        assert!((e - 1e-3 / (1e-6 + 3e-3)).abs() < 1e-12);
    }
}
