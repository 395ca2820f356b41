//! Sampling a trained network with any registered solver: the burn-side [`Dynamics`] (tensors
//! stay on the device behind handles) and the call into the single `integrate()` loop.

use std::collections::HashMap;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Coefficients, Conversion, Dynamics, Handle, ParamValue, PluginError, PluginKind, Schedule, Target};
use thiserror::Error;

use crate::models::Mlp;
use crate::registry::{self, RegistryError};
use crate::solvers::{integrate, steps_for_nfe, SolveError};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SampleError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error("reading the samples back: {0}")]
    Download(PluginError),
}

/// A trained network seen as the dynamics of a path: its output in its native target,
/// converted on request through the closed-form target conversions of the schedule.
pub struct NetworkDynamics<'a> {
    network: &'a Network<'a>,
    device: Device,
    tensors: HashMap<u64, Tensor<2>>,
    next: u64,
    rng: StdRng,
    calls: usize,
}

impl<'a> NetworkDynamics<'a> {
    pub fn new(network: &'a Network<'a>, device: Device, noise_seed: u64) -> Self {
        NetworkDynamics {
            network,
            device,
            tensors: HashMap::new(),
            next: 0,
            rng: StdRng::seed_from_u64(noise_seed),
            calls: 0,
        }
    }

    /// Model evaluations so far, counted at the network.
    pub fn model_calls(&self) -> usize {
        self.calls
    }

    /// Put a row-major `[n, dim]` point set on the device.
    pub fn upload(&mut self, points: Vec<f32>, dim: usize) -> Handle {
        let n = points.len() / dim;
        let x = Tensor::<2>::from_data(TensorData::new(points, [n, dim]), &self.device);
        self.insert(x)
    }

    /// Copy a state back to the host, row-major.
    pub fn download(&self, x: Handle) -> Result<Vec<f32>, PluginError> {
        let data = self.get(x)?.clone().into_data();
        data.try_to_vec::<f32>().map_err(|e| PluginError::Dynamics(format!("{e:?}")))
    }

    fn insert(&mut self, x: Tensor<2>) -> Handle {
        self.next += 1;
        self.tensors.insert(self.next, x);
        Handle(self.next)
    }

    fn get(&self, x: Handle) -> Result<&Tensor<2>, PluginError> {
        self.tensors.get(&x.0).ok_or_else(|| PluginError::Dynamics(format!("stale or unknown handle {}", x.0)))
    }
}

impl Dynamics for NetworkDynamics<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let xv = self.get(x)?.clone();
        let [n, _] = xv.dims();
        let tt = Tensor::<2>::full([n, 1], t as f32, &self.device);
        let out = self.network.model.forward(xv.clone(), tt);
        self.calls += 1;
        let native = self.network.target;
        if target == native {
            return Ok(self.insert(out));
        }
        let conv = Conversion::between(native, target, &self.network.schedule.coefficients(t));
        if !conv.is_finite() {
            return Err(PluginError::Dynamics(format!(
                "cannot convert a {} prediction to {} at t = {t}: the conversion is singular there",
                native.name(),
                target.name()
            )));
        }
        let converted = out.mul_scalar(conv.pred_coef).add(xv.mul_scalar(conv.x_coef));
        Ok(self.insert(converted))
    }

    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        let mut acc: Option<Tensor<2>> = None;
        for &(c, h) in terms {
            let term = self.get(h)?.clone().mul_scalar(c);
            acc = Some(match acc {
                Some(a) => a.add(term),
                None => term,
            });
        }
        let sum = acc.ok_or_else(|| PluginError::Dynamics("lincomb of no terms".into()))?;
        Ok(self.insert(sum))
    }

    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        let dims = self.get(x)?.dims();
        // Drawn on the host from our own seeded generator: the same seed gives the same
        // samples on every backend.
        let noise: Vec<f32> = (0..dims[0] * dims[1]).map(|_| StandardNormal.sample(&mut self.rng)).collect();
        let t = Tensor::<2>::from_data(TensorData::new(noise, dims), &self.device);
        Ok(self.insert(t))
    }

    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        let d = self.get(a)?.clone() - self.get(b)?.clone();
        let ms: f32 = d.powi_scalar(2).mean().into_scalar();
        Ok((ms as f64).sqrt())
    }

    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        // A sum is NaN or infinite when any entry is.
        let s: f32 = self.get(x)?.clone().sum().into_scalar();
        Ok(s.is_finite())
    }

    fn coefficients(&self, t: f64) -> Coefficients {
        self.network.schedule.coefficients(t)
    }

    fn release(&mut self, x: Handle) {
        self.tensors.remove(&x.0);
    }
}

/// What one sampling run produced.
pub struct Sampled {
    pub points: Vec<f32>,
    pub nfe: usize,
    pub steps: usize,
    pub seconds: f64,
}

/// A request: which solver (with parameters), how many model evaluations, on which grid.
pub struct SampleSpec<'a> {
    pub solver: &'a str,
    pub solver_params: &'a std::collections::BTreeMap<String, ParamValue>,
    pub nfe: usize,
    pub grid: &'a str,
}

/// A trained network and the path it was trained on: what a solver integrates.
pub struct Network<'a> {
    pub model: &'a Mlp,
    pub schedule: &'a dyn Schedule,
    /// What the network predicts.
    pub target: Target,
}

/// Integrate from the source points `x0` (row-major, `dim` columns) at t = 0 to t = 1.
pub fn sample(
    network: &Network<'_>,
    device: &Device,
    x0: Vec<f32>,
    dim: usize,
    spec: &SampleSpec<'_>,
    noise_seed: u64,
) -> Result<Sampled, SampleError> {
    let solver = registry::build(crate::solvers::REGISTRY, PluginKind::Solver, spec.solver, spec.solver_params)?;
    let grid = registry::build(crate::grids::REGISTRY, PluginKind::Grid, spec.grid, &Default::default())?;
    let steps = steps_for_nfe(spec.solver, solver.as_ref(), spec.nfe)?;
    let times = grid.times(steps, 0.0, 1.0, network.schedule).map_err(RegistryError::from)?;
    let start = Instant::now();
    let mut f = NetworkDynamics::new(network, device.clone(), noise_seed);
    let x = f.upload(x0, dim);
    let out = integrate(solver.as_ref(), &mut f, x, &times, false)?;
    let points = f.download(out.x).map_err(SampleError::Download)?;
    Ok(Sampled { points, nfe: out.nfe, steps: out.steps, seconds: start.elapsed().as_secs_f64() })
}
