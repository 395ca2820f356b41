//! `dpmpp-2m`: DPM-Solver++(2M) (Lu et al. 2022), the second-order multistep solver of the
//! probability-flow ODE in data prediction, with time λ = log(α/σ).
//!
//! Exactly integrating the linear part, a step from t to s with h = λ_s − λ_t is
//! x_s = (σ_s/σ_t)·x + α_s·(1 − e^{−h})·D, and α_s·e^{−h} = σ_s·α_t/σ_t keeps it finite at
//! σ_s = 0. First order takes D = x̂1(t) (that is DDIM); 2M extrapolates with the previous
//! step's prediction, D = (1 + 1/(2r))·x̂1(t) − 1/(2r)·x̂1(t_prev), r = h_prev/h. The first step
//! has no previous prediction, and the last step (as with the solver's `lower_order_final`)
//! and any step to σ_s = 0 (h = ∞) fall back to first order. The previous prediction lives
//! in the step context's history.

use runner_sdk::{
    Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext, Target,
};

use super::lincomb_nonzero;
use super::posterior::Transition;
use crate::registry::Entry;

const NAME: &str = "dpmpp-2m";

#[derive(Debug, Clone, Copy, Default)]
pub struct DpmPp2m;

/// λ = log(α/σ) at t.
fn lambda(f: &dyn Dynamics, t: f64) -> f64 {
    let c = f.coefficients(t);
    c.alpha.ln() - c.sigma.ln()
}

impl Solver for DpmPp2m {
    fn kind(&self) -> SolverKind {
        SolverKind::Deterministic
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        let tr = Transition::between(NAME, f, t, t_next)?;
        let on_x = tr.sigma_s / tr.sigma_t;
        // α_s·(1 − e^{−h}).
        let on_d = tr.alpha_s - tr.sigma_s * tr.alpha_t / tr.sigma_t;
        let x1 = f.predict(x, t, Target::Data)?;
        let previous = ctx.history().iter().rev().find(|r| r.target == Target::Data && r.t < t).copied();
        let (lt, ls) = (lambda(f, t), lambda(f, t_next));
        let h = ls - lt;
        let r = previous.map(|p| (lt - lambda(f, p.t)) / h);
        let result = match (previous, r) {
            (Some(p), Some(r)) if !ctx.is_last() && h.is_finite() && r.is_finite() && r > 0.0 => {
                let k = 0.5 / r;
                lincomb_nonzero(f, &[(on_x, x), (on_d * (1.0 + k), x1), (-on_d * k, p.value)])
            }
            _ => lincomb_nonzero(f, &[(on_x, x), (on_d, x1)]),
        };
        // Only this step's prediction is needed next.
        ctx.retain(&|_| false);
        ctx.remember(t, Target::Data, x1);
        result
    }
}

const PARAMS: &[ParamSpec] = &[];

fn make(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(DpmPp2m))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "DPM-Solver++(2M): second-order multistep in log(α/σ) on data predictions, 1 evaluation per step",
        PARAMS,
    ),
    make,
};
