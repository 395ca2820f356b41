//! The functions scripts call (listed in the module docs of `script`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::values::{group_to_map, map_to_dict, param_value, row_to_map, to_dynamic};
use runner_sdk::{PluginKind, SolverKind};

use super::run::run_sweep;
use super::State;
use crate::files::read_json;
use crate::plugins::Registry;
use crate::report::{Aggregation, SweepResults};
use crate::setup::Setup;
use crate::solvers;
use crate::sweep::{self, Evaluation, EvaluationRecord, Row, Sweep, TrialSpec};

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

fn fail(ctx: &NativeCallContext, message: impl std::fmt::Display) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.to_string().into(), ctx.call_position()))
}

/// A sweep as scripts see it (`None` in a dry run, which writes nothing).
#[derive(Clone)]
pub struct SweepHandle {
    name: String,
    sweep: Option<Rc<RefCell<Sweep>>>,
}

/// A declared trial as scripts see it (no sweep in a dry run).
#[derive(Clone)]
pub struct TrialHandle {
    id: String,
    config: Dynamic,
    /// Its index in the sweep, and the setup its evaluations are checked against.
    declared: Option<(Rc<RefCell<Sweep>>, usize, Rc<Setup>)>,
}

/// A row to come: an evaluation of a trial, or a floor. `row()` reads it once the sweep ran.
#[derive(Clone)]
pub struct RowHandle {
    /// The file that holds the row (none in a dry run).
    file: Option<PathBuf>,
    evaluation: bool,
}

impl RowHandle {
    /// An evaluation's file holds its record (row or error), a floor's its row.
    fn row(&self) -> Option<Row> {
        let file = self.file.as_ref()?;
        match self.evaluation {
            true => read_json::<EvaluationRecord>(file).ok()?.row,
            false => read_json(file).ok(),
        }
    }

    fn error(&self) -> Option<String> {
        let file = self.file.as_ref().filter(|_| self.evaluation)?;
        read_json::<EvaluationRecord>(file).ok()?.error
    }
}

