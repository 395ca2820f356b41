//! Launchers: who runs a sweep's pending trials. Every launcher runs the same thing, a trial
//! spec in its directory ([`crate::sweep::run_trial`]); they differ only in where: in the
//! script's process (`inline`), in local worker processes (`local`), or as the tasks of a Slurm
//! job array (`slurm`). `launcher.kind` chooses; the script does not change.

mod inline;
mod local;
mod slurm;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

pub use slurm::{squeue_states, SlurmJobs};

use crate::config::LauncherConfig;
use crate::plugins::Registry;
use crate::progress::Terminal;
use crate::sweep::TrialError;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LaunchError {
    #[error("unknown launcher.kind `{0}`; known: {known}", known = KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "))]
    Kind(String),
    #[error("launcher.program: the worker executable `{}` is not a file", .0.display())]
    Program(PathBuf),
    #[error("starting the worker `{}`: {source}", program.display())]
    Spawn { program: PathBuf, source: std::io::Error },
    #[error("slurm: {0}")]
    Slurm(String),
    #[error(transparent)]
    Trial(#[from] TrialError),
}

/// What a launcher is handed.
pub struct Launch<'a> {
    pub sweep_dir: &'a Path,
    /// The pending trials' ids, in declaration order.
    pub trials: &'a [String],
    pub config: &'a LauncherConfig,
    /// Where the trials' plugins are for the in-process launcher (workers load them from each
    /// trial's config).
    pub registry: Arc<Registry>,
    /// The `runner` executable that workers run.
    pub program: &'a Path,
    pub terminal: &'a Terminal,
}

/// How a launch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Launched {
    /// Every trial ran (each may still have failed: read its directory).
    Finished,
    /// The trials were handed to a scheduler that runs them later (`launcher.wait = false`).
    Submitted { jobs: Vec<String> },
}

pub trait Launcher {
    fn launch(&self, launch: &Launch<'_>) -> Result<Launched, LaunchError>;
}

type Make = fn() -> Box<dyn Launcher>;

/// The launchers by `launcher.kind`.
const KINDS: [(&str, Make); 3] = [
    ("local", || Box::new(local::Local)),
    ("inline", || Box::new(inline::Inline)),
    ("slurm", || Box::new(slurm::Slurm)),
];

pub fn build(kind: &str) -> Result<Box<dyn Launcher>, LaunchError> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, make)| make()).ok_or_else(|| LaunchError::Kind(kind.to_string()))
}

/// The executable workers run: `launcher.program`, else `default`; refused unless it is a
/// file (for the launchers that start workers), so that a typo fails before any work.
pub fn worker_program(config: &LauncherConfig, default: &Path) -> Result<PathBuf, LaunchError> {
    let program = match config.program.is_empty() {
        true => default.to_path_buf(),
        false => PathBuf::from(&config.program),
    };
    match config.kind == "inline" || program.is_file() {
        true => Ok(program),
        false => Err(LaunchError::Program(program)),
    }
}

/// Check the launcher keys before a sweep declares anything.
pub fn check(config: &LauncherConfig, default_program: &Path) -> Result<(), LaunchError> {
    build(&config.kind)?;
    worker_program(config, default_program).map(|_| ())
}

/// The cores of this machine (what `workers = 0` and `threads = 0` share out).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
