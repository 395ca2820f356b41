//! `VectorDynamics`: a [`Dynamics`] over plain `Vec<f64>` states on the CPU.
//!
//! It runs solvers without a tensor backend: in tests, and with exact ("oracle") models whose
//! predictions are closed form. The model is a closure from the flat state (batch-major) and t
//! to its native target; `predict` converts that to the asked target elementwise with
//! [`Conversion::between`] at the schedule's coefficients.
//!
//! In ODE mode ([`VectorDynamics::ode`]) there is no probability path: the closure is the
//! velocity of an arbitrary ODE, only `Target::Velocity` can be asked for, and `coefficients`
//! returns NaN everywhere, so that a path-based solver run on it fails (the diffusion samplers
//! refuse NaN coefficients; anything else turns the state non-finite) instead of silently using
//! made-up coefficients.

use std::collections::HashMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Coefficients, Conversion, Dynamics, Handle, PluginError, Schedule, Target};
use thiserror::Error;

/// A model: (flat batch-major state, t) → its prediction of the same length.
pub type Model = Box<dyn FnMut(&[f64], f64) -> Vec<f64>>;

#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum VectorError {
    #[error("unknown or released handle {0:?}")]
    UnknownHandle(Handle),
    #[error("states of different lengths combined: {0} and {1}")]
    LengthMismatch(usize, usize),
    #[error("the model returned {got} values for a state of {want}")]
    ModelOutput { got: usize, want: usize },
    #[error("a linear combination needs at least one term")]
    EmptyCombination,
    #[error("an ODE without a probability path only has a velocity, not the {0}")]
    NoPath(&'static str),
    #[error("the conversion from {from} to {to} is singular at t = {t}")]
    SingularConversion { from: &'static str, to: &'static str, t: f64 },
}

impl From<VectorError> for PluginError {
    fn from(e: VectorError) -> PluginError {
        PluginError::Dynamics(e.to_string())
    }
}

pub struct VectorDynamics {
    /// `None` in ODE mode.
    schedule: Option<Arc<dyn Schedule>>,
    native: Target,
    model: Model,
    rng: StdRng,
    states: HashMap<u64, Vec<f64>>,
    next_id: u64,
    model_calls: usize,
    stale_releases: usize,
}

impl VectorDynamics {
    /// Dynamics of a model that predicts `native` on the path of `schedule`; `seed` seeds
    /// `noise_like`.
    pub fn new(
        schedule: impl Into<Arc<dyn Schedule>>,
        native: Target,
        model: impl FnMut(&[f64], f64) -> Vec<f64> + 'static,
        seed: u64,
    ) -> VectorDynamics {
        VectorDynamics::with(Some(schedule.into()), native, Box::new(model), seed)
    }

    /// Dynamics of the ODE dx/dt = `velocity(x, t)`, with no probability path.
    pub fn ode(velocity: impl FnMut(&[f64], f64) -> Vec<f64> + 'static, seed: u64) -> VectorDynamics {
        VectorDynamics::with(None, Target::Velocity, Box::new(velocity), seed)
    }

    fn with(schedule: Option<Arc<dyn Schedule>>, native: Target, model: Model, seed: u64) -> VectorDynamics {
        VectorDynamics {
            schedule,
            native,
            model,
            rng: StdRng::seed_from_u64(seed),
            states: HashMap::new(),
            next_id: 0,
            model_calls: 0,
            stale_releases: 0,
        }
    }

    /// Hand a state to the dynamics; the caller owns the handle.
    pub fn insert(&mut self, state: Vec<f64>) -> Handle {
        let id = self.next_id;
        self.next_id += 1;
        self.states.insert(id, state);
        Handle(id)
    }

    pub fn get(&self, x: Handle) -> Result<&[f64], VectorError> {
        self.states.get(&x.0).map(Vec::as_slice).ok_or(VectorError::UnknownHandle(x))
    }

    /// Remove a state and return it (the handle is released).
    pub fn take(&mut self, x: Handle) -> Result<Vec<f64>, VectorError> {
        self.states.remove(&x.0).ok_or(VectorError::UnknownHandle(x))
    }

