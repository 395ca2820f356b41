//! The testkit's fixed-step loop: the least a host does around [`Solver::step`].

use runner_sdk::{Dynamics, Solver};

use crate::{VecContext, VectorDynamics};

/// Integrate `x0` over `grid` with one `solver.step` per interval, and return the final state.
/// The loop owns every state between steps and releases it, and releases whatever the context
/// holds at the end, also when a step fails: what is still live in `f` afterwards (besides what
/// was live before) was leaked by the solver.
pub fn integrate(solver: &dyn Solver, f: &mut VectorDynamics, x0: Vec<f64>, grid: &[f64]) -> Result<Vec<f64>, String> {
    let mut ctx = VecContext::new(grid.to_vec());
    let mut x = f.insert(x0);
    let mut outcome = Ok(());
    for (i, w) in grid.windows(2).enumerate() {
        ctx.set_index(i);
        match solver.step(f, &mut ctx, x, w[0], w[1]) {
            Ok(next) => {
                f.release(x);
                x = next;
            }
            Err(e) => {
                outcome = Err(format!("step {i} from t = {} to {} failed: {e}", w[0], w[1]));
                break;
            }
        }
        for h in ctx.take_released() {
            f.release(h);
        }
        if let Some(e) = ctx.take_error_estimate() {
            f.release(e);
        }
    }
    for h in ctx.drain() {
        f.release(h);
    }
    let end = f.take(x).map_err(|e| format!("the final state: {e}"));
    outcome.and(end)
}
