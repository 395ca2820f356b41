//! `slurm`: the pending trials as one `sbatch` job array (several, where the sweep is larger
//! than the cluster's `MaxArraySize`), each task running `runner worker SWEEP_DIR --trial ID`.
//! Tasks are requeueable: a pre-empted or requeued task finds its trial's checkpoint and
//! resumes from it. The submitted jobs are recorded in `slurm/jobs.json`, for `runner status`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Launch, LaunchError, Launched, Launcher};
use crate::config::SlurmConfig;
use crate::files::{read_json, write_atomic, write_json};
use crate::progress::SweepProgress;
use crate::sweep::{is_locked, TrialStatus};

pub struct Slurm;

/// The launcher's files in the sweep directory: job scripts, task logs, `jobs.json`.
const SLURM_DIR: &str = "slurm";

/// One submitted array: its job id and the trial of each task index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmJob {
    pub job: String,
    pub trials: Vec<String>,
}

/// Every array submitted for a sweep, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlurmJobs {
    pub jobs: Vec<SlurmJob>,
}

impl SlurmJobs {
    pub fn read(sweep_dir: &Path) -> SlurmJobs {
        read_json(&sweep_dir.join(SLURM_DIR).join("jobs.json")).unwrap_or_default()
    }

    fn write(&self, sweep_dir: &Path) -> Result<(), LaunchError> {
        let path = sweep_dir.join(SLURM_DIR).join("jobs.json");
        write_json(&path, self).map_err(|e| LaunchError::Slurm(format!("{}: {e}", path.display())))
    }

    /// The Slurm state of each trial that has a task in the queue (pending, running, …), the
    /// newest submission first.
    pub fn queued(&self) -> BTreeMap<String, String> {
        let ids: Vec<&str> = self.jobs.iter().map(|j| j.job.as_str()).collect();
        let states = squeue_states(&ids);
        let mut out = BTreeMap::new();
        for job in self.jobs.iter().rev() {
            for (task, trial) in job.trials.iter().enumerate() {
                let state =
                    states.get(&format!("{}_{task}", job.job)).or_else(|| states.get(&format!("{}_*", job.job)));
                if let Some(state) = state {
                    out.entry(trial.clone()).or_insert_with(|| state.clone());
                }
            }
        }
        out
    }
}

/// `squeue`'s state of every task of `jobs` still in the queue, by `<job>_<task>`; a range of
/// pending tasks (`12_[3-7%2]`) is listed as `<job>_*`. Empty when none is (or squeue fails).
pub fn squeue_states(jobs: &[&str]) -> BTreeMap<String, String> {
    if jobs.is_empty() {
        return BTreeMap::new();
    }
    let Ok(out) = Command::new("squeue").args(["-h", "-o", "%i %T", "-j", &jobs.join(",")]).output() else {
        return BTreeMap::new();
    };
    let mut states = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((id, state)) = line.split_once(' ') else { continue };
        let key = match id.split_once("_[") {
            Some((job, _)) => format!("{job}_*"),
            None => id.to_string(),
        };
        states.insert(key, state.trim().to_string());
    }
    states
}

impl Launcher for Slurm {
    fn launch(&self, launch: &Launch<'_>) -> Result<Launched, LaunchError> {
        let config = &launch.config.slurm;
        which("sbatch")?;
        let max = match config.max_array_size {
            0 => max_array_size()?,
            n => n,
        };
        let dir = launch.sweep_dir.join(SLURM_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| LaunchError::Slurm(format!("{}: {e}", dir.display())))?;
        let sweep_dir = std::path::absolute(launch.sweep_dir)
            .map_err(|e| LaunchError::Slurm(format!("{}: {e}", launch.sweep_dir.display())))?;
        let mut record = SlurmJobs::read(launch.sweep_dir);
        let mut submitted = Vec::new();
        // Array indices run from 0 to MaxArraySize − 1.
        for chunk in launch.trials.chunks(max.max(1)) {
            let n = record.jobs.len();
            let script = dir.join(format!("array-{n}.sh"));
            let name = sweep_dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let text = job_script(config, &name, &sweep_dir, launch.program, chunk);
            write_atomic(&script, text.as_bytes())
                .map_err(|e| LaunchError::Slurm(format!("{}: {e}", script.display())))?;
            let job = sbatch(&script)?;
            tracing::info!(job = %job, tasks = chunk.len(), script = %script.display(), "submitted a Slurm job array");
            record.jobs.push(SlurmJob { job: job.clone(), trials: chunk.to_vec() });
            record.write(launch.sweep_dir)?;
            submitted.push(job);
        }
        if !launch.config.wait {
            return Ok(Launched::Submitted { jobs: submitted });
        }
        let mut progress = SweepProgress::new(launch.terminal, launch.sweep_dir, launch.trials.len());
        let ids: Vec<&str> = submitted.iter().map(String::as_str).collect();
        let poll = Duration::from_secs_f64(config.poll_seconds.max(0.1));
        loop {
            let states = squeue_states(&ids);
            if states.is_empty() {
                break;
            }
            // Finished or failed trials say so in their directories; running ones hold a lock.
            let ended = |id: &&str| {
                crate::sweep::trial_state(&launch.sweep_dir.join(id))
                    .is_ok_and(|s| matches!(s.status, TrialStatus::Done | TrialStatus::Failed))
            };
            progress.set_done(launch.trials.iter().map(String::as_str).filter(ended).count());
            let running = launch.trials.iter().map(String::as_str).filter(|id| is_locked(&launch.sweep_dir.join(id)));
            progress.show(running);
            std::thread::sleep(poll);
        }
        progress.set_done(launch.trials.len());
        progress.finish();
        Ok(Launched::Finished)
    }
}

