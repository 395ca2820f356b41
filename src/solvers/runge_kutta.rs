//! Explicit Runge–Kutta methods: one generic step over a const Butcher tableau. Adding a method
//! is adding a tableau and a registry line.
//!
//! Stages ask the dynamics for the velocity. A stage with c = 1 evaluates at `t_next`: on a grid
//! that ends at t = 1 that is where the velocity of VP schedules (σ' = −∞) and the velocity seen
//! through a data or ε model (division by σ = 0) are singular, so such grids should end
//! slightly before 1.

use runner_sdk::{Dynamics, Handle, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Solver, SolverKind, Target};

use crate::registry::Entry;

/// A Butcher tableau: stage i evaluates at `t + c[i]·h` the state `x + h·Σ_j a[i][j]·k_j`; the step
/// is `x + h·Σ_i b[i]·k_i`. Row `a[i]` holds the i coefficients on the earlier stages.
#[derive(Debug)]
pub struct Tableau {
    pub a: &'static [&'static [f64]],
    pub b: &'static [f64],
    pub c: &'static [f64],
    pub order: u32,
}

impl Tableau {
    pub fn stages(&self) -> usize {
        self.b.len()
    }
}

pub static EULER: Tableau = Tableau { a: &[&[]], b: &[1.0], c: &[0.0], order: 1 };

/// The explicit midpoint rule.
pub static MIDPOINT: Tableau = Tableau { a: &[&[], &[0.5]], b: &[0.0, 1.0], c: &[0.0, 0.5], order: 2 };

/// Heun's method (explicit trapezoid).
pub static HEUN: Tableau = Tableau { a: &[&[], &[1.0]], b: &[0.5, 0.5], c: &[0.0, 1.0], order: 2 };

/// Ralston's second-order method, the one with the smallest error bound among 2-stage methods.
pub static RALSTON: Tableau =
    Tableau { a: &[&[], &[2.0 / 3.0]], b: &[0.25, 0.75], c: &[0.0, 2.0 / 3.0], order: 2 };

/// The classical fourth-order method.
pub static RK4: Tableau = Tableau {
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    c: &[0.0, 0.5, 0.5, 1.0],
    order: 4,
};

/// An explicit Runge–Kutta method on the velocity field.
#[derive(Debug, Clone, Copy)]
pub struct RungeKutta {
    tableau: &'static Tableau,
}

impl RungeKutta {
    pub fn new(tableau: &'static Tableau) -> RungeKutta {
        RungeKutta { tableau }
    }

    pub fn tableau(&self) -> &'static Tableau {
        self.tableau
    }
}

impl Solver for RungeKutta {
    fn kind(&self) -> SolverKind {
        SolverKind::Ode { order: self.tableau.order }
    }

    fn evals_per_step(&self) -> usize {
        self.tableau.stages()
    }

    fn step(&self, f: &mut dyn Dynamics, x: Handle, t: f64, t_next: f64) -> Result<Handle, PluginError> {
        let h = t_next - t;
        let mut k: Vec<Handle> = Vec::with_capacity(self.tableau.stages());
        let result = stages(self.tableau, f, x, t, h, &mut k)
            .and_then(|()| combine(f, x, h, self.tableau.b, &k));
        for stage in k {
            f.release(stage);
        }
        result
    }
}

