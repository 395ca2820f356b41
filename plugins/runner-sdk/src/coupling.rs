//! Couplings decide which source point goes with which target point inside a minibatch.

use crate::PluginError;

pub trait Coupling: Send + Sync {
    /// A permutation `p` such that source row `i` is paired with target row `p[i]`.
    fn pair(&self, source: &[f32], target: &[f32], dim: usize) -> Result<Vec<usize>, PluginError>;
}
