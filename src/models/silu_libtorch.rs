//! SiLU on libtorch through PyTorch's own fused kernels, `silu` and `silu_backward`.
//!
//! burn's SiLU is `x * sigmoid(x)`, and on an autodiff device its backward pass is the
//! backward of a product and of a sigmoid: on libtorch that is two full-size kernels forward
//! and about six backward for every activation, where PyTorch runs one each way. In a profile
//! of the large training case (batch 4096, width 512) those extra element-wise passes took about
//! a seventh of the step. Here the forward pass is `torch.silu` and, on an autodiff device, the
//! backward pass is one `silu_backward` kernel registered as a burn autodiff operation, so the
//! graph holds one node per activation, like PyTorch's.

// burn 0.22 marks its libtorch backend deprecated (in favour of CubeCL); runner's `tch` feature
// is that backend, on purpose.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{unary, Backward, Ops, OpsKind};
use burn::backend::libtorch::TchTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, DispatchDevice, LibTorch};
use burn::tensor::Tensor;

/// SiLU of `x` when `x` lives on libtorch (CPU or CUDA, with or without autodiff); `None`
/// for every other backend, which the caller serves.
pub fn silu(x: &Tensor<2>) -> Option<Tensor<2>> {
    // Asked of the device first, so that other backends pay no failed conversion per call.
    let device = x.device();
    if !matches!(device.clone().inner().as_dispatch(), DispatchDevice::LibTorch(_)) {
        return None;
    }
    if device.is_autodiff() {
        let tracked = x.clone().try_into_primitive::<Autodiff<LibTorch>>().ok()?;
        Some(Tensor::from_primitive::<Autodiff<LibTorch>>(with_graph(tracked)))
    } else {
        let plain = x.clone().try_into_primitive::<LibTorch>().ok()?;
        Some(Tensor::from_primitive::<LibTorch>(forward(&plain)))
    }
}

fn forward(x: &TchTensor) -> TchTensor {
    TchTensor::new(x.tensor.silu())
}

/// The autodiff node: it keeps the activation's input, from which `silu_backward` computes
/// grad · σ(x)·(1 + x·(1 − σ(x))) in one pass.
#[derive(Debug)]
struct SiluBackward;

impl Backward<LibTorch, 1> for SiluBackward {
    type State = TchTensor;

    fn backward(self, ops: Ops<TchTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let input = ops.state;
        unary::<LibTorch, _>(ops.parents, ops.node, grads, |grad| {
            TchTensor::new(input.tensor.silu_backward(&grad.tensor))
        });
    }
}

fn with_graph(x: FloatTensor<Autodiff<LibTorch>>) -> FloatTensor<Autodiff<LibTorch>> {
    // Compute-bound: the node keeps its input rather than asking a checkpointer to recompute it
    // (runner trains without gradient checkpointing).
    match SiluBackward.prepare::<NoCheckpointing>([x.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let out = forward(x.primitive());
            prep.finish(x.primitive().clone(), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive())),
    }
}
