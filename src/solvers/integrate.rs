//! THE integration loop (DESIGN.md §2). Solvers advance one step; this loop owns the time grid
//! and, for adaptive solvers, the step-size controller; it counts model evaluations, manages
//! the handles of intermediate states and of the solvers' [`StepContext`], and stops on a
//! non-finite state. There is no other loop over time in the crate.
//!
//! NFE and adaptive solvers: an adaptive solver chooses its own steps, so a requested NFE does
//! not determine them. [`steps_for_nfe`] accepts any NFE for it and answers 1 (one grid interval:
//! the controller integrates from the first to the last grid time); the NFE reported in
//! [`Integration`] is what the solve actually used, and `accepted`/`rejected` say how it went.

use std::cmp::Ordering;

use runner_sdk::{Coefficients, Dynamics, Handle, PluginError, Solver, SolverKind, StepContext, Target};
use runner_testkit::VecContext;
use thiserror::Error;

use super::controller::{self, Controller, StepControl, MIN_RELATIVE_STEP};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SolveError {
    #[error("a time grid needs at least two times, got {0}")]
    TooFewTimes(usize),
    #[error("the time grid is not strictly increasing at index {index}: t = {t}, then {t_next}")]
    NotIncreasing { index: usize, t: f64, t_next: f64 },
    /// The reason is part of the message: a solver's or plugin's error is all the user has to
    /// go on, and scripts see messages, not error chains.
    #[error("step {step} from t = {t} to t = {t_next} failed: {cause}")]
    Step { step: usize, t: f64, t_next: f64, cause: PluginError },
    #[error("the state became non-finite between t = {since} (last seen finite) and t = {t} (step {step})")]
    NonFinite { since: f64, t: f64, step: usize },
    #[error(
        "solver `{solver}` cannot spend exactly NFE {nfe} ({evals_per_step} model evaluation(s) per step); \
         the nearest reachable NFE are {below} and {above}"
    )]
    NfeUnreachable { solver: String, nfe: usize, evals_per_step: usize, below: usize, above: usize },
    #[error("the adaptive solver gave no error estimate for its step at t = {t}")]
    NoErrorEstimate { t: f64 },
    #[error(
        "the step size collapsed to {h:e} at t = {t} after {attempts} attempts \
         (non-finite or too stiff a vector field for rtol/atol)"
    )]
    StepSizeCollapsed { t: f64, h: f64, attempts: usize },
    #[error(
        "the adaptive solver reached max_steps = {max_steps} at t = {t} before t = {t_end} \
         ({accepted} accepted, {rejected} rejected); raise max_steps or set partial"
    )]
    MaxSteps { max_steps: usize, t: f64, t_end: f64, accepted: usize, rejected: usize },
}

/// The result of [`integrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// The final state, owned by the caller.
    pub x: Handle,
    /// The time `x` is at: the grid's last time unless an adaptive solve stopped at max_steps
    /// with `partial`.
    pub t: f64,
    /// Model evaluations actually made (`predict` calls), counted by the loop itself.
    pub nfe: usize,
    /// Accepted steps (for fixed-step solvers, the grid's intervals).
    pub steps: usize,
    /// Steps an adaptive controller accepted (= `steps`) and rejected (0 for fixed steps).
    pub accepted: usize,
    pub rejected: usize,
    /// With `record`: (time, state) at every grid time reached, starting with the caller's `x0`
    /// and ending with `x`. These handles belong to the caller; empty without `record`.
    pub trajectory: Vec<(f64, Handle)>,
}

/// The loop's policies for one integration: the step-size controller (used by adaptive solvers
/// only) and whether to record the states at the grid times.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Options {
    pub control: StepControl,
    pub record: bool,
}

impl Options {
    /// The default controller, recording the trajectory.
    pub fn recording() -> Options {
        Options { record: true, ..Options::default() }
    }
}

