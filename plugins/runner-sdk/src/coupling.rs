//! Couplings decide which source point goes with which target point inside a minibatch.

use crate::PluginError;

pub trait Coupling: Send + Sync {
    /// For each source row `i`, the index `p[i]` of the target row it is paired with
    /// (`p.len()` is the number of source rows). Deterministic couplings (`independent`,
    /// `exact-ot`) return a permutation, so every target row is used once; stochastic ones
    /// (`sinkhorn`) draw `p[i]` from a plan and may repeat or skip target rows, so callers must
    /// not assume a permutation.
    ///
    /// `seed` is the only randomness a coupling may use: the host derives it from the trial
    /// seed and the training step, so the same run pairs the same points on every backend and
    /// in every process. Deterministic couplings ignore it.
    fn pair(&self, source: &[f32], target: &[f32], dim: usize, seed: u64) -> Result<Vec<usize>, PluginError>;
}
