//! A trained network's dynamics on libtorch (CPU or CUDA), for sampling: the weights taken out
//! of burn once, every layer one `addmm` into a buffer kept between evaluations followed by the
//! activation in place, no autograd, and states recycled from the ones the solver released.
//!
//! Through burn each evaluation is a dozen operations that each allocate a result and pass
//! through burn's dispatch and libtorch's autograd checks; in a loop of a hundred small steps
//! that overhead, not the arithmetic, is the cost.

// burn 0.22 marks its libtorch backend deprecated (in favour of CubeCL); runner's `tch` feature
// is that backend, on purpose.
#![allow(deprecated)]

use burn::backend::LibTorch;
use rand::rngs::StdRng;
use rand::SeedableRng;
use runner_sdk::{Coefficients, Dynamics, Handle, PluginError, Schedule, Target};
use tch::{Kind, Tensor};

use super::states::States;
use super::{conversion, standard_normal, HostDynamics};
use crate::models::{Activation, Mlp, TimeFeatures};

struct Layer {
    /// [fan_in, fan_out], as burn stores it.
    weight: Tensor,
    bias: Tensor,
}

pub struct TorchDynamics<'a> {
    /// The first layer's weight holds only its rows for the data columns.
    layers: Vec<Layer>,
    /// The first layer's rows for the time features, [features, width].
    time_weight: Tensor,
    /// ω of Fourier time features, [1, K].
    omegas: Option<Tensor>,
    /// The time features of the current evaluation, [1, features], and the phases ω·t.
    features: Tensor,
    phase: Option<Tensor>,
    /// The first layer's bias with the time features folded in, [1, width].
    first_bias: Tensor,
    /// Every hidden layer's output, reused while the row count stays.
    hidden: Vec<Tensor>,
    activation: Activation,
    dim: i64,
    device: tch::Device,
    schedule: &'a dyn Schedule,
    native: Target,
    states: States<Tensor>,
    /// A term of a linear combination, scaled.
    scratch: Option<Tensor>,
    rng: StdRng,
}

/// libtorch's tensor behind a burn tensor, when it lives on libtorch without autodiff.
fn libtorch<const D: usize>(t: burn::tensor::Tensor<D>) -> Option<Tensor> {
    t.try_into_primitive::<LibTorch>().ok().map(|p| p.tensor.contiguous())
}

impl<'a> TorchDynamics<'a> {
    /// The dynamics of `mlp`, or `None` when its weights are not plain libtorch tensors.
    pub fn new(mlp: &Mlp, schedule: &'a dyn Schedule, native: Target, noise_seed: u64) -> Option<Self> {
        let mut layers = Vec::new();
        for layer in mlp.layers() {
            let weight = libtorch(layer.weight.val())?;
            let bias = match &layer.bias {
                Some(b) => libtorch(b.val())?,
                None => Tensor::zeros([weight.size()[1]], (Kind::Float, weight.device())),
            };
            layers.push(Layer { weight, bias });
        }
        let time = mlp.time_features().clone();
        let features_width = time.width() as i64;
        let first = &mut layers[0];
        let (fan_in, width) = (first.weight.size()[0], first.weight.size()[1]);
        let dim = fan_in - features_width;
        let device = first.weight.device();
        let time_weight = first.weight.narrow(0, dim, features_width).contiguous();
        first.weight = first.weight.narrow(0, 0, dim).contiguous();
        let omegas = match time {
            TimeFeatures::Raw => None,
            TimeFeatures::Fourier { frequencies } => {
                Some(Tensor::from_slice(&TimeFeatures::omegas(frequencies)).view([1, -1]).to_device(device))
            }
        };
        let float = (Kind::Float, device);
        Some(TorchDynamics {
            layers,
            time_weight,
            phase: omegas.as_ref().map(|o| o.empty_like()),
            omegas,
            features: Tensor::empty([1, features_width], float),
            first_bias: Tensor::empty([1, width], float),
            hidden: Vec::new(),
            activation: mlp.activation(),
            dim,
            device,
            schedule,
            native,
            states: States::new(),
            scratch: None,
            rng: StdRng::seed_from_u64(noise_seed),
        })
    }

    fn get(&self, x: Handle) -> Result<&Tensor, PluginError> {
        self.states.get(x)
    }

    fn insert(&mut self, x: Tensor) -> Handle {
        self.states.insert(x)
    }

    /// A tensor of `size` (contents unspecified), from the released states if one fits.
    fn buffer(&mut self, size: &[i64]) -> Tensor {
        let device = self.device;
        self.states.reuse(|t| t.size() == size).unwrap_or_else(|| Tensor::empty(size, (Kind::Float, device)))
    }

    /// `value`·`x`, in the scratch tensor.
    fn scaled(&mut self, x: &Tensor, value: f64) -> &Tensor {
        let scratch = match self.scratch.take() {
            Some(s) if s.size() == x.size() => s,
            _ => x.empty_like(),
        };
        let _ = x.mul_scalar_out(&scratch, value);
        self.scratch.insert(scratch)
    }

