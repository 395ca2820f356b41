//! Explicit Runge–Kutta methods: one generic step over a const Butcher tableau. Adding a method
//! is adding a tableau and a registry line.
//!
//! Stages ask the dynamics for the velocity. A stage with c = 1 evaluates at `t_next`: on a grid
//! that ends at t = 1 that is where the velocity of VP schedules (σ' = −∞) and the velocity seen
//! through a data or ε model (division by σ = 0) are singular, so such grids should end
//! slightly before 1.
//!
//! A tableau with an embedded solution `b_hat` is an adaptive pair ([`super::embedded`]): the
//! step then also hands the loop its error estimate `h·Σ(b_i − b̂_i)·k_i`, and a pair whose last
//! stage is evaluated at the new state (FSAL, "first same as last") remembers that evaluation in
//! the step context, so an accepted step's successor starts without a model call.

use runner_sdk::{
    Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, StepContext, Target,
};

use crate::registry::Entry;

/// A Butcher tableau: stage i evaluates at `t + c[i]·h` the state `x + h·Σ_j a[i][j]·k_j`; the step
/// is `x + h·Σ_i b[i]·k_i`. Row `a[i]` holds the i coefficients on the earlier stages.
#[derive(Debug)]
pub struct Tableau {
    pub a: &'static [&'static [f64]],
    pub b: &'static [f64],
    pub c: &'static [f64],
    pub order: u32,
    /// The embedded solution's weights (empty for a method without one) and its order.
    pub b_hat: &'static [f64],
    pub embedded_order: u32,
}

impl Tableau {
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// First same as last: the last stage evaluates at t + h at the new state itself.
    pub fn is_fsal(&self) -> bool {
        let last = self.stages() - 1;
        self.c[last] == 1.0
            && self.a[last].len() == last
            && self.a[last].iter().zip(self.b).all(|(a, b)| a == b)
            && self.b[last] == 0.0
    }
}

pub static EULER: Tableau = Tableau { a: &[&[]], b: &[1.0], c: &[0.0], order: 1, b_hat: &[], embedded_order: 0 };

/// The explicit midpoint rule.
pub static MIDPOINT: Tableau =
    Tableau { a: &[&[], &[0.5]], b: &[0.0, 1.0], c: &[0.0, 0.5], order: 2, b_hat: &[], embedded_order: 0 };

/// Heun's method (explicit trapezoid).
pub static HEUN: Tableau =
    Tableau { a: &[&[], &[1.0]], b: &[0.5, 0.5], c: &[0.0, 1.0], order: 2, b_hat: &[], embedded_order: 0 };

/// Ralston's second-order method, the one with the smallest error bound among 2-stage methods.
pub static RALSTON: Tableau = Tableau {
    a: &[&[], &[2.0 / 3.0]],
    b: &[0.25, 0.75],
    c: &[0.0, 2.0 / 3.0],
    order: 2,
    b_hat: &[],
    embedded_order: 0,
};

/// The classical fourth-order method.
pub static RK4: Tableau = Tableau {
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    c: &[0.0, 0.5, 0.5, 1.0],
    order: 4,
    b_hat: &[],
    embedded_order: 0,
};

/// An explicit Runge–Kutta method on the velocity field; when adaptive, an embedded pair whose
/// steps the loop's controller chooses.
#[derive(Debug, Clone, Copy)]
pub struct RungeKutta {
    tableau: &'static Tableau,
    adaptive: bool,
}

impl RungeKutta {
    pub fn new(tableau: &'static Tableau) -> RungeKutta {
        RungeKutta { tableau, adaptive: false }
    }

    /// An adaptive solver over an embedded pair (`tableau.b_hat` must be set).
    pub fn adaptive(tableau: &'static Tableau) -> RungeKutta {
        debug_assert_eq!(tableau.b_hat.len(), tableau.stages());
        RungeKutta { tableau, adaptive: true }
    }

    pub fn tableau(&self) -> &'static Tableau {
        self.tableau
    }
}

impl Solver for RungeKutta {
    fn kind(&self) -> SolverKind {
        match self.adaptive {
            false => SolverKind::Ode { order: self.tableau.order },
            true => SolverKind::Adaptive { order: self.tableau.order, error_order: self.tableau.embedded_order },
        }
    }

