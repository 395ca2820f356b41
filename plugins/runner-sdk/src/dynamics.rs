//! The host side of a solve, as solvers see it: opaque tensor handles and a handful of
//! object-safe operations. The tensors stay in the host (on its device); a solver only ever
//! combines them linearly, which is all every classical ODE/SDE/diffusion method needs.

use crate::{Coefficients, PluginError, Target};

/// An opaque reference to a state-shaped tensor held by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub u64);

pub trait Dynamics {
    /// One model evaluation (one NFE) at state `x` and time `t`, converted to `target`.
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError>;
    /// Σ coef·handle, a new handle.
    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError>;
    /// Standard normal noise of the same shape as `x`, from the host's seeded generator.
    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError>;
    /// RMS of `a − b` over all entries (for error control and solver-error measurement).
    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError>;
    /// Whether every entry of `x` is finite.
    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError>;
    /// The path coefficients of the schedule the model was trained with.
    fn coefficients(&self, t: f64) -> Coefficients;
    /// The host may free `x`; the handle is invalid afterwards.
    fn release(&mut self, x: Handle);
}
