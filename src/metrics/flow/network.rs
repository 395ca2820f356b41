//! A trained network as a [`Field`]: its prediction converted to the velocity, and the
//! divergence of that velocity by burn's autodiff.
//!
//! The points of a batch are independent, so ∂v_k/∂x_j vanishes between different points and
//! one backward pass of Σ_points w·v gives every point's vector–Jacobian product wᵀ(∂v/∂x) at
//! once. Hutchinson's estimate takes w = z. The exact trace takes the batch `dim` times: copy k
//! carries w = e_k, the k-th unit vector, so its gradient's k-th column is ∂v_k/∂x_k, and the
//! trace is the sum over copies: one forward and one backward pass over `dim·n` rows.
//!
//! The network predicts its native target P; the velocity is a·x + b·P with the scalars of
//! [`Conversion::between`](runner_sdk::Conversion::between), so its divergence is
//! a·dim + b·div P (and zᵀ(a·I)z = a·‖z‖² for the estimate): the derivative is taken of the
//! network alone, in f32, and combined in f64.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use runner_sdk::{Schedule, Target};

use super::field::{to_velocity, Field, FieldError};
use crate::models::Mlp;

/// A network on its device, as a velocity field.
pub struct NetworkField {
    mlp: Mlp,
    schedule: Arc<dyn Schedule>,
    native: Target,
    device: Device,
    dim: usize,
}

impl NetworkField {
    /// `mlp` predicts `native` on `schedule`, for `dim`-dimensional points; it runs on `device`
    /// (plain: the gradient is taken on its autodiff wrapping, with the weights as constants).
    pub fn new(mlp: Mlp, schedule: Arc<dyn Schedule>, native: Target, device: Device, dim: usize) -> NetworkField {
        NetworkField { mlp, schedule, native, device, dim }
    }

    /// The network's raw prediction at `x` (n × dim), on the host.
    fn predict(&self, x: &[f64], t: f64) -> Result<Vec<f32>, FieldError> {
        let n = x.len() / self.dim;
        let xs = upload(x.iter().map(|&v| v as f32).collect(), n, self.dim, &self.device);
        let ts = Tensor::<2>::full([n, 1], t as f32, &self.device);
        download(self.mlp.forward(xs, ts))
    }

    /// The prediction P at `x` and, per point, Σ_rows wᵀ(∂P/∂x) over `copies` stacked copies of
    /// the batch, with the weights `w` given for all `copies·n` rows.
    fn vjp_trace(&self, x: &[f64], t: f64, copies: usize, w: Vec<f32>) -> Result<(Vec<f32>, Vec<f64>), FieldError> {
        let (n, d) = (x.len() / self.dim, self.dim);
        let rows = copies * n;
        let ad = self.device.clone().autodiff();
        let stacked: Vec<f32> = (0..copies).flat_map(|_| x.iter().map(|&v| v as f32)).collect();
        let xs = upload(stacked, rows, d, &ad).require_grad();
        let ts = Tensor::<2>::full([rows, 1], t as f32, &ad);
        let out = self.mlp.forward(xs.clone(), ts);
        let values = download(out.clone().inner())?;
        let weights = upload(w.clone(), rows, d, &ad);
        let grads = (out * weights).sum().backward();
        let grad = xs.grad(&grads).ok_or_else(|| FieldError::Backend("no gradient reached the input".into()))?;
        let grad = download(grad)?;
        let mut trace = vec![0.0f64; n];
        for (row, (g, wr)) in grad.chunks_exact(d).zip(w.chunks_exact(d)).enumerate() {
            trace[row % n] += g.iter().zip(wr).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum::<f64>();
        }
        Ok((values[..n * d].to_vec(), trace))
    }
}

impl Field for NetworkField {
    fn dim(&self) -> usize {
        self.dim
    }

    fn velocity(&mut self, x: &[f64], t: f64) -> Result<Vec<f64>, FieldError> {
        let conversion = to_velocity(self.native, self.schedule.as_ref(), t)?;
        let p = self.predict(x, t)?;
        Ok(x.iter().zip(&p).map(|(&xi, &pi)| conversion.apply(xi, f64::from(pi))).collect())
    }

    fn velocity_divergence(
        &mut self,
        x: &[f64],
        t: f64,
        probe: Option<&[f64]>,
    ) -> Result<(Vec<f64>, Vec<f64>), FieldError> {
        let conversion = to_velocity(self.native, self.schedule.as_ref(), t)?;
        let (n, d) = (x.len() / self.dim, self.dim);
        let (p, div_p, x_trace) = match probe {
            None => {
                // Copy k of the batch weights column k only.
                let w: Vec<f32> = (0..d * n * d).map(|i| if (i / d) / n == i % d { 1.0 } else { 0.0 }).collect();
                let (p, trace) = self.vjp_trace(x, t, d, w)?;
                (p, trace, vec![d as f64; n])
            }
            Some(z) => {
                if z.len() != x.len() {
                    return Err(FieldError::ProbeLength { got: z.len(), want: x.len() });
                }
                let (p, estimate) = self.vjp_trace(x, t, 1, z.iter().map(|&v| v as f32).collect())?;
                (p, estimate, z.chunks_exact(d).map(|zi| zi.iter().map(|v| v * v).sum()).collect())
            }
        };
        let v = x.iter().zip(&p).map(|(&xi, &pi)| conversion.apply(xi, f64::from(pi))).collect();
        let div =
            div_p.iter().zip(&x_trace).map(|(&dp, &xt)| conversion.pred_coef * dp + conversion.x_coef * xt).collect();
        Ok((v, div))
    }
}

fn upload(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), device)
}

fn download(t: Tensor<2>) -> Result<Vec<f32>, FieldError> {
    t.into_data().try_into_vec::<f32>().map_err(|e| FieldError::Backend(format!("{e:?}")))
}