    /// How many times the model closure ran (every `predict`, whatever the target).
    pub fn model_calls(&self) -> usize {
        self.model_calls
    }

    /// States currently held: a solver or loop that leaks handles makes this grow.
    pub fn live_handles(&self) -> usize {
        self.states.len()
    }

    /// `release` calls on handles that were not live (double releases): always a bug.
    pub fn stale_releases(&self) -> usize {
        self.stale_releases
    }

    pub fn native_target(&self) -> Target {
        self.native
    }

    fn conversion(&self, to: Target, t: f64) -> Result<Conversion, VectorError> {
        if to == self.native {
            return Ok(Conversion { x_coef: 0.0, pred_coef: 1.0 });
        }
        let Some(schedule) = &self.schedule else {
            return Err(VectorError::NoPath(to.name()));
        };
        let conversion = Conversion::between(self.native, to, &schedule.coefficients(t));
        if !conversion.is_finite() {
            return Err(VectorError::SingularConversion { from: self.native.name(), to: to.name(), t });
        }
        Ok(conversion)
    }

    fn predict_vec(&mut self, x: Handle, t: f64, target: Target) -> Result<Vec<f64>, VectorError> {
        let conversion = self.conversion(target, t)?;
        let state = self.states.get(&x.0).ok_or(VectorError::UnknownHandle(x))?;
        self.model_calls += 1;
        let mut out = (self.model)(state, t);
        if out.len() != state.len() {
            return Err(VectorError::ModelOutput { got: out.len(), want: state.len() });
        }
        if conversion.x_coef != 0.0 || conversion.pred_coef != 1.0 {
            for (o, &xi) in out.iter_mut().zip(state) {
                *o = conversion.apply(xi, *o);
            }
        }
        Ok(out)
    }

    fn lincomb_vec(&self, terms: &[(f64, Handle)]) -> Result<Vec<f64>, VectorError> {
        let (&(c0, h0), rest) = terms.split_first().ok_or(VectorError::EmptyCombination)?;
        let mut out: Vec<f64> = self.get(h0)?.iter().map(|v| c0 * v).collect();
        for &(c, h) in rest {
            let s = self.get(h)?;
            if s.len() != out.len() {
                return Err(VectorError::LengthMismatch(out.len(), s.len()));
            }
            for (o, v) in out.iter_mut().zip(s) {
                *o += c * v;
            }
        }
        Ok(out)
    }
}

