use runner_abi as abi;
use runner_sdk::{Coefficients, Schedule};

use runner_sdk::export::convert;

use super::{call, Instance};

type CoefficientsFn = unsafe extern "C" fn(
    *const std::ffi::c_void,
    *const f64,
    usize,
    *mut abi::Coefficients,
    *mut abi::ErrorBuf,
) -> abi::Status;

/// A library's schedule.
pub struct ForeignSchedule {
    pub instance: Instance,
    pub coefficients: CoefficientsFn,
}

impl Schedule for ForeignSchedule {
    /// A failing call gives NaN coefficients, which every consumer already refuses as a
    /// non-finite path; the plugin's reason is logged once per call site.
    fn coefficients(&self, t: f64) -> Coefficients {
        let mut out = abi::Coefficients::default();
        let result =
            call(&self.instance.name, |err| unsafe { (self.coefficients)(self.instance.ptr(), &t, 1, &mut out, err) });
        match result {
            Ok(()) => convert::coefficients_from_abi(out),
            Err(e) => {
                tracing::error!("schedule at t = {t}: {e}");
                NAN
            }
        }
    }

    fn coefficients_batch(&self, t: &[f64], out: &mut [Coefficients]) {
        let n = t.len().min(out.len());
        let mut raw = vec![abi::Coefficients::default(); n];
        let result = call(&self.instance.name, |err| unsafe {
            (self.coefficients)(self.instance.ptr(), t.as_ptr(), n, raw.as_mut_ptr(), err)
        });
        match result {
            Ok(()) => out.iter_mut().zip(raw).for_each(|(o, c)| *o = convert::coefficients_from_abi(c)),
            Err(e) => {
                tracing::error!("schedule at {n} times: {e}");
                out.fill(NAN);
            }
        }
    }
}

const NAN: Coefficients = Coefficients {
    alpha: f64::NAN,
    sigma: f64::NAN,
    gamma: f64::NAN,
    d_alpha: f64::NAN,
    d_sigma: f64::NAN,
    d_gamma: f64::NAN,
};
