//! Where each trial of a sweep stands, read from its directory alone (no process to ask): its
//! lock, `run.json`, its evaluation records and the last training progress in its event log.

use std::fmt;
use std::path::Path;

use super::events::{read_events, Event, EVENTS};
use super::spec::param_suffix;
use super::{is_locked, read_record, Manifest, TrialError, TrialSpec, FIT};
use crate::files::read_json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialStatus {
    /// Nothing ran yet.
    Pending,
    /// A live process holds the trial's lock.
    Running,
    /// Some work ran and stopped (killed, or failed evaluations): a rerun continues it.
    Unfinished,
    /// It failed before its evaluations.
    Failed,
    /// Every evaluation has its row.
    Done,
}

impl fmt::Display for TrialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrialStatus::Pending => "pending",
            TrialStatus::Running => "running",
            TrialStatus::Unfinished => "unfinished",
            TrialStatus::Failed => "failed",
            TrialStatus::Done => "done",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrialState {
    pub id: String,
    pub status: TrialStatus,
    pub evaluated: usize,
    pub evaluations: usize,
    /// Whether the network is trained (its fit is saved).
    pub trained: bool,
    /// The last logged training step and the steps of its round, while training is not done.
    pub training: Option<(usize, usize)>,
    pub error: Option<String>,
}

/// The state of every trial of the sweep in `sweep_dir`, in declaration order.
pub fn trial_states(sweep_dir: &Path) -> Result<Vec<TrialState>, TrialError> {
    let manifest = Manifest::read(sweep_dir)?;
    manifest.trials.iter().map(|id| trial_state(&sweep_dir.join(id))).collect()
}

pub fn trial_state(dir: &Path) -> Result<TrialState, TrialError> {
    let spec = TrialSpec::read(dir)?;
    let records: Vec<_> = spec.evaluations.iter().filter_map(|e| read_record(dir, &e.id())).collect();
    let evaluated = records.iter().filter(|r| r.row.is_some()).count();
    let run: Option<serde_json::Value> = read_json(&dir.join("run.json")).ok();
    let recorded = run.as_ref().and_then(|r| r["status"].as_str().map(str::to_string));
    let mut error = run.as_ref().and_then(|r| r["error"].as_str().map(str::to_string));
    let trained = dir.join(FIT).is_file();
    let status = if is_locked(dir) {
        TrialStatus::Running
    } else if trained && evaluated == spec.evaluations.len() {
        TrialStatus::Done
    } else if recorded.as_deref() == Some("failed") && !trained {
        TrialStatus::Failed
    } else if recorded.is_some() || dir.join(EVENTS).is_file() {
        TrialStatus::Unfinished
    } else {
        TrialStatus::Pending
    };
    if status == TrialStatus::Done {
        error = None;
    } else if error.is_none() {
        error = records.iter().find_map(|r| r.error.clone());
    }
    let training = match trained {
        true => None,
        false => read_events(&dir.join(EVENTS)).iter().rev().find_map(|e| match e {
            Event::Progress { step, .. }
            | Event::Train { step, .. }
            | Event::Checkpoint { step, .. }
            | Event::Resumed { step, .. } => Some((*step, spec.config.train.steps)),
            _ => None,
        }),
    };
    Ok(TrialState { id: spec.id, status, evaluated, evaluations: spec.evaluations.len(), trained, training, error })
}

/// An evaluation that a trial which stopped (failed, or killed) left without its row, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub trial: String,
    pub status: TrialStatus,
    pub dataset: String,
    pub method: String,
    pub schedule: String,
    /// The solver with its parameters, as in the rows.
    pub solver: String,
    pub nfe: usize,
    pub reason: String,
}

/// Every evaluation of the sweep in `sweep_dir` whose trial failed or stopped unfinished, in
/// declaration order (pending and running trials have not failed).
pub fn failures(sweep_dir: &Path) -> Result<Vec<Failure>, TrialError> {
    let mut out = Vec::new();
    for state in trial_states(sweep_dir)? {
        if !matches!(state.status, TrialStatus::Failed | TrialStatus::Unfinished) {
            continue;
        }
        let dir = sweep_dir.join(&state.id);
        let spec = TrialSpec::read(&dir)?;
        for evaluation in &spec.evaluations {
            let record = read_record(&dir, &evaluation.id());
            if record.as_ref().is_some_and(|r| r.row.is_some()) {
                continue;
            }
            let reason = record
                .and_then(|r| r.error)
                .or_else(|| state.error.clone())
                .unwrap_or_else(|| "it stopped before this evaluation (killed?); a rerun continues it".into());
            let c = &spec.config;
            out.push(Failure {
                trial: state.id.clone(),
                status: state.status,
                dataset: c.data.target.clone(),
                method: c.method.clone(),
                schedule: c.path.schedule.clone(),
                solver: format!("{}{}", evaluation.solver, param_suffix(&evaluation.params)),
                nfe: evaluation.nfe,
                reason,
            });
        }
    }
    Ok(out)
}
