//! A trained network with its weights fixed, evaluated on the host: what a solver calls a
//! hundred times per sample on the flex backend.
//!
//! Through burn every evaluation is a dozen tensor operations, each allocating its result and
//! dispatching through the backend, and every matmul splits its rows across the threads and joins
//! them again, once per layer. With the weights fixed none of that is needed: the rows are cut
//! into blocks, each thread carries a block through every layer in buffers it keeps between
//! calls, and each layer is one call of the same matrix kernel flex uses, accumulating onto the
//! bias, followed by the activation in place. The time features are the same for every row of
//! an evaluation, so they fold into the first layer's bias once per call.

use std::cell::RefCell;

use rayon::prelude::*;

use super::host::{exp, Pointwise};
use super::selu::Selu;
use super::silu::Silu;
use super::{Activation, Mlp, TimeFeatures};
use crate::simd::vectorised;

/// Rows per block: the unit of work of one thread. Fixed, so that every row meets the same
/// kernel calls whatever the thread count (results do not depend on it), and small enough that
/// a block's activations stay in a core's L2 cache at width 512.
const BLOCK: usize = 256;

/// Layers with at most this many inputs or outputs (the first and last of a network on 2-D data)
/// skip the matrix kernel: its blocking is built for wide matrices, and on these it runs at a
/// tenth of its rate, slower than a plain vectorised loop.
const NARROW: usize = 8;

/// One linear layer's values on the host, `weight` row-major [fan_in, fan_out] as burn stores it.
#[derive(Debug, Clone)]
struct Dense {
    weight: Vec<f32>,
    /// The weight's columns, row-major [fan_out, fan_in], for a layer with few outputs (each
    /// output is then one dot product per row); empty otherwise.
    columns: Vec<f32>,
    bias: Vec<f32>,
    fan_in: usize,
    fan_out: usize,
}

/// A host copy of an [`Mlp`]'s weights, evaluated without autodiff, allocation or dispatch.
#[derive(Debug, Clone)]
pub struct FrozenMlp {
    /// Columns of the data.
    dim: usize,
    /// The layers; the first takes only the `dim` data columns (its time rows are `time_weight`).
    layers: Vec<Dense>,
    /// The first layer's rows for the time features, row-major [time.width(), width].
    time_weight: Vec<f32>,
    activation: Activation,
    /// ω of Fourier time features (none for raw time): the features are t, then sin(ω t) for
    /// each ω, then cos(ω t), as [`TimeFeatures::embed`] lays them out.
    omegas: Vec<f32>,
}

/// A thread's buffers for the activations of one block, kept between calls.
#[derive(Default)]
struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl FrozenMlp {
    /// Copy `mlp`'s weights to the host (once per sampling run).
    pub fn new(mlp: &Mlp) -> FrozenMlp {
        let host = |t: burn::tensor::Tensor<1>| t.into_data().try_into_vec::<f32>().expect("float parameters are f32");
        let mut layers: Vec<Dense> = mlp
            .layers()
            .iter()
            .map(|layer| {
                let [fan_in, fan_out] = layer.weight.dims();
                let weight = host(layer.weight.val().reshape([fan_in * fan_out]));
                let bias = layer.bias.as_ref().map(|b| host(b.val())).unwrap_or_else(|| vec![0.0; fan_out]);
                Dense { weight, columns: Vec::new(), bias, fan_in, fan_out }
            })
            .collect();
        let time = mlp.time_features().clone();
        let first = &mut layers[0];
        let dim = first.fan_in - time.width();
        let time_weight = first.weight.split_off(dim * first.fan_out);
        first.fan_in = dim;
        for layer in &mut layers {
            if layer.fan_out <= NARROW && layer.fan_in > NARROW {
                let (k, n) = (layer.fan_in, layer.fan_out);
                layer.columns =
                    (0..n).flat_map(|j| (0..k).map(move |i| (i, j))).map(|(i, j)| layer.weight[i * n + j]).collect();
            }
        }
        let omegas = match time {
            TimeFeatures::Raw => Vec::new(),
            TimeFeatures::Fourier { frequencies } => TimeFeatures::omegas(frequencies),
        };
        FrozenMlp { dim, layers, time_weight, activation: mlp.activation(), omegas }
    }

    /// Columns of the data the network takes and predicts.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The prediction at the row-major states `x` ([n, dim]) and time `t`, written to `out`
    /// ([n, dim]). `bias` is the caller's buffer for the first layer's bias at `t`.
    pub fn forward(&self, x: &[f32], t: f32, out: &mut [f32], bias: &mut Vec<f32>) {
        debug_assert_eq!(x.len(), out.len());
        self.first_bias(t, bias);
        let bias = &bias[..];
        let dim = self.dim;
        out.par_chunks_mut(BLOCK * dim)
            .zip(x.par_chunks(BLOCK * dim))
            .for_each(|(out, x)| SCRATCH.with(|scratch| self.block(x, out, bias, &mut scratch.borrow_mut())));
    }

    /// b₀ + Σ_f feature_f(t)·W₀[dim + f]: the first layer's bias with the time features folded in.
    fn first_bias(&self, t: f32, bias: &mut Vec<f32>) {
        let first = &self.layers[0];
        bias.clear();
        bias.extend_from_slice(&first.bias);
        let mut add = |feature: f32, row: usize| {
            let w = &self.time_weight[row * first.fan_out..(row + 1) * first.fan_out];
            bias.iter_mut().zip(w).for_each(|(b, w)| *b += feature * w);
        };
        add(t, 0);
        let frequencies = self.omegas.len();
        for (k, &omega) in self.omegas.iter().enumerate() {
            let phase = t * omega;
            add(phase.sin(), 1 + k);
            add(phase.cos(), 1 + frequencies + k);
        }
    }

    /// One block of rows through every layer: the hidden layers alternate between the thread's
    /// two buffers, the last writes to `out`.
    fn block(&self, x: &[f32], out: &mut [f32], first_bias: &[f32], scratch: &mut Scratch) {
        let rows = x.len() / self.dim;
        let (last, hidden) = self.layers.split_last().expect("an MLP has at least two layers");
        let (mut current, mut next) = (std::mem::take(&mut scratch.a), std::mem::take(&mut scratch.b));
        for (i, layer) in hidden.iter().enumerate() {
            next.resize(rows * layer.fan_out, 0.0);
            let input = if i == 0 { x } else { &current[..rows * layer.fan_in] };
            layer.apply(input, &mut next[..rows * layer.fan_out], if i == 0 { first_bias } else { &layer.bias });
            activate(self.activation, &mut next[..rows * layer.fan_out]);
            std::mem::swap(&mut current, &mut next);
        }
        let input = if hidden.is_empty() { x } else { &current[..rows * last.fan_in] };
        last.apply(input, out, if hidden.is_empty() { first_bias } else { &last.bias });
        (scratch.a, scratch.b) = (current, next);
    }
}