/// The batch script of one array: `#SBATCH` lines from config, the task → trial table, and
/// the worker command.
fn job_script(config: &SlurmConfig, name: &str, sweep_dir: &Path, program: &Path, trials: &[String]) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let mut line = |l: String| {
        let _ = writeln!(s, "#SBATCH {l}");
    };
    line(format!("--job-name=runner-{name}"));
    let limit = if config.parallel > 0 { format!("%{}", config.parallel) } else { String::new() };
    line(format!("--array=0-{}{limit}", trials.len() - 1));
    line(format!("--output={}/{SLURM_DIR}/%A_%a.log", sweep_dir.display()));
    line(format!("--cpus-per-task={}", config.cpus_per_task.max(1)));
    line(format!("--time={}", config.time));
    if !config.mem.is_empty() {
        line(format!("--mem={}", config.mem));
    }
    if !config.partition.is_empty() {
        line(format!("--partition={}", config.partition));
    }
    if !config.account.is_empty() {
        line(format!("--account={}", config.account));
    }
    // A pre-empted or requeued task starts again and resumes from its trial's checkpoint;
    // its log continues.
    line("--requeue".into());
    line("--open-mode=append".into());
    for extra in &config.extra {
        line(extra.trim_start_matches("#SBATCH").trim().to_string());
    }
    let threads = config.cpus_per_task.max(1);
    s.push_str("set -euo pipefail\n");
    s.push_str("trials=(");
    for t in trials {
        let _ = write!(s, " {}", shell_quote(t));
    }
    s.push_str(" )\n");
    let _ = writeln!(s, "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{threads}}}\"");
    s.push_str("export OMP_NUM_THREADS=\"$RAYON_NUM_THREADS\"\n");
    let _ = writeln!(
        s,
        "exec {} worker {} --trial \"${{trials[$SLURM_ARRAY_TASK_ID]}}\"",
        shell_quote(&program.display().to_string()),
        shell_quote(&sweep_dir.display().to_string())
    );
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn which(program: &str) -> Result<(), LaunchError> {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()));
    match found {
        true => Ok(()),
        false => Err(LaunchError::Slurm(format!(
            "`{program}` is not on PATH: launcher.kind = \"slurm\" needs a Slurm client (scripts/setup-slurm.sh sets up a one-node cluster)"
        ))),
    }
}

fn sbatch(script: &Path) -> Result<String, LaunchError> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| LaunchError::Slurm(format!("running sbatch: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(LaunchError::Slurm(format!("sbatch {} failed: {why}", script.display())));
    }
    // `<job>` or `<job>;<cluster>`.
    let text = String::from_utf8_lossy(&out.stdout);
    let job = text.trim().split(';').next().unwrap_or_default().to_string();
    match job.is_empty() {
        true => Err(LaunchError::Slurm(format!("sbatch {} printed no job id", script.display()))),
        false => Ok(job),
    }
}

/// The cluster's `MaxArraySize`, from `scontrol show config`.
fn max_array_size() -> Result<usize, LaunchError> {
    let out = Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .map_err(|e| LaunchError::Slurm(format!("running scontrol: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "MaxArraySize").then(|| value.trim().parse().ok()).flatten()
        })
        .ok_or_else(|| LaunchError::Slurm("`scontrol show config` does not say MaxArraySize".into()))
}
