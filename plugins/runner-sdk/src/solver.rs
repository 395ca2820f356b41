//! Solvers advance a state by one step of the time grid. They never loop over time: the host's
//! single `integrate()` owns the grid (or the step-size controller), counts NFE and checks the
//! state. What a solver may carry from one step to the next lives in the [`StepContext`] the
//! loop hands it, so that multistep methods need no state of their own and the loop can free
//! every handle they keep.

use crate::{Dynamics, Handle, PluginError, Target};

/// What family a solver belongs to (decides which conformance tests apply to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverKind {
    /// A deterministic ODE method of a declared order on the probability-flow ODE.
    Ode { order: u32 },
    /// An embedded Runge–Kutta pair whose step size a controller chooses; `order` is the order
    /// of the solution it propagates. Its [`Solver::step_control`] is `Some`.
    Adaptive { order: u32 },
    /// A stochastic method (SDE or ancestral diffusion sampler).
    Stochastic,
    /// A deterministic sampler whose order is not a classical ODE order (DDIM η = 0,
    /// DPM-Solver++, EDM's Heun with its Euler last step).
    Deterministic,
}

/// The settings of the step-size controller for an adaptive solver. The solver declares them
/// (from its parameters); `integrate()` runs the controller.
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
    /// The lower order of the embedded pair: the error estimate is O(h^(error_order + 1)).
    pub error_order: u32,
}

/// A model evaluation kept for later steps: `value` is the prediction of `target` at time `t`
/// (at the state the loop held at `t`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Remembered {
    pub t: f64,
    pub target: Target,
    pub value: Handle,
}

/// What one step knows beyond its own state and times. The loop creates one per integration,
/// passes it to every step and releases whatever it still holds at the end (also on errors).
#[derive(Debug)]
pub struct StepContext<'a> {
    /// The whole time grid of the integration.
    pub grid: &'a [f64],
    /// Which interval of the grid this step lies in (`grid[index] ≤ t < t_next ≤ grid[index + 1]`);
    /// fixed-step solvers step exactly from `grid[index]` to `grid[index + 1]`.
    pub index: usize,
    history: Vec<Remembered>,
    error_estimate: Option<Handle>,
}

impl<'a> StepContext<'a> {
    pub fn new(grid: &'a [f64]) -> StepContext<'a> {
        StepContext { grid, index: 0, history: Vec::new(), error_estimate: None }
    }

    /// The number of grid intervals.
    pub fn steps(&self) -> usize {
        self.grid.len().saturating_sub(1)
    }

    /// Whether this step ends the grid (for methods that change their last step).
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.steps()
    }

    /// Earlier evaluations, oldest first.
    pub fn history(&self) -> &[Remembered] {
        &self.history
    }

    /// The remembered prediction of `target` at exactly time `t`, if any.
    pub fn recall(&self, t: f64, target: Target) -> Option<Handle> {
        self.history.iter().rev().find(|r| r.t == t && r.target == target).map(|r| r.value)
    }

    /// Keep `value` (the prediction of `target` at `t`) for later steps; the context owns it now.
    pub fn remember(&mut self, t: f64, target: Target, value: Handle) {
        self.history.push(Remembered { t, target, value });
    }

    /// Release every remembered evaluation for which `keep` is false.
    pub fn retain(&mut self, f: &mut dyn Dynamics, keep: impl Fn(&Remembered) -> bool) {
        let (kept, dropped): (Vec<Remembered>, Vec<Remembered>) = self.history.drain(..).partition(|r| keep(r));
        for r in dropped {
            f.release(r.value);
        }
        self.history = kept;
    }

    /// An adaptive solver's estimate of this step's local error (`x_new − x̂_new`, a new handle
    /// the context owns). The loop takes it after the step.
    pub fn set_error_estimate(&mut self, f: &mut dyn Dynamics, error: Handle) {
        if let Some(old) = self.error_estimate.replace(error) {
            f.release(old);
        }
    }

    /// The loop's side of [`StepContext::set_error_estimate`]: the caller owns the handle.
    pub fn take_error_estimate(&mut self) -> Option<Handle> {
        self.error_estimate.take()
    }

    /// Release everything the context still holds.
    pub fn release_all(&mut self, f: &mut dyn Dynamics) {
        self.retain(f, |_| false);
        if let Some(e) = self.error_estimate.take() {
            f.release(e);
        }
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
        match self.kind() {
            SolverKind::Ode { order: 1 } => self.nfe(2000),
            SolverKind::Stochastic => self.nfe(1000),
            _ => self.nfe(100),
        }
    }
    /// `Some` for adaptive solvers: `integrate()` then chooses the steps between the grid times.
    fn step_control(&self) -> Option<StepControl> {
        None
    }
    /// One step from `x` at time `t` to time `t_next` (t < t_next: towards the data).
    /// The solver releases the handles it created, except the one it returns and those it hands
    /// to `ctx`; it never releases `x` nor what `ctx` holds.
    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut StepContext<'_>,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError>;
}
