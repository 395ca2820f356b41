//! `runner bench`: the speed of runner's real training and sampling code on every device of the
//! build, beside the same workloads in PyTorch eager, measured in one run (README "Speed",
//! BENCHMARKS.md §4). Absolute times on a shared machine are noisy; the ratios taken in one run
//! are what to compare.

mod machine;
mod measure;
mod peak;
mod plan;
mod reference;
mod report;

use std::path::PathBuf;

use thiserror::Error;

pub use machine::Machine;
pub use peak::sgemm_gflops;
pub use plan::{Plan, SampleCase, TrainCase};
pub use reference::{python, PyTorch, Reference, SCRIPT, VENV_PYTHON};
pub use report::{Kernel, Report, Row};

use crate::config::ConfigError;
use crate::device::{self, DeviceError};
use crate::sampling::SampleError;
use crate::train::TrainError;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BenchError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Sample(#[from] SampleError),
    #[error("waiting for the device: {0}")]
    Sync(String),
    #[error("invalid bench plan: {0}")]
    Plan(String),
    #[error("{device}, {row}: {source}")]
    At { device: String, row: String, source: Box<BenchError> },
    #[error("--out {0}: the file must end in .json or .csv")]
    OutFormat(PathBuf),
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Device names as the config's `device` key takes them.
    pub devices: Vec<String>,
    /// Intra-op threads of PyTorch and of libtorch.
    pub threads: usize,
    /// The interpreter of the PyTorch reference (see [`python`]).
    pub python: PathBuf,
    pub plan: Plan,
}

/// Every CPU device compiled into this build (`libtorch:cuda:N` runs only when asked for).
pub fn default_devices() -> Vec<String> {
    device::available().into_iter().filter(|d| !d.contains("cuda")).map(String::from).collect()
}

/// The threads the bench uses unless told otherwise: all the machine has.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Run the PyTorch reference, then every row on every device; `progress` hears what starts.
pub fn run(options: &Options, progress: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    let plan = &options.plan;
    if plan.train.is_empty() && plan.sample.is_empty() {
        return Err(BenchError::Plan("no training or sampling case to measure".into()));
    }
    // Check every device name before spending minutes on the first.
    let devices = options
        .devices
        .iter()
        .map(|name| Ok((name.clone(), device::parse(name)?)))
        .collect::<Result<Vec<_>, DeviceError>>()?;

    progress(&format!("PyTorch reference ({})", options.python.display()));
    let reference = reference::run(&options.python, plan, options.threads);
    let pytorch = reference.result();

    let mut rows = Vec::new();
    let mut kernels = Vec::new();
    for (name, device) in &devices {
        kernels.push(Kernel { device: name.clone(), kernel: machine::kernel(name) });
        set_threads(name, options.threads);
        let at = |row: &str| {
            let (device, row) = (name.clone(), row.to_string());
            move |e: BenchError| BenchError::At { device, row, source: Box::new(e) }
        };
        progress(&format!("{name}: sgemm {n}×{n}", n = plan.peak_size));
        let peak = sgemm_gflops(device, plan.peak_size, plan.peak_reps).map_err(at("sgemm"))?;
        let row = |row: String, unit, workload: String, runner: f64, flops: f64, pytorch_value: Option<f64>| Row {
            device: name.clone(),
            row,
            unit,
            workload,
            runner,
            pytorch: pytorch_value,
            ratio: pytorch_value.map(|p| runner / p),
            gflops: runner * flops / 1e9,
            pytorch_gflops: pytorch_value.map(|p| p * flops / 1e9),
            peak_gflops: peak,
            pytorch_peak_gflops: pytorch.map(|p| p.peak_gflops),
        };
        for case in &plan.train {
            let label = format!("train {}", case.name);
            progress(&format!("{name}: {label}"));
            let rate = measure::train_rate(name, device, plan, case).map_err(at(&label))?;
            let theirs = pytorch.and_then(|p| p.train.get(&case.name).copied());
            let workload = format!("batch {}, width {}", case.batch, case.width);
            rows.push(row(label, "steps/s", workload, rate, plan.train_flops(case), theirs));
        }
        for case in &plan.sample {
            let label = format!("sample {}", case.name);
            progress(&format!("{name}: {label}"));
            let rate = measure::sample_rate(name, device, plan, case).map_err(at(&label))?;
            let theirs = pytorch.and_then(|p| p.sample.get(&case.name).copied());
            let workload = format!("{} points, width {}, euler {} NFE", case.points, case.width, case.nfe);
            rows.push(row(label, "samples/s", workload, rate, plan.sample_flops(case), theirs));
        }
    }
    Ok(Report { threads: options.threads, machine: Machine::this(), kernels, plan: plan.clone(), reference, rows })
}

/// Give libtorch its intra-op thread count. flex and ndarray run on rayon's global pool, which
/// sizes itself once, from `RAYON_NUM_THREADS` or the machine (the command line sets that
/// variable from `--threads` before any pool exists).
fn set_threads(device_name: &str, threads: usize) {
    #[cfg(feature = "tch")]
    if device_name.starts_with("libtorch") {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
    let _ = (device_name, threads);
}