    /// The network at states `x` ([n, dim]) and time `t`, written to `out`.
    fn forward(&mut self, x: &Tensor, t: f64, out: &Tensor) {
        match (&self.omegas, &self.phase) {
            (Some(omegas), Some(phase)) => {
                let k = omegas.size()[1];
                let _ = self.features.narrow(1, 0, 1).fill_(t);
                let _ = omegas.mul_scalar_out(phase, t);
                let _ = phase.sin_out(&self.features.narrow(1, 1, k));
                let _ = phase.cos_out(&self.features.narrow(1, 1 + k, k));
            }
            _ => {
                let _ = self.features.fill_(t);
            }
        }
        let _ = self.layers[0].bias.addmm_out(&self.first_bias, &self.features, &self.time_weight);
        let rows = x.size()[0];
        if self.hidden.first().map(|h| h.size()[0]) != Some(rows) {
            let float = (Kind::Float, self.device);
            let last = self.layers.len() - 1;
            self.hidden =
                self.layers[..last].iter().map(|l| Tensor::empty([rows, l.weight.size()[1]], float)).collect();
        }
        let last = self.layers.len() - 1;
        for i in 0..=last {
            let bias = if i == 0 { &self.first_bias } else { &self.layers[i].bias };
            let input = if i == 0 { x } else { &self.hidden[i - 1] };
            let dst = if i == last { out } else { &self.hidden[i] };
            let _ = bias.addmm_out(dst, input, &self.layers[i].weight);
            if i < last {
                let mut h = self.hidden[i].shallow_clone();
                let _ = match self.activation {
                    Activation::Silu => h.silu_(),
                    Activation::Relu => h.relu_(),
                    Activation::Gelu => h.gelu_("none"),
                    Activation::Tanh => h.tanh_(),
                    Activation::Selu => h.selu_(),
                };
            }
        }
    }
}

impl Dynamics for TorchDynamics<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let _guard = tch::no_grad_guard();
        let conv = (target != self.native).then(|| conversion(self.schedule, self.native, target, t)).transpose()?;
        let xv = self.get(x)?.shallow_clone();
        let mut out = self.buffer(&xv.size());
        self.forward(&xv, t, &out);
        if let Some(conv) = conv {
            let _ = out.g_mul_scalar_(conv.pred_coef);
            let _ = out.g_add_(self.scaled(&xv, conv.x_coef));
        }
        Ok(self.insert(out))
    }

    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        let _guard = tch::no_grad_guard();
        let (&(c0, h0), rest) =
            terms.split_first().ok_or_else(|| PluginError::Dynamics("lincomb of no terms".into()))?;
        let first = self.get(h0)?.shallow_clone();
        let mut out = self.buffer(&first.size());
        // x + c·y, the step of every explicit solver, in two kernels rather than three.
        let rest = match rest.split_first() {
            Some((&(c1, h1), more)) if c0 == 1.0 => {
                let y = self.get(h1)?.shallow_clone();
                let _ = first.add_out(&out, self.scaled(&y, c1));
                more
            }
            _ => {
                let _ = first.mul_scalar_out(&out, c0);
                rest
            }
        };
        for &(c, h) in rest {
            let x = self.get(h)?.shallow_clone();
            let _ = out.g_add_(self.scaled(&x, c));
        }
        Ok(self.insert(out))
    }

    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        let size = self.get(x)?.size();
        let mut noise = vec![0.0; size.iter().product::<i64>() as usize];
        standard_normal(&mut self.rng, &mut noise);
        let t = Tensor::from_slice(&noise).view(size.as_slice()).to_device(self.device);
        Ok(self.insert(t))
    }

    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        let _guard = tch::no_grad_guard();
        let d = self.get(a)? - self.get(b)?;
        Ok(d.square().mean(Kind::Float).double_value(&[]).sqrt())
    }

    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        let _guard = tch::no_grad_guard();
        Ok(self.get(x)?.isfinite().all().int64_value(&[]) != 0)
    }

    fn coefficients(&self, t: f64) -> Coefficients {
        self.schedule.coefficients(t)
    }

    fn release(&mut self, x: Handle) {
        self.states.release(x);
    }
}

impl HostDynamics for TorchDynamics<'_> {
    fn upload(&mut self, points: Vec<f32>, dim: usize) -> Handle {
        debug_assert_eq!(dim as i64, self.dim);
        let n = (points.len() / dim.max(1)) as i64;
        let x = Tensor::from_slice(&points).view([n, self.dim]).to_device(self.device);
        self.insert(x)
    }

    fn download(&mut self, x: Handle) -> Result<Vec<f32>, PluginError> {
        let host = self.get(x)?.to_device(tch::Device::Cpu).contiguous();
        let numel = host.numel();
        let mut out = vec![0f32; numel];
        host.copy_data(&mut out, numel);
        Ok(out)
    }
}
