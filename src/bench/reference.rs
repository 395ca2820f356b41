//! The PyTorch eager reference: `scripts/bench/pytorch_reference.py`, compiled into the binary
//! and run with `python -c` in the same `runner bench` run, on the same plan and thread count.
//! A missing interpreter or torch is not an error: the bench reports runner's rows alone and
//! says why the reference is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::plan::Plan;

/// The reference script; `runner bench` runs this copy, so it works from any directory.
pub const SCRIPT: &str = include_str!("../../scripts/bench/pytorch_reference.py");

/// The project-local environment that `scripts/setup-libtorch.sh` creates.
pub const VENV_PYTHON: &str = ".venv/bin/python";

/// What the reference measured (the JSON the script prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyTorch {
    /// `torch.__version__`.
    pub torch: String,
    /// `torch.get_num_threads()` after setting it.
    pub threads: usize,
    /// `torch.backends.cpu.get_cpu_capability()`: the instructions ATen dispatches to (AVX512, …).
    #[serde(default)]
    pub cpu_capability: Option<String>,
    /// The BLAS behind `torch.mm` (MKL or not).
    #[serde(default)]
    pub blas: Option<String>,
    pub peak_gflops: f64,
    /// Steps per second by training case name.
    pub train: BTreeMap<String, f64>,
    /// Samples per second by sampling case name.
    pub sample: BTreeMap<String, f64>,
}

/// The reference's outcome, with the interpreter that was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Reference {
    Ran { python: PathBuf, result: PyTorch },
    Skipped { python: PathBuf, reason: String },
}

impl Reference {
    pub fn result(&self) -> Option<&PyTorch> {
        match self {
            Reference::Ran { result, .. } => Some(result),
            Reference::Skipped { .. } => None,
        }
    }
}

/// The interpreter to use: the given one, else the Python of the environment that
/// scripts/setup-libtorch.sh installed PyTorch into (`$RUNNER_VENV`, else `.venv/` under `dir`)
/// if it exists, else `python3` from the PATH.
pub fn python(given: Option<&Path>, dir: &Path) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    let venv = match std::env::var_os("RUNNER_VENV") {
        Some(venv) => dir.join(venv).join("bin/python"),
        None => dir.join(VENV_PYTHON),
    };
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("python3")
}

/// Run the reference on `plan` with `threads` intra-op threads.
pub fn run(python: &Path, plan: &Plan, threads: usize) -> Reference {
    let skipped = |reason: String| Reference::Skipped { python: python.to_path_buf(), reason };
    let plan_json = serde_json::to_string(plan).expect("a plan serializes");
    let output = match Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .args(["--plan", &plan_json, "--threads", &threads.to_string()])
        .output()
    {
        Ok(o) => o,
        Err(e) => return skipped(format!("cannot run {}: {e}", python.display())),
    };
    if !output.status.success() {
        // The script's own message (e.g. torch missing) is its last line of stderr.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return skipped(format!("the reference script failed ({}): {}", output.status, last.trim()));
    }
    match serde_json::from_slice::<PyTorch>(&output.stdout) {
        Ok(result) => Reference::Ran { python: python.to_path_buf(), result },
        Err(e) => skipped(format!("the reference script printed no result runner can read: {e}")),
    }
}
