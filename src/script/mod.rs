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
    #[error("{location}: {message}")]
    Failed { location: String, message: String },
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
}

impl State {
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
    let state = Rc::new(RefCell::new(State {
        script: session.script,
        layers: session.layers,
        registry: session.registry,
        dry_run: session.dry_run,
        force: session.force,
        program: session.program,
        terminal: session.terminal,
    }));
    let mut engine = Engine::new();
    // Experiments legitimately run long loops and deep expressions; keep rhai's safety limits
    // generous rather than surprising users mid-sweep.
    engine.set_max_expr_depths(256, 256);
    engine.on_print(|s| println!("{s}"));
    api::register(&mut engine, state.clone());
    engine.run(source).map_err(|e| failed(&state.borrow(), *e))
}

fn failed(state: &State, err: EvalAltResult) -> ScriptError {
    // Errors raised inside a function call carry the call's position; unwrap to the innermost
    // message, which is ours, and report the outermost position, which is in the script.
    let location = state.location(err.position());
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = *e;
    }
    let message = match inner {
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        mut other => {
            other.clear_position();
            other.to_string()
        }
    };
    ScriptError::Failed { location, message }
}