/// Integrate from `x0` at `times[0]` through every time of `times` with `solver`. A fixed-step
/// solver steps from grid time to grid time; an adaptive one chooses its steps and lands
/// exactly on every grid time (where `record` records).
///
/// Intermediate states are released as soon as the next one exists (unless recorded); the
/// caller's `x0` is never released. On an error every handle the loop still holds is released
/// and the error says at which step and time it happened; `step` counts from 0.
pub fn integrate(
    solver: &dyn Solver,
    f: &mut dyn Dynamics,
    x0: Handle,
    times: &[f64],
    options: &Options,
) -> Result<Integration, SolveError> {
    check_times(times)?;
    let mut f = Counting { inner: f, predictions: 0 };
    let mut ctx = VecContext::new(times.to_vec());
    let record = options.record;
    let mut run = Run { x0, x: x0, x_kept: true, record, trajectory: Vec::new() };
    if record {
        run.trajectory.push((times[0], x0));
    }
    let outcome = match solver.kind() {
        SolverKind::Adaptive { error_order, .. } => {
            run.adaptive(solver, &mut f, &mut ctx, times, options.control, error_order)
        }
        _ => run.fixed(solver, &mut f, &mut ctx, times),
    };
    release(&mut f, ctx.drain());
    match outcome {
        Ok(mut out) => {
            out.nfe = f.predictions;
            Ok(out)
        }
        Err(e) => {
            run.abandon(&mut f);
            Err(e)
        }
    }
}

/// The number of steps that spends exactly `nfe` model evaluations with `solver` (for an
/// adaptive solver: 1, whatever the NFE; see the module documentation).
pub fn steps_for_nfe(solver_name: &str, solver: &dyn Solver, nfe: usize) -> Result<usize, SolveError> {
    if solver.kind().is_adaptive() {
        return Ok(1);
    }
    let per_step = solver.evals_per_step().max(1);
    // nfe(steps) grows with steps, so the first number of steps that reaches `nfe` decides.
    let mut steps = 1;
    while solver.nfe(steps) < nfe && steps <= nfe {
        steps += 1;
    }
    if nfe > 0 && solver.nfe(steps) == nfe {
        return Ok(steps);
    }
    Err(SolveError::NfeUnreachable {
        solver: solver_name.to_string(),
        nfe,
        evals_per_step: per_step,
        below: if steps > 1 { solver.nfe(steps - 1) } else { 0 },
        above: solver.nfe(steps),
    })
}

/// The states one integration holds, so that every exit path releases the right ones.
struct Run {
    x0: Handle,
    x: Handle,
    /// Whether `x` belongs to the caller (it is `x0` or recorded) and must not be released.
    x_kept: bool,
    record: bool,
    trajectory: Vec<(f64, Handle)>,
}

impl Run {
    fn fixed(
        &mut self,
        solver: &dyn Solver,
        f: &mut dyn Dynamics,
        ctx: &mut VecContext,
        times: &[f64],
    ) -> Result<Integration, SolveError> {
        let last = times.len() - 2;
        let mut seen_finite = times[0];
        for (step, w) in times.windows(2).enumerate() {
            let (t, t_next) = (w[0], w[1]);
            ctx.set_index(step);
            let next = solver.step(f, ctx, self.x, t, t_next);
            release(f, ctx.take_released());
            let next = next.map_err(|cause| SolveError::Step { step, t, t_next, cause })?;
            self.advance(f, next);
            // Checking reads the state back, which waits for the device: check after steps 1,
            // 2, 4, 8, … and the last, so a run of n steps syncs about log2(n) times (NaN and
            // infinities persist, so none is missed) and an error still brackets where it began.
            if (step + 1).is_power_of_two() || step == last {
                let finite = f.is_finite(next).map_err(|cause| SolveError::Step { step, t, t_next, cause })?;
                if !finite {
                    return Err(SolveError::NonFinite { since: seen_finite, t: t_next, step });
                }
                seen_finite = t_next;
            }
            self.reached(t_next);
        }
        let steps = times.len() - 1;
        Ok(self.result(*times.last().unwrap(), steps, 0))
    }

