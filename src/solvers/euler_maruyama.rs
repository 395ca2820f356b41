//! `euler-maruyama`: the Euler–Maruyama scheme on the reverse-time SDE ([`super::reverse_sde`]):
//! x' = x + h·drift(x, t) + g(t)·√h·z. Weak order 1; one evaluation per step.

use runner_sdk::{
    Dynamics, Handle, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext, Target,
};

use super::lincomb_nonzero;
use super::reverse_sde::{self, ReverseSde};
use crate::registry::Entry;

const NAME: &str = "euler-maruyama";

#[derive(Debug, Clone, Copy)]
pub struct EulerMaruyama {
    pub sde: ReverseSde,
}

impl Solver for EulerMaruyama {
    fn kind(&self) -> SolverKind {
        super::kind_by_noise(self.sde.stochastic())
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
        if self.sde.denoises(ctx) {
            return reverse_sde::denoise(f, x, t);
        }
        let d = self.sde.drift(NAME, f, t)?;
        let h = t_next - t;
        let x1 = f.predict(x, t, Target::Data)?;
        let result = if d.g > 0.0 {
            f.noise_like(x).and_then(|z| {
                let next = lincomb_nonzero(f, &[(1.0 + h * d.on_x, x), (h * d.on_x1, x1), (d.g * h.sqrt(), z)]);
                f.release(z);
                next
            })
        } else {
            lincomb_nonzero(f, &[(1.0 + h * d.on_x, x), (h * d.on_x1, x1)])
        };
        f.release(x1);
        result
    }
}

fn make(p: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(EulerMaruyama { sde: reverse_sde::from_params(p)? }))
}

pub const ENTRY: Entry<dyn Solver> = Entry {
    info: PluginInfo::new(
        PluginKind::Solver,
        NAME,
        "Euler–Maruyama on the reverse SDE (drift v + ½g²·score from one data prediction): 1 evaluation per step",
        reverse_sde::PARAMS,
    ),
    make,
};
