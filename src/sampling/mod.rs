//! Sampling a model with any registered solver: the dynamics of a trained network with its
//! weights fixed (on the host for flex, in libtorch's own tensors for libtorch, through burn's
//! tensors on any other backend), the exact CPU dynamics of an oracle, and the calls into the
//! single `integrate()` loop. [`dynamics`] is the one place that dispatches on the kind of model
//! and the device.

#[cfg(feature = "flex")]
mod frozen;
mod states;
#[cfg(feature = "tch")]
mod torch;

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{
    Coefficients, Conversion, Dynamics, Handle, ParamValue, PluginError, Schedule, SolverKind, Target, TimeGrid,
};
use thiserror::Error;

use crate::models::{Mlp, Model};
use crate::plugins::{Registry, RegistryError};
use crate::solvers::{integrate, steps_for_nfe, Options, SolveError, VectorDynamics};
use states::States;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SampleError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error("reading the samples back: {0}")]
    Download(PluginError),
    #[error("the reference solve's last step: {0}")]
    ReferenceEnd(PluginError),
    #[error("the jump from eval.t_end to the data: {0}")]
    Finish(PluginError),
    #[error("{source}; {hint}")]
    SingularEnd { source: Box<SolveError>, hint: &'static str },
}

/// A trained network seen as the dynamics of a path: its output in its native target,
/// converted on request through the closed-form target conversions of the schedule.
pub struct NetworkDynamics<'a> {
    mlp: &'a Mlp,
    schedule: &'a dyn Schedule,
    native: Target,
    device: Device,
    tensors: States<Tensor<2>>,
    rng: StdRng,
    calls: usize,
}

impl<'a> NetworkDynamics<'a> {
    pub fn new(mlp: &'a Mlp, schedule: &'a dyn Schedule, native: Target, device: Device, noise_seed: u64) -> Self {
        NetworkDynamics {
            mlp,
            schedule,
            native,
            device,
            tensors: States::new(),
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
        self.tensors.insert(x)
    }

    fn get(&self, x: Handle) -> Result<&Tensor<2>, PluginError> {
        self.tensors.get(x)
    }
}

impl Dynamics for NetworkDynamics<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let xv = self.get(x)?.clone();
        let [n, _] = xv.dims();
        let tt = Tensor::<2>::full([n, 1], t as f32, &self.device);
        let out = self.mlp.forward(xv.clone(), tt);
        self.calls += 1;
        let native = self.native;
        if target == native {
            return Ok(self.insert(out));
        }
        let conv = conversion(self.schedule, native, target, t)?;
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
        let mut noise = vec![0.0; dims[0] * dims[1]];
        standard_normal(&mut self.rng, &mut noise);
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
        self.schedule.coefficients(t)
    }

    fn release(&mut self, x: Handle) {
        // burn allocates every result anew: a released tensor has nothing to give.
        self.tensors.remove(x);
    }
}

/// The closed-form conversion of a `native` prediction to `target` at `t`, refused where the
/// schedule makes it singular.
fn conversion(schedule: &dyn Schedule, native: Target, target: Target, t: f64) -> Result<Conversion, PluginError> {
    let conv = Conversion::between(native, target, &schedule.coefficients(t));
    if !conv.is_finite() {
        return Err(PluginError::Dynamics(format!(
            "cannot convert a {} prediction to {} at t = {t}: the conversion is singular there",
            native.name(),
            target.name()
        )));
    }
    Ok(conv)
}

/// Noise drawn on the host from the dynamics' seeded generator, in order: every network
/// dynamics draws it this way, so the same seed gives the same samples on every backend.
fn standard_normal(rng: &mut StdRng, out: &mut [f32]) {
    out.iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
}

/// Dynamics that can take source points in and give samples back: what [`sample`] and
/// [`reference`] need beyond the solver's view.
pub trait HostDynamics: Dynamics {
    /// Hand a row-major `[n, dim]` point set to the dynamics.
    fn upload(&mut self, points: Vec<f32>, dim: usize) -> Handle;
    /// The state `x`, row-major.
    fn download(&mut self, x: Handle) -> Result<Vec<f32>, PluginError>;
}

