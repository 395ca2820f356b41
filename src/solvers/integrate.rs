//! THE integration loop (DESIGN.md §2). Solvers advance one step; this loop owns the time grid,
//! counts model evaluations, manages the handles of intermediate states and stops on a
//! non-finite state. There is no other loop over time in the crate.

use std::cmp::Ordering;

use runner_sdk::{Coefficients, Dynamics, Handle, PluginError, Solver, Target};
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SolveError {
    #[error("a time grid needs at least two times, got {0}")]
    TooFewTimes(usize),
    #[error("the time grid is not strictly increasing at index {index}: t = {t}, then {t_next}")]
    NotIncreasing { index: usize, t: f64, t_next: f64 },
    #[error("step {step} from t = {t} to t = {t_next} failed")]
    Step {
        step: usize,
        t: f64,
        t_next: f64,
        #[source]
        source: PluginError,
    },
    #[error("the state became non-finite at t = {t}, after step {step}")]
    NonFinite { t: f64, step: usize },
    #[error(
        "solver `{solver}` takes {evals_per_step} model evaluation(s) per step; \
         NFE {nfe} is not a positive multiple of {evals_per_step}"
    )]
    NfeNotMultiple { solver: String, nfe: usize, evals_per_step: usize },
}

/// The result of [`integrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// The final state, owned by the caller.
    pub x: Handle,
    /// Model evaluations actually made (`predict` calls), counted by the loop itself.
    pub nfe: usize,
    pub steps: usize,
    /// With `record`: (time, state) at every grid time, starting with the caller's `x0` and
    /// ending with `x`. These handles belong to the caller; empty without `record`.
    pub trajectory: Vec<(f64, Handle)>,
}

/// Integrate from `x0` at `times[0]` through every time of `times` with `solver`.
///
/// Intermediate states are released as soon as the next one exists (unless recorded); the
/// caller's `x0` is never released. On an error every handle the loop still holds is released
/// and the error says at which step and time it happened; `step` counts from 0.
pub fn integrate(
    solver: &dyn Solver,
    f: &mut dyn Dynamics,
    x0: Handle,
    times: &[f64],
    record: bool,
) -> Result<Integration, SolveError> {
    check_times(times)?;
    let mut f = Counting { inner: f, predictions: 0 };
    let mut trajectory = if record { vec![(times[0], x0)] } else { Vec::new() };
    let mut x = x0;
    for (step, w) in times.windows(2).enumerate() {
        let (t, t_next) = (w[0], w[1]);
        let outcome = solver.step(&mut f, x, t, t_next).and_then(|next| match f.is_finite(next) {
            Ok(finite) => Ok((next, finite)),
            Err(e) => {
                f.release(next);
                Err(e)
            }
        });
        let (next, finite) = match outcome {
            Ok(o) => o,
            Err(source) => {
                abandon(&mut f, x0, x, &trajectory);
                return Err(SolveError::Step { step, t, t_next, source });
            }
        };
        if record {
            trajectory.push((t_next, next));
        } else if x != x0 && x != next {
            f.release(x);
        }
        x = next;
        if !finite {
            abandon(&mut f, x0, x, &trajectory);
            return Err(SolveError::NonFinite { t: t_next, step });
        }
    }
    Ok(Integration { x, nfe: f.predictions, steps: times.len() - 1, trajectory })
}

/// The number of steps that spends exactly `nfe` model evaluations with `solver`.
pub fn steps_for_nfe(solver_name: &str, solver: &dyn Solver, nfe: usize) -> Result<usize, SolveError> {
    let per_step = solver.evals_per_step();
    if nfe == 0 || per_step == 0 || !nfe.is_multiple_of(per_step) {
        return Err(SolveError::NfeNotMultiple { solver: solver_name.to_string(), nfe, evals_per_step: per_step });
    }
    Ok(nfe / per_step)
}

fn check_times(times: &[f64]) -> Result<(), SolveError> {
    if times.len() < 2 {
        return Err(SolveError::TooFewTimes(times.len()));
    }
    for (index, w) in times.windows(2).enumerate() {
        // A NaN anywhere compares as None and fails the check.
        if w[1].partial_cmp(&w[0]) != Some(Ordering::Greater) {
            return Err(SolveError::NotIncreasing { index, t: w[0], t_next: w[1] });
        }
    }
    Ok(())
}

/// Release what an aborted integration holds: the current state and the recorded ones, never
/// the caller's `x0`.
fn abandon(f: &mut dyn Dynamics, x0: Handle, x: Handle, trajectory: &[(f64, Handle)]) {
    let mut held: Vec<Handle> = trajectory.iter().map(|&(_, h)| h).collect();
    held.push(x);
    held.sort_unstable();
    held.dedup();
    for h in held.into_iter().filter(|&h| h != x0) {
        f.release(h);
    }
}

/// Counts `predict` calls, so that the reported NFE is measured, not declared.
struct Counting<'a> {
    inner: &'a mut dyn Dynamics,
    predictions: usize,
}

impl Dynamics for Counting<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        self.predictions += 1;
        self.inner.predict(x, t, target)
    }
    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        self.inner.lincomb(terms)
    }
    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        self.inner.noise_like(x)
    }
    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        self.inner.error_norm(a, b)
    }
    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        self.inner.is_finite(x)
    }
    fn coefficients(&self, t: f64) -> Coefficients {
        self.inner.coefficients(t)
    }
    fn release(&mut self, x: Handle) {
        self.inner.release(x)
    }
}
