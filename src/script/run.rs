//! `sweep.run()`: write the declared trials into the sweep directory, compute the floors, hand
//! the trials with something left to do to the configured launcher, and collect
//! `summary.csv` from the trial directories.

use rhai::{Array, Dynamic, Map};

use super::State;
use crate::launch::{self, Launch, Launched};
use std::path::PathBuf;

use crate::sweep::{self, trial_states, Sweep, TrialState, TrialStatus};

/// The trials of one sweep that a finished launch left failed or unfinished.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub dir: PathBuf,
    pub trials: usize,
    pub failed: Vec<TrialState>,
}

/// Run what is not finished; returns `#{ trials, launched, done, failed, submitted }` and the
/// trials that did not finish.
pub fn run_sweep(state: &State, sweep: &Sweep) -> anyhow::Result<(Map, Stopped)> {
    let config = state.layers.resolve(&[])?.config.launcher;
    let launcher = launch::build(&config.kind)?;
    let program = launch::worker_program(&config, &state.program)?;
    sweep.write()?;
    if state.force {
        for spec in sweep.trials() {
            sweep::reset(&sweep.trial_dir(&spec.id))?;
        }
    }
    sweep.compute_floors(&state.registry, state.force)?;
    let pending = sweep.pending();
    let launched = if pending.is_empty() {
        tracing::info!(sweep = %sweep.name, trials = sweep.trials().len(), "every trial is finished already");
        Launched::Finished
    } else {
        tracing::info!(sweep = %sweep.name, pending = pending.len(), of = sweep.trials().len(), launcher = %config.kind, "running");
        launcher.launch(&Launch {
            sweep_dir: &sweep.dir,
            trials: &pending,
            config: &config,
            registry: state.registry.clone(),
            program: &program,
            terminal: &state.terminal,
        })?
    };
    sweep::write_summary(&sweep.dir)?;
    let states = trial_states(&sweep.dir)?;
    let mut report = Map::new();
    report.insert("trials".into(), (states.len() as i64).into());
    report.insert("launched".into(), (pending.len() as i64).into());
    let done = states.iter().filter(|s| s.status == TrialStatus::Done).count();
    report.insert("done".into(), (done as i64).into());
    let failed: Vec<TrialState> = match &launched {
        Launched::Finished => states.iter().filter(|s| s.status != TrialStatus::Done).cloned().collect(),
        // Submitted trials run later: none has failed yet.
        Launched::Submitted { .. } => Vec::new(),
    };
    let jobs: Array = match &launched {
        Launched::Submitted { jobs } => jobs.iter().map(|j| Dynamic::from(j.clone())).collect(),
        Launched::Finished => Array::new(),
    };
    report.insert("submitted".into(), jobs.into());
    if matches!(launched, Launched::Finished) {
        for s in &failed {
            let why = s.error.as_deref().unwrap_or("it stopped before finishing");
            tracing::warn!(trial = %s.id, "{} ({}/{} evaluations): {why}", s.status, s.evaluated, s.evaluations);
        }
        report.insert("failed".into(), failed.iter().map(|s| Dynamic::from(s.id.clone())).collect::<Array>().into());
    }
    Ok((report, Stopped { dir: sweep.dir.clone(), trials: states.len(), failed }))
}
