//! The schedule table: coefficients at a batch of times.

use std::ffi::c_void;

use super::convert::coefficients_to_abi;
use super::{destroy, guard, input, instance, output};
use crate::{abi, Schedule};

pub(super) fn vtable(create: abi::CreateFn) -> abi::ScheduleVtable {
    abi::ScheduleVtable {
        size: std::mem::size_of::<abi::ScheduleVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn Schedule>),
        coefficients: Some(coefficients),
    }
}

unsafe extern "C" fn coefficients(
    this: *const c_void,
    t: *const f64,
    n: usize,
    out: *mut abi::Coefficients,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let schedule = instance::<dyn Schedule>(this)?;
        let t = input(t, n, "t")?;
        let out = output(out, n, "out")?;
        for (o, &t) in out.iter_mut().zip(t) {
            *o = coefficients_to_abi(schedule.coefficients(t));
        }
        Ok(())
    })
}
