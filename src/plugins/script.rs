//! Schedules written in rhai, with no compile step: a file defines `alpha(t)` and `sigma(t)`
//! (and, optionally, `gamma(t)` and the derivatives `d_alpha(t)`, `d_sigma(t)`, `d_gamma(t)`),
//! and is loaded like a library (`plugins.load = ["my_path.rhai"]`, `--plugin`, or
//! `load_plugin(...)` from a script). Any process that has the config can load it: a worker
//! needs no experiment script.
//!
//! ```rhai
//! const NAME = "smoothstep";                      // optional; default: the file's stem
//! const SUMMARY = "α = 3t² − 2t³, σ = 1 − α";     // optional
//! fn alpha(t) { t * t * (3.0 - 2.0 * t) }
//! fn sigma(t) { 1.0 - alpha(t) }
//! ```
//!
//! A derivative the file does not define is the central difference (f(t+h) − f(t−h)) / 2h with
//! h = 1e-5, and at the ends of [0, 1] the second-order one-sided difference
//! (−3f(t) + 4f(t±h) − f(t±2h)) / ±2h, so that no function is evaluated outside [0, 1]. Its
//! error is O(h²) for smooth coefficients: about 1e-10 relative.
//!
//! rhai's engine and compiled scripts are single-threaded here, while training builds batches
//! on several threads: each thread compiles the file's source once, on its first call, and
//! keeps its own engine.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rhai::{Engine, Scope, AST};
use runner_sdk::{Coefficients, PluginError, PluginInfo, PluginKind, Schedule};

use super::library::LoadError;
use super::registry::{Origin, Registered, Registry};

/// The step of the finite differences.
const H: f64 = 1e-5;

/// Functions a script schedule may define; `alpha` and `sigma` are required.
const FUNCTIONS: [&str; 6] = ["alpha", "sigma", "gamma", "d_alpha", "d_sigma", "d_gamma"];

impl Registry {
    /// Compile the rhai schedule at `path` (refusing it now if it does not compile or lacks a
    /// required function) and register it.
    pub(super) fn load_script(&mut self, path: &Path) -> Result<(), LoadError> {
        let source = std::fs::read_to_string(path).map_err(|_| LoadError::Missing { path: path.to_path_buf() })?;
        let bad = |message: String| LoadError::Descriptor { path: path.to_path_buf(), message };
        let engine = Engine::new();
        let ast = engine.compile(&source).map_err(|e| bad(format!("does not compile: {e}")))?;
        let defined = FUNCTIONS.map(|f| ast.iter_functions().any(|d| d.name == f && d.params.len() == 1));
        // `alpha` and `sigma`, the first two, are required.
        if let Some(missing) = FUNCTIONS.iter().zip(defined).take(2).find_map(|(f, d)| (!d).then_some(f)) {
            return Err(bad(format!("a script schedule defines `fn {missing}(t)`")));
        }
        let constant = |name: &str| -> Option<String> {
            ast.iter_literal_variables(true, false).find(|(n, _, _)| *n == name).map(|(_, _, v)| v.to_string())
        };
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = constant("NAME").unwrap_or(stem);
        let summary = constant("SUMMARY").unwrap_or_else(|| format!("rhai schedule {}", path.display()));
        let info = PluginInfo {
            name: name.into(),
            kind: PluginKind::Schedule,
            summary: summary.into(),
            params: Vec::new().into(),
        };
        let script =
            Arc::new(Script { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), path: path.to_path_buf(), source, defined });
        let make = move |_: &runner_sdk::Params| -> Result<Box<dyn Schedule>, PluginError> {
            Ok(Box::new(ScriptSchedule { script: script.clone() }))
        };
        self.add::<dyn Schedule>(Registered::new(info, Origin::Script { path: path.to_path_buf() }, Arc::new(make)))
            .map_err(|source| LoadError::Registry { path: path.to_path_buf(), source })
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A loaded script: its source, and which of [`FUNCTIONS`] it defines.
struct Script {
    id: u64,
    path: PathBuf,
    source: String,
    defined: [bool; 6],
}

thread_local! {
    /// Each thread's compiled copy of every script it has called.
    static COMPILED: RefCell<HashMap<u64, (Engine, AST)>> = RefCell::new(HashMap::new());
}

pub struct ScriptSchedule {
    script: Arc<Script>,
}

impl ScriptSchedule {
    /// f(t) for function `index` of [`FUNCTIONS`]; NaN where the script fails or returns no number.
    fn call(&self, index: usize, t: f64) -> f64 {
        COMPILED.with(|cell| {
            let mut compiled = cell.borrow_mut();
            let (engine, ast) = compiled.entry(self.script.id).or_insert_with(|| {
                let engine = Engine::new();
                // Compiled once at load: the source is unchanged since.
                let ast = engine.compile(&self.script.source).expect("compiled when loaded");
                (engine, ast)
            });
            let result = engine.call_fn::<rhai::Dynamic>(&mut Scope::new(), ast, FUNCTIONS[index], (t,));
            match result.map(|v| v.as_float().or_else(|_| v.as_int().map(|i| i as f64))) {
                Ok(Ok(v)) => v,
                Ok(Err(kind)) => {
                    tracing::error!(
                        "script schedule {}: `{}({t})` returned a {kind}, not a number",
                        self.script.path.display(),
                        FUNCTIONS[index]
                    );
                    f64::NAN
                }
                Err(e) => {
                    tracing::error!("script schedule {}: `{}({t})`: {e}", self.script.path.display(), FUNCTIONS[index]);
                    f64::NAN
                }
            }
        })
    }

    /// f(t), or 0 for an undefined `gamma`.
    fn value(&self, index: usize, t: f64) -> f64 {
        if self.script.defined[index] {
            self.call(index, t)
        } else {
            0.0
        }
    }

    /// f'(t): the script's derivative (function `index + 3`), else a finite difference of f.
    fn derivative(&self, index: usize, t: f64) -> f64 {
        if self.script.defined[index + 3] {
            return self.call(index + 3, t);
        }
        if !self.script.defined[index] {
            return 0.0;
        }
        let f = |t: f64| self.call(index, t);
        if t - H < 0.0 {
            (-3.0 * f(t) + 4.0 * f(t + H) - f(t + 2.0 * H)) / (2.0 * H)
        } else if t + H > 1.0 {
            (3.0 * f(t) - 4.0 * f(t - H) + f(t - 2.0 * H)) / (2.0 * H)
        } else {
            (f(t + H) - f(t - H)) / (2.0 * H)
        }
    }
}

impl Schedule for ScriptSchedule {
    fn coefficients(&self, t: f64) -> Coefficients {
        Coefficients {
            alpha: self.value(0, t),
            sigma: self.value(1, t),
            gamma: self.value(2, t),
            d_alpha: self.derivative(0, t),
            d_sigma: self.derivative(1, t),
            d_gamma: self.derivative(2, t),
        }
    }
}
