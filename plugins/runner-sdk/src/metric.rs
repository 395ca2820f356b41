//! Metrics compare generated points with target points (row-major, `dim` columns), or reduce
//! what the host measured along the model's flow to a number.
//!
//! Most metrics only see two point sets. Some are properties of the flow itself (path energy,
//! straightness, likelihood): a point set cannot tell them. Such a metric says which host
//! measurement it needs with [`Metric::input`], and the host hands it that measurement, as plain
//! buffers, through [`Metric::evaluate_path`] or [`Metric::evaluate_likelihood`]. The host does
//! the integration (on its own device, with its solvers); the metric only reduces, so a plugin
//! needs no tensors and no model.

use crate::PluginError;

/// What a metric is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricInput {
    /// Generated points against held-out target points ([`Metric::evaluate`]).
    Points,
    /// Integrals along the trajectories of the row's own deterministic ODE solve
    /// ([`Metric::evaluate_path`]). Rows without a trajectory ODE (stochastic samplers) have no
    /// value: the host leaves the metric out, it does not report zero.
    Path,
    /// The model's log density at held-out target points, by the probability-flow ODE
    /// ([`Metric::evaluate_likelihood`]).
    Likelihood,
}

/// What the host measured along one deterministic solve from source points to samples, by the
/// same solver over the same steps as the samples themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathIntegrals<'a> {
    pub dim: usize,
    /// The source points x0 where the trajectories start (row-major, `dim` columns).
    pub source: &'a [f64],
    /// Where the trajectories end, x̂1 (row-major).
    pub end: &'a [f64],
    /// ∫‖v(t, x_t)‖² dt along each trajectory (one value a point), integrated as one more
    /// coordinate of the state: with the solver's own quadrature, so that for every
    /// Runge–Kutta method ∫v dt is exactly `end − source` in the same discrete sums.
    pub energy: &'a [f64],
    /// Held-out target points, for metrics that compare the flow with the data distribution
    /// (the optimal transport cost of NPE).
    pub target: &'a [f32],
}

/// The model's log density at held-out target points, by the instantaneous change of variables
/// log p1(x) = log p0(x0) − ∫₀¹ div v(x_t, t) dt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Likelihood<'a> {
    pub dim: usize,
    /// log p1 in nats, one value per held-out point.
    pub log_density: &'a [f64],
}

pub trait Metric: Send + Sync {
    /// What this metric is computed from (point sets unless it says otherwise).
    fn input(&self) -> MetricInput {
        MetricInput::Points
    }
    /// The largest number of points per side this metric accepts in `dim` dimensions
    /// (`None`: no limit). The host subsamples nothing silently: it refuses larger inputs.
    fn max_points(&self, _dim: usize) -> Option<usize> {
        None
    }
    /// The metric between generated `samples` and `target` points ([`MetricInput::Points`]).
    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError>;
    /// The metric of a solve's path integrals ([`MetricInput::Path`]).
    fn evaluate_path(&self, _path: &PathIntegrals<'_>) -> Result<f64, PluginError> {
        Err(PluginError::Invalid { plugin: "metric".into(), message: "it takes no path integrals".into() })
    }
    /// The metric of the model's log densities ([`MetricInput::Likelihood`]).
    fn evaluate_likelihood(&self, _likelihood: &Likelihood<'_>) -> Result<f64, PluginError> {
        Err(PluginError::Invalid { plugin: "metric".into(), message: "it takes no log densities".into() })
    }
}
