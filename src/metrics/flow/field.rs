//! A model seen as a velocity field with a divergence, on host f64 batches: what the augmented
//! solves of [`super::path`] and [`super::likelihood`] evaluate. [`field`] is the one dispatch on
//! the kind of model, as [`crate::sampling::dynamics`] is for sampling.
//!
//! The divergence is exact (the trace of ∂v/∂x) or Hutchinson's estimate zᵀ(∂v/∂x)z with a
//! Rademacher probe z. Exact costs `dim` times the work of one evaluation, so it is the default
//! up to [`EXACT_MAX_DIM`] dimensions and Hutchinson's above; E[zᵀJz] = tr J for any J when the
//! entries of z are independent with mean 0 and variance 1.

use std::sync::Arc;

use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runner_sdk::{Conversion, Schedule, Target};
use thiserror::Error;

use super::network::NetworkField;
use super::oracle::OracleField;
use crate::models::Model;

/// Up to this dimension the divergence is exact unless Hutchinson's estimate is asked for.
pub const EXACT_MAX_DIM: usize = 8;

/// The names `eval.nll_divergence` accepts.
pub const DIVERGENCE_SETTINGS: [&str; 3] = ["auto", "exact", "hutchinson"];

#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldError {
    #[error("cannot convert a {from} prediction to the velocity at t = {t}: the conversion is singular there")]
    SingularConversion { from: &'static str, t: f64 },
    #[error("the network on the device: {0}")]
    Backend(String),
    #[error("a probe of {got} values for a batch of {want}")]
    ProbeLength { got: usize, want: usize },
}

/// How the divergence is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divergence {
    /// The trace of the Jacobian, one derivative per dimension.
    Exact,
    /// zᵀ(∂v/∂x)z with one Rademacher z per point, fixed over the whole solve (a changing probe
    /// would add its own noise at every step instead of once per point).
    Hutchinson,
}

impl Divergence {
    /// The method for `setting` (one of [`DIVERGENCE_SETTINGS`]) in `dim` dimensions: `auto` is
    /// exact up to [`EXACT_MAX_DIM`].
    pub fn from_setting(setting: &str, dim: usize) -> Result<Divergence, String> {
        match setting {
            "auto" if dim <= EXACT_MAX_DIM => Ok(Divergence::Exact),
            "auto" | "hutchinson" => Ok(Divergence::Hutchinson),
            "exact" => Ok(Divergence::Exact),
            other => Err(format!("unknown divergence `{other}`; known: {}", DIVERGENCE_SETTINGS.join(", "))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Divergence::Exact => "exact",
            Divergence::Hutchinson => "hutchinson",
        }
    }
}

/// `len` independent ±1 entries, each with probability ½, from `seed`.
pub fn rademacher(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()
}

/// A velocity field v(x, t) on flat batch-major f64 states of [`Field::dim`] columns.
pub trait Field {
    fn dim(&self) -> usize;
    /// v at every point of `x`.
    fn velocity(&mut self, x: &[f64], t: f64) -> Result<Vec<f64>, FieldError>;
    /// v at every point of `x`, and per point the divergence: the exact trace of ∂v/∂x without
    /// a probe, zᵀ(∂v/∂x)z with the probe z (the shape of `x`).
    fn velocity_divergence(
        &mut self,
        x: &[f64],
        t: f64,
        probe: Option<&[f64]>,
    ) -> Result<(Vec<f64>, Vec<f64>), FieldError>;
}

/// The velocity field of `model`, trained to predict `native` on `schedule` (an oracle computes
/// its velocity and divergence in closed form, in f64; a network runs on `device` and takes its
/// derivatives by burn's autodiff). The field owns what it needs, so that it can live inside an
/// ODE's right-hand side.
pub fn field(
    model: &Model,
    schedule: Arc<dyn Schedule>,
    native: Target,
    device: &Device,
    dim: usize,
) -> Box<dyn Field> {
    match model {
        Model::Mlp(mlp) => Box::new(NetworkField::new(mlp.clone(), schedule, native, device.clone(), dim)),
        Model::Oracle(oracle) => Box::new(OracleField::new(oracle.clone(), schedule)),
    }
}

/// The conversion of a `native` prediction to the velocity at `t`, refused where it is singular.
pub(crate) fn to_velocity(native: Target, schedule: &dyn Schedule, t: f64) -> Result<Conversion, FieldError> {
    let conversion = Conversion::between(native, Target::Velocity, &schedule.coefficients(t));
    if !conversion.is_finite() {
        return Err(FieldError::SingularConversion { from: native.name(), t });
    }
    Ok(conversion)
}
