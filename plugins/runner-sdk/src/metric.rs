//! Metrics compare generated points with target points (row-major, `dim` columns).

use crate::PluginError;

pub trait Metric: Send + Sync {
    /// The largest number of points per side this metric accepts in `dim` dimensions
    /// (`None`: no limit). The host subsamples nothing silently: it refuses larger inputs.
    fn max_points(&self, _dim: usize) -> Option<usize> {
        None
    }
    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError>;
}
