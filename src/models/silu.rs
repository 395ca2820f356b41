//! SiLU, x·σ(x): on the host for burn's `flex` backend ([`super::host`]), in PyTorch's fused
//! kernels on libtorch (`silu_libtorch`), through burn's own SiLU elsewhere.

use burn::tensor::{activation, Tensor};

use super::host::{self, sigmoid, Pointwise};

/// SiLU of `x`: on the host for flex devices, in PyTorch's kernels on libtorch, through burn
/// elsewhere.
pub fn silu(x: Tensor<2>) -> Tensor<2> {
    #[cfg(feature = "tch")]
    if let Some(y) = super::silu_libtorch::silu(&x) {
        return y;
    }
    host::apply(x, &Silu, activation::silu)
}

pub(crate) struct Silu;

impl Pointwise for Silu {
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        x * sigmoid(x)
    }

    /// σ(x)·(1 + x·(1 − σ(x))).
    #[inline(always)]
    fn slope(&self, x: f32) -> f32 {
        let s = sigmoid(x);
        s + x * s * (1.0 - s)
    }
}
