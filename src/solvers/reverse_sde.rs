//! The reverse-time SDE of an affine path, shared by `euler-maruyama` and `sde-heun`.
//!
//! For any diffusion coefficient g(t) ≥ 0, dx = [v(x, t) + ½g²·∇log p_t(x)]dt + g dW has the
//! marginals of the probability-flow ODE dx = v dt (the extra drift ½g²·∇log p exactly cancels
//! the diffusion's ½g²Δp in the Fokker–Planck equation), so every g samples the same
//! distribution: g = 0 is the ODE, larger g forgets discretisation and model errors faster.
//!
//! Both v and the score come from one data prediction x̂1: with x̂0 = (x − α·x̂1)/σ,
//! v = α'·x̂1 + σ'·x̂0 and ∇log p = −x̂0/σ, so the drift is `on_x·x + on_x1·x̂1` with
//! on_x = σ'/σ − ½g²/σ² and on_x1 = α' − σ'·α/σ + ½g²·α/σ². Both are singular where σ = 0
//! (t = 1 on most paths): end the grid before 1 or take the last step with `last_step = denoise`.

use runner_sdk::{Dynamics, Handle, ParamSpec, Params, PluginError, StepContext, Target};

/// The choice of g(t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Diffusion {
    /// g = scale.
    Constant,
    /// g = scale·σ(t).
    Sigma,
    /// The forward diffusion's own g (scaled): the SDE a diffusion model is trained on. In
    /// diffusion time τ = 1 − t, x = α·x1 + σ·z solves dx = (d log α/dτ)·x dτ + g dW with
    /// g² = dσ²/dτ − 2σ²·d log α/dτ; in t that is g² = 2σ·(σ·α'/α − σ'), ≥ 0 because σ/α falls
    /// with t. Infinite where α = 0 (t = 0 on `cond-ot`).
    Forward,
    /// g = 0: the probability-flow ODE.
    Zero,
}

impl Diffusion {
    pub fn from_name(name: &str) -> Option<Diffusion> {
        match name {
            "constant" => Some(Diffusion::Constant),
            "sigma" => Some(Diffusion::Sigma),
            "diffusion" => Some(Diffusion::Forward),
            "zero" => Some(Diffusion::Zero),
            _ => None,
        }
    }
}

/// What the last step of the grid does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastStep {
    /// An ordinary step.
    None,
    /// Return the model's data prediction x̂1 at the last step's start (Tweedie's denoising
    /// step), one evaluation and no noise: the usual end of score-SDE samplers, where the drift
    /// to σ = 0 is singular.
    Denoise,
}

/// The reverse SDE with a chosen g.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverseSde {
    pub diffusion: Diffusion,
    pub scale: f64,
    pub last_step: LastStep,
}

/// The drift as a combination of x and x̂1, and g, at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    pub on_x: f64,
    pub on_x1: f64,
    pub g: f64,
}

impl ReverseSde {
    pub fn g(&self, f: &dyn Dynamics, t: f64) -> f64 {
        let c = f.coefficients(t);
        match self.diffusion {
            Diffusion::Constant => self.scale,
            Diffusion::Sigma => self.scale * c.sigma,
            Diffusion::Forward => {
                self.scale * (2.0 * c.sigma * (c.sigma * c.d_alpha / c.alpha - c.d_sigma)).max(0.0).sqrt()
            }
            Diffusion::Zero => 0.0,
        }
    }

    /// The drift's coefficients at t; an error naming `solver` where they are not finite.
    pub fn drift(&self, solver: &str, f: &dyn Dynamics, t: f64) -> Result<Drift, PluginError> {
        let c = f.coefficients(t);
        let g = self.g(f, t);
        let half_g2 = 0.5 * g * g;
        let s2 = c.sigma * c.sigma;
        let d = Drift {
            on_x: c.d_sigma / c.sigma - half_g2 / s2,
            on_x1: c.d_alpha - c.d_sigma * c.alpha / c.sigma + half_g2 * c.alpha / s2,
            g,
        };
        if c.gamma != 0.0 || !(d.on_x.is_finite() && d.on_x1.is_finite() && g.is_finite()) {
            return Err(PluginError::Invalid {
                plugin: solver.to_string(),
                message: format!(
                    "the reverse SDE is singular at t = {t} (α = {}, σ = {}, γ = {}, g = {g}); \
                     end the grid before σ = 0 or use last_step = \"denoise\", start it where α > 0 \
                     for diffusion = \"diffusion\"",
                    c.alpha, c.sigma, c.gamma
                ),
            });
        }
        Ok(d)
    }

    pub fn stochastic(&self) -> bool {
        self.diffusion != Diffusion::Zero && self.scale != 0.0
    }

    /// Whether this step is the denoising last step.
    pub fn denoises(&self, ctx: &dyn StepContext) -> bool {
        self.last_step == LastStep::Denoise && ctx.is_last()
    }
}

/// The denoising step: x̂1 at (x, t) is the result.
pub fn denoise(f: &mut dyn Dynamics, x: Handle, t: f64) -> Result<Handle, PluginError> {
    f.predict(x, t, Target::Data)
}

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::string(
        "diffusion",
        "sigma",
        "g(t): \"constant\" (scale), \"sigma\" (scale·σ), \"diffusion\" (the forward SDE's, g² = 2σ(σα'/α − σ')), \"zero\" (the ODE)",
    ),
    ParamSpec::float("scale", 1.0, "multiplies g"),
    ParamSpec::string("last_step", "denoise", "\"none\" or \"denoise\" (the last step returns x̂1)"),
];

pub fn from_params(p: &Params) -> Result<ReverseSde, PluginError> {
    let name = p.string("diffusion")?;
    let diffusion = Diffusion::from_name(name).ok_or_else(|| {
        p.invalid("diffusion", format!("must be \"constant\", \"sigma\", \"diffusion\" or \"zero\", got \"{name}\""))
    })?;
    let scale = p.float("scale")?;
    if !(scale >= 0.0 && scale.is_finite()) {
        return Err(p.invalid("scale", format!("must be ≥ 0 and finite, got {scale}")));
    }
    let last_step = match p.string("last_step")? {
        "none" => LastStep::None,
        "denoise" => LastStep::Denoise,
        other => return Err(p.invalid("last_step", format!("must be \"none\" or \"denoise\", got \"{other}\""))),
    };
    Ok(ReverseSde { diffusion, scale, last_step })
}