impl HostDynamics for NetworkDynamics<'_> {
    fn upload(&mut self, points: Vec<f32>, dim: usize) -> Handle {
        NetworkDynamics::upload(self, points, dim)
    }
    fn download(&mut self, x: Handle) -> Result<Vec<f32>, PluginError> {
        NetworkDynamics::download(self, x)
    }
}

impl HostDynamics for VectorDynamics {
    fn upload(&mut self, points: Vec<f32>, _dim: usize) -> Handle {
        self.insert(points.into_iter().map(f64::from).collect())
    }
    fn download(&mut self, x: Handle) -> Result<Vec<f32>, PluginError> {
        Ok(self.get(x)?.iter().map(|&v| v as f32).collect())
    }
}

/// The dynamics of `model`: the one dispatch on the kind of model. A network runs on `device`
/// in its trained target, with its weights fixed; an oracle runs exactly, in f64, on the CPU.
pub fn dynamics<'a>(model: &'a Network<'a>, device: &Device, noise_seed: u64) -> Box<dyn HostDynamics + 'a> {
    let (schedule, target) = (model.schedule, model.target);
    match model.model {
        Model::Mlp(mlp) => {
            #[cfg(feature = "flex")]
            if crate::models::host::on_flex(device).0 {
                return Box::new(frozen::FrozenDynamics::new(mlp, schedule, target, noise_seed));
            }
            #[cfg(feature = "tch")]
            if let Some(f) = torch::TorchDynamics::new(mlp, schedule, target, noise_seed) {
                return Box::new(f);
            }
            Box::new(NetworkDynamics::new(mlp, schedule, target, device.clone(), noise_seed))
        }
        Model::Oracle(oracle) => Box::new(oracle.dynamics(noise_seed)),
    }
}

/// What one sampling run produced.
pub struct Sampled {
    pub points: Vec<f32>,
    pub nfe: usize,
    pub steps: usize,
    /// Steps the controller accepted and rejected (fixed-step solvers: all accepted).
    pub accepted: usize,
    pub rejected: usize,
    pub seconds: f64,
    /// The solver's family: deterministic samples have a solver error against a reference.
    pub kind: SolverKind,
    /// The first and last time of the grid the samples were integrated over.
    pub span: (f64, f64),
}

/// A request: which solver (with parameters), how many model evaluations, on which grid, over
/// which span of the path.
pub struct SampleSpec<'a> {
    /// Where the solver and grid names are resolved.
    pub registry: &'a Registry,
    pub solver: &'a str,
    pub solver_params: &'a std::collections::BTreeMap<String, ParamValue>,
    pub nfe: usize,
    pub grid: &'a str,
    /// (t_start, t_end), 0 ≤ t_start < t_end ≤ 1 (see [`start_points`] and [`jump`]).
    pub span: (f64, f64),
}

/// The solver's starting state at `t_start` for source points drawn at t = 0: the points scaled
/// by σ(t_start)/σ(0), i.e. the path's marginal there with its signal term α(t_start)·x1
/// dropped — how diffusion samplers start at σ_max. A span that starts past t = 0 is for paths
/// whose first times are singular for a solver (EDM's σ/α is infinite where α = 0 on `cond-ot`);
/// it makes sense for a Gaussian source only.
pub fn start_points(mut x0: Vec<f32>, schedule: &dyn Schedule, t_start: f64) -> Vec<f32> {
    if t_start > 0.0 {
        let scale = (schedule.coefficients(t_start).sigma / schedule.coefficients(0.0).sigma) as f32;
        x0.iter_mut().for_each(|v| *v *= scale);
    }
    x0
}

/// The deterministic jump from `from` to `to` along the model's own prediction, one evaluation:
/// with x̂1 the data prediction at `from` and x̂0 = (x − α_from·x̂1)/σ_from,
/// x(to) = α_to·x̂1 + σ_to·x̂0 (the DDIM step; Tweedie's denoising step x̂1 when σ_to = 0). It
/// ends a span short of the data at t = 1, where the velocity of VP paths is infinite, and its
/// error vanishes with σ_from², far below any sampler's. `x` is consumed.
pub fn jump(f: &mut dyn Dynamics, x: Handle, from: f64, to: f64) -> Result<Handle, PluginError> {
    let (cf, ct) = (f.coefficients(from), f.coefficients(to));
    let data = f.predict(x, from, Target::Data)?;
    let ratio = ct.sigma / cf.sigma;
    let out = f.lincomb(&[(ct.alpha - ratio * cf.alpha, data), (ratio, x)]);
    f.release(data);
    f.release(x);
    out
}