impl Dynamics for VectorDynamics {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let out = self.predict_vec(x, t, target)?;
        Ok(self.insert(out))
    }

    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        let out = self.lincomb_vec(terms)?;
        Ok(self.insert(out))
    }

    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        let n = self.get(x)?.len();
        let noise: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut self.rng)).collect();
        Ok(self.insert(noise))
    }

    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        if a.len() != b.len() {
            return Err(VectorError::LengthMismatch(a.len(), b.len()).into());
        }
        if a.is_empty() {
            return Ok(0.0);
        }
        let sum: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
        Ok((sum / a.len() as f64).sqrt())
    }

    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        Ok(self.get(x)?.iter().all(|v| v.is_finite()))
    }

    fn coefficients(&self, t: f64) -> Coefficients {
        match &self.schedule {
            Some(s) => s.coefficients(t),
            None => Coefficients::NAN,
        }
    }

    fn release(&mut self, x: Handle) {
        if self.states.remove(&x.0).is_none() {
            self.stale_releases += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straight path x_t = t·x1 + (1 − t)·x0.
    struct CondOt;
    impl Schedule for CondOt {
        fn coefficients(&self, t: f64) -> Coefficients {
            Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 }
        }
    }

    fn data_model() -> VectorDynamics {
        // Predicts x1 = 2·x, on the straight path.
        let schedule: Box<dyn Schedule> = Box::new(CondOt);
        VectorDynamics::new(schedule, Target::Data, |x: &[f64], _| x.iter().map(|v| 2.0 * v).collect(), 5)
    }

    #[test]
    fn predictions_are_converted_elementwise_with_the_state() {
        let mut f = data_model();
        let x = f.insert(vec![1.0, -0.5]);
        let t = 0.25;
        // cond-ot: v = (x̂1 − x)/(1 − t), ε = (x − t·x̂1)/(1 − t).
        let v = f.predict(x, t, Target::Velocity).unwrap();
        let eps = f.predict(x, t, Target::Epsilon).unwrap();
        let data = f.predict(x, t, Target::Data).unwrap();
        for (i, &xi) in [1.0, -0.5].iter().enumerate() {
            assert!((f.get(v).unwrap()[i] - (2.0 * xi - xi) / 0.75).abs() < 1e-14);
            assert!((f.get(eps).unwrap()[i] - (xi - t * 2.0 * xi) / 0.75).abs() < 1e-14);
            assert_eq!(f.get(data).unwrap()[i], 2.0 * xi);
        }
        assert_eq!(f.model_calls(), 3);
    }

    #[test]
    fn singular_conversions_are_errors_not_infinities() {
        let mut f = data_model();
        let x = f.insert(vec![1.0]);
        let err = f.predict(x, 1.0, Target::Velocity).unwrap_err().to_string();
        assert!(err.contains("singular") && err.contains("t = 1"), "{err}");
        assert_eq!(f.model_calls(), 0, "a refused conversion does not run the model");
    }

    #[test]
    fn lincomb_error_norm_and_finiteness() {
        let mut f = data_model();
        let a = f.insert(vec![1.0, 2.0]);
        let b = f.insert(vec![3.0, -1.0]);
        let c = f.lincomb(&[(2.0, a), (-1.0, b)]).unwrap();
        assert_eq!(f.get(c).unwrap(), &[-1.0, 5.0]);
        assert!((f.error_norm(a, b).unwrap() - (6.5f64).sqrt()).abs() < 1e-15);
        assert!(f.is_finite(c).unwrap());
        let inf = f.insert(vec![0.0, f64::INFINITY]);
        assert!(!f.is_finite(inf).unwrap());
        let short = f.insert(vec![1.0]);
        assert!(f.lincomb(&[(1.0, a), (1.0, short)]).is_err());
        assert!(f.lincomb(&[]).is_err());
    }

    #[test]
    fn release_frees_and_counts_stale_handles() {
        let mut f = data_model();
        let a = f.insert(vec![1.0]);
        assert_eq!(f.live_handles(), 1);
        f.release(a);
        assert_eq!(f.live_handles(), 0);
        assert!(f.get(a).is_err() && f.lincomb(&[(1.0, a)]).is_err());
        f.release(a);
        assert_eq!(f.stale_releases(), 1);
    }

    #[test]
    fn a_model_of_the_wrong_length_is_refused() {
        let mut f = VectorDynamics::ode(|_: &[f64], _| vec![0.0], 0);
        let x = f.insert(vec![1.0, 2.0]);
        let err = f.predict(x, 0.5, Target::Velocity).unwrap_err().to_string();
        assert!(err.contains("1 values") && err.contains("of 2"), "{err}");
    }

    #[test]
    fn noise_is_seeded_standard_normal() {
        let draw = |seed| {
            let mut f = VectorDynamics::ode(|x: &[f64], _| x.to_vec(), seed);
            let x = f.insert(vec![0.0; 40_000]);
            let z = f.noise_like(x).unwrap();
            f.take(z).unwrap()
        };
        let (a, b, c) = (draw(1), draw(1), draw(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let n = a.len() as f64;
        let mean = a.iter().sum::<f64>() / n;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        // Standard errors 0.005 (mean) and 0.007 (variance); margins of 5 of them.
        assert!(mean.abs() < 0.025 && (var - 1.0).abs() < 0.035, "mean {mean}, variance {var}");
    }

    #[test]
    fn ode_mode_has_only_a_velocity_and_no_coefficients() {
        let mut f = VectorDynamics::ode(|x: &[f64], _| x.to_vec(), 0);
        let x = f.insert(vec![1.0]);
        assert!(f.predict(x, 0.5, Target::Velocity).is_ok());
        assert!(f.predict(x, 0.5, Target::Score).is_err());
        assert!(f.coefficients(0.5).alpha.is_nan());
    }
}
