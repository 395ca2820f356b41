//! The Euclidean distance between the mean of the samples and the mean of the target points:
//! blind to everything but location, and exact, which makes it a metric to test hosts with.

use runner_sdk::{Metric, PluginError};

#[derive(Debug, Clone, Copy, Default)]
pub struct MeanDistance;

fn invalid(message: String) -> PluginError {
    PluginError::Invalid { plugin: "mean-distance".into(), message }
}

/// The mean row of `points` (`dim` columns), in f64.
fn mean(points: &[f32], dim: usize, what: &str) -> Result<Vec<f64>, PluginError> {
    if points.is_empty() || !points.len().is_multiple_of(dim) {
        return Err(invalid(format!(
            "the {what} hold {} values, not a positive number of rows of {dim}",
            points.len()
        )));
    }
    if let Some(i) = points.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!("the {what} are non-finite at row {}", i / dim)));
    }
    let n = (points.len() / dim) as f64;
    let mut m = vec![0.0; dim];
    for row in points.chunks(dim) {
        for (mi, &v) in m.iter_mut().zip(row) {
            *mi += f64::from(v);
        }
    }
    Ok(m.into_iter().map(|s| s / n).collect())
}

impl Metric for MeanDistance {
    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError> {
        if dim == 0 {
            return Err(invalid("dimension 0".into()));
        }
        let (a, b) = (mean(samples, dim, "samples")?, mean(target, dim, "target points")?);
        Ok(a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_the_distance_between_the_means() {
        // Means (1, 2) and (4, 6): distance 5.
        let samples = [0.0, 0.0, 2.0, 4.0];
        let target = [4.0, 6.0];
        assert_eq!(MeanDistance.evaluate(&samples, &target, 2), Ok(5.0));
        assert_eq!(MeanDistance.evaluate(&samples, &samples, 2), Ok(0.0));
    }

    #[test]
    fn ragged_or_empty_inputs_are_errors() {
        assert!(MeanDistance.evaluate(&[1.0, 2.0, 3.0], &[1.0, 2.0], 2).is_err());
        assert!(MeanDistance.evaluate(&[], &[1.0, 2.0], 2).is_err());
        assert!(MeanDistance.evaluate(&[1.0], &[1.0], 0).is_err());
    }
}
