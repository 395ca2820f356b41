//! The solver table: its fixed properties and one step, run against the host's dynamics and
//! step memory through the adapters of [`super::host`].

use std::ffi::c_void;

use super::convert::solver_info_to_abi;
use super::host::{HostContext, HostDynamics};
use super::{destroy, guard, instance, put};
use crate::{abi, Handle, Solver};

pub(super) fn vtable(create: abi::CreateFn) -> abi::SolverVtable {
    abi::SolverVtable {
        size: std::mem::size_of::<abi::SolverVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn Solver>),
        info: Some(info),
        nfe: Some(nfe),
        default_nfe: Some(default_nfe),
        step: Some(step),
    }
}

unsafe extern "C" fn info(this: *const c_void, out: *mut abi::SolverInfo, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe {
        let solver = instance::<dyn Solver>(this)?;
        put(out, solver_info_to_abi(solver.kind(), solver.evals_per_step()), "out")
    })
}

unsafe extern "C" fn nfe(this: *const c_void, steps: usize, out: *mut usize, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe { put(out, instance::<dyn Solver>(this)?.nfe(steps), "out") })
}

unsafe extern "C" fn default_nfe(this: *const c_void, out: *mut usize, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe { put(out, instance::<dyn Solver>(this)?.default_nfe(), "out") })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn step(
    this: *const c_void,
    dynamics: *const abi::Dynamics,
    context: *const abi::StepContext,
    x: u64,
    t: f64,
    t_next: f64,
    out: *mut u64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let solver = instance::<dyn Solver>(this)?;
        let mut f = HostDynamics::new(dynamics)?;
        let mut ctx = HostContext::new(context)?;
        if out.is_null() {
            return Err(super::abi_error("the host passed a null `out` to step"));
        }
        let next = solver.step(&mut f, &mut ctx, Handle(x), t, t_next);
        // A history entry the host garbled is reported even when the step got through; the
        // new state is then the plugin's to release, since the host never sees its handle.
        if let Err(e) = ctx.check() {
            if let Ok(h) = next {
                crate::Dynamics::release(&mut f, h);
            }
            return Err(e);
        }
        put(out, next?.0, "out")
    })
}
