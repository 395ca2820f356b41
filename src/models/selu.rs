//! SELU, λ·x for x > 0 and λ·α·(eˣ − 1) below (Klambauer et al. 2017), the activation of the
//! conditional-flow-matching 2-D benchmark: on the host for burn's `flex` backend
//! ([`super::host`]), from burn's tensor operations elsewhere.

use burn::tensor::Tensor;

use super::host::{self, exp, Pointwise};

const ALPHA: f32 = 1.673_263_2;
const LAMBDA: f32 = 1.050_701;

/// SELU of `x`.
pub fn selu(x: Tensor<2>) -> Tensor<2> {
    host::apply(x, &Selu, |x| {
        let negative = x.clone().clamp_max(0.0).exp().sub_scalar(1.0).mul_scalar(f64::from(ALPHA));
        x.clamp_min(0.0).add(negative).mul_scalar(f64::from(LAMBDA))
    })
}

pub(crate) struct Selu;

impl Pointwise for Selu {
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        // exp of min(x, 0): the positive side's exponential is never used, and must not overflow.
        let negative = LAMBDA * ALPHA * (exp(x.min(0.0)) - 1.0);
        if x > 0.0 {
            LAMBDA * x
        } else {
            negative
        }
    }

    #[inline(always)]
    fn slope(&self, x: f32) -> f32 {
        let negative = LAMBDA * ALPHA * exp(x.min(0.0));
        if x > 0.0 {
            LAMBDA
        } else {
            negative
        }
    }
}
