//! The plugins of one resolved config, built once: datasets, schedule, target, coupling, and
//! the oracle where `model.kind = "oracle"`. Every lookup error names the config key and where
//! its value came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use runner_sdk::{Coupling, Dataset, ParamValue, Schedule, SolverKind, Target};

use crate::config::{ConfigError, PluginParams, Resolved};
use crate::models::{Oracle, KINDS};
use crate::plugins::{Pluggable, Registry};

pub struct Setup {
    /// Where every name of the config was resolved.
    pub registry: Arc<Registry>,
    pub source: Box<dyn Dataset>,
    pub data: Box<dyn Dataset>,
    pub schedule: Arc<dyn Schedule>,
    pub target: Target,
    pub coupling: Box<dyn Coupling>,
    pub dim: usize,
    /// The exact model, when the config asks for one.
    pub oracle: Option<Oracle>,
    /// (eval.t_start, eval.t_end), checked.
    pub span: (f64, f64),
}

impl Setup {
    pub fn new(resolved: &Resolved, registry: Arc<Registry>) -> Result<Setup, ConfigError> {
        let c = &resolved.config;
        resolved.check_ranges()?;
        let data = build::<dyn Dataset>(&registry, resolved, "data.target", &c.data.target, &c.data.target_params)?;
        let dim = data.dim();
        let mut source_params = c.data.source_params.clone();
        // The standard normal source takes the target's dimension unless told otherwise.
        if c.data.source == "gaussian" && !source_params.contains_key("dim") {
            source_params.insert("dim".into(), serde_json::json!(dim));
        }
        let source = build::<dyn Dataset>(&registry, resolved, "data.source", &c.data.source, &source_params)?;
        for (key, name, dataset) in [("data.target", &c.data.target, &data), ("data.source", &c.data.source, &source)] {
            check_points(resolved, key, name, dataset.as_ref())?;
        }
        if source.dim() != dim {
            return Err(resolved.key_error(
                "data.source",
                format!(
                    "source `{}` has dimension {} but target `{}` has {dim}",
                    c.data.source,
                    source.dim(),
                    c.data.target
                ),
            ));
        }
        let schedule: Arc<dyn Schedule> =
            build::<dyn Schedule>(&registry, resolved, "path.schedule", &c.path.schedule, &c.path.schedule_params)?
                .into();
        check_coefficients(resolved, &c.path.schedule, schedule.as_ref())?;
        let target = Target::from_name(&c.path.target).ok_or_else(|| {
            resolved.key_error(
                "path.target",
                format!(
                    "unknown target `{}`{}; known: velocity, epsilon, data, score",
                    c.path.target,
                    crate::suggest::hint(&c.path.target, Target::ALL.iter().map(|t| t.name()))
                ),
            )
        })?;
        let coupling =
            build::<dyn Coupling>(&registry, resolved, "path.coupling", &c.path.coupling, &c.path.coupling_params)?;
        let oracle = match c.model.kind.as_str() {
            "mlp" => None,
            "oracle" => Some(
                Oracle::new(&c.data.target, data.mixture(), (&c.data.source, source.mixture()), schedule.clone())
                    .map_err(|e| resolved.key_error("model.kind", e))?,
            ),
            other => {
                return Err(resolved
                    .key_error("model.kind", format!("unknown model kind `{other}`; known: {}", KINDS.join(", "))))
            }
        };
        let span = (c.eval.t_start, c.eval.t_end);
        if !(0.0..1.0).contains(&span.0) {
            return Err(resolved.key_error("eval.t_start", format!("must be in [0, 1), got {}", span.0)));
        }
        if !(span.1 > span.0 && span.1 <= 1.0) {
            return Err(resolved
                .key_error("eval.t_end", format!("must be in (eval.t_start, 1] = ({}, 1], got {}", span.0, span.1)));
        }
        // The start scaling divides by σ(0), the jump to the data by σ(t_end).
        let (sigma_0, sigma_end) = (schedule.coefficients(0.0).sigma, schedule.coefficients(span.1).sigma);
        if span.0 > 0.0 && (sigma_0.is_nan() || sigma_0 <= 0.0) {
            return Err(resolved.key_error(
                "eval.t_start",
                format!("a later start scales the source by σ(t_start)/σ(0), but σ(0) = {sigma_0}"),
            ));
        }
        if span.1 < 1.0 && (sigma_end.is_nan() || sigma_end <= 0.0) {
            return Err(resolved.key_error(
                "eval.t_end",
                format!("the jump to the data divides by σ(t_end), but σ({}) = {sigma_end}", span.1),
            ));
        }
        check_evaluation_names(resolved, &registry)?;
        let setup = Setup { registry, source, data, schedule, target, coupling, dim, oracle, span };
        setup.check_path(resolved)?;
        setup.check_reflow(resolved)?;
        Ok(setup)
    }

