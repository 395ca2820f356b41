//! Checking a minibatch before it is coupled.

use runner_sdk::PluginError;

/// The number of rows in a minibatch: both buffers must hold the same whole number of
/// `dim`-dimensional rows, since the built-in couplings solve balanced problems between
/// uniform empirical measures of equal size.
pub fn batch_size(coupling: &str, source: &[f32], target: &[f32], dim: usize) -> Result<usize, PluginError> {
    let invalid = |message: String| PluginError::Invalid { plugin: coupling.to_string(), message };
    if dim == 0 {
        return Err(invalid("the dimension must be at least 1".into()));
    }
    if !source.len().is_multiple_of(dim) || !target.len().is_multiple_of(dim) {
        return Err(invalid(format!(
            "buffers of {} and {} values are not whole {dim}-dimensional rows",
            source.len(),
            target.len()
        )));
    }
    let (n, m) = (source.len() / dim, target.len() / dim);
    if n != m {
        return Err(invalid(format!("{n} source rows against {m} target rows; a coupling pairs equal batches")));
    }
    Ok(n)
}
