//! Sweeps: a directory of trials, declared by a script as data and run by a launcher, and a
//! `summary.csv` collected from what the trial directories hold.
//!
//! `<out>/<name>/sweep.json` lists the trials and floors in the order the script declared
//! them; each trial directory holds its spec and everything it computed
//! ([`run::run_trial`]); `references/` holds the floors' rows and configs. A rerun of the script finds
//! what is finished there and runs only the rest.

mod events;
mod lock;
mod npy;
mod run;
mod spec;
mod status;
mod summary;
mod trial;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use events::{read_events, Event, EventLog, Observer, SampleEvent, Silent, EVENTS};
pub use lock::{is_locked, read_holder, Holder, TrialLock};
pub use npy::{read as read_npy, write as write_npy};
pub use run::{read_record, record_path, record_worker_exit, reset, run_trial, Outcome};
pub use spec::{identity, trial_id, Evaluation, EvaluationRecord, TrialSpec};
pub use status::{failures, trial_state, trial_states, Failure, TrialState, TrialStatus};
pub use summary::{metric_columns, to_csv, to_table, Row};
pub use trial::{read_fit, reference, test_target, Fit, Trial, FIT, NETWORK, SOLVER_ERROR};

use crate::config::{ConfigError, Resolved, RunnerConfig};
use crate::evaluate::EvaluateError;
use crate::files::{read_json, write_atomic, write_json};
use crate::metrics::flow::FlowError;
use crate::plugins::Registry;
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
    #[error("its worker process stopped ({how}) before it could record why; its output is in worker.log")]
    WorkerDied { how: String },
    #[error("panicked: {message}")]
    Panicked { message: String },
    #[error("the trial is not trained yet: train it before evaluating it")]
    NotTrained,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: another process ({pid} on {host}) is running this trial", dir.display())]
    Locked { dir: PathBuf, host: String, pid: u32 },
    #[error(
        "sweep name `{name}`: a sweep is one directory under `out`; use letters, digits, `-`, `_` and `.` (not first)"
    )]
    BadName { name: String },
    #[error("{}: not a sweep directory (no sweep.json): {source}", dir.display())]
    NotASweep { dir: PathBuf, source: std::io::Error },
}

impl TrialError {
    pub fn io(path: &Path, source: std::io::Error) -> TrialError {
        TrialError::Io { path: path.to_path_buf(), source }
    }
}

/// The manifest file of a sweep directory.
pub const MANIFEST: &str = "sweep.json";

/// `sweep.json`: the sweep's trials and floors, in the order declared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub trials: Vec<String>,
    pub references: Vec<String>,
}

impl Manifest {
    pub fn read(sweep_dir: &Path) -> Result<Manifest, TrialError> {
        let path = sweep_dir.join(MANIFEST);
        read_json(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => TrialError::io(&path, e),
            _ => TrialError::NotASweep { dir: sweep_dir.to_path_buf(), source: e },
        })
    }
}

/// A finite-sample floor: the `reference` row of a dataset at an evaluation size and seed.
#[derive(Debug, Clone)]
pub struct Floor {
    pub id: String,
    pub resolved: Resolved,
}

/// A sweep being declared: `<out>/<name>/` and the trials and floors declared so far.
pub struct Sweep {
    pub name: String,
    pub dir: PathBuf,
    trials: Vec<TrialSpec>,
    floors: Vec<Floor>,
}

impl Sweep {
    /// A sweep's name is one directory of letters, digits, `-`, `_` and `.`: a name from a
    /// script cannot write outside `out`.
    pub fn check_name(name: &str) -> Result<(), TrialError> {
        let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        match !name.is_empty() && !name.starts_with('.') && plain {
            true => Ok(()),
            false => Err(TrialError::BadName { name: name.to_string() }),
        }
    }

    /// `<out>/<name>/`, created.
    pub fn create(out: &Path, name: &str) -> Result<Sweep, TrialError> {
        Sweep::check_name(name)?;
        let dir = out.join(name);
        fs::create_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        Ok(Sweep { name: name.to_string(), dir, trials: Vec::new(), floors: Vec::new() })
    }

    /// Declare a trial; returns its index. A config declared twice is one trial.
    pub fn add_trial(&mut self, spec: TrialSpec) -> usize {
        match self.trials.iter().position(|t| t.id == spec.id) {
            Some(i) => i,
            None => {
                self.trials.push(spec);
                self.trials.len() - 1
            }
        }
    }

    pub fn trial_mut(&mut self, index: usize) -> &mut TrialSpec {
        &mut self.trials[index]
    }

    pub fn trials(&self) -> &[TrialSpec] {
        &self.trials
    }

