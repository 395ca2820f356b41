//! The data-set table: the dimension, seeded samples and the optional Gaussian mixture.

use std::ffi::c_void;

use super::coupling::rows;
use super::{abi_error, destroy, guard, instance, output, put};
use crate::{abi, Dataset, Mixture, PluginError};

pub(super) fn vtable(create: abi::CreateFn) -> abi::DatasetVtable {
    abi::DatasetVtable {
        size: std::mem::size_of::<abi::DatasetVtable>(),
        create: Some(create),
        destroy: Some(destroy::<dyn Dataset>),
        dim: Some(dim),
        sample: Some(sample),
        mixture_components: Some(mixture_components),
        mixture: Some(mixture),
    }
}

unsafe extern "C" fn dim(this: *const c_void, out: *mut usize, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe { put(out, instance::<dyn Dataset>(this)?.dim(), "out") })
}

unsafe extern "C" fn sample(
    this: *const c_void,
    n: usize,
    seed: u64,
    out: *mut f32,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let dataset = instance::<dyn Dataset>(this)?;
        let len = rows(n, dataset.dim())?;
        let out = output(out, len, "out")?;
        let points = dataset.sample(n, seed);
        if points.len() != len {
            return Err(abi_error(format!(
                "the data set drew {} values for {n} points of {}",
                points.len(),
                dataset.dim()
            )));
        }
        out.copy_from_slice(&points);
        Ok(())
    })
}

/// The mixture, checked against the data set's dimension so that the host's buffers fit it.
fn checked_mixture(dataset: &dyn Dataset) -> Result<Option<Mixture>, PluginError> {
    let Some(mixture) = dataset.mixture() else { return Ok(None) };
    let dim = dataset.dim();
    if mixture.dim != dim || mixture.components.iter().any(|c| c.mean.len() != dim) {
        return Err(abi_error(format!("the mixture is not in the data set's {dim} dimensions")));
    }
    Ok(Some(mixture))
}

unsafe extern "C" fn mixture_components(this: *const c_void, out: *mut usize, err: *mut abi::ErrorBuf) -> abi::Status {
    guard(err, || unsafe {
        let k = checked_mixture(instance::<dyn Dataset>(this)?)?.map_or(0, |m| m.components.len());
        put(out, k, "out")
    })
}

unsafe extern "C" fn mixture(
    this: *const c_void,
    weights: *mut f64,
    means: *mut f64,
    stds: *mut f64,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe {
        let dataset = instance::<dyn Dataset>(this)?;
        let mixture = checked_mixture(dataset)?.ok_or_else(|| abi_error("the data set is not a Gaussian mixture"))?;
        let k = mixture.components.len();
        let weights = output(weights, k, "weights")?;
        let means = output(means, rows(k, mixture.dim)?, "means")?;
        let stds = output(stds, k, "stds")?;
        for (i, c) in mixture.components.iter().enumerate() {
            weights[i] = c.weight;
            stds[i] = c.std;
            means[i * mixture.dim..(i + 1) * mixture.dim].copy_from_slice(&c.mean);
        }
        Ok(())
    })
}
