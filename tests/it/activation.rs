//! runner's host activations (src/models/host.rs): their exponential against f64; SiLU on flex
//! and on libtorch, SELU on flex: values, and the gradient on an autodiff device against the
//! exact derivative and against burn's own composite of tensor operations.

use burn::tensor::{activation, Tensor, TensorData};
use runner::models::{host, selu, silu};

/// Points across the whole range where SiLU is not yet 0 or x in f32, and beyond.
fn grid() -> Vec<f32> {
    (0..20_001).map(|i| -100.0 + 0.01 * i as f32).collect()
}

fn exact_silu(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}

fn exact_slope(x: f64) -> f64 {
    let s = 1.0 / (1.0 + (-x).exp());
    s * (1.0 + x * (1.0 - s))
}

#[test]
fn the_polynomial_exponential_is_accurate_to_a_few_ulp() {
    let mut worst = 0.0f64;
    for x in (0..175_000).map(|i| -87.0 + 0.001 * i as f32) {
        let got = f64::from(host::exp(x));
        let want = f64::from(x).exp();
        worst = worst.max((got - want).abs() / want);
    }
    eprintln!("exp: worst relative error {worst:.2e} on [-87, 88]");
    assert!(worst < 3.0 * f64::from(f32::EPSILON), "{worst}");
    assert!(host::exp(200.0).is_finite() && host::sigmoid(-200.0) < 1e-37 && host::sigmoid(200.0) == 1.0);
}

#[test]
fn silu_on_flex_has_silus_values_and_exact_gradient() {
    let device = runner::device::parse("flex").unwrap();
    let xs = grid();
    let n = xs.len();
    let values = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
    // Plain device: values.
    let plain = values(silu::silu(Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 1]), &device)));
    // Autodiff device: values and the gradient of Σ SiLU(x), next to burn's own SiLU.
    let ad = device.autodiff();
    let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 1]), &ad).require_grad();
    let y = silu::silu(x.clone());
    let grad = values(x.grad(&y.clone().sum().backward()).unwrap());
    let tracked = values(y);
    let x_burn = Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 1]), &ad).require_grad();
    let grad_burn = values(x_burn.grad(&activation::silu(x_burn.clone()).sum().backward()).unwrap());
    let (mut worst_value, mut worst_grad, mut worst_vs_burn) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let x = f64::from(xs[i]);
        // Absolute error relative to the scale of the terms the value is built from (|x|·g and
        // |c| are at most about |x|), i.e. a few ulp of x.
        let scale = x.abs().max(1.0);
        worst_value = worst_value.max((f64::from(plain[i]) - exact_silu(x)).abs() / scale);
        worst_value = worst_value.max((f64::from(tracked[i]) - exact_silu(x)).abs() / scale);
        // The derivative σ + x·σ·(1 − σ) inherits 1 − σ's absolute rounding (an ulp of 1)
        // times |x|: the same per-unit-of-|x| scale.
        worst_grad = worst_grad.max((f64::from(grad[i]) - exact_slope(x)).abs() / scale);
        worst_vs_burn = worst_vs_burn.max(f64::from(grad[i] - grad_burn[i]).abs());
    }
    eprintln!("silu: value error {worst_value:.2e}, gradient error {worst_grad:.2e} (per unit of |x|), vs burn {worst_vs_burn:.2e}");
    assert!(worst_value < 4.0 * f64::from(f32::EPSILON), "{worst_value}");
    assert!(worst_grad < 4.0 * f64::from(f32::EPSILON), "{worst_grad}");
    assert!(worst_vs_burn < 1e-6, "{worst_vs_burn}");
}

fn exact_selu(x: f64) -> (f64, f64) {
    const ALPHA: f64 = 1.673_263_242_354_377_3;
    const LAMBDA: f64 = 1.050_700_987_355_480_5;
    if x > 0.0 {
        (LAMBDA * x, LAMBDA)
    } else {
        (LAMBDA * ALPHA * x.exp_m1(), LAMBDA * ALPHA * x.exp())
    }
}

