//! An example plugin library: the three-stage, third-order strong-stability-preserving
//! Runge–Kutta method of Shu and Osher, written as convex combinations of Euler steps.

use runner_sdk::{Dynamics, Handle, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext, Target};

/// u1 = x + h·v(x, t)
/// u2 = ¾·x + ¼·(u1 + h·v(u1, t + h))
/// x' = ⅓·x + ⅔·(u2 + h·v(u2, t + h/2))
#[derive(Debug, Clone, Copy, Default)]
pub struct SspRk3;

impl SspRk3 {
    /// The step, pushing every handle it creates onto `temps` so that the caller can release
    /// them whether the step succeeds or fails.
    fn stages(f: &mut dyn Dynamics, temps: &mut Vec<Handle>, x: Handle, t: f64, h: f64) -> Result<Handle, PluginError> {
        let mut keep = |h: Handle| {
            temps.push(h);
            h
        };
        let k1 = keep(f.predict(x, t, Target::Velocity)?);
        let u1 = keep(f.lincomb(&[(1.0, x), (h, k1)])?);
        let k2 = keep(f.predict(u1, t + h, Target::Velocity)?);
        let u2 = keep(f.lincomb(&[(0.75, x), (0.25, u1), (0.25 * h, k2)])?);
        let k3 = keep(f.predict(u2, t + 0.5 * h, Target::Velocity)?);
        f.lincomb(&[(1.0 / 3.0, x), (2.0 / 3.0, u2), (2.0 / 3.0 * h, k3)])
    }
}

impl Solver for SspRk3 {
    fn kind(&self) -> SolverKind {
        SolverKind::Ode { order: 3 }
    }

    fn evals_per_step(&self) -> usize {
        3
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        _ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        let mut temps = Vec::with_capacity(5);
        let next = SspRk3::stages(f, &mut temps, x, t, t_next - t);
        for h in temps {
            f.release(h);
        }
        next
    }
}

runner_sdk::export_plugin! {
    library: "example-ssp-rk3",
    version: env!("CARGO_PKG_VERSION"),
    plugins: [
        runner_sdk::export::solver(
            PluginInfo::new(PluginKind::Solver, "ssp-rk3", "Shu–Osher SSP-RK3: third order, 3 evaluations a step", &[]),
            |_: &runner_sdk::Params| Ok(SspRk3),
        ),
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_conforms() {
        runner_testkit::check_solver(&SspRk3).unwrap();
    }

    #[test]
    fn it_is_third_order() {
        let order = runner_testkit::measured_order(&SspRk3, 16).unwrap();
        assert!((order - 3.0).abs() < 0.15, "{order}");
    }
}
