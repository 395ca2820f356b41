//! How the network sees time: raw t, or t with sin/cos features at geometric frequencies
//! (what lets a small MLP resolve the fast changes of diffusion schedules near the data end).

use burn::tensor::{Device, Tensor, TensorData};

#[derive(Debug, Clone, PartialEq)]
pub enum TimeFeatures {
    /// t concatenated to x (the torchcfm 2-D setup).
    Raw,
    /// t, sin(ω_k t) and cos(ω_k t) with ω_k geometric from 1 to 200 over `frequencies` values.
    Fourier { frequencies: usize },
}

impl TimeFeatures {
    /// The names `model.time_features` takes.
    pub const NAMES: [&str; 2] = ["raw", "fourier"];

    /// How many input columns these features add.
    pub fn width(&self) -> usize {
        match self {
            TimeFeatures::Raw => 1,
            TimeFeatures::Fourier { frequencies } => 1 + 2 * frequencies,
        }
    }

    pub(crate) fn omegas(frequencies: usize) -> Vec<f32> {
        (0..frequencies)
            .map(|k| {
                let frac = if frequencies > 1 { k as f64 / (frequencies - 1) as f64 } else { 0.0 };
                200f64.powf(frac) as f32
            })
            .collect()
    }

    /// The feature columns for a column of times `t` ([n, 1]).
    pub fn embed(&self, t: Tensor<2>, device: &Device) -> Tensor<2> {
        match self {
            TimeFeatures::Raw => t,
            TimeFeatures::Fourier { frequencies } => {
                let omegas = Self::omegas(*frequencies);
                let omega = Tensor::<2>::from_data(TensorData::new(omegas, [1, *frequencies]), device);
                let phase = t.clone().matmul(omega);
                Tensor::cat(vec![t, phase.clone().sin(), phase.cos()], 1)
            }
        }
    }
}
