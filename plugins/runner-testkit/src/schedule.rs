//! Conformance of a schedule: finite coefficients, and derivatives that are the derivatives.

use runner_sdk::{Coefficients, Schedule};

/// Points on [0, 1] where every coefficient must be finite.
const POINTS: usize = 200;
/// The finite-difference step, and the interior points checked with it (t = i/50, away from
/// the ends, where some schedules' derivatives are steep).
const H: f64 = 1e-5;
const INTERIOR: std::ops::RangeInclusive<usize> = 1..=49;
/// The central difference is exact to O(H²·f''') + O(ε/H), about 1e-10 here; a wrong
/// derivative is off by far more.
const TOLERANCE: f64 = 1e-6;

/// `Ok` when α, σ, γ and their derivatives are finite on [0, 1] and each derivative agrees with
/// the central finite difference of its coefficient.
pub fn check_schedule(schedule: &dyn Schedule) -> Result<(), String> {
    type Field = (&'static str, fn(&Coefficients) -> f64);
    const VALUES: [Field; 3] = [("α", |c| c.alpha), ("σ", |c| c.sigma), ("γ", |c| c.gamma)];
    const DERIVATIVES: [Field; 3] = [("dα", |c| c.d_alpha), ("dσ", |c| c.d_sigma), ("dγ", |c| c.d_gamma)];
    for i in 0..=POINTS {
        let t = i as f64 / POINTS as f64;
        let c = schedule.coefficients(t);
        for (name, get) in VALUES.iter().chain(&DERIVATIVES) {
            if !get(&c).is_finite() {
                return Err(format!("{name}({t}) = {} is not finite", get(&c)));
            }
        }
    }
    for i in INTERIOR {
        let t = i as f64 / 50.0;
        let (c, up, down) = (schedule.coefficients(t), schedule.coefficients(t + H), schedule.coefficients(t - H));
        for ((name, value), (d_name, derivative)) in VALUES.iter().zip(&DERIVATIVES) {
            let fd = (value(&up) - value(&down)) / (2.0 * H);
            let d = derivative(&c);
            if (d - fd).abs() > TOLERANCE * d.abs().max(1.0) {
                return Err(format!("{d_name}({t}) = {d}, but the central difference of {name} there is {fd}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quadratic {
        wrong_derivative: bool,
    }
    impl Schedule for Quadratic {
        fn coefficients(&self, t: f64) -> Coefficients {
            let d = if self.wrong_derivative { t } else { 2.0 * t };
            Coefficients { alpha: t * t, sigma: 1.0 - t * t, gamma: 0.0, d_alpha: d, d_sigma: -2.0 * t, d_gamma: 0.0 }
        }
    }

    struct Singular;
    impl Schedule for Singular {
        fn coefficients(&self, t: f64) -> Coefficients {
            Coefficients { alpha: t, sigma: (1.0 - t).ln(), ..Coefficients::default() }
        }
    }

    #[test]
    fn a_consistent_schedule_passes_and_wrong_derivatives_are_named() {
        assert_eq!(check_schedule(&Quadratic { wrong_derivative: false }), Ok(()));
        let err = check_schedule(&Quadratic { wrong_derivative: true }).unwrap_err();
        assert!(err.starts_with("dα(0.02)") && err.contains("central difference of α"), "{err}");
        let err = check_schedule(&Singular).unwrap_err();
        assert!(err.contains("σ(1) = -inf is not finite"), "{err}");
    }
}
