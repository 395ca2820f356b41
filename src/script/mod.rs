//! The rhai layer: experiment scripts load configs, build grids of trials, train, sample with
//! any solver, evaluate, log rows and read results back. Script errors name the script, line
//! and column.
//!
//! | function | what it does |
//! |---|---|
//! | `load_config(path)` | add a TOML layer (path relative to the script) |
//! | `env(name)` | an environment variable's value, or `()` where it is unset |
//! | `grid(map)` | the cartesian product of the map's array values, as an array of maps |
//! | `load_plugin(path)` | load a plugin library or rhai schedule (path relative to the script) |
//! | `plugin_names(kind)` | the registered plugins of a kind (`"solver"`, `"grid"`, …) |
//! | `solver_accepts(solver, nfe)` | whether the solver can spend exactly `nfe` evaluations |
//! | `is_deterministic(solver)` | whether the solver's samples have a `solver_error` |
//! | `is_adaptive(solver)` | whether the solver chooses its own steps (it ignores the NFE asked) |
//! | `sweep(name)` | open `<out>/<name>/` |
//! | `sweep.trial(map)` / `sweep.trial()` | declare a trial: resolve and check its config (the map is the script layer) |
//! | `sweep.reference(map)` | declare the dataset's finite-sample floor row; returns a row handle |
//! | `trial.evaluate(solver, nfe)` / `trial.evaluate(#{solver, nfe, ..params})` | declare an evaluation; returns a row handle |
//! | `sweep.run()` | run what is not finished with the configured launcher; returns `#{trials, launched, done, failed, submitted}` |
//! | `handle.row()` / `handle.error()` | after the run: the row as a map, or why it failed (`()` otherwise) |
//! | `sweep.rows()` | every row on disk, as maps |
//! | `sweep.table()` / `sweep.print_table()` | the summary as a text table |
//! | `sweep.aggregate(#{by, over})` | mean ± std of every metric over `over` (default `seed`), grouped by `by` (default: the settings that differ) and evaluation |
//! | `sweep.report()` / `sweep.report(#{out, samples})` | write the plots and `report.html`; returns its path |
//! | `trial.fit()` | after the run: `#{seconds, loss}` of its training |
//! | `trial.log(map)` | append a `note` event to the trial's `events.jsonl` |
//! | `trial.id`, `trial.dir`, `trial.config`, `sweep.dir` | properties |
//!
//! A script declares trials; it does not run them. The same script runs unchanged in its own
//! process, on local workers or on Slurm: only `launcher.*` says which.

mod api;
mod run;
mod values;

pub use run::Stopped;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Engine, EvalAltResult, Position};
use thiserror::Error;

use crate::config::Layers;
use crate::plugins::Registry;
use crate::progress::Terminal;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScriptError {
    #[error("cannot read script {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// `excerpt` is the script line the location points at (empty where it has none).
    #[error("{location}: {message}{excerpt}")]
    Failed { location: String, message: String, excerpt: String },
    /// The script ran to its end, but trials of its sweeps failed or stopped.
    #[error("{}", stopped_message(.0))]
    TrialsFailed(Vec<Stopped>),
}

/// How many trials did not finish, where their reasons are, and the first line of each.
fn stopped_message(stopped: &[Stopped]) -> String {
    let failed: usize = stopped.iter().map(|s| s.failed.len()).sum();
    let trials: usize = stopped.iter().map(|s| s.trials).sum();
    let mut out = format!(
        "{failed} of {trials} trials did not finish; each one's reason is in its directory's run.json \
         (and events.jsonl, worker.log), and a rerun of the script retries them:"
    );
    for s in stopped {
        let dir = s.dir.display();
        out.push_str(&format!("\n  {dir} (`runner status {dir}`):"));
        for t in &s.failed {
            let why = t.error.as_deref().and_then(|e| e.lines().next()).unwrap_or("it stopped before finishing");
            out.push_str(&format!("\n    {}: {}: {why}", t.id, t.status));
        }
    }
    out
}

/// What a script run needs from the command line.
pub struct Session {
    pub script: PathBuf,
    pub layers: Layers,
    /// Every plugin the script's names resolve in.
    pub registry: Arc<Registry>,
    /// Resolve and print each trial's config with sources instead of training (`runner config`).
    pub dry_run: bool,
    /// Rerun every trial, finished or not (`--force`).
    pub force: bool,
    /// The `runner` executable that worker processes run (`launcher.program` overrides it).
    pub program: PathBuf,
    pub terminal: Terminal,
    /// The most rhai operations the script may run before it is stopped with an error; 0: no
    /// limit (a sweep's script legitimately loops for as long as it likes).
    pub max_operations: u64,
    /// The most characters, items or entries a string, array or map of the script may hold
    /// before it is stopped with an error; 0: no limit.
    pub max_data_size: usize,
}