pub(super) fn register(engine: &mut Engine, state: Rc<RefCell<State>>) {
    engine.register_type_with_name::<SweepHandle>("Sweep");
    engine.register_type_with_name::<TrialHandle>("Trial");
    engine.register_type_with_name::<RowHandle>("Row");

    let s = state.clone();
    engine.register_fn("load_config", move |ctx: NativeCallContext, path: &str| -> Result<()> {
        let mut st = s.borrow_mut();
        let file = st.resolve_path(path);
        st.layers.load_toml(&file).map_err(|e| fail(&ctx, e))
    });

    // An environment variable, or () where it is unset (`env("SEEDS") ?? "5"`): for a script's
    // own knobs that are not config keys, such as how many seeds a table runs.
    engine.register_fn("env", |name: &str| -> Dynamic { std::env::var(name).map_or(Dynamic::UNIT, Dynamic::from) });
    engine.register_fn("grid", |ctx: NativeCallContext, axes: Map| -> Result<Array> { grid(&ctx, axes) });
    let s = state.clone();
    engine.register_fn("load_plugin", move |ctx: NativeCallContext, path: &str| -> Result<()> {
        let mut st = s.borrow_mut();
        let file = st.resolve_path(path);
        Arc::make_mut(&mut st.registry).load(&file).map_err(|e| fail(&ctx, e))
    });
    let s = state.clone();
    engine.register_fn("plugin_names", move |ctx: NativeCallContext, kind: &str| -> Result<Array> {
        plugin_names(&ctx, &s.borrow().registry, kind)
    });
    let s = state.clone();
    engine.register_fn("solver_accepts", move |ctx: NativeCallContext, solver: &str, nfe: i64| -> Result<bool> {
        solver_accepts(&ctx, &s.borrow().registry, solver, nfe)
    });
    let s = state.clone();
    engine.register_fn("is_adaptive", move |ctx: NativeCallContext, solver: &str| -> Result<bool> {
        Ok(build_solver(&ctx, &s.borrow().registry, solver)?.kind().is_adaptive())
    });
    let s = state.clone();
    engine.register_fn("is_deterministic", move |ctx: NativeCallContext, solver: &str| -> Result<bool> {
        Ok(!matches!(build_solver(&ctx, &s.borrow().registry, solver)?.kind(), SolverKind::Stochastic))
    });

    let s = state.clone();
    engine.register_fn("sweep", move |ctx: NativeCallContext, name: &str| -> Result<SweepHandle> {
        let st = s.borrow();
        Sweep::check_name(name).map_err(|e| fail(&ctx, e))?;
        if st.dry_run {
            return Ok(SweepHandle { name: name.to_string(), sweep: None });
        }
        let base = st.layers.resolve(&[]).map_err(|e| fail(&ctx, e))?;
        crate::launch::check(&base.config.launcher, &st.program).map_err(|e| fail(&ctx, e))?;
        let sweep = Sweep::create(&PathBuf::from(&base.config.out), name).map_err(|e| fail(&ctx, e))?;
        Ok(SweepHandle { name: name.to_string(), sweep: Some(Rc::new(RefCell::new(sweep))) })
    });

    let s = state.clone();
    engine.register_fn("trial", move |ctx: NativeCallContext, sw: &mut SweepHandle, map: Map| -> Result<TrialHandle> {
        new_trial(&ctx, &s, sw, Some(map))
    });
    let s = state.clone();
    engine.register_fn("trial", move |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<TrialHandle> {
        new_trial(&ctx, &s, sw, None)
    });

    let s = state.clone();
    engine.register_fn(
        "reference",
        move |ctx: NativeCallContext, sw: &mut SweepHandle, map: Map| -> Result<RowHandle> {
            let st = s.borrow();
            let dict = map_to_dict(&map).map_err(|e| fail(&ctx, e))?;
            let resolved = st.layers.resolve(&[(st.location(ctx.call_position()), dict)]).map_err(|e| fail(&ctx, e))?;
            // Checked now, before any work.
            Setup::new(&resolved, st.registry.clone()).map_err(|e| fail(&ctx, e))?;
            let Some(sweep) = &sw.sweep else { return Ok(RowHandle { file: None, evaluation: false }) };
            let mut sweep = sweep.borrow_mut();
            let id = sweep.add_floor(resolved);
            Ok(RowHandle { file: Some(sweep::floor_path(&sweep.dir, &id)), evaluation: false })
        },
    );

    let s = state.clone();
    engine.register_fn("run", move |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<Map> {
        let Some(sweep) = &sw.sweep else { return Ok(Map::new()) };
        let (report, stopped) = run_sweep(&s.borrow(), &sweep.borrow()).map_err(|e| fail(&ctx, e))?;
        s.borrow_mut().record(stopped);
        Ok(report)
    });

    engine.register_fn("rows", |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<Array> {
        Ok(rows(&ctx, sw)?.iter().map(|r| Dynamic::from_map(row_to_map(r))).collect())
    });
    engine.register_fn("table", |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<String> { table(&ctx, sw) });
    engine.register_fn("print_table", |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<()> {
        print!("{}", table(&ctx, sw)?);
        Ok(())
    });
    engine.register_fn("aggregate", |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<Array> {
        aggregate(&ctx, sw, Map::new())
    });
    engine.register_fn("aggregate", |ctx: NativeCallContext, sw: &mut SweepHandle, how: Map| -> Result<Array> {
        aggregate(&ctx, sw, how)
    });
    let s = state.clone();
    engine.register_fn("report", move |ctx: NativeCallContext, sw: &mut SweepHandle| -> Result<String> {
        report(&ctx, &s.borrow(), sw, Map::new())
    });
    let s = state.clone();
    engine.register_fn("report", move |ctx: NativeCallContext, sw: &mut SweepHandle, options: Map| -> Result<String> {
        report(&ctx, &s.borrow(), sw, options)
    });
    engine.register_get("dir", |sw: &mut SweepHandle| -> String {
        sw.sweep.as_ref().map(|s| s.borrow().dir.display().to_string()).unwrap_or_default()
    });
    engine.register_get("name", |sw: &mut SweepHandle| -> String { sw.name.clone() });

    engine.register_fn("train", |ctx: NativeCallContext, _: &mut TrialHandle| -> Result<()> {
        Err(fail(&ctx, "trials are declared, not run, by a script: declare its evaluations, call sweep.run(), then read trial.fit() and the rows"))
    });
    engine.register_fn("fit", |tr: &mut TrialHandle| -> Map {
        let mut out = Map::new();
        // Before the run (or in a dry run): zero seconds and no loss, so scripts that print them run.
        out.insert("seconds".into(), 0.0_f64.into());
        out.insert("loss".into(), Dynamic::UNIT);
        let fit =
            tr.declared.as_ref().and_then(|(sweep, _, _)| sweep::read_fit(&sweep.borrow().trial_dir(&tr.id)).ok());
        if let Some(fit) = fit {
            out.insert("seconds".into(), fit.seconds.into());
            if let Some(loss) = fit.final_loss {
                out.insert("loss".into(), loss.into());
            }
        }
        out
    });
    engine.register_fn(
        "evaluate",
        |ctx: NativeCallContext, tr: &mut TrialHandle, solver: &str, nfe: i64| -> Result<RowHandle> {
            evaluate(&ctx, tr, Evaluation::new(solver, positive(&ctx, nfe)?))
        },
    );
    engine.register_fn("evaluate", |ctx: NativeCallContext, tr: &mut TrialHandle, spec: Map| -> Result<RowHandle> {
        let mut solver = None;
        let mut nfe = None;
        let mut params = BTreeMap::new();
        for (k, v) in &spec {
            match k.as_str() {
                "solver" => solver = Some(v.to_string()),
                "nfe" => nfe = v.as_int().ok(),
                _ => {
                    params.insert(k.to_string(), param_value(k, v).map_err(|e| fail(&ctx, e))?);
                }
            }
        }
        let solver = solver.ok_or_else(|| fail(&ctx, "evaluate: the map needs a `solver`"))?;
        let nfe = nfe.ok_or_else(|| fail(&ctx, "evaluate: the map needs an integer `nfe`"))?;
        evaluate(&ctx, tr, Evaluation { solver, params, nfe: positive(&ctx, nfe)? })
    });
    engine.register_fn("log", |ctx: NativeCallContext, tr: &mut TrialHandle, entry: Map| -> Result<()> {
        let Some((sweep, _, _)) = &tr.declared else { return Ok(()) };
        let json: BTreeMap<String, serde_json::Value> =
            rhai::serde::from_dynamic(&Dynamic::from_map(entry)).map_err(|e| fail(&ctx, e))?;
        let dir = sweep.borrow().trial_dir(&tr.id);
        std::fs::create_dir_all(&dir).map_err(|e| fail(&ctx, e))?;
        sweep::EventLog::new(&dir).append(&sweep::Event::Note { fields: json }).map_err(|e| fail(&ctx, e))
    });
    engine.register_get("id", |tr: &mut TrialHandle| -> String { tr.id.clone() });
    engine.register_get("config", |tr: &mut TrialHandle| -> Dynamic { tr.config.clone() });
    engine.register_get("dir", |tr: &mut TrialHandle| -> String {
        tr.declared.as_ref().map(|(s, _, _)| s.borrow().trial_dir(&tr.id).display().to_string()).unwrap_or_default()
    });

    // A row handle: the row once the sweep ran (`()` before, or where it failed), its error.
    engine.register_fn("row", |h: &mut RowHandle| -> Dynamic {
        h.row().map_or(Dynamic::UNIT, |row| Dynamic::from_map(row_to_map(&row)))
    });
    engine.register_fn("error", |h: &mut RowHandle| -> Dynamic { h.error().map_or(Dynamic::UNIT, Dynamic::from) });
}

