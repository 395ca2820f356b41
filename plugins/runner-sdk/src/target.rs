//! Prediction targets (parameterizations) and the closed-form conversions between them.
//!
//! For an affine path `x = α·x1 + σ·x0` (γ = 0) every target is a fixed linear combination of
//! the data `x1` and the noise `x0`:
//!
//! | target   | c1 (on x1) | c0 (on x0) |
//! |----------|-----------|-----------|
//! | velocity | α'        | σ'        |
//! | epsilon  | 0         | 1         |
//! | data     | 1         | 0         |
//! | score    | 0         | −1/σ      |
//!
//! Given a prediction `P = p1·x1 + p0·x0` and the state `x`, the pair (x1, x0) is recovered
//! by solving a 2×2 system with determinant `α·p0 − σ·p1`, so any target converts to any other
//! as `Q = a·x + b·P`. The conversion is singular only where the source target carries no
//! information about x1 (an ε-prediction at α = 0) or where the asked target is undefined
//! (the score at σ = 0).

use crate::schedule::Coefficients;

/// What a network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    Velocity,
    Epsilon,
    Data,
    Score,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Velocity, Target::Epsilon, Target::Data, Target::Score];

    pub fn name(self) -> &'static str {
        match self {
            Target::Velocity => "velocity",
            Target::Epsilon => "epsilon",
            Target::Data => "data",
            Target::Score => "score",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn summary(self) -> &'static str {
        match self {
            Target::Velocity => "the conditional velocity u_t = α'·x1 + σ'·x0 (flow matching)",
            Target::Epsilon => "the noise x0 (DDPM's ε-prediction)",
            Target::Data => "the data x1 (x-prediction)",
            Target::Score => "the score ∇log p_t(x) = −x0/σ",
        }
    }

    /// (c1, c0): this target as `c1·x1 + c0·x0` at coefficients `c`.
    pub fn components(self, c: &Coefficients) -> (f64, f64) {
        match self {
            Target::Velocity => (c.d_alpha, c.d_sigma),
            Target::Epsilon => (0.0, 1.0),
            Target::Data => (1.0, 0.0),
            Target::Score => (0.0, -1.0 / c.sigma),
        }
    }
}

/// `to = x_coef·x + pred_coef·from`: the conversion of a prediction between two targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    pub x_coef: f64,
    pub pred_coef: f64,
}

impl Conversion {
    /// The conversion from target `from` to target `to` at path coefficients `c`.
    /// Non-finite coefficients mean the conversion is singular at this t, or undefined: where
    /// γ ≠ 0 the state x = α·x1 + σ·x0 + γ·ε has a third unknown, and one prediction no longer
    /// determines x1 and x0, so every conversion between different targets is NaN there.
    pub fn between(from: Target, to: Target, c: &Coefficients) -> Conversion {
        if from == to {
            return Conversion { x_coef: 0.0, pred_coef: 1.0 };
        }
        if c.gamma != 0.0 {
            return Conversion { x_coef: f64::NAN, pred_coef: f64::NAN };
        }
        let (p1, p0) = from.components(c);
        let (q1, q0) = to.components(c);
        let det = c.alpha * p0 - c.sigma * p1;
        Conversion { x_coef: (q1 * p0 - q0 * p1) / det, pred_coef: (q0 * c.alpha - q1 * c.sigma) / det }
    }

    pub fn apply(&self, x: f64, pred: f64) -> f64 {
        self.x_coef * x + self.pred_coef * pred
    }

    pub fn is_finite(&self) -> bool {
        self.x_coef.is_finite() && self.pred_coef.is_finite()
    }
}
