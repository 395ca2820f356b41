//! What happens to a trial, as typed events: appended as JSON lines to the trial's
//! `events.jsonl` (one writer at a time, whole lines), and handed to an observer as they
//! happen. The log is the trial's history across every process that worked on it: a resumed
//! training shows where it resumed, a rerun shows which evaluations it skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TrialError;
use crate::files::append_line;

/// The file name of a trial's event log.
pub const EVENTS: &str = "events.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A process took the trial: its host and process id, and how much is left to do.
    Started {
        host: String,
        pid: u32,
        evaluations: usize,
        pending: usize,
    },
    /// The model is the exact posterior of the mixture target: nothing to train.
    Oracle,
    /// Training goes on from the checkpoint after `step` steps of `round`.
    Resumed {
        round: usize,
        step: usize,
    },
    /// Training has done `step` of `steps` steps of round `round` (every few seconds, for the
    /// progress displays of other processes).
    Progress {
        round: usize,
        step: usize,
        steps: usize,
    },
    /// A point of the loss curve: the mean loss of the steps since the previous one.
    Train {
        round: usize,
        step: usize,
        steps: usize,
        loss: f64,
    },
    Validation {
        round: usize,
        step: usize,
        loss: f64,
    },
    /// The training state after `step` steps of `round` is saved.
    Checkpoint {
        round: usize,
        step: usize,
    },
    /// A reflow round starts on `pairs` pairs of the previous round's flow.
    Reflow {
        round: usize,
        pairs: usize,
    },
    /// Training ended; the network is saved.
    Trained {
        seconds: f64,
        step: usize,
    },
    /// The trained network was loaded from the trial's directory: no training.
    Loaded {
        file: String,
    },
    /// An evaluation ran and its row is saved.
    Sample(Box<SampleEvent>),
    /// An evaluation failed; the other evaluations go on, and a rerun tries it again.
    EvaluationFailed {
        evaluation: String,
        error: String,
    },
    /// The trial failed before its evaluations (setup, training, loading).
    Failed {
        error: String,
    },
    /// Every evaluation of the trial has its row.
    Finished {
        evaluated: usize,
        skipped: usize,
    },
    /// A line a script logged.
    Note {
        fields: BTreeMap<String, Value>,
    },
}

/// One evaluation's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleEvent {
    pub evaluation: String,
    pub solver: String,
    pub params: BTreeMap<String, String>,
    pub nfe: usize,
    pub steps: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub sample_seconds: f64,
    pub samples: String,
    pub metrics: BTreeMap<String, f64>,
    /// Points used by metrics that score fewer than all samples.
    pub points: BTreeMap<String, usize>,
    /// How the flow metrics were measured (their solver, NFE, points and seconds).
    pub notes: BTreeMap<String, Value>,
}

/// Who hears a trial's events as they happen (progress displays, launchers).
pub trait Observer {
    fn event(&mut self, trial: &str, event: &Event);

    /// Training progress after every step, which is not logged: a display may show it.
    fn step(&mut self, _trial: &str, _round: usize, _step: usize, _steps: usize) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn event(&mut self, _trial: &str, _event: &Event) {}
}

/// An observer that also logs the training's progress every few seconds, so that a process
/// watching the trial's directory (a launcher's parent, `runner status`) can show it.
pub struct Logged<'a> {
    pub inner: &'a mut dyn Observer,
    pub log: EventLog,
    pub every: std::time::Duration,
    pub last: Option<std::time::Instant>,
}

impl Observer for Logged<'_> {
    fn event(&mut self, trial: &str, event: &Event) {
        self.inner.event(trial, event);
    }

    fn step(&mut self, trial: &str, round: usize, step: usize, steps: usize) {
        self.inner.step(trial, round, step, steps);
        if self.last.is_none_or(|t| t.elapsed() >= self.every) {
            self.last = Some(std::time::Instant::now());
            // Progress is a courtesy: a failed append must not fail the training.
            let _ = self.log.append(&Event::Progress { round, step, steps });
        }
    }
}

/// A trial's event log.
pub struct EventLog {
    path: PathBuf,
}

impl EventLog {
    pub fn new(trial_dir: &Path) -> EventLog {
        EventLog { path: trial_dir.join(EVENTS) }
    }

    pub fn append(&self, event: &Event) -> Result<(), TrialError> {
        let line = serde_json::to_string(event).expect("events serialize");
        append_line(&self.path, &line).map_err(|e| TrialError::io(&self.path, e))
    }

    /// Every event logged so far; a line that does not parse (written by another version) is
    /// skipped.
    pub fn read(&self) -> Vec<Event> {
        read_events(&self.path)
    }
}

pub fn read_events(path: &Path) -> Vec<Event> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}
