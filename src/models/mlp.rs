//! A multilayer perceptron on [x, time features]: the standard network of the 2-D and 1-D
//! benchmarks of the flow-matching papers.

use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::activation;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

use super::TimeFeatures;
use crate::config::ModelConfig;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("unknown activation `{0}`; known: silu, relu, gelu, tanh, selu")]
    Activation(String),
    #[error("unknown time features `{0}`; known: raw, fourier")]
    TimeFeatures(String),
    #[error("model.{key} must be at least 1")]
    Size { key: &'static str },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Silu,
    Relu,
    Gelu,
    Tanh,
    Selu,
}

impl Activation {
    /// The names `model.activation` takes.
    pub const NAMES: [&str; 5] = ["silu", "relu", "gelu", "tanh", "selu"];

    pub fn from_name(name: &str) -> Result<Self, ModelError> {
        Ok(match name {
            "silu" => Activation::Silu,
            "relu" => Activation::Relu,
            "gelu" => Activation::Gelu,
            "tanh" => Activation::Tanh,
            "selu" => Activation::Selu,
            other => return Err(ModelError::Activation(other.to_string())),
        })
    }

    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Silu => super::silu::silu(x),
            Activation::Relu => activation::relu(x),
            Activation::Gelu => activation::gelu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Selu => super::selu::selu(x),
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    time: TimeFeatures,
}

impl Mlp {
    /// A network for `dim`-dimensional data. Weights are drawn from our own seeded generator
    /// (PyTorch's default U(±1/√fan_in)), so the same seed gives the same network on every
    /// backend.
    pub fn new(config: &ModelConfig, dim: usize, seed: u64, device: &Device) -> Result<Mlp, ModelError> {
        if config.width == 0 {
            return Err(ModelError::Size { key: "width" });
        }
        if config.depth == 0 {
            return Err(ModelError::Size { key: "depth" });
        }
        let activation = Activation::from_name(&config.activation)?;
        let time = match config.time_features.as_str() {
            "raw" => TimeFeatures::Raw,
            "fourier" => TimeFeatures::Fourier { frequencies: config.fourier_features.max(1) },
            other => return Err(ModelError::TimeFeatures(other.to_string())),
        };
        let mut sizes = vec![dim + time.width()];
        sizes.extend(std::iter::repeat_n(config.width, config.depth));
        sizes.push(dim);
        let mut rng = StdRng::seed_from_u64(seed);
        let layers = sizes.windows(2).enumerate().map(|(i, w)| linear(i, w[0], w[1], &mut rng, device)).collect();
        Ok(Mlp { layers, activation, time })
    }

    /// The prediction at states `x` ([n, dim]) and times `t` ([n, 1]).
    pub fn forward(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        let device = x.device();
        let mut h = Tensor::cat(vec![x, self.time.embed(t, &device)], 1);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = self.activation.apply(h);
            }
        }
        h
    }

    /// The linear layers, first to last.
    pub(crate) fn layers(&self) -> &[Linear] {
        &self.layers
    }

    pub(crate) fn activation(&self) -> Activation {
        self.activation
    }

    pub(crate) fn time_features(&self) -> &TimeFeatures {
        &self.time
    }

    /// `self ← decay·self + (1 − decay)·model`, for an exponential moving average of the
    /// weights of a model in training (`self` lives on the plain device).
    pub fn ema_update(self, model: &Mlp, decay: f64) -> Mlp {
        let blend = |ema: Tensor<2>, cur: Tensor<2>| ema.mul_scalar(decay).add(cur.mul_scalar(1.0 - decay));
        let layers = self
            .layers
            .into_iter()
            .zip(&model.layers)
            .map(|(e, m)| {
                let w = m.weight.val().detach().inner();
                let weight = e.weight.map(|ew| blend(ew, w));
                let bias = match (e.bias, &m.bias) {
                    (Some(eb), Some(mb)) => {
                        let b = mb.val().detach().inner();
                        Some(eb.map(|x| blend(x.unsqueeze_dim(0), b.unsqueeze_dim(0)).squeeze_dim(0)))
                    }
                    (eb, _) => eb,
                };
                Linear { weight, bias }
            })
            .collect();
        Mlp { layers, activation: self.activation, time: self.time }
    }
}

fn linear(index: usize, fan_in: usize, fan_out: usize, rng: &mut StdRng, device: &Device) -> Linear {
    let bound = 1.0 / (fan_in as f32).sqrt();
    let mut draw = |n: usize| (0..n).map(|_| rng.random_range(-bound..bound)).collect::<Vec<f32>>();
    let weight = TensorData::new(draw(fan_in * fan_out), [fan_in, fan_out]);
    let bias = TensorData::new(draw(fan_out), [fan_out]);
    Linear {
        weight: with_id(Param::from_data(weight, device), 2 * index),
        bias: Some(with_id(Param::from_data(bias, device), 2 * index + 1)),
    }
}

/// The parameter with id `k` (its place in the network) instead of a random one: the ids are
/// saved with the weights, so a network's file is then the same bytes whenever its weights are.
fn with_id<const D: usize>(param: Param<Tensor<D>>, k: usize) -> Param<Tensor<D>> {
    let (_, value, mapper) = param.consume();
    Param::from_mapped_value(ParamId::from(k as u64), value, mapper)
}
