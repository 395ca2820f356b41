use runner_abi as abi;
use runner_sdk::{Coupling, PluginError};

use super::{call, invalid, Instance};

type PairFn = unsafe extern "C" fn(
    *const std::ffi::c_void,
    *const f32,
    usize,
    *const f32,
    usize,
    usize,
    u64,
    *mut u64,
    *mut abi::ErrorBuf,
) -> abi::Status;

/// A library's coupling.
pub struct ForeignCoupling {
    pub instance: Instance,
    pub pair: PairFn,
}

impl Coupling for ForeignCoupling {
    fn pair(&self, source: &[f32], target: &[f32], dim: usize, seed: u64) -> Result<Vec<usize>, PluginError> {
        let (n_source, n_target) = (source.len() / dim.max(1), target.len() / dim.max(1));
        let mut out = vec![u64::MAX; n_source];
        let name = &self.instance.name;
        call(name, |err| unsafe {
            (self.pair)(
                self.instance.ptr(),
                source.as_ptr(),
                n_source,
                target.as_ptr(),
                n_target,
                dim,
                seed,
                out.as_mut_ptr(),
                err,
            )
        })?;
        // An index past the target rows would be read out of bounds later: refuse it here.
        match out.iter().position(|&j| j >= n_target as u64) {
            Some(i) => Err(invalid(
                name,
                format!("paired source row {i} with target row {}, but there are {n_target}", out[i]),
            )),
            None => Ok(out.into_iter().map(|j| j as usize).collect()),
        }
    }
}