#[test]
fn selu_on_flex_has_selus_values_and_exact_gradient() {
    let device = runner::device::parse("flex").unwrap();
    let xs = grid();
    let n = xs.len();
    let values = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
    let input = |device: &burn::tensor::Device| Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 1]), device);
    let plain = values(selu::selu(input(&device)));
    let ad = device.autodiff();
    let x = input(&ad).require_grad();
    let y = selu::selu(x.clone());
    let grad = values(x.grad(&y.clone().sum().backward()).unwrap());
    let tracked = values(y);
    // burn's SELU as tensor operations, the composite the host pass replaces.
    let x_burn = input(&ad).require_grad();
    let burn_selu = (x_burn.clone().clamp_min(0.0)
        + x_burn.clone().clamp_max(0.0).exp().sub_scalar(1.0).mul_scalar(1.673_263_2))
    .mul_scalar(1.050_701);
    let grad_burn = values(x_burn.grad(&burn_selu.sum().backward()).unwrap());
    let (mut worst_value, mut worst_grad, mut worst_vs_burn) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let x = f64::from(xs[i]);
        let (value, slope) = exact_selu(x);
        // Relative to |x| (at least 1): the value is built as x·g + c from terms of that size.
        let scale = x.abs().max(1.0);
        worst_value = worst_value.max((f64::from(plain[i]) - value).abs() / scale);
        worst_value = worst_value.max((f64::from(tracked[i]) - value).abs() / scale);
        worst_grad = worst_grad.max((f64::from(grad[i]) - slope).abs());
        // Away from the kink at 0, where burn's clamps and the host's select may pick sides.
        if xs[i] != 0.0 {
            worst_vs_burn = worst_vs_burn.max(f64::from(grad[i] - grad_burn[i]).abs());
        }
    }
    eprintln!("selu: value error {worst_value:.2e} (per unit of |x|), gradient error {worst_grad:.2e}, vs burn {worst_vs_burn:.2e}");
    assert!(worst_value < 4.0 * f64::from(f32::EPSILON), "{worst_value}");
    assert!(worst_grad < 4.0 * f64::from(f32::EPSILON), "{worst_grad}");
    assert!(worst_vs_burn < 1e-6, "{worst_vs_burn}");
}

/// On libtorch runner's SiLU is PyTorch's fused kernel pair, registered as one autodiff node:
/// same values and gradient as the exact function and as burn's composite SiLU, and a model
/// built with it trains (tests/it/training.rs runs on every device).
#[cfg(feature = "tch")]
#[test]
fn silu_on_libtorch_has_silus_values_and_exact_gradient() {
    let device = runner::device::parse("libtorch").unwrap();
    let xs: Vec<f32> = (0..2_001).map(|i| -20.0 + 0.02 * i as f32).collect();
    let n = xs.len();
    let values = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
    let input = |device: &burn::tensor::Device| Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 1]), device);
    let plain = values(silu::silu(input(&device)));
    let ad = device.autodiff();
    let x = input(&ad).require_grad();
    // A weighted sum, so that the incoming gradient is not all ones.
    let weights =
        Tensor::<2>::from_data(TensorData::new((0..n).map(|i| 1.0 + (i % 7) as f32).collect::<Vec<_>>(), [n, 1]), &ad);
    let y = silu::silu(x.clone());
    let grad = values(x.grad(&(y.clone() * weights.clone()).sum().backward()).unwrap());
    let tracked = values(y);
    let x_burn = input(&ad).require_grad();
    let grad_burn = values(x_burn.grad(&(activation::silu(x_burn.clone()) * weights).sum().backward()).unwrap());
    for i in 0..n {
        let (x, w) = (f64::from(xs[i]), 1.0 + (i % 7) as f64);
        let scale = x.abs().max(1.0);
        for got in [plain[i], tracked[i]] {
            assert!(
                (f64::from(got) - exact_silu(x)).abs() < 4.0 * f64::from(f32::EPSILON) * scale,
                "silu({x}) = {got}"
            );
        }
        let want = w * exact_slope(x);
        assert!(
            (f64::from(grad[i]) - want).abs() < 8.0 * f64::from(f32::EPSILON) * scale * w,
            "slope at {x}: {} vs {want}",
            grad[i]
        );
        assert!(
            (grad[i] - grad_burn[i]).abs() < 1e-5 * w as f32,
            "slope at {x}: {} vs burn's {}",
            grad[i],
            grad_burn[i]
        );
    }
}
