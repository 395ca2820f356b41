//! Path integrals of one deterministic solve: from the source points, the state [x | e] with
//! d/dt [x | e] = [v(x, t) | ‖v(x, t)‖²] gives the samples x̂1 and each trajectory's kinetic
//! energy e = ∫‖v‖² dt, by the row's solver on the row's grid (see [`super::augmented`]).
//!
//! Why not reuse the row's samples and difference them: the energy needs v along the way, and
//! integrating it as one more coordinate gives it the same quadrature as x, so that the
//! straightness identity S = E[e] − E‖x̂1 − x0‖² holds exactly in the discrete sums (for every
//! Runge–Kutta method, ∫v dt is x̂1 − x0 by construction).
//!
//! The integrals cover the span the samplers integrate over (`eval.t_start`, `eval.t_end`): the
//! final jump to the data of a span that ends before 1 is no part of the ODE and adds nothing.
//! On VP paths the velocity grows like 1/√(1 − t) near the data, so their energy over [0, 1] is
//! infinite (logarithmically); a span short of 1 keeps it finite and says where it was cut.

use std::sync::Arc;
use std::time::Instant;

use runner_sdk::{PathIntegrals, Schedule};

use super::augmented::{plan, solve};
use super::field::{Field, FieldError};
use super::FlowError;
use crate::sampling::{start_points, SampleSpec};

/// The path integrals of a solve, owned, and what the solve cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub dim: usize,
    /// The solver's starting points (source points scaled by σ(t_start)/σ(0) past t = 0).
    pub source: Vec<f64>,
    /// The solve's end points x̂1.
    pub end: Vec<f64>,
    /// ∫‖v‖² dt per trajectory.
    pub energy: Vec<f64>,
    pub nfe: usize,
    pub seconds: f64,
}

impl Path {
    /// What a path metric sees, against held-out `target` points.
    pub fn integrals<'a>(&'a self, target: &'a [f32]) -> PathIntegrals<'a> {
        PathIntegrals { dim: self.dim, source: &self.source, end: &self.end, energy: &self.energy, target }
    }
}

/// Solve from the source points `x0` (row-major) with the spec's solver, NFE, grid and span,
/// integrating each trajectory's energy along. `field` is the model's velocity field.
pub fn integrate_path(
    mut field: Box<dyn Field>,
    schedule: Arc<dyn Schedule>,
    x0: Vec<f32>,
    spec: &SampleSpec<'_>,
) -> Result<Path, FlowError> {
    let started = Instant::now();
    let dim = field.dim();
    let planned = plan(spec, schedule.as_ref())?;
    let source: Vec<f64> = start_points(x0, schedule.as_ref(), spec.span.0).into_iter().map(f64::from).collect();
    let n = source.len() / dim;
    let mut start = source.clone();
    start.resize(n * dim + n, 0.0);
    let rhs = move |y: &[f64], t: f64| -> Result<Vec<f64>, FieldError> {
        let mut dy = field.velocity(&y[..n * dim], t)?;
        let energy: Vec<f64> = dy.chunks_exact(dim).map(|v| v.iter().map(|c| c * c).sum()).collect();
        dy.extend(energy);
        Ok(dy)
    };
    let solved = solve(planned.solver.as_ref(), planned.control, rhs, start, &planned.times)?;
    let (end, energy) = solved.state.split_at(n * dim);
    Ok(Path {
        dim,
        source,
        end: end.to_vec(),
        energy: energy.to_vec(),
        nfe: solved.nfe,
        seconds: started.elapsed().as_secs_f64(),
    })
}