    fn evals_per_step(&self) -> usize {
        self.tableau.stages()
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        let tab = self.tableau;
        let h = t_next - t;
        let fsal = self.adaptive && tab.is_fsal();
        // Only the velocity at this very (t, x) is of use: after an accepted step it is the last
        // stage of that step, after a rejected one the first stage of the failed attempt.
        let first = if fsal {
            ctx.retain(&|r| r.t == t && r.target == Target::Velocity);
            ctx.recall(t, Target::Velocity)
        } else {
            None
        };
        let mut k: Vec<Handle> = Vec::with_capacity(tab.stages());
        let mut result = stages(tab, f, x, t, h, first, &mut k).and_then(|()| combine(f, x, h, tab.b, &k));
        if let (Ok(_), true) = (&result, self.adaptive) {
            // The error estimate h·Σ(b − b̂)·k, straight from the stages (no cancellation
            // between two nearly equal solutions).
            let terms: Vec<(f64, Handle)> =
                tab.b.iter().zip(tab.b_hat).zip(&k).map(|((b, bh), &ki)| (h * (b - bh), ki)).collect();
            match super::lincomb_nonzero(f, &terms) {
                Ok(err) => ctx.set_error_estimate(err),
                Err(e) => {
                    if let Ok(x_new) = result {
                        f.release(x_new);
                    }
                    result = Err(e);
                }
            }
        }
        let keep_last = fsal && result.is_ok() && k.len() == tab.stages();
        for (i, stage) in k.into_iter().enumerate() {
            if i == 0 && first.is_some() {
                continue; // the context's
            }
            if keep_last && i == tab.stages() - 1 {
                ctx.remember(t_next, Target::Velocity, stage);
            } else {
                f.release(stage);
            }
        }
        result
    }
}

/// Evaluate the stage velocities into `k` (which the caller releases, also on error); `first`
/// is the first stage when it is already known.
fn stages(
    tab: &Tableau,
    f: &mut dyn Dynamics,
    x: Handle,
    t: f64,
    h: f64,
    first: Option<Handle>,
    k: &mut Vec<Handle>,
) -> Result<(), PluginError> {
    for (i, (row, &c)) in tab.a.iter().zip(tab.c).enumerate() {
        if let (0, Some(k0)) = (i, first) {
            k.push(k0);
            continue;
        }
        // Stages with no earlier terms (the first, or zero rows) evaluate at x itself and
        // create no state handle.
        let state = if row.iter().all(|&a| a == 0.0) { x } else { combine(f, x, h, row, k)? };
        let velocity = f.predict(state, t + c * h, Target::Velocity);
        if state != x {
            f.release(state);
        }
        k.push(velocity?);
    }
    Ok(())
}

/// x + h·Σ w_i·k_i, leaving out zero weights.
fn combine(f: &mut dyn Dynamics, x: Handle, h: f64, weights: &[f64], k: &[Handle]) -> Result<Handle, PluginError> {
    let mut terms = Vec::with_capacity(weights.len() + 1);
    terms.push((1.0, x));
    terms.extend(weights.iter().zip(k).filter(|(&w, _)| w != 0.0).map(|(&w, &ki)| (h * w, ki)));
    f.lincomb(&terms)
}

/// The registry entry of a Runge–Kutta method (fixed-step ones take no parameters; the
/// embedded pairs of [`super::embedded`] take their controller's).
pub(super) const fn entry(
    name: &'static str,
    summary: &'static str,
    params: &'static [ParamSpec],
    make: fn(&Params) -> Result<Box<dyn Solver>, PluginError>,
) -> Entry<dyn Solver> {
    Entry { info: PluginInfo::new(PluginKind::Solver, name, summary, params), make }
}

fn make_euler(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::new(&EULER)))
}
fn make_midpoint(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::new(&MIDPOINT)))
}
fn make_heun(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::new(&HEUN)))
}
fn make_ralston(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::new(&RALSTON)))
}
fn make_rk4(_: &Params) -> Result<Box<dyn Solver>, PluginError> {
    Ok(Box::new(RungeKutta::new(&RK4)))
}

pub const EULER_ENTRY: Entry<dyn Solver> =
    entry("euler", "explicit Euler on the probability-flow ODE: order 1, 1 evaluation per step", &[], make_euler);
pub const MIDPOINT_ENTRY: Entry<dyn Solver> =
    entry("midpoint", "explicit midpoint rule: order 2, 2 evaluations per step", &[], make_midpoint);
pub const HEUN_ENTRY: Entry<dyn Solver> = entry(
    "heun",
    "Heun's method (explicit trapezoid): order 2, 2 evaluations per step, the second at t_next",
    &[],
    make_heun,
);
pub const RALSTON_ENTRY: Entry<dyn Solver> =
    entry("ralston", "Ralston's method (minimal error bound): order 2, 2 evaluations per step", &[], make_ralston);
pub const RK4_ENTRY: Entry<dyn Solver> =
    entry("rk4", "classical Runge–Kutta: order 4, 4 evaluations per step, the last at t_next", &[], make_rk4);

#[cfg(test)]
mod tests {
    use super::super::embedded::{BOSH3, DOPRI5, TSIT5};
    use super::*;

    const ALL: [&Tableau; 8] = [&EULER, &MIDPOINT, &HEUN, &RALSTON, &RK4, &BOSH3, &DOPRI5, &TSIT5];

    /// Σ_i w_i·φ_i for a per-stage quantity φ.
    fn weighted(w: &[f64], phi: impl Fn(usize) -> f64) -> f64 {
        w.iter().enumerate().map(|(i, &wi)| wi * phi(i)).sum()
    }