/// A model and the path it was trained on: what a solver integrates.
pub struct Network<'a> {
    pub model: &'a Model,
    pub schedule: &'a dyn Schedule,
    /// What a network predicts (an oracle is exact in every target and ignores it).
    pub target: Target,
}

/// Integrate from the source points `x0` (row-major, `dim` columns) over the spec's span, and
/// from its end to the data with [`jump`] (one more evaluation, counted) when it ends before 1.
pub fn sample(
    network: &Network<'_>,
    device: &Device,
    x0: Vec<f32>,
    dim: usize,
    spec: &SampleSpec<'_>,
    noise_seed: u64,
) -> Result<Sampled, SampleError> {
    solve(network, device, x0, dim, spec, noise_seed, false).map(|(sampled, _)| sampled)
}

/// A solve's states, row-major, at each time of its grid.
pub type Trajectory = Vec<(f64, Vec<f32>)>;

/// [`sample`], and with `record` the states at every time of its grid (and at t = 1 after a
/// [`jump`]), row-major like `x0`: how far the flow carries each point, and how straight.
pub fn solve(
    network: &Network<'_>,
    device: &Device,
    x0: Vec<f32>,
    dim: usize,
    spec: &SampleSpec<'_>,
    noise_seed: u64,
    record: bool,
) -> Result<(Sampled, Trajectory), SampleError> {
    let (solver, control) = crate::solvers::build(spec.registry, spec.solver, spec.solver_params)?;
    let grid = spec.registry.build::<dyn TimeGrid>(spec.grid, &Default::default())?;
    let steps = steps_for_nfe(spec.solver, solver.as_ref(), spec.nfe)?;
    let (t_start, t_end) = spec.span;
    let times = grid.times(steps, t_start, t_end, network.schedule).map_err(RegistryError::from)?;
    let start = Instant::now();
    let mut f = dynamics(network, device, noise_seed);
    let x = f.upload(start_points(x0, network.schedule, t_start), dim);
    let options = Options { control, record };
    let out = integrate(solver.as_ref(), f.as_mut(), x, &times, &options)
        .map_err(|e| with_span_hint(e, network.schedule, spec.span))?;
    let mut states = Vec::with_capacity(out.trajectory.len() + 1);
    for &(t, state) in &out.trajectory {
        states.push((t, f.download(state).map_err(SampleError::Download)?));
    }
    let (x, extra) =
        if t_end < 1.0 { (jump(f.as_mut(), out.x, t_end, 1.0).map_err(SampleError::Finish)?, 1) } else { (out.x, 0) };
    let points = f.download(x).map_err(SampleError::Download)?;
    if record && t_end < 1.0 {
        states.push((1.0, points.clone()));
    }
    let sampled = Sampled {
        points,
        nfe: out.nfe + extra,
        steps: out.steps,
        accepted: out.accepted,
        rejected: out.rejected,
        seconds: start.elapsed().as_secs_f64(),
        kind: solver.kind(),
        span: (times[0], times[times.len() - 1]),
    };
    Ok((sampled, states))
}

/// A failed solve over a span that touches a singular end of the path, with what to change.
fn with_span_hint(source: SolveError, schedule: &dyn Schedule, (t_start, t_end): (f64, f64)) -> SampleError {
    let (c0, c1) = (schedule.coefficients(t_start), schedule.coefficients(t_end));
    let hint = if t_end == 1.0 && !(c1.d_alpha.is_finite() && c1.d_sigma.is_finite()) {
        "the path's velocity is infinite at t = 1 (a VP path): set eval.t_end below 1 (e.g. 0.999) to end with one jump to the data"
    } else if t_start == 0.0 && c0.alpha == 0.0 {
        "the path has α = 0 at t = 0, where σ/α (EDM's noise level) is infinite: set eval.t_start above 0 (e.g. 0.001)"
    } else {
        return SampleError::Solve(source);
    };
    SampleError::SingularEnd { source: Box::new(source), hint }
}

