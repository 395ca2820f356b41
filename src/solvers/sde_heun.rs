//! `sde-heun`: the stochastic Heun scheme for SDEs with additive noise (g depends on t only, as
//! in the reverse SDE of [`super::reverse_sde`]): a predictor x̃ = x + h·a(x, t) + g(t)·ΔW and
//! the corrector x' = x + ½h·(a(x, t) + a(x̃, t')) + ½(g(t) + g(t'))·ΔW with the same ΔW = √h·z.
//! For additive noise it has strong order 1 and, with g = 0, is Heun's second-order ODE method.
//! Two evaluations per step, the second at t_next; with `last_step = denoise` the last step is
//! one evaluation, so NFE = 2·steps − 1.

use runner_sdk::{
    Dynamics, Handle, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext, Target,
};

use super::lincomb_nonzero;
use super::reverse_sde::{self, LastStep, ReverseSde};
use crate::registry::Entry;

const NAME: &str = "sde-heun";

#[derive(Debug, Clone, Copy)]
pub struct SdeHeun {
    pub sde: ReverseSde,
}

impl Solver for SdeHeun {
    fn kind(&self) -> SolverKind {
        super::kind_by_noise(self.sde.stochastic())
    }

    fn evals_per_step(&self) -> usize {
        2
    }

    fn nfe(&self, steps: usize) -> usize {
        match self.sde.last_step {
            LastStep::Denoise if steps > 0 => 2 * steps - 1,
            _ => 2 * steps,
        }
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        if self.sde.denoises(ctx) {
            return reverse_sde::denoise(f, x, t);
        }
        let (d0, d1) = (self.sde.drift(NAME, f, t)?, self.sde.drift(NAME, f, t_next)?);
        let h = t_next - t;
        let mut held: Vec<Handle> = Vec::with_capacity(4);
        let result = (|| {
            let x1_0 = f.predict(x, t, Target::Data)?;
            held.push(x1_0);
            let z = if d0.g > 0.0 || d1.g > 0.0 {
                let z = f.noise_like(x)?;
                held.push(z);
                Some(z)
            } else {
                None
            };
            let dw = h.sqrt();
            let mut predictor = vec![(1.0 + h * d0.on_x, x), (h * d0.on_x1, x1_0)];
            predictor.extend(z.map(|z| (d0.g * dw, z)));
            let x_pred = lincomb_nonzero(f, &predictor)?;
            held.push(x_pred);
            let x1_1 = f.predict(x_pred, t_next, Target::Data)?;
            held.push(x1_1);
            // x + ½h·(d0 + d1(x̃)) + ½(g0 + g1)·ΔW with d1(x̃) = on_x·x̃ + on_x1·x̂1(x̃).
            let mut corrector = vec![
                (1.0 + 0.5 * h * d0.on_x, x),
                (0.5 * h * d0.on_x1, x1_0),
                (0.5 * h * d1.on_x, x_pred),
                (0.5 * h * d1.on_x1, x1_1),
            ];
            corrector.extend(z.map(|z| (0.5 * (d0.g + d1.g) * dw, z)));
            lincomb_nonzero(f, &corrector)
        })();
        for h in held {
            f.release(h);
        }
        result
    }
}

fn make(p: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(SdeHeun { sde: reverse_sde::from_params(p)? }))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "stochastic Heun (additive noise) on the reverse SDE: 2 evaluations per step, 1 on a denoising last step",
        reverse_sde::PARAMS,
    ),
    make,
};