    fn adaptive(
        &mut self,
        solver: &dyn Solver,
        f: &mut dyn Dynamics,
        ctx: &mut VecContext,
        times: &[f64],
        control: StepControl,
        error_order: u32,
    ) -> Result<Integration, SolveError> {
        let (t_start, t_end) = (times[0], *times.last().unwrap());
        let span = t_end - t_start;
        let at_start = |cause| SolveError::Step { step: 0, t: t_start, t_next: t_end, cause };
        // A zero state to measure RMS norms against; kept in the context's history is not
        // possible (it is no prediction), so it is released below on every path.
        let zero = f.lincomb(&[(0.0, self.x0)]).map_err(at_start)?;
        let result = (|| {
            let h = if control.initial_step > 0.0 {
                control.initial_step.min(span)
            } else {
                let v0 = f.predict(self.x0, t_start, Target::Velocity).map_err(at_start)?;
                // FSAL methods reuse it as their first stage.
                ctx.remember(t_start, Target::Velocity, v0);
                controller::initial_step(f, &control, error_order, self.x0, v0, zero, t_start, span)
                    .map_err(at_start)?
            };
            let mut k = Controller { control, error_order, h };
            let (mut accepted, mut rejected) = (0, 0);
            let mut t = t_start;
            let mut x_rms = controller::rms(f, self.x, zero).map_err(at_start)?;
            for index in 0..times.len() - 1 {
                ctx.set_index(index);
                let target = times[index + 1];
                while t < target {
                    let attempts = accepted + rejected;
                    if attempts >= control.max_steps {
                        if control.partial {
                            if self.record && !self.x_kept {
                                self.trajectory.push((t, self.x));
                                self.x_kept = true;
                            }
                            return Ok(self.result(t, accepted, rejected));
                        }
                        return Err(SolveError::MaxSteps {
                            max_steps: control.max_steps,
                            t,
                            t_end,
                            accepted,
                            rejected,
                        });
                    }
                    let t_next = if t + k.h >= target { target } else { t + k.h };
                    let failed = |cause| SolveError::Step { step: attempts, t, t_next, cause };
                    let next = solver.step(f, ctx, self.x, t, t_next);
                    release(f, ctx.take_released());
                    let next = next.map_err(failed)?;
                    let judged = (|| {
                        let err = ctx.take_error_estimate().ok_or(SolveError::NoErrorEstimate { t })?;
                        let err_rms = controller::rms(f, err, zero);
                        f.release(err);
                        let x_new_rms = controller::rms(f, next, zero).map_err(failed)?;
                        let error = controller::scaled_error(&control, err_rms.map_err(failed)?, x_rms, x_new_rms);
                        Ok((error, x_new_rms))
                    })();
                    let (error, x_new_rms) = match judged {
                        Ok(v) => v,
                        Err(e) => {
                            f.release(next);
                            return Err(e);
                        }
                    };
                    if k.judge(t_next - t, error).accept {
                        self.advance(f, next);
                        t = t_next;
                        x_rms = x_new_rms;
                        accepted += 1;
                    } else {
                        f.release(next);
                        rejected += 1;
                        if k.h < MIN_RELATIVE_STEP * span {
                            return Err(SolveError::StepSizeCollapsed { t, h: k.h, attempts: attempts + 1 });
                        }
                    }
                }
                self.reached(target);
            }
            Ok(self.result(t_end, accepted, rejected))
        })();
        f.release(zero);
        result
    }

    /// `next` replaces the current state, which is released unless the caller owns it.
    fn advance(&mut self, f: &mut dyn Dynamics, next: Handle) {
        if !self.x_kept && self.x != next {
            f.release(self.x);
        }
        self.x = next;
        self.x_kept = false;
    }

    /// The state is at grid time `t`: record it on request.
    fn reached(&mut self, t: f64) {
        if self.record {
            self.trajectory.push((t, self.x));
            self.x_kept = true;
        }
    }

    fn result(&mut self, t: f64, accepted: usize, rejected: usize) -> Integration {
        Integration {
            x: self.x,
            t,
            nfe: 0,
            steps: accepted,
            accepted,
            rejected,
            trajectory: std::mem::take(&mut self.trajectory),
        }
    }

    /// Release what an aborted integration holds: the current state and the recorded ones, never
    /// the caller's `x0`.
    fn abandon(&mut self, f: &mut dyn Dynamics) {
        let mut held: Vec<Handle> = self.trajectory.iter().map(|&(_, h)| h).collect();
        held.push(self.x);
        held.sort_unstable();
        held.dedup();
        for h in held.into_iter().filter(|&h| h != self.x0) {
            f.release(h);
        }
    }
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

/// Release handles the step memory dropped or still holds (the memory cannot: the dynamics are
/// the step's while it runs).
fn release(f: &mut dyn Dynamics, handles: Vec<Handle>) {
    for h in handles {
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
