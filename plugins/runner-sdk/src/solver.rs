//! Solvers advance a state by one step of the time grid. They never loop over time: the host's
//! single `integrate()` owns the grid and, for adaptive solvers, the step-size controller and
//! its settings (tolerances, safety factor, step limits); it counts NFE and checks the state.
//! What a solver may carry from one step to the next lives in the host's [`StepContext`], so
//! that multistep methods need no state of their own and the loop can free every handle they
//! keep, also when a step fails.

use crate::{Dynamics, Handle, PluginError, Target};

/// What family a solver belongs to (decides which conformance tests apply to it, and whether
/// the loop runs a step-size controller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SolverKind {
    /// A deterministic ODE method of a declared order on the probability-flow ODE.
    Ode { order: u32 },
    /// An embedded Runge–Kutta pair whose step size the loop's controller chooses: `order` is
    /// the order of the solution it propagates, `error_order` the lower order of the pair (the
    /// error estimate it hands to [`StepContext::set_error_estimate`] is O(h^(error_order + 1))).
    Adaptive { order: u32, error_order: u32 },
    /// A stochastic method (SDE or ancestral diffusion sampler).
    Stochastic,
    /// A deterministic sampler whose order is not a classical ODE order (DDIM η = 0,
    /// DPM-Solver++, EDM's Heun with its Euler last step).
    Deterministic,
}

impl SolverKind {
    /// Whether the loop chooses this solver's steps with a controller.
    pub fn is_adaptive(self) -> bool {
        matches!(self, SolverKind::Adaptive { .. })
    }
}

/// A model evaluation kept for later steps: `value` is the prediction of `target` at time `t`
/// (at the state the loop held at `t`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Remembered {
    pub t: f64,
    pub target: Target,
    pub value: Handle,
}

/// What one step knows beyond its own state and times: the grid, and the evaluations earlier
/// steps kept. The host implements it (the loop's own memory, or a table across the plugin
/// boundary) and releases whatever it still holds when the integration ends, also on errors.
pub trait StepContext {
    /// The whole time grid of the integration.
    fn grid(&self) -> &[f64];
    /// Which interval of the grid this step lies in (`grid[index] ≤ t < t_next ≤ grid[index + 1]`);
    /// fixed-step solvers step exactly from `grid[index]` to `grid[index + 1]`.
    fn index(&self) -> usize;
    /// Earlier evaluations, oldest first.
    fn history(&self) -> &[Remembered];
    /// Keep `value` (the prediction of `target` at `t`) for later steps; the context owns it now.
    fn remember(&mut self, t: f64, target: Target, value: Handle);
    /// Drop the remembered evaluation `value`; the host releases it.
    fn forget(&mut self, value: Handle);
    /// An adaptive solver's estimate of this step's local error (`x_new − x̂_new`, a new handle
    /// the context owns from now on; the loop reads it after the step).
    fn set_error_estimate(&mut self, error: Handle);

    /// The number of grid intervals.
    fn steps(&self) -> usize {
        self.grid().len().saturating_sub(1)
    }

    /// Whether this step ends the grid (for methods that change their last step).
    fn is_last(&self) -> bool {
        self.index() + 1 == self.steps()
    }

    /// The remembered prediction of `target` at exactly time `t`, if any.
    fn recall(&self, t: f64, target: Target) -> Option<Handle> {
        self.history().iter().rev().find(|r| r.t == t && r.target == target).map(|r| r.value)
    }

    /// Forget every remembered evaluation for which `keep` is false.
    fn retain(&mut self, keep: &dyn Fn(&Remembered) -> bool) {
        let dropped: Vec<Handle> = self.history().iter().filter(|r| !keep(r)).map(|r| r.value).collect();
        for value in dropped {
            self.forget(value);
        }
    }
}

/// The rule behind [`Solver::default_nfe`], for a solver of `kind` that spends `nfe(steps)`
/// evaluations on `steps` steps.
pub fn default_nfe(kind: SolverKind, nfe: impl Fn(usize) -> usize) -> usize {
    match kind {
        SolverKind::Ode { order: 1 } => nfe(2000),
        SolverKind::Stochastic => nfe(1000),
        _ => nfe(100),
    }
}

pub trait Solver: Send + Sync {
    fn kind(&self) -> SolverKind;
    /// Model evaluations of an ordinary step (the most a step takes).
    fn evals_per_step(&self) -> usize;
    /// Model evaluations of `steps` fixed steps; methods whose first or last step differs
    /// (EDM's Euler last step) say so here. Adaptive solvers choose their own steps: for them this
    /// is only the cost per attempted step.
    fn nfe(&self, steps: usize) -> usize {
        steps * self.evals_per_step()
    }
    /// The NFE to run at when none is asked for: enough steps for the discretisation error to
    /// sit well below a trained model's learning error. The conformance test holds each solver to
    /// it on gmm1d's exact model (deterministic: solver error ≤ 1e-3; stochastic: W1 within 0.02
    /// of the floor). Measured there: first-order ODE methods need 2000 steps (Euler at 1000 is
    /// 1.3e-3), stochastic ones 1000 (DDPM's own count), the others 100.
    fn default_nfe(&self) -> usize {
        default_nfe(self.kind(), |steps| self.nfe(steps))
    }
    /// One step from `x` at time `t` to time `t_next` (t < t_next: towards the data).
    /// The solver releases the handles it created, except the one it returns and those it hands
    /// to `ctx`; it never releases `x` nor what `ctx` holds.
    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError>;
}