    /// (Σ_j a_ij·ψ_j) for stage i.
    fn inner(tab: &Tableau, i: usize, psi: impl Fn(usize) -> f64) -> f64 {
        tab.a[i].iter().enumerate().map(|(j, &a)| a * psi(j)).sum()
    }

    /// (Σ_i w_i·Φ_i(tree), 1/γ(tree)) for every rooted tree up to `order` (Butcher's conditions).
    fn order_conditions(tab: &Tableau, w: &[f64], order: u32) -> Vec<(f64, f64)> {
        let c = |i: usize| tab.c[i];
        let ac = |i: usize| inner(tab, i, c);
        let mut out = vec![(weighted(w, |_| 1.0), 1.0)];
        if order >= 2 {
            out.push((weighted(w, c), 1.0 / 2.0));
        }
        if order >= 3 {
            out.push((weighted(w, |i| c(i) * c(i)), 1.0 / 3.0));
            out.push((weighted(w, ac), 1.0 / 6.0));
        }
        if order >= 4 {
            out.push((weighted(w, |i| c(i).powi(3)), 1.0 / 4.0));
            out.push((weighted(w, |i| c(i) * ac(i)), 1.0 / 8.0));
            out.push((weighted(w, |i| inner(tab, i, |j| c(j) * c(j))), 1.0 / 12.0));
            out.push((weighted(w, |i| inner(tab, i, ac)), 1.0 / 24.0));
        }
        if order >= 5 {
            out.push((weighted(w, |i| c(i).powi(4)), 1.0 / 5.0));
            out.push((weighted(w, |i| c(i) * c(i) * ac(i)), 1.0 / 10.0));
            out.push((weighted(w, |i| c(i) * inner(tab, i, |j| c(j) * c(j))), 1.0 / 15.0));
            out.push((weighted(w, |i| c(i) * inner(tab, i, ac)), 1.0 / 30.0));
            out.push((weighted(w, |i| ac(i) * ac(i)), 1.0 / 20.0));
            out.push((weighted(w, |i| inner(tab, i, |j| c(j).powi(3))), 1.0 / 20.0));
            out.push((weighted(w, |i| inner(tab, i, |j| c(j) * ac(j))), 1.0 / 40.0));
            out.push((weighted(w, |i| inner(tab, i, |j| inner(tab, j, |k| c(k) * c(k)))), 1.0 / 60.0));
            out.push((weighted(w, |i| inner(tab, i, |j| inner(tab, j, ac))), 1.0 / 120.0));
        }
        out
    }

    #[test]
    fn tableaus_are_explicit_and_consistent() {
        for tab in ALL {
            assert_eq!(tab.a.len(), tab.stages());
            assert_eq!(tab.c.len(), tab.stages());
            assert!(tab.b_hat.is_empty() || tab.b_hat.len() == tab.stages());
            for (i, row) in tab.a.iter().enumerate() {
                assert_eq!(row.len(), i, "row {i} must only reach earlier stages");
                let sum: f64 = row.iter().sum();
                // Tsitouras's coefficients are 16-digit decimals of size up to 13.
                assert!((sum - tab.c[i]).abs() < 1e-14, "c_{i} = Σ_j a_{i}j");
            }
        }
    }

    /// The order conditions (rooted trees) up to each tableau's declared order, and for the
    /// embedded pairs up to the embedded solution's order.
    #[test]
    fn tableaus_satisfy_the_order_conditions_they_declare() {
        for tab in ALL {
            let mut rows = vec![(tab.b, tab.order)];
            if !tab.b_hat.is_empty() {
                rows.push((tab.b_hat, tab.embedded_order));
            }
            for (w, order) in rows {
                for (k, (got, want)) in order_conditions(tab, w, order).into_iter().enumerate() {
                    assert!((got - want).abs() < 1e-13, "order {order} condition {k}: {got} ≠ {want}");
                }
            }
        }
    }

    #[test]
    fn lower_order_solutions_miss_the_next_order_conditions() {
        // Guards the declared orders from above, so the conformance test's fitted slope must come
        // out at p, not higher, and the embedded solutions really differ in order (else the
        // error estimate would be of the wrong order).
        let mut cases: Vec<(&Tableau, &[f64], u32)> =
            [&EULER, &MIDPOINT, &HEUN, &RALSTON].into_iter().map(|t| (t, t.b, t.order)).collect();
        cases.extend([&BOSH3, &DOPRI5, &TSIT5].into_iter().map(|t| (t, t.b_hat, t.embedded_order)));
        for (tab, w, order) in cases {
            let n = order_conditions(tab, w, order).len();
            let misses = order_conditions(tab, w, order + 1)[n..]
                .iter()
                .map(|(got, want)| (got - want).abs())
                .fold(0.0, f64::max);
            assert!(misses > 1e-4, "an order-{order} solution satisfies order {}", order + 1);
        }
    }

    #[test]
    fn the_embedded_pairs_are_first_same_as_last() {
        for tab in [&BOSH3, &DOPRI5, &TSIT5] {
            assert!(tab.is_fsal());
        }
        assert!(!RK4.is_fsal() && !HEUN.is_fsal());
    }
}