    /// Whether the source is N(0, I): what the score target, the stochastic samplers and a
    /// sampling span that starts past t = 0 assume about x0.
    pub fn standard_normal_source(&self) -> bool {
        self.source.mixture().is_some_and(|m| m.is_standard_normal())
    }

    /// Refuse the combinations of path, target, source and span that would give silently wrong
    /// numbers:
    /// - a path with an ε term (γ ≠ 0: `sb`, `cond-ot` with `sigma > 0`) trains only the velocity
    ///   target (the others and their conversions are defined for x = α·x1 + σ·x0), and samples
    ///   over the whole span [0, 1]: a later start scales the source by σ alone, an earlier end
    ///   jumps to the data through a data prediction;
    /// - a source other than N(0, I) has no score target (−x0/σ is the conditional score only
    ///   for a standard normal x0) and no later start (x(t_start) is not the scaled source).
    ///
    /// The ε-, data- and velocity targets stay valid for any source: they are conditional
    /// expectations of x0 and x1, which the deterministic samplers combine linearly. Stochastic
    /// samplers are checked per request by [`Setup::check_solver`].
    fn check_path(&self, resolved: &Resolved) -> Result<(), ConfigError> {
        let c = &resolved.config;
        if let Some((t, coefs)) = crate::schedules::noise_term(self.schedule.as_ref()) {
            let why = format!("schedule `{}` has an ε term (γ({t}) = {})", c.path.schedule, coefs.gamma);
            if self.target != Target::Velocity {
                return Err(resolved.key_error(
                    "path.target",
                    format!("{why}: only the velocity target includes it (u = α'·x1 + σ'·x0 + γ'·ε); use path.target = \"velocity\""),
                ));
            }
            if self.span.0 > 0.0 {
                return Err(resolved.key_error(
                    "eval.t_start",
                    format!("{why}: a later start would scale the source by σ alone; use 0"),
                ));
            }
            if self.span.1 < 1.0 {
                return Err(resolved.key_error(
                    "eval.t_end",
                    format!("{why}: the jump to the data needs a data prediction, undefined where γ ≠ 0; use 1"),
                ));
            }
        }
        if !self.standard_normal_source() {
            let why = format!("source `{}` is not the standard normal", c.data.source);
            if self.target == Target::Score {
                return Err(resolved.key_error(
                    "path.target",
                    format!("{why}: the score target −x0/σ is the conditional score only for x0 ~ N(0, I); use velocity, data or epsilon"),
                ));
            }
            if self.span.0 > 0.0 {
                return Err(resolved.key_error(
                    "eval.t_start",
                    format!("{why}: a later start takes the path's marginal there to be the scaled source, true only for Gaussian noise; use 0"),
                ));
            }
        }
        Ok(())
    }

    /// With `train.reflow > 0`: the pairs are the coupling, and they come from an ODE solve.
    fn check_reflow(&self, resolved: &Resolved) -> Result<(), ConfigError> {
        let t = &resolved.config.train;
        if t.reflow == 0 {
            return Ok(());
        }
        let coupling = &resolved.config.path.coupling;
        if coupling != "independent" {
            return Err(resolved.key_error(
                "path.coupling",
                format!("train.reflow trains on the model's own (x0, x̂1) pairs, which are the coupling; `{coupling}` would re-pair them: use `independent`"),
            ));
        }
        for (key, value) in [("train.reflow_pairs", t.reflow_pairs), ("train.reflow_nfe", t.reflow_nfe)] {
            if value == 0 {
                return Err(resolved.key_error(key, "must be at least 1 when train.reflow > 0"));
            }
        }
        let (built, _) = crate::solvers::build(&self.registry, &t.reflow_solver, &BTreeMap::new())
            .map_err(|e| resolved.key_error("train.reflow_solver", e))?;
        if !matches!(built.kind(), SolverKind::Ode { .. } | SolverKind::Adaptive { .. }) {
            return Err(resolved.key_error(
                "train.reflow_solver",
                format!("`{}` is not an ODE solver of the velocity; the pairs need the flow's own map x0 → x̂1 (euler, heun, rk4, dopri5, …)", t.reflow_solver),
            ));
        }
        self.check_solver(resolved, &t.reflow_solver, &BTreeMap::new())
    }

