//! Checking a minibatch before it is coupled, and its cost matrix.

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

/// The row-major `n × n` matrix of squared Euclidean distances ‖x0_i − x1_j‖², in f64 so that
/// the assignment and Sinkhorn solvers see the f32 points' exact differences. The coordinate
/// terms are summed in order (0 + d₀² + d₁² + …), one coordinate at a time over a whole row of
/// targets, which the compiler vectorises.
pub fn squared_distances(source: &[f32], target: &[f32], dim: usize) -> Vec<f64> {
    let m = target.len() / dim;
    // Target coordinates one coordinate at a time: `columns[k * m + j]` is coordinate k of j.
    let mut columns = vec![0.0f64; m * dim];
    for (j, b) in target.chunks_exact(dim).enumerate() {
        for (k, &y) in b.iter().enumerate() {
            columns[k * m + j] = f64::from(y);
        }
    }
    let mut cost = vec![0.0f64; (source.len() / dim) * m];
    for (row, a) in cost.chunks_exact_mut(m.max(1)).zip(source.chunks_exact(dim)) {
        for (k, &x) in a.iter().enumerate() {
            let x = f64::from(x);
            for (c, &y) in row.iter_mut().zip(&columns[k * m..(k + 1) * m]) {
                *c += (x - y) * (x - y);
            }
        }
    }
    cost
}
