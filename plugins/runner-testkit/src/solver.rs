//! Conformance of an ODE solver: its declared order, its NFE and its handles.

use runner_sdk::{Solver, SolverKind};

use crate::{integrate, VectorDynamics};

/// The rate of the test ODE dx/dt = λ(t)·x, λ(t) = ½ + t: it depends on t, so that a method
/// that evaluates its stages at the wrong times loses its order. ∫₀¹λ = 1, so x(1) = e·x(0).
fn rate(t: f64) -> f64 {
    0.5 + t
}

const X0: [f64; 3] = [1.0, -0.5, 2.0];

/// The largest error of `steps` fixed steps over [0, 1] against the exact solution, after
/// checking the NFE and the handles of the run.
fn run(solver: &dyn Solver, steps: usize) -> Result<f64, String> {
    let mut f = VectorDynamics::ode(|x: &[f64], t| x.iter().map(|v| rate(t) * v).collect(), 0);
    let grid: Vec<f64> = (0..=steps).map(|i| i as f64 / steps as f64).collect();
    let end = integrate(solver, &mut f, X0.to_vec(), &grid)?;
    if f.model_calls() != solver.nfe(steps) {
        return Err(format!(
            "{steps} steps took {} model evaluations, but the solver declares nfe({steps}) = {}",
            f.model_calls(),
            solver.nfe(steps)
        ));
    }
    if f.stale_releases() > 0 {
        return Err(format!(
            "{steps} steps released {} handles twice (or released the state it was given)",
            f.stale_releases()
        ));
    }
    if f.live_handles() > 0 {
        return Err(format!("{steps} steps leaked {} handles", f.live_handles()));
    }
    if end.len() != X0.len() {
        return Err(format!("the final state has {} values, not {}", end.len(), X0.len()));
    }
    let e = std::f64::consts::E;
    Ok(end.iter().zip(X0).map(|(x, x0)| (x - e * x0).abs()).fold(0.0, f64::max))
}

/// The order of convergence measured from `steps` and `2·steps` fixed steps of the test ODE:
/// log2 of the ratio of the two errors.
pub fn measured_order(solver: &dyn Solver, steps: usize) -> Result<f64, String> {
    let (coarse, fine) = (run(solver, steps)?, run(solver, 2 * steps)?);
    if !coarse.is_finite() || !fine.is_finite() {
        return Err(format!("the errors at {steps} and {} steps are {coarse} and {fine}", 2 * steps));
    }
    if fine < 1e-13 {
        return Err(format!("the error at {} steps, {fine:e}, is at rounding level: no order to measure", 2 * steps));
    }
    Ok((coarse / fine).log2())
}

/// `Ok` when an ODE solver (or an adaptive one on a fixed grid) converges at its declared order
/// within 0.3, takes `solver.nfe(steps)` model evaluations for `steps` steps, and releases every
/// handle it creates exactly once, never the state it was given.
pub fn check_solver(solver: &dyn Solver) -> Result<(), String> {
    let order = match solver.kind() {
        SolverKind::Ode { order } | SolverKind::Adaptive { order, .. } => order,
        other => return Err(format!("check_solver checks ODE methods of a declared order, not {other:?}")),
    };
    if order == 0 {
        return Err("the solver declares order 0".into());
    }
    // Few enough steps that a high order stays above rounding, enough for a low one to be in
    // its asymptotic regime.
    let steps = match order {
        1 => 32,
        2 | 3 => 8,
        _ => 4,
    };
    let measured = measured_order(solver, steps)?;
    if (measured - f64::from(order)).abs() > 0.3 {
        return Err(format!("declared order {order}, measured {measured:.2} from {steps} and {} steps", 2 * steps));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_sdk::{Dynamics, Handle, PluginError, StepContext, Target};

    /// Euler, with faults to switch on.
    #[derive(Default)]
    struct Euler {
        declared_order: u32,
        leak: bool,
        release_x: bool,
        extra_eval: bool,
    }

    impl Solver for Euler {
        fn kind(&self) -> SolverKind {
            SolverKind::Ode { order: self.declared_order }
        }
        fn evals_per_step(&self) -> usize {
            1
        }
        fn step(
            &self,
            f: &mut dyn Dynamics,
            _ctx: &mut dyn StepContext,
            x: Handle,
            t: f64,
            t_next: f64,
        ) -> Result<Handle, PluginError> {
            let v = f.predict(x, t, Target::Velocity)?;
            if self.extra_eval {
                let w = f.predict(x, t, Target::Velocity)?;
                f.release(w);
            }
            let next = f.lincomb(&[(1.0, x), (t_next - t, v)])?;
            if !self.leak {
                f.release(v);
            }
            if self.release_x {
                f.release(x);
            }
            Ok(next)
        }
    }

    #[test]
    fn euler_passes_and_each_fault_is_named() {
        assert_eq!(check_solver(&Euler { declared_order: 1, ..Euler::default() }), Ok(()));
        let err = check_solver(&Euler { declared_order: 2, ..Euler::default() }).unwrap_err();
        assert!(err.contains("declared order 2, measured 0.") && err.contains("8 and 16 steps"), "{err}");
        let err = check_solver(&Euler { declared_order: 1, leak: true, ..Euler::default() }).unwrap_err();
        assert!(err.contains("leaked 32 handles"), "{err}");
        let err = check_solver(&Euler { declared_order: 1, release_x: true, ..Euler::default() }).unwrap_err();
        assert!(err.contains("released 32 handles twice"), "{err}");
        let err = check_solver(&Euler { declared_order: 1, extra_eval: true, ..Euler::default() }).unwrap_err();
        assert!(err.contains("64 model evaluations") && err.contains("nfe(32) = 32"), "{err}");
    }
}