fn positive(ctx: &NativeCallContext, nfe: i64) -> Result<usize> {
    usize::try_from(nfe)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| fail(ctx, format!("nfe must be a positive integer, got {nfe}")))
}

fn new_trial(
    ctx: &NativeCallContext,
    state: &Rc<RefCell<State>>,
    sw: &SweepHandle,
    map: Option<Map>,
) -> Result<TrialHandle> {
    let st = state.borrow();
    let mut maps = Vec::new();
    if let Some(map) = map {
        maps.push((st.location(ctx.call_position()), map_to_dict(&map).map_err(|e| fail(ctx, e))?));
    }
    let mut resolved = st.layers.resolve(&maps).map_err(|e| fail(ctx, e))?;
    drop(st);
    // A config layer the script added may name plugins the start-up registry did not load.
    // Only those copy the registry (earlier trials share the one they were made with).
    let mut st = state.borrow_mut();
    for file in resolved.config.plugins.load.iter().map(std::path::Path::new) {
        if !st.registry.is_loaded(file) {
            Arc::make_mut(&mut st.registry).load(file).map_err(|e| fail(ctx, e))?;
        }
    }
    drop(st);
    let st = state.borrow();
    // Every plugin file this script sees, so that a worker process loads the same ones.
    resolved.config.plugins.load = st.registry.loaded_files().iter().map(|p| p.display().to_string()).collect();
    let config = to_dynamic(&resolved.config);
    // Every name and value is checked now, before any trial runs.
    let setup = Setup::new(&resolved, st.registry.clone()).map_err(|e| fail(ctx, e))?;
    crate::device::parse(&resolved.config.device).map_err(|e| fail(ctx, resolved.key_error("device", e)))?;
    match &sw.sweep {
        None => {
            // Dry run (`runner config SCRIPT`): show what the trial would run with, and where
            // each value came from.
            println!("# trial at {}\n{}", st.location(ctx.call_position()), resolved.describe());
            Ok(TrialHandle { id: String::new(), config, declared: None })
        }
        Some(sweep) => {
            let spec = TrialSpec::new(resolved);
            let id = spec.id.clone();
            let index = sweep.borrow_mut().add_trial(spec);
            Ok(TrialHandle { id, config, declared: Some((sweep.clone(), index, Rc::new(setup))) })
        }
    }
}