impl Session {
    /// A run of `script` with plain progress lines, whose workers run this process's
    /// executable.
    pub fn new(script: impl Into<PathBuf>, layers: Layers, registry: Arc<Registry>) -> Session {
        Session {
            script: script.into(),
            layers,
            registry,
            dry_run: false,
            force: false,
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runner")),
            terminal: Terminal::plain(),
            max_operations: 0,
            max_data_size: 0,
        }
    }
}

/// Shared state of the script functions.
pub(crate) struct State {
    pub script: PathBuf,
    pub layers: Layers,
    pub registry: Arc<Registry>,
    pub dry_run: bool,
    pub force: bool,
    pub program: PathBuf,
    pub terminal: Terminal,
    /// The sweeps whose last run left trials failed or unfinished.
    pub stopped: Vec<Stopped>,
}

impl State {
    /// Keep the latest run's outcome of its sweep (a later run that finishes them clears it).
    pub fn record(&mut self, run: Stopped) {
        self.stopped.retain(|s| s.dir != run.dir);
        if !run.failed.is_empty() {
            self.stopped.push(run);
        }
    }

    /// `file:line:column` of a position in the script.
    pub fn location(&self, pos: Position) -> String {
        match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.script.display()),
            (Some(l), None) => format!("{}:{l}", self.script.display()),
            _ => self.script.display().to_string(),
        }
    }

    /// A path named in the script, relative to the script's directory.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        self.script.parent().map(|d| d.join(p)).unwrap_or_else(|| p.to_path_buf())
    }
}

/// Run a script file.
pub fn run(session: Session) -> Result<(), ScriptError> {
    let source = std::fs::read_to_string(&session.script)
        .map_err(|e| ScriptError::Read { path: session.script.clone(), source: e })?;
    run_source(session, &source)
}

/// Run script text (`session.script` names it in messages and anchors relative paths).
pub fn run_source(session: Session, source: &str) -> Result<(), ScriptError> {
    let (max_operations, max_data_size) = (session.max_operations, session.max_data_size);
    let state = Rc::new(RefCell::new(State {
        script: session.script,
        layers: session.layers,
        registry: session.registry,
        dry_run: session.dry_run,
        force: session.force,
        program: session.program,
        terminal: session.terminal,
        stopped: Vec::new(),
    }));
    let mut engine = Engine::new();
    // Experiments legitimately run long loops and deep expressions; keep rhai's safety limits
    // generous rather than surprising users mid-sweep.
    engine.set_max_expr_depths(256, 256);
    engine.set_max_operations(max_operations);
    engine.set_max_string_size(max_data_size).set_max_array_size(max_data_size).set_max_map_size(max_data_size);
    engine.on_print(|s| println!("{s}"));
    api::register(&mut engine, state.clone());
    engine.run(source).map_err(|e| failed(&state.borrow(), source, *e))?;
    let stopped = std::mem::take(&mut state.borrow_mut().stopped);
    match stopped.is_empty() {
        true => Ok(()),
        false => Err(ScriptError::TrialsFailed(stopped)),
    }
}

/// The error at the line that raised it. An error inside a script function is wrapped once
/// per call on the way out; the innermost position is the line that failed (the call of a
/// runner function, whose messages are ours), and the calls it was reached through follow.
fn failed(state: &State, source: &str, err: EvalAltResult) -> ScriptError {
    let mut calls = Vec::new();
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(name, _, e, at) = inner {
        calls.push((name, at));
        inner = *e;
    }
    let at = match inner.position() {
        p if p.is_none() => calls.last().map_or(Position::NONE, |(_, at)| *at),
        p => p,
    };
    let mut location = state.location(at);
    for (name, called) in calls.iter().rev() {
        location.push_str(&format!(" (in `{name}`, called at {})", state.location(*called)));
    }
    let mut excerpt = at.line().map(|l| crate::source::excerpt(source, l, at.position())).unwrap_or_default();
    let message = match inner {
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        mut other => {
            other.clear_position();
            other.to_string()
        }
    };
    // A config error from a script map shows that same line already.
    if message.ends_with(&excerpt) {
        excerpt.clear();
    }
    ScriptError::Failed { location, message, excerpt }
}
