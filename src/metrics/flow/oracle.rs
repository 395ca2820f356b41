//! The oracle as a [`Field`]: its velocity and the divergence of it in closed form, in f64, so
//! that likelihoods of an exact model are exact up to the solver's error.
//!
//! With the notation of [`crate::models::Oracle`] (component k: x_t ~ N(α·μ_k, v_k·I),
//! v_k = α²s_k² + σ², posterior weight r_k), write e_k = x − α·μ_k and g_k = −e_k/v_k (the score
//! of component k). Component k's velocity is affine in x:
//!
//!   u_k = α'·μ_k + c_k·e_k,   c_k = (α'·α·s_k² + σ'·σ)/v_k,
//!
//! and v = Σ_k r_k·u_k with ∇r_k = r_k·(g_k − ḡ), ḡ = Σ_k r_k·g_k. So
//!
//!   ∂v/∂x = Σ_k r_k·c_k·I + Σ_k r_k·u_k·(g_k − ḡ)ᵀ,
//!   div v = dim·Σ_k r_k·c_k + Σ_k r_k·⟨u_k, g_k⟩ − ⟨v, ḡ⟩,
//!   zᵀ(∂v/∂x)z = ‖z‖²·Σ_k r_k·c_k + Σ_k r_k·⟨z, u_k⟩⟨z, g_k⟩ − ⟨z, v⟩⟨z, ḡ⟩.

use std::sync::Arc;

use runner_sdk::Schedule;

use super::field::{Field, FieldError};
use crate::models::Oracle;

/// The exact model as a velocity field.
pub struct OracleField {
    oracle: Oracle,
    schedule: Arc<dyn Schedule>,
}

impl OracleField {
    /// `schedule` must be the one the oracle was built on.
    pub fn new(oracle: Oracle, schedule: Arc<dyn Schedule>) -> OracleField {
        OracleField { oracle, schedule }
    }
}

impl Field for OracleField {
    fn dim(&self) -> usize {
        self.oracle.dim()
    }

    fn velocity(&mut self, x: &[f64], t: f64) -> Result<Vec<f64>, FieldError> {
        Ok(self.oracle.velocity(x, t))
    }

    fn velocity_divergence(
        &mut self,
        x: &[f64],
        t: f64,
        probe: Option<&[f64]>,
    ) -> Result<(Vec<f64>, Vec<f64>), FieldError> {
        if let Some(z) = probe {
            if z.len() != x.len() {
                return Err(FieldError::ProbeLength { got: z.len(), want: x.len() });
            }
        }
        let c = self.schedule.coefficients(t);
        let mixture = self.oracle.mixture();
        let d = mixture.dim;
        let comps = &mixture.components;
        let variances: Vec<f64> = comps.iter().map(|k| c.alpha * c.alpha * k.std * k.std + c.sigma * c.sigma).collect();
        let slopes: Vec<f64> = comps
            .iter()
            .zip(&variances)
            .map(|(k, &v)| (c.d_alpha * c.alpha * k.std * k.std + c.d_sigma * c.sigma) / v)
            .collect();
        let offsets: Vec<f64> =
            comps.iter().zip(&variances).map(|(k, &v)| k.weight.ln() - 0.5 * d as f64 * v.ln()).collect();
        let mut velocity = vec![0.0; x.len()];
        let mut divergence = vec![0.0; x.len() / d];
        let (mut log_r, mut r) = (vec![0.0; comps.len()], vec![0.0; comps.len()]);
        let (mut u, mut g) = (vec![0.0; comps.len() * d], vec![0.0; comps.len() * d]);
        for (i, point) in x.chunks_exact(d).enumerate() {
            for (k, comp) in comps.iter().enumerate() {
                let mut sq = 0.0;
                for j in 0..d {
                    let e = point[j] - c.alpha * comp.mean[j];
                    sq += e * e;
                    u[k * d + j] = c.d_alpha * comp.mean[j] + slopes[k] * e;
                    g[k * d + j] = -e / variances[k];
                }
                log_r[k] = offsets[k] - 0.5 * sq / variances[k];
            }
            // Normalized in log space, as the oracle does: far out the densities underflow.
            let top = log_r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let norm: f64 = log_r.iter().map(|&l| (l - top).exp()).sum();
            r.iter_mut().zip(&log_r).for_each(|(rk, &l)| *rk = (l - top).exp() / norm);
            let v = &mut velocity[i * d..(i + 1) * d];
            let mut g_bar = vec![0.0; d];
            let mut spread = 0.0;
            for k in 0..comps.len() {
                spread += r[k] * slopes[k];
                for j in 0..d {
                    v[j] += r[k] * u[k * d + j];
                    g_bar[j] += r[k] * g[k * d + j];
                }
            }
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
            divergence[i] = match probe {
                None => {
                    let mut div = d as f64 * spread - dot(&*v, &g_bar);
                    for k in 0..comps.len() {
                        div += r[k] * dot(&u[k * d..(k + 1) * d], &g[k * d..(k + 1) * d]);
                    }
                    div
                }
                Some(z) => {
                    let z = &z[i * d..(i + 1) * d];
                    let mut est = dot(z, z) * spread - dot(z, &*v) * dot(z, &g_bar);
                    for k in 0..comps.len() {
                        est += r[k] * dot(z, &u[k * d..(k + 1) * d]) * dot(z, &g[k * d..(k + 1) * d]);
                    }
                    est
                }
            };
        }
        Ok((velocity, divergence))
    }
}
