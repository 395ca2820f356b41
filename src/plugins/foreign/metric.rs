use runner_abi as abi;
use runner_sdk::{Likelihood, Metric, MetricInput, PathIntegrals, PluginError};

use super::{call, invalid, Instance};

/// A library's metric. What it is computed from and its size cap are read when it is built.
pub struct ForeignMetric {
    pub instance: Instance,
    pub vtable: &'static abi::MetricVtable,
    pub input: MetricInput,
}

impl Metric for ForeignMetric {
    fn input(&self) -> MetricInput {
        self.input
    }

    fn max_points(&self, dim: usize) -> Option<usize> {
        let f = self.vtable.max_points?;
        let mut out = usize::MAX;
        match call(&self.instance.name, |err| unsafe { f(self.instance.ptr(), dim, &mut out, err) }) {
            Ok(()) if out != usize::MAX => Some(out),
            Ok(()) => None,
            // A cap the plugin cannot state is no cap; evaluating will report its error.
            Err(_) => None,
        }
    }

    fn evaluate(&self, samples: &[f32], target: &[f32], dim: usize) -> Result<f64, PluginError> {
        let name = &self.instance.name;
        let f = self.vtable.evaluate.ok_or_else(|| invalid(name, "it has no `evaluate` function".into()))?;
        let (n_samples, n_target) = (samples.len() / dim.max(1), target.len() / dim.max(1));
        let mut out = f64::NAN;
        call(name, |err| unsafe {
            f(self.instance.ptr(), samples.as_ptr(), n_samples, target.as_ptr(), n_target, dim, &mut out, err)
        })?;
        Ok(out)
    }

    fn evaluate_path(&self, path: &PathIntegrals<'_>) -> Result<f64, PluginError> {
        let name = &self.instance.name;
        let f = self.vtable.evaluate_path.ok_or_else(|| invalid(name, "it takes no path integrals".into()))?;
        let dim = path.dim.max(1);
        let raw = abi::PathIntegrals {
            dim: path.dim,
            n: path.energy.len(),
            source: path.source.as_ptr(),
            end: path.end.as_ptr(),
            energy: path.energy.as_ptr(),
            n_target: path.target.len() / dim,
            target: path.target.as_ptr(),
        };
        let mut out = f64::NAN;
        call(name, |err| unsafe { f(self.instance.ptr(), &raw, &mut out, err) })?;
        Ok(out)
    }

    fn evaluate_likelihood(&self, likelihood: &Likelihood<'_>) -> Result<f64, PluginError> {
        let name = &self.instance.name;
        let f = self.vtable.evaluate_likelihood.ok_or_else(|| invalid(name, "it takes no log densities".into()))?;
        let raw = abi::Likelihood {
            dim: likelihood.dim,
            n: likelihood.log_density.len(),
            log_density: likelihood.log_density.as_ptr(),
        };
        let mut out = f64::NAN;
        call(name, |err| unsafe { f(self.instance.ptr(), &raw, &mut out, err) })?;
        Ok(out)
    }
}
