//! Schedules: the scalar coefficient functions of a probability path.

/// The coefficients of the path at one time t:
/// `x_t = alpha·x1 + sigma·x0 + gamma·ε` and `u_t = d_alpha·x1 + d_sigma·x0 + d_gamma·ε`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Coefficients {
    pub alpha: f64,
    pub sigma: f64,
    pub gamma: f64,
    pub d_alpha: f64,
    pub d_sigma: f64,
    pub d_gamma: f64,
}

impl Coefficients {
    /// What a failed coefficients call gives: NaN everywhere, which every consumer of a path
    /// refuses.
    pub const NAN: Coefficients = Coefficients {
        alpha: f64::NAN,
        sigma: f64::NAN,
        gamma: f64::NAN,
        d_alpha: f64::NAN,
        d_sigma: f64::NAN,
        d_gamma: f64::NAN,
    };
}

/// A schedule maps t ∈ [0, 1] (0 = noise, 1 = data) to path coefficients. Schedules from the
/// diffusion literature convert their own time (τ = 1 − t) inside `coefficients`, nowhere else.
pub trait Schedule: Send + Sync {
    fn coefficients(&self, t: f64) -> Coefficients;

    /// The coefficients at every time of `t`, into `out` (of the same length). Training asks
    /// for a whole batch of times at once, which a loaded library answers in one call.
    fn coefficients_batch(&self, t: &[f64], out: &mut [Coefficients]) {
        for (o, &t) in out.iter_mut().zip(t) {
            *o = self.coefficients(t);
        }
    }
}