/// How the converged solution that deterministic samples are measured against is computed.
pub struct ReferenceSpec<'a> {
    pub registry: &'a Registry,
    pub solver: &'a str,
    pub nfe: usize,
}

/// The probability-flow ODE's solution from `x0` at `span.0` to `span.1`, converged far below
/// any sampler's error: the reference of the `solver_error` column.
///
/// Where the velocity is finite at `span.1` (flow-matching paths, grids that stop short of the
/// data) the reference solver runs on a uniform grid over the whole span. On VP paths σ' = −∞
/// at t = 1: the velocity grows like 1/√(1 − t) towards the data, an integrable singularity that
/// a fixed-step method cannot cross and that costs any method its order near it. There the
/// reference
///
/// 1. integrates to t_e = `span.1` − δ, with δ the largest power of ten at which
///    σ(t_e) − σ(`span.1`) ≤ 1e-5, on a grid uniform in u = √(`span.1` − t): in u the
///    velocity's singular part becomes smooth (dx/du = −2u·dx/dt, and σ ∝ u near a VP data end),
///    so the solver keeps its order;
/// 2. takes the last stretch in one exact-in-the-limit step, [`jump`]: x(`span.1`) = α·x̂1 + σ·x̂0
///    with the predictions at t_e (the DDIM step). Its error is
///    second order in σ(t_e): O(1e-10), far below the 1e-2 that the experiments resolve.
///
/// Both the samples and the reference therefore end at the same time, `span.1`, with the same
/// meaning. Where `span.1` < 1 both then take the same [`jump`] to the data, and the reference
/// starts from the same [`start_points`].
pub fn reference(
    network: &Network<'_>,
    device: &Device,
    x0: Vec<f32>,
    dim: usize,
    span: (f64, f64),
    spec: &ReferenceSpec<'_>,
) -> Result<Vec<f32>, SampleError> {
    let (solver, control) = crate::solvers::build(spec.registry, spec.solver, &Default::default())?;
    let steps = steps_for_nfe(spec.solver, solver.as_ref(), spec.nfe)?;
    let (t0, t1) = span;
    let end = reference_end(network, t0, t1);
    let times: Vec<f64> = match end {
        None => (0..=steps).map(|i| t0 + (t1 - t0) * i as f64 / steps as f64).collect(),
        Some(t_e) => {
            let (u0, ue) = ((t1 - t0).sqrt(), (t1 - t_e).sqrt());
            let mut times: Vec<f64> =
                (0..=steps).map(|i| t1 - (u0 + (ue - u0) * i as f64 / steps as f64).powi(2)).collect();
            // Exact ends: rounding must neither move the start nor cross t_e.
            times[0] = t0;
            times[steps] = t_e;
            times
        }
    };
    // The reference is deterministic; a stochastic reference solver would be a configuration
    // error that shows as a large solver error, not a crash.
    let mut f = dynamics(network, device, 0);
    let x = f.upload(start_points(x0, network.schedule, t0), dim);
    let out = integrate(solver.as_ref(), f.as_mut(), x, &times, &Options { control, record: false })?;
    let x = match end {
        None => out.x,
        Some(t_e) => jump(f.as_mut(), out.x, t_e, t1).map_err(SampleError::ReferenceEnd)?,
    };
    let x = if t1 < 1.0 { jump(f.as_mut(), x, t1, 1.0).map_err(SampleError::Finish)? } else { x };
    f.download(x).map_err(SampleError::Download)
}

/// Where the reference stops integrating when the velocity is singular at `t1` (see
/// [`reference`]); `None` when it is finite there.
fn reference_end(network: &Network<'_>, t0: f64, t1: f64) -> Option<f64> {
    let c = network.schedule.coefficients(t1);
    let native = match network.model {
        Model::Mlp(_) => network.target,
        Model::Oracle(_) => Target::Velocity,
    };
    let finite =
        c.d_alpha.is_finite() && c.d_sigma.is_finite() && Conversion::between(native, Target::Velocity, &c).is_finite();
    if finite {
        return None;
    }
    let sigma_end = c.sigma;
    (2..=12)
        .map(|k| t1 - 10f64.powi(-k))
        .find(|&t_e| network.schedule.coefficients(t_e).sigma - sigma_end <= 1e-5)
        .filter(|&t_e| t_e > t0)
        .or(Some(t1 - 1e-12))
}
