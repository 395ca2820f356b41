//! `local`: `launcher.workers` worker processes on this machine, each running one trial at a
//! time as `runner worker SWEEP_DIR --trial ID`, with its compute threads set so that workers ×
//! threads fit the cores. Small networks use a core each far better than two cores share one
//! network, so this is the default. A worker's output goes to its trial's `worker.log`; the
//! parent shows every running trial's progress from the trials' event logs.

use std::fs::OpenOptions;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{cores, Launch, LaunchError, Launched, Launcher};
use crate::progress::SweepProgress;
use crate::sweep;

pub struct Local;

/// How often the parent looks at its workers and their trials.
const POLL: Duration = Duration::from_millis(200);

/// The log of the worker processes that ran a trial, in its directory.
pub const WORKER_LOG: &str = "worker.log";

impl Launcher for Local {
    fn launch(&self, launch: &Launch<'_>) -> Result<Launched, LaunchError> {
        let config = launch.config;
        let workers = match config.workers {
            0 => cores(),
            n => n,
        }
        .min(launch.trials.len())
        .max(1);
        let threads = match config.threads {
            0 => (cores() / workers).max(1),
            n => n,
        };
        tracing::info!(workers, threads, trials = launch.trials.len(), "local workers");
        let mut queue = launch.trials.iter();
        let mut running: Vec<(String, Child)> = Vec::new();
        let mut progress = SweepProgress::new(launch.terminal, launch.sweep_dir, launch.trials.len());
        loop {
            while running.len() < workers {
                let Some(id) = queue.next() else { break };
                running.push((id.clone(), spawn(launch, id, threads)?));
            }
            if running.is_empty() {
                break;
            }
            std::thread::sleep(POLL);
            let mut still = Vec::with_capacity(running.len());
            for (id, mut child) in running {
                match child.try_wait() {
                    Ok(None) => still.push((id, child)),
                    Ok(Some(status)) => {
                        if !status.success() {
                            let dir = launch.sweep_dir.join(&id);
                            let log = dir.join(WORKER_LOG);
                            tracing::warn!(trial = %id, "the worker exited with {status}: see {}", log.display());
                            sweep::record_worker_exit(&dir, &status.to_string())?;
                        }
                        progress.trial_done();
                    }
                    Err(e) => {
                        tracing::warn!(trial = %id, "waiting for the worker: {e}");
                        progress.trial_done();
                    }
                }
            }
            running = still;
            progress.show(running.iter().map(|(id, _)| id.as_str()));
        }
        progress.finish();
        Ok(Launched::Finished)
    }
}

fn spawn(launch: &Launch<'_>, id: &str, threads: usize) -> Result<Child, LaunchError> {
    let dir = launch.sweep_dir.join(id);
    let log_path = dir.join(WORKER_LOG);
    let spawn_error = |e| LaunchError::Spawn { program: launch.program.to_path_buf(), source: e };
    let log = OpenOptions::new().create(true).append(true).open(&log_path).map_err(spawn_error)?;
    let err = log.try_clone().map_err(spawn_error)?;
    Command::new(launch.program)
        .arg("worker")
        .arg(launch.sweep_dir)
        .args(["--trial", id])
        // The pure-Rust pool and libtorch's (both read these once, at start).
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env("OMP_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(spawn_error)
}
