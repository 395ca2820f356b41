//! Conformance of a data set: shapes, finiteness, seeding and its mixture's consistency.

use runner_sdk::Dataset;

/// `Ok` when `sample` returns `n × dim` finite values, the same seed draws the same points and
/// another seed others, and a declared mixture is in the data set's dimension with weights
/// summing to 1 and positive deviations.
pub fn check_dataset(dataset: &dyn Dataset) -> Result<(), String> {
    let dim = dataset.dim();
    if dim == 0 {
        return Err("the data set has dimension 0".into());
    }
    let n = 257;
    let a = dataset.sample(n, 1);
    if a.len() != n * dim {
        return Err(format!("{n} points of dimension {dim} came as {} values", a.len()));
    }
    if let Some(i) = a.iter().position(|v| !v.is_finite()) {
        return Err(format!("value {i} of a draw is {}", a[i]));
    }
    if dataset.sample(n, 1) != a {
        return Err("the same seed drew different points".into());
    }
    if dataset.sample(n, 2) == a {
        return Err("seeds 1 and 2 drew the same points".into());
    }
    if !dataset.sample(0, 1).is_empty() {
        return Err("0 points came as values".into());
    }
    if let Some(m) = dataset.mixture() {
        if m.dim != dim || m.components.iter().any(|c| c.mean.len() != dim) {
            return Err(format!("the mixture is not in the data set's {dim} dimensions"));
        }
        let total: f64 = m.components.iter().map(|c| c.weight).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(format!("the mixture's weights sum to {total}"));
        }
        if !m.components.iter().all(|c| c.std > 0.0 && c.weight >= 0.0) {
            return Err("a mixture component has a negative weight or a deviation that is not positive".into());
        }
    }
    Ok(())
}
