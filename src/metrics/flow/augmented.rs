//! Integrals along the flow as one ODE: the state is the points with extra coordinates that
//! accumulate the integrands, d/dt [x | a] = [v | f(v, x)], handed to the one `integrate()` loop
//! on the CPU in f64 ([`VectorDynamics::ode`]) with any velocity-form ODE solver. The extra
//! coordinates then get the solver's own quadrature on the solver's own steps, and an adaptive
//! solver controls their error along with the points'.
//!
//! Only explicit Runge–Kutta methods (fixed-step or adaptive) can carry such a state: they see
//! the model only through velocity evaluations and linear combinations. The diffusion samplers
//! (DDIM, DPM-Solver++, EDM's Heun) ask for other targets and the path's coefficients, which an
//! augmented state does not have, and stochastic samplers add noise to every coordinate; they are
//! refused by name ([`FlowError::NotAnOde`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use runner_sdk::{Dynamics, Schedule, Solver, SolverKind, TimeGrid};

use super::field::FieldError;
use super::FlowError;
use crate::plugins::RegistryError;
use crate::sampling::SampleSpec;
use crate::solvers::{integrate, steps_for_nfe, Options, StepControl, VectorDynamics};

/// The final augmented state and what the solve cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    pub state: Vec<f64>,
    /// Evaluations of the augmented right-hand side (one model evaluation each, plus the
    /// derivatives it takes).
    pub nfe: usize,
    pub accepted: usize,
    pub rejected: usize,
}

fn carries_augmented(solver: &dyn Solver) -> bool {
    matches!(solver.kind(), SolverKind::Ode { .. } | SolverKind::Adaptive { .. })
}

/// A solve of the augmented ODE: the solver, the controller its keys set, and the times of its
/// grid over the spec's span, forward in t.
pub struct Plan {
    pub solver: Box<dyn Solver>,
    pub control: StepControl,
    pub times: Vec<f64>,
}

/// The spec's solve, refused unless its solver is a velocity-form ODE method.
pub fn plan(spec: &SampleSpec<'_>, schedule: &dyn Schedule) -> Result<Plan, FlowError> {
    let (solver, control) = crate::solvers::build(spec.registry, spec.solver, spec.solver_params)?;
    if !carries_augmented(solver.as_ref()) {
        return Err(FlowError::NotAnOde { solver: spec.solver.to_string() });
    }
    let grid = spec.registry.build::<dyn TimeGrid>(spec.grid, &BTreeMap::new())?;
    let steps = steps_for_nfe(spec.solver, solver.as_ref(), spec.nfe)?;
    let times = grid.times(steps, spec.span.0, spec.span.1, schedule).map_err(RegistryError::from)?;
    Ok(Plan { solver, control, times })
}

/// Integrate d/ds y = `rhs`(y, s) from `start` over `times` with `solver`. An error of the
/// right-hand side stops the solve and is reported as it is (not as the non-finite state it leaves).
pub fn solve(
    solver: &dyn Solver,
    control: StepControl,
    mut rhs: impl FnMut(&[f64], f64) -> Result<Vec<f64>, FieldError> + 'static,
    start: Vec<f64>,
    times: &[f64],
) -> Result<Solved, FlowError> {
    // The loop sees a non-finite state and stops; the slot keeps why, to report that instead.
    let failure: Rc<RefCell<Option<FieldError>>> = Rc::new(RefCell::new(None));
    let slot = failure.clone();
    let mut f = VectorDynamics::ode(
        move |y: &[f64], s| match rhs(y, s) {
            Ok(dy) => dy,
            Err(e) => {
                slot.borrow_mut().get_or_insert(e);
                vec![f64::NAN; y.len()]
            }
        },
        0,
    );
    let y0 = f.insert(start);
    let result = integrate(solver, &mut f, y0, times, &Options { control, record: false });
    f.release(y0);
    if let Some(source) = failure.borrow_mut().take() {
        return Err(FlowError::Field(source));
    }
    let out = result?;
    let state = f.take(out.x).map_err(|e| FlowError::Field(FieldError::Backend(e.to_string())))?;
    Ok(Solved { state, nfe: out.nfe, accepted: out.accepted, rejected: out.rejected })
}
