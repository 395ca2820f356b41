//! The functions scripts call (listed in the module docs of `script`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::values::{map_to_dict, param_value, row_to_map, to_dynamic};
use runner_sdk::{PluginKind, SolverKind};

use super::State;
use crate::plugins::Registry;
use crate::solvers;
use crate::sweep::{self, Evaluation, Sweep, Trial};

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

/// A trial as scripts see it (`None` in a dry run).
#[derive(Clone)]
pub struct TrialHandle {
    id: String,
    config: Dynamic,
    trial: Option<Rc<RefCell<Trial>>>,
    sweep: Option<Rc<RefCell<Sweep>>>,
}

pub(super) fn register(engine: &mut Engine, state: Rc<RefCell<State>>) {
    engine.register_type_with_name::<SweepHandle>("Sweep");
    engine.register_type_with_name::<TrialHandle>("Trial");

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
        if st.dry_run {
            return Ok(SweepHandle { name: name.to_string(), sweep: None });
        }
        let base = st.layers.resolve(&[]).map_err(|e| fail(&ctx, e))?;
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
    engine.register_fn("reference", move |ctx: NativeCallContext, sw: &mut SweepHandle, map: Map| -> Result<Map> {
        let st = s.borrow();
        let dict = map_to_dict(&map).map_err(|e| fail(&ctx, e))?;
        let resolved = st.layers.resolve(&[(st.location(ctx.call_position()), dict)]).map_err(|e| fail(&ctx, e))?;
        let Some(sweep) = &sw.sweep else { return Ok(Map::new()) };
        let row = sweep::reference(&resolved, st.registry.clone()).map_err(|e| fail(&ctx, e))?;
        let out = row_to_map(&row);
        sweep.borrow_mut().add(row).map_err(|e| fail(&ctx, e))?;
        Ok(out)
    });

    engine.register_fn("rows", |sw: &mut SweepHandle| -> Array {
        match &sw.sweep {
            Some(s) => s.borrow().rows().iter().map(|r| Dynamic::from_map(row_to_map(r))).collect(),
            None => Array::new(),
        }
    });
    engine.register_fn("table", |sw: &mut SweepHandle| -> String {
        sw.sweep.as_ref().map(|s| sweep::to_table(s.borrow().rows())).unwrap_or_default()
    });
    engine.register_fn("print_table", |sw: &mut SweepHandle| {
        if let Some(s) = &sw.sweep {
            print!("{}", sweep::to_table(s.borrow().rows()));
        }
    });
    engine.register_get("dir", |sw: &mut SweepHandle| -> String {
        sw.sweep.as_ref().map(|s| s.borrow().dir.display().to_string()).unwrap_or_default()
    });
    engine.register_get("name", |sw: &mut SweepHandle| -> String { sw.name.clone() });

    engine.register_fn("train", |ctx: NativeCallContext, tr: &mut TrialHandle| -> Result<Map> {
        let mut out = Map::new();
        // A dry run trains nothing: zero seconds and no loss, so scripts that print them run.
        out.insert("seconds".into(), 0.0_f64.into());
        out.insert("loss".into(), Dynamic::UNIT);
        if let Some(trial) = &tr.trial {
            let mut trial = trial.borrow_mut();
            let fit = trial.train().map_err(|e| fail(&ctx, e))?;
            out.insert("seconds".into(), fit.seconds.into());
            if let Some(loss) = fit.final_loss {
                out.insert("loss".into(), loss.into());
            }
        }
        Ok(out)
    });
    engine.register_fn(
        "evaluate",
        |ctx: NativeCallContext, tr: &mut TrialHandle, solver: &str, nfe: i64| -> Result<Map> {
            let request = Evaluation { solver: solver.to_string(), params: BTreeMap::new(), nfe: positive(&ctx, nfe)? };
            evaluate(&ctx, tr, &request)
        },
    );
    engine.register_fn("evaluate", |ctx: NativeCallContext, tr: &mut TrialHandle, spec: Map| -> Result<Map> {
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
        let request = Evaluation { solver, params, nfe: positive(&ctx, nfe)? };
        evaluate(&ctx, tr, &request)
    });
    engine.register_fn("log", |ctx: NativeCallContext, tr: &mut TrialHandle, entry: Map| -> Result<()> {
        let Some(trial) = &tr.trial else { return Ok(()) };
        let json: serde_json::Value =
            rhai::serde::from_dynamic(&Dynamic::from_map(entry)).map_err(|e| fail(&ctx, e))?;
        trial.borrow().log(json).map_err(|e| fail(&ctx, e))
    });
    engine.register_get("id", |tr: &mut TrialHandle| -> String { tr.id.clone() });
    engine.register_get("config", |tr: &mut TrialHandle| -> Dynamic { tr.config.clone() });
    engine.register_get("dir", |tr: &mut TrialHandle| -> String {
        tr.trial.as_ref().map(|t| t.borrow().dir.display().to_string()).unwrap_or_default()
    });
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
    let resolved = st.layers.resolve(&maps).map_err(|e| fail(ctx, e))?;
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
    let config = to_dynamic(&resolved.config);
    match &sw.sweep {
        None => {
            // Dry run (`runner config SCRIPT`): show what the trial would run with, and where
            // each value came from.
            println!("# trial at {}\n{}", st.location(ctx.call_position()), resolved.describe());
            Ok(TrialHandle { id: String::new(), config, trial: None, sweep: None })
        }
        Some(sweep) => {
            let trial = Trial::create(&sweep.borrow().dir, resolved, st.registry.clone()).map_err(|e| fail(ctx, e))?;
            Ok(TrialHandle {
                id: trial.id.clone(),
                config,
                trial: Some(Rc::new(RefCell::new(trial))),
                sweep: Some(sweep.clone()),
            })
        }
    }
}

fn evaluate(ctx: &NativeCallContext, tr: &TrialHandle, request: &Evaluation) -> Result<Map> {
    let (Some(trial), Some(sweep)) = (&tr.trial, &tr.sweep) else { return Ok(Map::new()) };
    let row = trial.borrow_mut().evaluate(request).map_err(|e| fail(ctx, e))?;
    let out = row_to_map(&row);
    sweep.borrow_mut().add(row).map_err(|e| fail(ctx, e))?;
    Ok(out)
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