    /// Declare the floor of a dataset; returns its id.
    pub fn add_floor(&mut self, resolved: Resolved) -> String {
        let id = format!("reference-{}", trial_id(&resolved.config));
        if !self.floors.iter().any(|f| f.id == id) {
            self.floors.push(Floor { id: id.clone(), resolved });
        }
        id
    }

    pub fn trial_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Write the manifest and every trial's spec, so that any process can run them.
    pub fn write(&self) -> Result<(), TrialError> {
        for spec in &self.trials {
            spec.write(&self.trial_dir(&spec.id))?;
        }
        let dir = self.dir.join(REFERENCES);
        fs::create_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        for floor in &self.floors {
            let path = floor_config_path(&self.dir, &floor.id);
            write_json(&path, &floor.resolved.config).map_err(|e| TrialError::io(&path, e))?;
        }
        let manifest = Manifest {
            name: self.name.clone(),
            trials: self.trials.iter().map(|t| t.id.clone()).collect(),
            references: self.floors.iter().map(|f| f.id.clone()).collect(),
        };
        let path = self.dir.join(MANIFEST);
        write_json(&path, &manifest).map_err(|e| TrialError::io(&path, e))
    }

    /// Compute the floors that have no row yet (they take a fraction of a trial: the script's
    /// process does them).
    pub fn compute_floors(&self, registry: &Arc<Registry>, force: bool) -> Result<(), TrialError> {
        let dir = self.dir.join(REFERENCES);
        fs::create_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        for floor in &self.floors {
            let path = floor_path(&self.dir, &floor.id);
            if path.is_file() && !force {
                continue;
            }
            let row = reference(&floor.resolved, registry.clone())?;
            write_json(&path, &row).map_err(|e| TrialError::io(&path, e))?;
        }
        Ok(())
    }

    /// The trials that have something left to do: an evaluation without a row, or no trained
    /// network.
    pub fn pending(&self) -> Vec<String> {
        self.trials.iter().filter(|t| !is_finished(&self.trial_dir(&t.id), t)).map(|t| t.id.clone()).collect()
    }
}

/// Where the floors' rows live in a sweep directory.
const REFERENCES: &str = "references";

/// The file of floor `id`'s row.
pub fn floor_path(sweep_dir: &Path, id: &str) -> PathBuf {
    sweep_dir.join(REFERENCES).join(format!("{id}.json"))
}

/// Floor `id`'s row: none while it is not computed yet; an error where its file does not parse.
pub fn read_floor(sweep_dir: &Path, id: &str) -> Result<Option<Row>, TrialError> {
    let path = floor_path(sweep_dir, id);
    match read_json(&path) {
        Ok(row) => Ok(Some(row)),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(TrialError::io(&path, e)),
        Err(_) => Ok(None),
    }
}

/// The file of floor `id`'s config (what its row was drawn with, for reports that group rows
/// by setting).
fn floor_config_path(sweep_dir: &Path, id: &str) -> PathBuf {
    sweep_dir.join(REFERENCES).join(format!("{id}.config.json"))
}

/// The config floor `id` was drawn with.
pub fn read_floor_config(sweep_dir: &Path, id: &str) -> std::io::Result<RunnerConfig> {
    read_json(&floor_config_path(sweep_dir, id))
}

/// Whether every evaluation of `spec` has its row in `trial_dir` (and the network is trained).
pub fn is_finished(trial_dir: &Path, spec: &TrialSpec) -> bool {
    trial_dir.join(FIT).is_file()
        && spec.evaluations.iter().all(|e| read_record(trial_dir, &e.id()).is_some_and(|r| r.row.is_some()))
}

/// Every row the sweep directory holds, in declaration order: the floors, then each trial's
/// evaluations in the order they were asked for. Unfinished evaluations have no row.
pub fn collect(sweep_dir: &Path) -> Result<Vec<Row>, TrialError> {
    let manifest = Manifest::read(sweep_dir)?;
    let mut rows = Vec::new();
    for id in &manifest.references {
        rows.extend(read_floor(sweep_dir, id)?);
    }
    for id in &manifest.trials {
        let dir = sweep_dir.join(id);
        let spec = TrialSpec::read(&dir)?;
        rows.extend(spec.evaluations.iter().filter_map(|e| read_record(&dir, &e.id()).and_then(|r| r.row)));
    }
    Ok(rows)
}

/// Collect the rows and write `summary.csv` (atomically); returns the rows.
pub fn write_summary(sweep_dir: &Path) -> Result<Vec<Row>, TrialError> {
    let rows = collect(sweep_dir)?;
    let path = sweep_dir.join("summary.csv");
    write_atomic(&path, to_csv(&rows).as_bytes()).map_err(|e| TrialError::io(&path, e))?;
    Ok(rows)
}