/// Declare an evaluation of a trial (checked against its setup now); the row comes with the run.
fn evaluate(ctx: &NativeCallContext, tr: &TrialHandle, request: Evaluation) -> Result<RowHandle> {
    let Some((sweep, index, setup)) = &tr.declared else { return Ok(RowHandle { file: None, evaluation: true }) };
    let mut sweep = sweep.borrow_mut();
    let resolved = sweep.trials()[*index].resolved();
    setup.check_solver(&resolved, &request.solver, &request.params).map_err(|e| fail(ctx, e))?;
    let (built, _) = solvers::build(&setup.registry, &request.solver, &request.params).map_err(|e| fail(ctx, e))?;
    solvers::steps_for_nfe(&request.solver, built.as_ref(), request.nfe).map_err(|e| fail(ctx, e))?;
    let file = sweep::record_path(&sweep.trial_dir(&tr.id), &request.id());
    sweep.trial_mut(*index).add(request);
    Ok(RowHandle { file: Some(file), evaluation: true })
}

/// The rows on disk (none in a dry run, or before the run).
fn rows(ctx: &NativeCallContext, sw: &SweepHandle) -> Result<Vec<Row>> {
    let Some(sweep) = &sw.sweep else { return Ok(Vec::new()) };
    let dir = sweep.borrow().dir.clone();
    if !dir.join(sweep::MANIFEST).is_file() {
        return Ok(Vec::new());
    }
    sweep::collect(&dir).map_err(|e| fail(ctx, e))
}

/// The summary table: every row on disk, then the evaluations of failed trials.
fn table(ctx: &NativeCallContext, sw: &SweepHandle) -> Result<String> {
    let rows = rows(ctx, sw)?;
    let failures = match &sw.sweep {
        Some(sweep) if sweep.borrow().dir.join(sweep::MANIFEST).is_file() => {
            sweep::failures(&sweep.borrow().dir).map_err(|e| fail(ctx, e))?
        }
        _ => Vec::new(),
    };
    Ok(sweep::to_table(&rows, &failures))
}

/// The sweep's results on disk (`None` in a dry run, or before the run).
fn results(ctx: &NativeCallContext, sw: &SweepHandle) -> Result<Option<SweepResults>> {
    let Some(sweep) = &sw.sweep else { return Ok(None) };
    let dir = sweep.borrow().dir.clone();
    if !dir.join(sweep::MANIFEST).is_file() {
        return Ok(None);
    }
    SweepResults::read(&dir).map(Some).map_err(|e| fail(ctx, e))
}

/// A list of strings from a script value: an array of strings, or one string.
fn strings(ctx: &NativeCallContext, what: &str, value: &Dynamic) -> Result<Vec<String>> {
    if let Some(s) = value.clone().try_cast::<rhai::ImmutableString>() {
        return Ok(vec![s.to_string()]);
    }
    let items = value
        .clone()
        .try_cast::<Array>()
        .ok_or_else(|| fail(ctx, format!("{what} must be a string or an array of strings")))?;
    items
        .into_iter()
        .map(|v| {
            v.into_immutable_string()
                .map(|s| s.to_string())
                .map_err(|t| fail(ctx, format!("{what}: `{t}` is not a string")))
        })
        .collect()
}

