//! The metric table: point sets, path integrals or log densities to one number.

use std::ffi::c_void;

use super::convert::metric_input_to_abi;
use super::coupling::rows;
use super::{abi_error, destroy, guard, input, instance, put};
use crate::{abi, Likelihood, Metric, PathIntegrals};

pub(super) fn vtable(create: abi::CreateFn) -> abi::MetricVtable {
    abi::MetricVtable {
        size: std::mem::size_of::<abi::MetricVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn Metric>),
        input: Some(metric_input),
        max_points: Some(max_points),
        evaluate: Some(evaluate),
        evaluate_path: Some(evaluate_path),
        evaluate_likelihood: Some(evaluate_likelihood),
    }
}

unsafe extern "C" fn metric_input(this: *const c_void, out: *mut u32, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe { put(out, metric_input_to_abi(instance::<dyn Metric>(this)?.input()), "out") })
}

unsafe extern "C" fn max_points(
    this: *const c_void,
    dim: usize,
    out: *mut usize,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe { put(out, instance::<dyn Metric>(this)?.max_points(dim).unwrap_or(usize::MAX), "out") })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn evaluate(
    this: *const c_void,
    samples: *const f32,
    n_samples: usize,
    target: *const f32,
    n_target: usize,
    dim: usize,
    out: *mut f64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let metric = instance::<dyn Metric>(this)?;
        let samples = input(samples, rows(n_samples, dim)?, "samples")?;
        let target = input(target, rows(n_target, dim)?, "target")?;
        put(out, metric.evaluate(samples, target, dim)?, "out")
    })
}

unsafe extern "C" fn evaluate_path(
    this: *const c_void,
    path: *const abi::PathIntegrals,
    out: *mut f64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let metric = instance::<dyn Metric>(this)?;
        let p = path.as_ref().ok_or_else(|| abi_error("the host passed null path integrals"))?;
        let path = PathIntegrals {
            dim: p.dim,
            source: input(p.source, rows(p.n, p.dim)?, "source")?,
            end: input(p.end, rows(p.n, p.dim)?, "end")?,
            energy: input(p.energy, p.n, "energy")?,
            target: input(p.target, rows(p.n_target, p.dim)?, "target")?,
        };
        put(out, metric.evaluate_path(&path)?, "out")
    })
}

unsafe extern "C" fn evaluate_likelihood(
    this: *const c_void,
    likelihood: *const abi::Likelihood,
    out: *mut f64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let metric = instance::<dyn Metric>(this)?;
        let l = likelihood.as_ref().ok_or_else(|| abi_error("the host passed a null likelihood"))?;
        let likelihood = Likelihood { dim: l.dim, log_density: input(l.log_density, l.n, "log_density")? };
        put(out, metric.evaluate_likelihood(&likelihood)?, "out")
    })
}
