//! The coupling table: which target row each source row is paired with.

use std::ffi::c_void;

use super::{abi_error, destroy, guard, input, instance, output};
use crate::{abi, Coupling, PluginError};

pub(super) fn vtable(create: abi::CreateFn) -> abi::CouplingVtable {
    abi::CouplingVtable {
        size: std::mem::size_of::<abi::CouplingVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn Coupling>),
        pair: Some(pair),
    }
}

/// `n × dim` values, with the product checked: a host passing sizes that overflow is refused.
pub(super) fn rows(n: usize, dim: usize) -> Result<usize, PluginError> {
    n.checked_mul(dim).ok_or_else(|| abi_error(format!("{n} rows of {dim} values overflow")))
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn pair(
    this: *const c_void,
    source: *const f32,
    n_source: usize,
    target: *const f32,
    n_target: usize,
    dim: usize,
    seed: u64,
    out: *mut u64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let coupling = instance::<dyn Coupling>(this)?;
        let source = input(source, rows(n_source, dim)?, "source")?;
        let target = input(target, rows(n_target, dim)?, "target")?;
        let out = output(out, n_source, "out")?;
        let pairs = coupling.pair(source, target, dim, seed)?;
        if pairs.len() != n_source {
            return Err(abi_error(format!("the coupling paired {} rows of {n_source}", pairs.len())));
        }
        if let Some(&bad) = pairs.iter().find(|&&p| p >= n_target) {
            return Err(abi_error(format!("the coupling paired a row with target row {bad} of {n_target}")));
        }
        for (o, p) in out.iter_mut().zip(pairs) {
            *o = p as u64;
        }
        Ok(())
    })
}