/// Evaluate the stage velocities into `k` (which the caller releases, also on error).
fn stages(tab: &Tableau, f: &mut dyn Dynamics, x: Handle, t: f64, h: f64, k: &mut Vec<Handle>) -> Result<(), PluginError> {
    for (row, &c) in tab.a.iter().zip(tab.c) {
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

const PARAMS: &[ParamSpec] = &[];

const fn entry(
    name: &'static str,
    summary: &'static str,
    make: fn(&Params) -> Result<Box<dyn Solver>, PluginError>,
) -> Entry<dyn Solver> {
    Entry { info: PluginInfo { name, kind: PluginKind::Solver, summary, params: PARAMS }, make }
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
    entry("euler", "explicit Euler on the probability-flow ODE: order 1, 1 evaluation per step", make_euler);
pub const MIDPOINT_ENTRY: Entry<dyn Solver> =
    entry("midpoint", "explicit midpoint rule: order 2, 2 evaluations per step", make_midpoint);
pub const HEUN_ENTRY: Entry<dyn Solver> = entry(
    "heun",
    "Heun's method (explicit trapezoid): order 2, 2 evaluations per step, the second at t_next",
    make_heun,
);
pub const RALSTON_ENTRY: Entry<dyn Solver> =
    entry("ralston", "Ralston's method (minimal error bound): order 2, 2 evaluations per step", make_ralston);
pub const RK4_ENTRY: Entry<dyn Solver> =
    entry("rk4", "classical Runge–Kutta: order 4, 4 evaluations per step, the last at t_next", make_rk4);

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&Tableau; 5] = [&EULER, &MIDPOINT, &HEUN, &RALSTON, &RK4];

    /// Σ_i b_i·φ_i for a per-stage quantity φ.
    fn weighted(tab: &Tableau, phi: impl Fn(usize) -> f64) -> f64 {
        (0..tab.stages()).map(|i| tab.b[i] * phi(i)).sum()
    }

    /// (Σ_j a_ij·ψ_j) for stage i.
    fn inner(tab: &Tableau, i: usize, psi: impl Fn(usize) -> f64) -> f64 {
        tab.a[i].iter().enumerate().map(|(j, &a)| a * psi(j)).sum()
    }

    #[test]
    fn tableaus_are_explicit_and_consistent() {
        for tab in ALL {
            assert_eq!(tab.a.len(), tab.stages());
            assert_eq!(tab.c.len(), tab.stages());
            for (i, row) in tab.a.iter().enumerate() {
                assert_eq!(row.len(), i, "row {i} must only reach earlier stages");
                let sum: f64 = row.iter().sum();
                assert!((sum - tab.c[i]).abs() < 1e-15, "c_{i} = Σ_j a_{i}j");
            }
        }
    }

    /// The order conditions (rooted trees) up to each tableau's declared order.
    #[test]
    fn tableaus_satisfy_the_order_conditions_they_declare() {
        for tab in ALL {
            let c = |i: usize| tab.c[i];
            let mut conditions: Vec<(f64, f64)> = vec![(weighted(tab, |_| 1.0), 1.0)];
            if tab.order >= 2 {
                conditions.push((weighted(tab, c), 1.0 / 2.0));
            }
            if tab.order >= 3 {
                conditions.push((weighted(tab, |i| c(i) * c(i)), 1.0 / 3.0));
                conditions.push((weighted(tab, |i| inner(tab, i, c)), 1.0 / 6.0));
            }
            if tab.order >= 4 {
                conditions.push((weighted(tab, |i| c(i).powi(3)), 1.0 / 4.0));
                conditions.push((weighted(tab, |i| c(i) * inner(tab, i, c)), 1.0 / 8.0));
                conditions.push((weighted(tab, |i| inner(tab, i, |j| c(j) * c(j))), 1.0 / 12.0));
                conditions.push((weighted(tab, |i| inner(tab, i, |j| inner(tab, j, c))), 1.0 / 24.0));
            }
            for (k, (got, want)) in conditions.into_iter().enumerate() {
                assert!((got - want).abs() < 1e-14, "order {} condition {k}: {got} ≠ {want}", tab.order);
            }
        }
    }

    #[test]
    fn lower_order_tableaus_miss_the_next_order_condition() {
        // Guards the declared orders from above: each method below 4 misses an order-(p+1)
        // condition, so the conformance test's fitted slope must come out at p, not higher.
        for tab in [&EULER, &MIDPOINT, &HEUN, &RALSTON] {
            let c = |i: usize| tab.c[i];
            let misses = if tab.order == 1 {
                (weighted(tab, c) - 0.5).abs()
            } else {
                let bushy = (weighted(tab, |i| c(i) * c(i)) - 1.0 / 3.0).abs();
                let tall = (weighted(tab, |i| inner(tab, i, c)) - 1.0 / 6.0).abs();
                bushy.max(tall)
            };
            assert!(misses > 0.05, "order {} tableau satisfies the next order", tab.order);
        }
    }
}
