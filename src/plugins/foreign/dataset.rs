use std::ffi::c_void;

use runner_abi as abi;
use runner_sdk::{Component, Dataset, Mixture, PluginError};

use super::{call, Instance};

type SampleFn = unsafe extern "C" fn(*const c_void, usize, u64, *mut f32, *mut abi::ErrorBuf) -> abi::Status;

/// A library's dataset. Its dimension and mixture are read once, when it is built.
pub struct ForeignDataset {
    pub instance: Instance,
    pub sample: SampleFn,
    pub dim: usize,
    pub mixture: Option<Mixture>,
}

impl ForeignDataset {
    pub fn new(
        instance: Instance,
        vtable: &abi::DatasetVtable,
        sample: SampleFn,
    ) -> Result<ForeignDataset, PluginError> {
        let name = instance.name.clone();
        let mut dim = 0usize;
        if let Some(f) = vtable.dim {
            call(&name, |err| unsafe { f(instance.ptr(), &mut dim, err) })?;
        }
        if dim == 0 {
            return Err(super::invalid(&name, "its dimension is 0 (or it has no `dim` function)".into()));
        }
        let mixture = match (vtable.mixture_components, vtable.mixture) {
            (Some(count), Some(fill)) => {
                let mut k = 0usize;
                call(&name, |err| unsafe { count(instance.ptr(), &mut k, err) })?;
                if k == 0 {
                    None
                } else {
                    let (mut weights, mut means, mut stds) = (vec![0.0; k], vec![0.0; k * dim], vec![0.0; k]);
                    call(&name, |err| unsafe {
                        fill(instance.ptr(), weights.as_mut_ptr(), means.as_mut_ptr(), stds.as_mut_ptr(), err)
                    })?;
                    let components = (0..k)
                        .map(|i| Component {
                            weight: weights[i],
                            mean: means[i * dim..(i + 1) * dim].to_vec(),
                            std: stds[i],
                        })
                        .collect();
                    Some(Mixture { dim, components })
                }
            }
            _ => None,
        };
        Ok(ForeignDataset { instance, sample, dim, mixture })
    }
}

impl Dataset for ForeignDataset {
    fn dim(&self) -> usize {
        self.dim
    }

    /// A failing call gives NaN points, which the data checks refuse as non-finite; the
    /// plugin's reason is logged.
    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut out = vec![f32::NAN; n * self.dim];
        if let Err(e) = call(&self.instance.name, |err| unsafe {
            (self.sample)(self.instance.ptr(), n, seed, out.as_mut_ptr(), err)
        }) {
            tracing::error!("dataset: {e}");
            out.fill(f32::NAN);
        }
        out
    }

    fn mixture(&self) -> Option<Mixture> {
        self.mixture.clone()
    }
}