/// `sweep.aggregate(#{ by, over })`: mean ± std of every metric over `over` (default `seed`),
/// grouped by `by` (default: every setting that differs between trials) and evaluation.
fn aggregate(ctx: &NativeCallContext, sw: &SweepHandle, how: Map) -> Result<Array> {
    let mut aggregation = Aggregation::default();
    for (k, v) in &how {
        match k.as_str() {
            "by" => aggregation.by = Some(strings(ctx, "aggregate: `by`", v)?),
            "over" => aggregation.over = strings(ctx, "aggregate: `over`", v)?.concat(),
            other => return Err(fail(ctx, format!("aggregate: unknown option `{other}`; known: by, over"))),
        }
    }
    let Some(results) = results(ctx, sw)? else { return Ok(Array::new()) };
    let sweeps = std::slice::from_ref(&results);
    crate::report::aggregate::check(sweeps, &aggregation).map_err(|e| fail(ctx, format!("aggregate: {e}")))?;
    let groups = crate::report::aggregate(sweeps, &aggregation);
    Ok(groups.iter().map(|g| Dynamic::from_map(group_to_map(g))).collect())
}

/// `sweep.report(#{ out, samples })`: write the report; returns the path of `report.html`
/// (`""` in a dry run).
fn report(ctx: &NativeCallContext, st: &State, sw: &SweepHandle, options: Map) -> Result<String> {
    let mut opts = crate::report::Options::default();
    for (k, v) in &options {
        match k.as_str() {
            "out" => opts.out = Some(st.resolve_path(&v.to_string())),
            "samples" => opts.samples = Some(strings(ctx, "report: `samples`", v)?),
            other => return Err(fail(ctx, format!("report: unknown option `{other}`; known: out, samples"))),
        }
    }
    let Some(sweep) = &sw.sweep else { return Ok(String::new()) };
    let dir = sweep.borrow().dir.clone();
    let written = crate::report::write(&dir, &st.registry, &opts).map_err(|e| fail(ctx, e))?;
    tracing::info!(
        plots = written.figures.len(),
        seconds = format!("{:.1}", written.seconds),
        "report: {}",
        written.html.display()
    );
    Ok(written.html.display().to_string())
}

/// The names of every registered plugin of `kind` (`"solver"`, `"grid"`, …), in registry order,
/// so that an experiment covers plugins added later without changes.
fn plugin_names(ctx: &NativeCallContext, registry: &Registry, kind: &str) -> Result<Array> {
    let wanted = PluginKind::from_name(kind).ok_or_else(|| {
        let known: Vec<&str> = PluginKind::ALL.iter().map(|k| k.name()).collect();
        fail(ctx, format!("plugin_names: unknown kind `{kind}`; known: {}", known.join(", ")))
    })?;
    Ok(registry.names(wanted).into_iter().map(|name| Dynamic::from(name.to_string())).collect())
}

/// The solver called `name`, with its default parameters.
fn build_solver(ctx: &NativeCallContext, registry: &Registry, name: &str) -> Result<Box<dyn runner_sdk::Solver>> {
    registry.build::<dyn runner_sdk::Solver>(name, &BTreeMap::new()).map_err(|e| fail(ctx, e))
}

/// Whether `solver` (with its default parameters) can spend exactly `nfe` model evaluations:
/// scripts skip the combinations it refuses instead of failing on them.
fn solver_accepts(ctx: &NativeCallContext, registry: &Registry, solver: &str, nfe: i64) -> Result<bool> {
    let built = build_solver(ctx, registry, solver)?;
    Ok(usize::try_from(nfe).is_ok_and(|n| solvers::steps_for_nfe(solver, built.as_ref(), n).is_ok()))
}

/// The cartesian product of the array-valued entries; other entries are copied into every map.
fn grid(ctx: &NativeCallContext, axes: Map) -> Result<Array> {
    let mut out: Vec<Map> = vec![Map::new()];
    for (key, value) in axes {
        let choices: Array = match value.clone().try_cast::<Array>() {
            Some(a) if a.is_empty() => return Err(fail(ctx, format!("grid: `{key}` has no values"))),
            Some(a) => a,
            None => vec![value],
        };
        let mut next = Vec::with_capacity(out.len() * choices.len());
        for m in &out {
            for c in &choices {
                let mut m = m.clone();
                m.insert(key.clone(), c.clone());
                next.push(m);
            }
        }
        out = next;
    }
    Ok(out.into_iter().map(Dynamic::from_map).collect())
}