impl Dense {
    /// dst ← bias + input · weight, row-major, on one thread: the bias is copied into every row,
    /// then the kernel accumulates the product onto it.
    fn apply(&self, input: &[f32], dst: &mut [f32], bias: &[f32]) {
        let (k, n) = (self.fan_in, self.fan_out);
        let rows = dst.len() / n;
        assert!(input.len() == rows * k && dst.len() == rows * n && self.weight.len() == k * n && bias.len() == n);
        for row in dst.chunks_exact_mut(n) {
            row.copy_from_slice(bias);
        }
        if k <= NARROW {
            // Each row of the output is the bias plus k rows of the weight, scaled.
            let weight = &self.weight;
            return vectorised(|| {
                for (row, x) in dst.chunks_exact_mut(n).zip(input.chunks_exact(k)) {
                    for (&a, w) in x.iter().zip(weight.chunks_exact(n)) {
                        row.iter_mut().zip(w).for_each(|(d, &w)| *d += a * w);
                    }
                }
            });
        }
        if !self.columns.is_empty() {
            let columns = &self.columns;
            return vectorised(|| {
                for (row, x) in dst.chunks_exact_mut(n).zip(input.chunks_exact(k)) {
                    for (d, column) in row.iter_mut().zip(columns.chunks_exact(k)) {
                        *d += dot(x, column);
                    }
                }
            });
        }
        // SAFETY: the slices hold rows × k, k × n and rows × n values (checked above), with
        // unit column strides and row strides k, n and n.
        unsafe {
            gemm::gemm(
                rows,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                true,
                input.as_ptr(),
                1,
                k as isize,
                self.weight.as_ptr(),
                1,
                n as isize,
                1.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// Σ aᵢ·bᵢ in 16 interleaved partial sums (which the compiler keeps in vector registers), added
/// pairwise at the end: a fixed order, so the same inputs give the same sum.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let (a_body, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            acc[l] += acc[l + width];
        }
    }
    acc[0] + a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum::<f32>()
}

/// The activation applied in place, in one vectorised pass.
fn activate(activation: Activation, values: &mut [f32]) {
    fn each<F: Pointwise>(f: &F, values: &mut [f32]) {
        vectorised(|| values.iter_mut().for_each(|v| *v = f.value(*v)));
    }
    match activation {
        Activation::Silu => each(&Silu, values),
        Activation::Selu => each(&Selu, values),
        Activation::Relu => each(&Relu, values),
        Activation::Tanh => each(&Tanh, values),
        Activation::Gelu => each(&Gelu, values),
    }
}

struct Relu;

impl Pointwise for Relu {
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        x.max(0.0)
    }
    #[inline(always)]
    fn slope(&self, x: f32) -> f32 {
        if x > 0.0 {
            1.0
        } else {
            0.0
        }
    }
}

/// tanh x = 1 − 2/(e^{2x} + 1): exact at the tails (±1), about 1e-7 absolute near 0.
struct Tanh;

impl Pointwise for Tanh {
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        1.0 - 2.0 / (exp(2.0 * x) + 1.0)
    }
    #[inline(always)]
    fn slope(&self, x: f32) -> f32 {
        let y = self.value(x);
        1.0 - y * y
    }
}

/// GELU, x·Φ(x) = x·(1 + erf(x/√2))/2 (the exact form burn's `gelu` computes), with erf from
/// Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
struct Gelu;

impl Pointwise for Gelu {
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
    }
    #[inline(always)]
    fn slope(&self, x: f32) -> f32 {
        let density = exp(-0.5 * x * x) * 0.398_942_3;
        0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)) + x * density
    }
}

#[inline(always)]
fn erf(z: f32) -> f32 {
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_72) * t + 0.254_829_6) * t;
    (1.0 - poly * exp(-a * a)).copysign(z)
}
