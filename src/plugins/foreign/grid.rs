use std::ffi::c_void;

use runner_abi as abi;
use runner_sdk::{Coefficients, PluginError, Schedule, TimeGrid};

use runner_sdk::export::convert;

use super::{call, Instance};

type TimesFn = unsafe extern "C" fn(
    *const c_void,
    usize,
    f64,
    f64,
    *const abi::ScheduleRef,
    *mut f64,
    *mut abi::ErrorBuf,
) -> abi::Status;

/// A library's time grid.
pub struct ForeignGrid {
    pub instance: Instance,
    pub times: TimesFn,
}

impl TimeGrid for ForeignGrid {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, schedule: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        let host: *const &dyn Schedule = &schedule;
        let schedule_ref = abi::ScheduleRef {
            size: size_of::<abi::ScheduleRef>(),
            host: host.cast(),
            coefficients: host_coefficients,
        };
        let mut out = vec![f64::NAN; steps + 1];
        call(&self.instance.name, |err| unsafe {
            (self.times)(self.instance.ptr(), steps, t_start, t_end, &schedule_ref, out.as_mut_ptr(), err)
        })?;
        Ok(out)
    }
}

/// The host's schedule as the grid sees it. A panic must not unwind into the library's frames:
/// it becomes NaN coefficients, which the grid's checks refuse.
unsafe extern "C" fn host_coefficients(host: *const c_void, t: f64, out: *mut abi::Coefficients) {
    let schedule = unsafe { *(host as *const &dyn Schedule) };
    let c = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| schedule.coefficients(t)));
    let c = convert::coefficients_to_abi(c.unwrap_or(Coefficients::NAN));
    unsafe { out.write(c) };
}
