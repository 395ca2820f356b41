//! The Gaussian transition of an affine path from a noisier time t to a cleaner time s > t,
//! shared by the diffusion samplers (DDPM, DDIM).
//!
//! With x_t = α_t·x1 + σ_t·x0, the marginal at t given x_s is x_t = α_ts·x_s + σ_ts·z with
//! α_ts = α_t/α_s and σ²_ts = σ_t² − α_ts²·σ_s². Conditioning on x1 gives the posterior
//! q(x_s | x_t, x1) = N(μ, v) with μ = (α_ts·σ_s²/σ_t²)·x_t + (α_s·σ²_ts/σ_t²)·x1 and
//! v = σ²_ts·σ_s²/σ_t². On a discrete DDPM schedule these are DDPM's posterior mean and β̃.

use runner_sdk::{Dynamics, Handle, PluginError, Target};

use super::lincomb_nonzero;

/// Relative slack for σ²_ts below zero that is only round-off (t and s very close, or σ_s = 0).
const ROUND_OFF: f64 = 1e-12;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    pub alpha_t: f64,
    pub sigma_t: f64,
    pub alpha_s: f64,
    pub sigma_s: f64,
    /// α_t/α_s.
    pub alpha_ts: f64,
    /// σ_t² − α_ts²·σ_s², the variance the path adds from s to t.
    pub sigma2_ts: f64,
}

impl Transition {
    /// The transition from `t` to `s` (> t) on the dynamics' path. `solver` names the caller in
    /// errors: the path must have γ = 0, noise left at t (σ_t > 0), signal at s (α_s > 0) and a
    /// signal-to-noise ratio that does not fall from t to s.
    pub fn between(solver: &str, f: &dyn Dynamics, t: f64, s: f64) -> Result<Transition, PluginError> {
        let ct = f.coefficients(t);
        let cs = f.coefficients(s);
        let invalid = |message: String| PluginError::Invalid { plugin: solver.to_string(), message };
        if ct.gamma != 0.0 || cs.gamma != 0.0 {
            return Err(invalid(format!("needs a path with γ = 0, got γ = {} at t = {t}", ct.gamma.max(cs.gamma))));
        }
        if ct.sigma.is_nan() || ct.sigma <= 0.0 {
            return Err(invalid(format!("needs σ > 0 at the start of a step, got σ({t}) = {}", ct.sigma)));
        }
        if cs.alpha.is_nan() || cs.alpha <= 0.0 {
            return Err(invalid(format!("needs α > 0 at the end of a step, got α({s}) = {}", cs.alpha)));
        }
        let alpha_ts = ct.alpha / cs.alpha;
        let sigma2_ts = ct.sigma * ct.sigma - alpha_ts * alpha_ts * cs.sigma * cs.sigma;
        if sigma2_ts < -ROUND_OFF * ct.sigma * ct.sigma {
            return Err(invalid(format!(
                "the path's signal-to-noise ratio falls from t = {t} to {s} (σ²_ts = {sigma2_ts})"
            )));
        }
        Ok(Transition {
            alpha_t: ct.alpha,
            sigma_t: ct.sigma,
            alpha_s: cs.alpha,
            sigma_s: cs.sigma,
            alpha_ts,
            sigma2_ts: sigma2_ts.max(0.0),
        })
    }

    /// (coefficient on x_t, coefficient on x1) of the posterior mean.
    pub fn posterior_mean(&self) -> (f64, f64) {
        let s2t = self.sigma_t * self.sigma_t;
        (self.alpha_ts * self.sigma_s * self.sigma_s / s2t, self.alpha_s * self.sigma2_ts / s2t)
    }

    /// σ²_ts·σ_s²/σ_t², the posterior variance (DDPM's β̃).
    pub fn posterior_variance(&self) -> f64 {
        self.sigma2_ts * self.sigma_s * self.sigma_s / (self.sigma_t * self.sigma_t)
    }
}

/// One diffusion-sampler step from `x` at t: a single model evaluation x̂1, then
/// `on_x·x + on_x1·x̂1 + std·z` with fresh noise z when `std > 0`. DDPM and DDIM differ only in
/// the three coefficients.
pub fn denoising_step(
    f: &mut dyn Dynamics,
    x: Handle,
    t: f64,
    on_x: f64,
    on_x1: f64,
    std: f64,
) -> Result<Handle, PluginError> {
    let x1 = f.predict(x, t, Target::Data)?;
    let result = if std > 0.0 {
        f.noise_like(x).and_then(|z| {
            let next = lincomb_nonzero(f, &[(on_x, x), (on_x1, x1), (std, z)]);
            f.release(z);
            next
        })
    } else {
        lincomb_nonzero(f, &[(on_x, x), (on_x1, x1)])
    };
    f.release(x1);
    result
}
