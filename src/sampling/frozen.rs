//! A trained network's dynamics on the host, for the flex backend: states are plain vectors,
//! the network a [`FrozenMlp`], and every buffer a step needs comes from the buffers the solver
//! released before, so a solve allocates only in its first steps.

use rand::rngs::StdRng;
use rand::SeedableRng;
use runner_sdk::{Coefficients, Dynamics, Handle, PluginError, Schedule, Target};

use super::states::States;
use super::{conversion, standard_normal, HostDynamics};
use crate::models::{FrozenMlp, Mlp};

pub struct FrozenDynamics<'a> {
    network: FrozenMlp,
    schedule: &'a dyn Schedule,
    native: Target,
    states: States<Vec<f32>>,
    /// The first layer's bias at the time of the current evaluation.
    bias: Vec<f32>,
    rng: StdRng,
}

impl<'a> FrozenDynamics<'a> {
    pub fn new(mlp: &Mlp, schedule: &'a dyn Schedule, native: Target, noise_seed: u64) -> Self {
        FrozenDynamics {
            network: FrozenMlp::new(mlp),
            schedule,
            native,
            states: States::new(),
            bias: Vec::new(),
            rng: StdRng::seed_from_u64(noise_seed),
        }
    }

    fn get(&self, x: Handle) -> Result<&Vec<f32>, PluginError> {
        self.states.get(x)
    }

    /// A buffer of `len` values (their contents unspecified), from the released ones if any.
    fn buffer(&mut self, len: usize) -> Vec<f32> {
        let mut v = self.states.reuse(|_| true).unwrap_or_default();
        v.resize(len, 0.0);
        v
    }

    fn insert(&mut self, x: Vec<f32>) -> Handle {
        self.states.insert(x)
    }
}

impl Dynamics for FrozenDynamics<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let conv = (target != self.native).then(|| conversion(self.schedule, self.native, target, t)).transpose()?;
        let len = self.get(x)?.len();
        let mut out = self.buffer(len);
        let xv = self.states.get(x)?;
        self.network.forward(xv, t as f32, &mut out, &mut self.bias);
        if let Some(conv) = conv {
            let (p, c) = (conv.pred_coef as f32, conv.x_coef as f32);
            out.iter_mut().zip(xv).for_each(|(o, &x)| *o = *o * p + x * c);
        }
        Ok(self.insert(out))
    }

    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        let (&(c0, h0), rest) =
            terms.split_first().ok_or_else(|| PluginError::Dynamics("lincomb of no terms".into()))?;
        let len = self.get(h0)?.len();
        for &(_, h) in rest {
            if self.get(h)?.len() != len {
                return Err(PluginError::Dynamics("lincomb of states of different sizes".into()));
            }
        }
        let mut out = self.buffer(len);
        // Term by term, in f32, as the tensor path adds them.
        let c0 = c0 as f32;
        out.iter_mut().zip(self.states.get(h0)?).for_each(|(o, &x)| *o = x * c0);
        for &(c, h) in rest {
            let c = c as f32;
            out.iter_mut().zip(self.states.get(h)?).for_each(|(o, &x)| *o += x * c);
        }
        Ok(self.insert(out))
    }

    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        let len = self.get(x)?.len();
        let mut out = self.buffer(len);
        standard_normal(&mut self.rng, &mut out);
        Ok(self.insert(out))
    }

    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        let sum: f64 = a.iter().zip(b).map(|(&a, &b)| f64::from(a - b).powi(2)).sum();
        Ok((sum / a.len().max(1) as f64).sqrt())
    }

    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        Ok(self.get(x)?.iter().all(|v| v.is_finite()))
    }

    fn coefficients(&self, t: f64) -> Coefficients {
        self.schedule.coefficients(t)
    }

    fn release(&mut self, x: Handle) {
        self.states.release(x);
    }
}

impl HostDynamics for FrozenDynamics<'_> {
    fn upload(&mut self, points: Vec<f32>, dim: usize) -> Handle {
        debug_assert_eq!(dim, self.network.dim());
        self.insert(points)
    }

    fn download(&mut self, x: Handle) -> Result<Vec<f32>, PluginError> {
        Ok(self.get(x)?.clone())
    }
}
