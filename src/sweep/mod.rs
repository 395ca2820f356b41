//! Sweeps: a directory of trials and a `summary.csv` with one row per (trial, solver, NFE).

mod npy;
mod summary;
mod trial;

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use npy::{read as read_npy, write as write_npy};
pub use summary::{metric_columns, to_csv, to_table, Row};
pub use trial::{reference, Evaluation, Fit, Trial, SOLVER_ERROR};

use crate::config::ConfigError;
use crate::evaluate::EvaluateError;
use crate::metrics::flow::FlowError;
use crate::sampling::SampleError;
use crate::train::TrainError;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrialError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("training: {0}")]
    Train(#[from] TrainError),
    #[error("sampling: {0}")]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
    #[error("flow metrics: {0}")]
    Flow(#[from] FlowError),
    #[error("the trial is not trained yet: call train() before evaluate()")]
    NotTrained,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl TrialError {
    pub fn io(path: &Path, source: std::io::Error) -> TrialError {
        TrialError::Io { path: path.to_path_buf(), source }
    }
}

/// `<out>/<name>/`, holding the trial directories and `summary.csv`.
pub struct Sweep {
    pub name: String,
    pub dir: PathBuf,
    rows: Vec<Row>,
}

impl Sweep {
    pub fn create(out: &Path, name: &str) -> Result<Sweep, TrialError> {
        let dir = out.join(name);
        fs::create_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        let sweep = Sweep { name: name.to_string(), dir, rows: Vec::new() };
        sweep.write_summary()?;
        Ok(sweep)
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Add a row and rewrite `summary.csv` (so an interrupted sweep keeps what it finished).
    pub fn add(&mut self, row: Row) -> Result<(), TrialError> {
        self.rows.push(row);
        self.write_summary()
    }

    fn write_summary(&self) -> Result<(), TrialError> {
        let path = self.dir.join("summary.csv");
        fs::write(&path, to_csv(&self.rows)).map_err(|e| TrialError::io(&path, e))
    }
}
