//! Checking the point sets a metric is given: row-major f32 buffers of `dim` columns.

use runner_sdk::PluginError;
use thiserror::Error;

/// Why a pair of point sets cannot be compared.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum PointsError {
    #[error("the dimension must be at least 1")]
    ZeroDim,
    #[error("the {which} buffer holds {len} values, which is not a whole number of {dim}-dimensional points")]
    Ragged { which: &'static str, len: usize, dim: usize },
    #[error("the {which} set is empty")]
    Empty { which: &'static str },
    #[error("the {which} set holds a non-finite value in point {row}")]
    NonFinite { which: &'static str, row: usize },
    #[error("{samples} samples against {target} target points: this metric needs equal sizes (uniform weights, one-to-one assignment)")]
    UnequalSizes { samples: usize, target: usize },
    #[error("{n} points per side is more than this metric's limit of {max} in {dim} dimensions; raise `max_points` or evaluate on a subsample")]
    TooMany { n: usize, max: usize, dim: usize },
}

impl PointsError {
    /// The error as the SDK's metric error, naming the metric.
    pub fn for_metric(self, metric: &str) -> PluginError {
        PluginError::Invalid { plugin: metric.to_string(), message: self.to_string() }
    }
}

/// The number of points in `buf`, after checking it is a non-empty set of finite points.
pub fn count(which: &'static str, buf: &[f32], dim: usize) -> Result<usize, PointsError> {
    if dim == 0 {
        return Err(PointsError::ZeroDim);
    }
    if !buf.len().is_multiple_of(dim) {
        return Err(PointsError::Ragged { which, len: buf.len(), dim });
    }
    if buf.is_empty() {
        return Err(PointsError::Empty { which });
    }
    if let Some(i) = buf.iter().position(|v| !v.is_finite()) {
        return Err(PointsError::NonFinite { which, row: i / dim });
    }
    Ok(buf.len() / dim)
}

/// The sizes of both sets, each at most `max` points when a limit is given.
pub fn check_pair(
    samples: &[f32],
    target: &[f32],
    dim: usize,
    max: Option<usize>,
) -> Result<(usize, usize), PointsError> {
    let n = count("samples", samples, dim)?;
    let m = count("target", target, dim)?;
    within(n.max(m), max, dim)?;
    Ok((n, m))
}

/// Like [`check_pair`], and both sets must have the same size, which is returned.
pub fn check_equal_pair(samples: &[f32], target: &[f32], dim: usize, max: Option<usize>) -> Result<usize, PointsError> {
    let n = count("samples", samples, dim)?;
    let m = count("target", target, dim)?;
    if n != m {
        return Err(PointsError::UnequalSizes { samples: n, target: m });
    }
    within(n, max, dim)?;
    Ok(n)
}

fn within(n: usize, max: Option<usize>, dim: usize) -> Result<(), PointsError> {
    match max {
        Some(max) if n > max => Err(PointsError::TooMany { n, max, dim }),
        _ => Ok(()),
    }
}