    /// Refuse sampling with `solver` where its assumptions fail: stochastic samplers (DDPM,
    /// Euler-ancestral, reverse SDEs) add Gaussian noise along the score of a N(0, I) source, and
    /// every sampler other than an ODE method on the velocity (DDIM, DPM-Solver++, EDM, the
    /// stochastic ones) works with data predictions, which are undefined where γ ≠ 0. The error
    /// names the config key that makes the combination impossible. An unknown solver name or
    /// bad parameters are left to the sampler's own error.
    pub fn check_solver(
        &self,
        resolved: &Resolved,
        solver: &str,
        params: &BTreeMap<String, ParamValue>,
    ) -> Result<(), ConfigError> {
        let Ok((built, _)) = crate::solvers::build(&self.registry, solver, params) else {
            return Ok(());
        };
        let kind = built.kind();
        let c = &resolved.config;
        if !matches!(kind, SolverKind::Ode { .. } | SolverKind::Adaptive { .. }) {
            if let Some((t, coefs)) = crate::schedules::noise_term(self.schedule.as_ref()) {
                return Err(resolved.key_error(
                    "path.schedule",
                    format!(
                        "solver `{solver}` works with data predictions, undefined on schedule `{}` with its ε term \
                         (γ({t}) = {}); sample it with an ODE solver (euler, heun, rk4, dopri5, …)",
                        c.path.schedule, coefs.gamma
                    ),
                ));
            }
        }
        if matches!(kind, SolverKind::Stochastic) && !self.standard_normal_source() {
            return Err(resolved.key_error(
                "data.source",
                format!(
                    "solver `{solver}` is stochastic: its noise and drift assume the source is N(0, I), but it is `{}`; \
                     use a deterministic solver",
                    c.data.source
                ),
            ));
        }
        Ok(())
    }
}

/// Points this few and this seed cost nothing and catch a dataset that cannot draw at all.
const PROBE_POINTS: usize = 16;

/// Refuse a dataset whose draws are not finite before anything trains on them (a plugin that
/// fails gives NaN points and logs why).
fn check_points(resolved: &Resolved, key: &str, name: &str, dataset: &dyn Dataset) -> Result<(), ConfigError> {
    let points = dataset.sample(PROBE_POINTS, 0);
    if points.len() != PROBE_POINTS * dataset.dim() {
        let why =
            format!("`{name}` drew {} values for {PROBE_POINTS} points of dimension {}", points.len(), dataset.dim());
        return Err(resolved.key_error(key, why));
    }
    match points.iter().position(|v| !v.is_finite()) {
        Some(i) => {
            Err(resolved.key_error(key, format!("`{name}` drew a non-finite point (value {}): {}", i, points[i])))
        }
        None => Ok(()),
    }
}

/// Refuse a schedule whose α, σ or γ is not finite at a probe time of [0, 1] (a plugin that fails
/// gives NaN and logs why). Derivatives may be infinite at the ends (VP paths at t = 1).
fn check_coefficients(resolved: &Resolved, name: &str, schedule: &dyn Schedule) -> Result<(), ConfigError> {
    for t in crate::schedules::probe_times() {
        let c = schedule.coefficients(t);
        if !(c.alpha.is_finite() && c.sigma.is_finite() && c.gamma.is_finite()) {
            let why = format!(
                "schedule `{name}` is not finite at t = {t}: α = {}, σ = {}, γ = {}",
                c.alpha, c.sigma, c.gamma
            );
            return Err(resolved.key_error("path.schedule", why));
        }
    }
    Ok(())
}

/// Build plugin `name` of kind `T`, reporting errors against config key `key`.
pub fn build<T: Pluggable + ?Sized>(
    registry: &Registry,
    resolved: &Resolved,
    key: &str,
    name: &str,
    params: &PluginParams,
) -> Result<Box<T>, ConfigError> {
    let given = plugin_params(params).map_err(|m| resolved.key_error(key, m))?;
    registry.build::<T>(name, &given).map_err(|e| resolved.key_error(key, e))
}

/// Config values (JSON-like) as plugin parameter values.
pub fn plugin_params(params: &PluginParams) -> Result<BTreeMap<String, ParamValue>, String> {
    params
        .iter()
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::Bool(b) => ParamValue::Bool(*b),
                serde_json::Value::String(s) => ParamValue::Str(s.clone()),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => ParamValue::Int(i),
                    None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                other => return Err(format!("parameter `{k}`: unsupported value {other}")),
            };
            Ok((k.clone(), value))
        })
        .collect()
}

/// The evaluation's plugins named by the config (metrics, time grid, reference solver), found
/// now: an unknown name would otherwise surface only after the trial has trained.
fn check_evaluation_names(resolved: &Resolved, registry: &Registry) -> Result<(), ConfigError> {
    let e = &resolved.config.eval;
    crate::evaluate::needs(registry, &e.metrics).map_err(|err| {
        // The error names its key already; the config error names it with its source.
        let message = err.to_string();
        resolved.key_error("eval.metrics", message.trim_start_matches("eval.metrics: "))
    })?;
    registry
        .build::<dyn runner_sdk::TimeGrid>(&e.grid, &Default::default())
        .map_err(|err| resolved.key_error("eval.grid", err))?;
    crate::solvers::build(registry, &e.reference_solver, &Default::default())
        .map_err(|err| resolved.key_error("eval.reference_solver", err))?;
    Ok(())
}
