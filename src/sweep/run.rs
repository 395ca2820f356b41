//! The one way a trial runs, whoever runs it (the script's process, a local worker, a Slurm
//! task): take the trial directory's lock, load the trained network or train it (resuming a
//! killed training from its checkpoint), run the evaluations that have no row yet, and record
//! every step in the event log and `run.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::events::{Event, EventLog, Logged, Observer};
use super::lock::{host_name, TrialLock};
use super::spec::{EvaluationRecord, TrialSpec};
use super::trial::{CHECKPOINTS, FIT, NETWORK};
use super::{Trial, TrialError};
use crate::files::{read_json, remove_temporaries, write_atomic, write_json};
use crate::plugins::Registry;

/// Where evaluation records live in a trial directory.
pub const EVALS: &str = "evals";

/// How a finished run of a trial went.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub evaluated: usize,
    pub skipped: usize,
    /// Evaluations that failed: (evaluation id, error).
    pub failed: Vec<(String, String)>,
}

/// The record of evaluation `id` in `trial_dir`, if it ran.
pub fn read_record(trial_dir: &Path, id: &str) -> Option<EvaluationRecord> {
    read_json(&record_path(trial_dir, id)).ok()
}

pub fn record_path(trial_dir: &Path, id: &str) -> PathBuf {
    trial_dir.join(EVALS).join(format!("{id}.json"))
}

/// Forget what a trial computed (for `--force`): its network, checkpoints and rows. The spec,
/// the event log and the samples stay (the samples are rewritten).
pub fn reset(trial_dir: &Path) -> Result<(), TrialError> {
    for name in [NETWORK, FIT] {
        let path = trial_dir.join(name);
        if path.exists() {
            fs::remove_file(&path).map_err(|e| TrialError::io(&path, e))?;
        }
    }
    for name in [EVALS, CHECKPOINTS] {
        let path = trial_dir.join(name);
        if path.exists() {
            fs::remove_dir_all(&path).map_err(|e| TrialError::io(&path, e))?;
        }
    }
    Ok(())
}

/// How often a running training logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Run the trial whose spec is in `trial_dir`: everything it has not finished. A panic in it
/// (a bug, or a plugin's that its boundary did not catch) fails this trial, recorded as any
/// failure is, instead of taking down the process and the sweep's other trials.
pub fn run_trial(
    trial_dir: &Path,
    registry: Arc<Registry>,
    observer: &mut dyn Observer,
) -> Result<Outcome, TrialError> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_locked(trial_dir, registry, observer)));
    run.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let id = trial_dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        Err(record_failure(trial_dir, &id, observer, TrialError::Panicked { message }))
    })
}

fn run_locked(trial_dir: &Path, registry: Arc<Registry>, observer: &mut dyn Observer) -> Result<Outcome, TrialError> {
    let _lock = TrialLock::acquire(trial_dir)?;
    let mut logged = Logged { inner: observer, log: EventLog::new(trial_dir), every: PROGRESS_EVERY, last: None };
    let observer: &mut dyn Observer = &mut logged;
    remove_temporaries(trial_dir).map_err(|e| TrialError::io(trial_dir, e))?;
    let evals = trial_dir.join(EVALS);
    fs::create_dir_all(&evals).map_err(|e| TrialError::io(&evals, e))?;
    remove_temporaries(&evals).map_err(|e| TrialError::io(&evals, e))?;
    let spec = TrialSpec::read(trial_dir)?;
    let pending: Vec<_> = spec
        .evaluations
        .iter()
        .filter(|e| read_record(trial_dir, &e.id()).is_none_or(|r| r.row.is_none()))
        .cloned()
        .collect();
    let mut trial = match Trial::open(trial_dir, spec.resolved(), registry) {
        Ok(t) => t,
        Err(e) => return Err(record_failure(trial_dir, &spec.id, observer, e)),
    };
    let started = Event::Started {
        host: host_name(),
        pid: std::process::id(),
        evaluations: spec.evaluations.len(),
        pending: pending.len(),
    };
    trial.emit(observer, started)?;
    trial.write_status("running", None)?;
    if let Err(e) = trial.prepare(observer) {
        let _ = trial.emit(observer, Event::Failed { error: e.to_string() });
        let _ = trial.write_status("failed", Some(&e.to_string()));
        return Err(e);
    }
    let mut outcome = Outcome { evaluated: 0, skipped: spec.evaluations.len() - pending.len(), failed: Vec::new() };
    for evaluation in &pending {
        let id = evaluation.id();
        let (record, event) = match trial.measure(evaluation) {
            Ok((row, event)) => {
                outcome.evaluated += 1;
                (EvaluationRecord { evaluation: evaluation.clone(), row: Some(row), error: None }, event)
            }
            Err(e) => {
                let error = e.to_string();
                outcome.failed.push((id.clone(), error.clone()));
                let event = Event::EvaluationFailed { evaluation: id.clone(), error: error.clone() };
                (EvaluationRecord { evaluation: evaluation.clone(), row: None, error: Some(error) }, event)
            }
        };
        // The row first, then its event: an evaluation the log shows is one a rerun skips.
        let path = record_path(trial_dir, &id);
        write_json(&path, &record).map_err(|e| TrialError::io(&path, e))?;
        trial.emit(observer, event)?;
    }
    if outcome.failed.is_empty() {
        trial.emit(observer, Event::Finished { evaluated: outcome.evaluated, skipped: outcome.skipped })?;
        trial.write_status("done", None)?;
    } else {
        let why = format!("{} of {} evaluations failed", outcome.failed.len(), spec.evaluations.len());
        trial.write_status("failed", Some(&why))?;
    }
    Ok(outcome)
}

/// Record a failure where no [`Trial`] is at hand to do it: before the trial could be built (its
/// plugins, its device), or after a panic.
fn record_failure(trial_dir: &Path, id: &str, observer: &mut dyn Observer, e: TrialError) -> TrialError {
    let event = Event::Failed { error: e.to_string() };
    let _ = EventLog::new(trial_dir).append(&event);
    observer.event(id, &event);
    let run = serde_json::json!({ "trial": id, "status": "failed", "error": e.to_string() });
    let _ = write_atomic(&trial_dir.join("run.json"), run.to_string().as_bytes());
    e
}

/// A worker process that ran the trial in `trial_dir` ended in failure (`how`: its exit status).
/// Where it could not say why itself (killed, out of memory, aborted), say so for it; a trial
/// it finished, or whose failure it recorded, is left as it is.
pub fn record_worker_exit(trial_dir: &Path, how: &str) -> Result<(), TrialError> {
    let spec = TrialSpec::read(trial_dir)?;
    let recorded: Option<serde_json::Value> = read_json(&trial_dir.join("run.json")).ok();
    if super::is_finished(trial_dir, &spec) || recorded.is_some_and(|r| r["status"] == "failed") {
        return Ok(());
    }
    let error = TrialError::WorkerDied { how: how.to_string() };
    record_failure(trial_dir, &spec.id, &mut super::Silent, error);
    Ok(())
}
