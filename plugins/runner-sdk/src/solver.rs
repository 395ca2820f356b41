//! Solvers advance a state by one step of the time grid. They never loop over time: the host's
//! single `integrate()` owns the grid, counts NFE and checks the state.

use crate::{Dynamics, Handle, PluginError};

/// What family a solver belongs to (decides which conformance tests apply to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverKind {
    /// A deterministic ODE method of a declared order on the probability-flow ODE.
    Ode { order: u32 },
    /// A stochastic method (SDE or ancestral diffusion sampler).
    Stochastic,
    /// A deterministic diffusion sampler whose order is not a classical ODE order (DDIM η = 0).
    Deterministic,
}

pub trait Solver: Send + Sync {
    fn kind(&self) -> SolverKind;
    /// Model evaluations per step; NFE = steps × this.
    fn evals_per_step(&self) -> usize;
    /// One step from `x` at time `t` to time `t_next` (t < t_next: towards the data).
    /// The solver releases the handles it created, except the one it returns; it never
    /// releases `x`.
    fn step(&self, f: &mut dyn Dynamics, x: Handle, t: f64, t_next: f64) -> Result<Handle, PluginError>;
}
