//! The time-grid table: `steps + 1` times, against the host's schedule.

use std::ffi::c_void;

use super::host::HostSchedule;
use super::{abi_error, destroy, guard, instance, output};
use crate::{abi, TimeGrid};

pub(super) fn vtable(create: abi::CreateFn) -> abi::GridVtable {
    abi::GridVtable {
        size: std::mem::size_of::<abi::GridVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn TimeGrid>),
        times: Some(times),
    }
}

unsafe extern "C" fn times(
    this: *const c_void,
    steps: usize,
    t_start: f64,
    t_end: f64,
    schedule: *const abi::ScheduleRef,
    out: *mut f64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let grid = instance::<dyn TimeGrid>(this)?;
        let schedule = HostSchedule::new(schedule)?;
        let n = steps.checked_add(1).ok_or_else(|| abi_error("too many steps"))?;
        let out = output(out, n, "out")?;
        let times = grid.times(steps, t_start, t_end, &schedule)?;
        if times.len() != n {
            return Err(abi_error(format!("the grid returned {} times for {steps} steps", times.len())));
        }
        out.copy_from_slice(&times);
        Ok(())
    })
}
