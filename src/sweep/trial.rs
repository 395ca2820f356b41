//! A trial: one resolved config, trained once and evaluated with any number of solvers.
//! It owns its run directory: `spec.json`, `config.toml`, `run.json`, `events.jsonl`,
//! `model.bpk` and `fit.json` (the trained network), `evals/` (a row per evaluation) and
//! `samples-*.npy`.
//!
//! Deterministic samplers also get a `solver_error`: the RMS distance of their samples to a
//! converged solve of the same ODE from the same source points ([`sampling::reference`]),
//! computed once per trial and grid span and reused by every row.
//!
//! Flow metrics ([`runner_sdk::MetricInput`]) get their measurements here, only when asked for:
//! the path integrals of the row's own solve (rows of a velocity-form ODE solver; other rows have
//! no such metrics), and the log densities of `eval.nll_points` held-out target points, by the
//! row's solver where it is a velocity-form ODE method and by `eval.nll_solver` otherwise,
//! computed once per trial and solve and reused by every row that asks for the same one.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Device;
use runner_sdk::SolverKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::events::{Event, EventLog, Observer, SampleEvent, Silent};
use super::lock::host_name;
use super::spec::{param_suffix, trial_id, Evaluation};
use super::{npy, Row, TrialError};
use crate::config::{Resolved, RunnerConfig};
use crate::evaluate::{self, Inputs};
use crate::files::{read_json, write_atomic, write_json};
use crate::metrics::flow::{self, Divergence, LikelihoodSpec, LogDensities};
use crate::models::Model;
use crate::plugins::Registry;
use crate::sampling::{self, Network, ReferenceSpec, SampleSpec};
use crate::seed;
use crate::setup::Setup;
use crate::train::{self, Checkpoints, Hooks, Progress};

/// The trained network and its fit, in a trial's directory (the fit is written last: it says
/// the trial is trained).
pub const NETWORK: &str = "model.bpk";
pub const FIT: &str = "fit.json";
/// The resumable training state, while training runs.
pub const CHECKPOINTS: &str = "checkpoint";

/// The fit of the trial trained in `trial_dir`.
pub fn read_fit(trial_dir: &Path) -> std::io::Result<Fit> {
    read_json(&trial_dir.join(FIT))
}

/// The metric column of the RMS distance to the converged reference solve.
pub const SOLVER_ERROR: &str = "solver_error";

pub struct Trial {
    pub id: String,
    pub dir: PathBuf,
    pub resolved: Resolved,
    setup: Setup,
    device: Device,
    model: Option<Model>,
    fit: Option<Fit>,
    /// Reference solutions by grid span (the bits of its two ends).
    references: HashMap<(u64, u64), Vec<f32>>,
    /// Log densities of the held-out points by solve (`solver-params@nfe`).
    likelihoods: HashMap<String, LogDensities>,
    evaluations: usize,
    log: EventLog,
}

/// What training produced, besides the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub seconds: f64,
    /// The last logged mean loss; `None` for an oracle, which has no loss to minimize.
    pub final_loss: Option<f64>,
}

impl Trial {
    /// Build the trial's plugins and create its run directory under `sweep_dir` (the id is a
    /// hash of the resolved config, so the same config always lands in the same directory).
    pub fn create(sweep_dir: &Path, resolved: Resolved, registry: Arc<Registry>) -> Result<Trial, TrialError> {
        let dir = sweep_dir.join(trial_id(&resolved.config));
        let trial = Trial::open(&dir, resolved, registry)?;
        trial.write(&trial.dir.join("config.toml"), trial.resolved.to_toml().as_bytes())?;
        Ok(trial)
    }

    /// The trial of `resolved` in its directory `dir`, which it creates if need be; nothing in
    /// it is removed.
    pub fn open(dir: &Path, resolved: Resolved, registry: Arc<Registry>) -> Result<Trial, TrialError> {
        let setup = Setup::new(&resolved, registry)?;
        let device = crate::device::parse(&resolved.config.device).map_err(|e| resolved.key_error("device", e))?;
        fs::create_dir_all(dir).map_err(|e| TrialError::io(dir, e))?;
        Ok(Trial {
            id: trial_id(&resolved.config),
            dir: dir.to_path_buf(),
            resolved,
            setup,
            device,
            model: None,
            fit: None,
            references: HashMap::new(),
            likelihoods: HashMap::new(),
            evaluations: 0,
            log: EventLog::new(dir),
        })
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.resolved.config
    }

    pub fn fit(&self) -> Option<&Fit> {
        self.fit.as_ref()
    }

    /// Whether the directory holds a trained network (or the trial needs none: an oracle).
    pub fn is_trained(&self) -> bool {
        self.dir.join(FIT).is_file() && (self.setup.oracle.is_some() || self.dir.join(NETWORK).is_file())
    }

    /// The model for the evaluations: loaded from the directory when it was trained before
    /// (no training), else trained now.
    pub fn prepare(&mut self, observer: &mut dyn Observer) -> Result<&Fit, TrialError> {
        if !self.is_trained() {
            return self.train_observed(observer);
        }
        let fit = read_fit(&self.dir).map_err(|e| TrialError::io(&self.dir.join(FIT), e))?;
        self.model = Some(match &self.setup.oracle {
            Some(oracle) => Model::Oracle(oracle.clone()),
            None => {
                let file = self.dir.join(NETWORK);
                let mlp = train::load_network(&self.resolved.config, self.setup.dim, &file, &self.device)?;
                self.emit(observer, Event::Loaded { file: NETWORK.into() })?;
                Model::Mlp(mlp)
            }
        });
        self.fit = Some(fit);
        Ok(self.fit.as_ref().expect("just set"))
    }

    /// Train the network (again, if it was trained before) and log the loss curve.
    pub fn train(&mut self) -> Result<&Fit, TrialError> {
        self.train_observed(&mut Silent)
    }

    /// Train the network, resuming from the directory's checkpoint if a killed training left
    /// one, and save it. An oracle is exact already: it trains nothing, in zero seconds, and
    /// says so in the log.
    pub fn train_observed(&mut self, observer: &mut dyn Observer) -> Result<&Fit, TrialError> {
        self.references.clear();
        self.likelihoods.clear();
        if let Some(oracle) = &self.setup.oracle {
            self.model = Some(Model::Oracle(oracle.clone()));
            let fit = Fit { seconds: 0.0, final_loss: None };
            self.emit(observer, Event::Oracle)?;
            self.emit(observer, Event::Trained { seconds: 0.0, step: 0 })?;
            self.save_fit(&fit)?;
            self.fit = Some(fit);
            return Ok(self.fit.as_ref().expect("just set"));
        }
        self.write_status("training", None)?;
        let checkpoints =
            Checkpoints { dir: self.dir.join(CHECKPOINTS), every: self.resolved.config.train.checkpoint_every };
        let mut logged: Result<(), TrialError> = Ok(());
        let (id, log, steps) = (self.id.clone(), &self.log, self.resolved.config.train.steps);
        let mut hear = |progress: &Progress| {
            let event = match progress {
                Progress::Step { round, step, steps } => return observer.step(&id, *round, *step, *steps),
                Progress::Loss { round, point } => {
                    Event::Train { round: *round, step: point.step, steps, loss: point.loss }
                }
                Progress::Validation { round, point } => {
                    Event::Validation { round: *round, step: point.step, loss: point.loss }
                }
                Progress::Checkpoint { round, step } => Event::Checkpoint { round: *round, step: *step },
                Progress::Resumed { round, step } => Event::Resumed { round: *round, step: *step },
                Progress::Reflow { round, pairs } => Event::Reflow { round: *round, pairs: *pairs },
            };
            if logged.is_ok() {
                logged = log.append(&event);
            }
            observer.event(&id, &event);
        };
        let mut hooks = Hooks { checkpoints: Some(checkpoints.clone()), observer: Some(&mut hear) };
        let result = train::train_with(&self.setup, &self.resolved.config, &self.device, &mut hooks);
        drop(hooks);
        logged?;
        let trained = match result {
            Ok(t) => t,
            Err(e) => {
                self.write_status("failed", Some(&e.to_string()))?;
                return Err(e.into());
            }
        };
        train::save_network(&trained.model, &self.dir.join(NETWORK))?;
        let fit = Fit { seconds: trained.seconds, final_loss: trained.losses.last().map(|p| p.loss) };
        self.save_fit(&fit)?;
        self.emit(observer, Event::Trained { seconds: trained.seconds, step: trained.step })?;
        // The network is saved: the training state is of no more use.
        let _ = fs::remove_dir_all(&checkpoints.dir);
        self.fit = Some(fit);
        self.model = Some(Model::Mlp(trained.model));
        self.write_status("trained", None)?;
        Ok(self.fit.as_ref().expect("just set"))
    }

    fn save_fit(&self, fit: &Fit) -> Result<(), TrialError> {
        let path = self.dir.join(FIT);
        write_json(&path, fit).map_err(|e| TrialError::io(&path, e))
    }

    /// Log an event and hand it to the observer.
    pub fn emit(&self, observer: &mut dyn Observer, event: Event) -> Result<(), TrialError> {
        self.log.append(&event)?;
        observer.event(&self.id, &event);
        Ok(())
    }

    /// Sample with a solver at a given NFE from fresh source points, score the samples against
    /// held-out target points, write `samples-<solver>-<nfe>.npy` and log the row.
    pub fn evaluate(&mut self, request: &Evaluation) -> Result<Row, TrialError> {
        let (row, event) = self.measure(request)?;
        self.emit(&mut Silent, event)?;
        Ok(row)
    }

    /// [`Trial::evaluate`] without logging: the row and the event that says how it was
    /// measured, for the caller to log once it has saved the row (so that a logged evaluation
    /// is a saved one).
    pub fn measure(&mut self, request: &Evaluation) -> Result<(Row, Event), TrialError> {
        let (Some(model), Some(fit)) = (&self.model, &self.fit) else { return Err(TrialError::NotTrained) };
        self.setup.check_solver(&self.resolved, &request.solver, &request.params)?;
        let c = &self.resolved.config;
        let n = c.eval.size;
        let x0 = self.setup.source.sample(n, seed::derive(c.data_seed(), "eval-source", 0));
        let target = test_target(&self.setup, c);
        let registry = self.setup.registry.as_ref();
        let spec = SampleSpec {
            registry,
            solver: &request.solver,
            solver_params: &request.params,
            nfe: request.nfe,
            grid: &c.eval.grid,
            span: self.setup.span,
        };
        let noise_seed = seed::derive(c.seed, "sample-noise", 0);
        let network = Network { model, schedule: self.setup.schedule.as_ref(), target: self.setup.target };
        let sampled = sampling::sample(&network, &self.device, x0.clone(), self.setup.dim, &spec, noise_seed)?;
        let dim = self.setup.dim;
        let needs = evaluate::needs(registry, &c.eval.metrics)?;
        // Only a velocity-form ODE solver's trajectories are an ODE solve that the path
        // integrals can follow step by step.
        let ode_row = matches!(sampled.kind, SolverKind::Ode { .. } | SolverKind::Adaptive { .. });
        let mut notes = serde_json::Map::new();
        let path = if needs.path && ode_row {
            let field = flow::field(model, self.setup.schedule.clone(), self.setup.target, &self.device, dim);
            let path = flow::integrate_path(field, self.setup.schedule.clone(), x0.clone(), &spec)?;
            notes.insert("path_nfe".into(), json!(path.nfe));
            notes.insert("path_seconds".into(), json!(path.seconds));
            Some(path)
        } else {
            None
        };
        let likelihood = if needs.likelihood {
            let no_params = BTreeMap::new();
            let (solver, params, nfe) = if ode_row {
                (request.solver.as_str(), &request.params, request.nfe)
            } else {
                (c.eval.nll_solver.as_str(), &no_params, c.eval.nll_nfe)
            };
            let name = format!("{solver}{}", param_suffix(params));
            let key = format!("{name}@{nfe}");
            if !self.likelihoods.contains_key(&key) {
                let resolved = &self.resolved;
                let divergence = Divergence::from_setting(&c.eval.nll_divergence, dim)
                    .map_err(|m| resolved.key_error("eval.nll_divergence", m))?;
                let source = self.setup.source.mixture().ok_or_else(|| {
                    let why = "`nll` needs a source whose density is known in closed form (a Gaussian mixture)";
                    resolved.key_error("data.source", format!("{why}; `{}` is not one", c.data.source))
                })?;
                let points =
                    self.setup.data.sample(c.eval.nll_points.max(1), seed::derive(c.data_seed(), "nll-target", 0));
                let spec = LikelihoodSpec {
                    solve: SampleSpec {
                        registry,
                        solver,
                        solver_params: params,
                        nfe,
                        grid: &c.eval.grid,
                        span: self.setup.span,
                    },
                    divergence,
                    probe_seed: seed::derive(c.seed, "nll-probe", 0),
                };
                let field = flow::field(model, self.setup.schedule.clone(), self.setup.target, &self.device, dim);
                let solved = flow::log_density(field, self.setup.schedule.clone(), &source, &points, &spec);
                // A failing fallback solver is a configuration error: name its key.
                let solved = solved.map_err(|e| match ode_row {
                    true => TrialError::from(e),
                    false => {
                        let row = &request.solver;
                        let why = format!("row `{row}` cannot integrate the likelihood, so `{solver}` does: {e}");
                        resolved.key_error("eval.nll_solver", why).into()
                    }
                })?;
                self.likelihoods.insert(key.clone(), solved);
            }
            let solved = &self.likelihoods[&key];
            notes.insert("nll_solver".into(), json!(name));
            notes.insert("nll_nfe".into(), json!(solved.nfe));
            notes.insert("nll_divergence".into(), json!(solved.divergence.name()));
            notes.insert("nll_points".into(), json!(solved.log_density.len()));
            notes.insert("nll_span".into(), json!([solved.span.0, solved.span.1]));
            notes.insert("nll_seconds".into(), json!(solved.seconds));
            Some(solved)
        } else {
            None
        };
        let inputs = Inputs {
            samples: &sampled.points,
            target: &target,
            dim,
            path: path.as_ref().map(|p| p.integrals(&target)),
            likelihood: likelihood.map(LogDensities::likelihood),
        };
        let mut scores = evaluate::evaluate_inputs(registry, &c.eval.metrics, &inputs)?;
        // Stochastic samplers draw their own noise: no single ODE solution to compare with.
        if !matches!(sampled.kind, SolverKind::Stochastic) {
            let key = (sampled.span.0.to_bits(), sampled.span.1.to_bits());
            if !self.references.contains_key(&key) {
                let spec = ReferenceSpec { registry, solver: &c.eval.reference_solver, nfe: c.eval.reference_nfe };
                // A deterministic solver maps each source point on its own, so the first points
                // of the samples are the solves of the first source points: the reference needs
                // only those (its thousands of NFE would dominate a sweep on every point).
                let k = n.min(c.eval.reference_points.max(1));
                let subset = x0[..k * self.setup.dim].to_vec();
                let solved = sampling::reference(&network, &self.device, subset, self.setup.dim, sampled.span, &spec)?;
                self.references.insert(key, solved);
            }
            let reference = &self.references[&key];
            let error = rms_distance(&sampled.points[..reference.len()], reference);
            scores.values.insert(SOLVER_ERROR.into(), error);
            let used = reference.len() / self.setup.dim;
            if used < n {
                scores.points_used.insert(SOLVER_ERROR.into(), used);
            }
        }

        let suffix = param_suffix(&request.params);
        let file = self.dir.join(request.samples_file());
        npy::write(&file, &sampled.points, self.setup.dim).map_err(|e| TrialError::io(&file, e))?;

        let row = Row {
            trial: self.id.clone(),
            dataset: c.data.target.clone(),
            method: c.method.clone(),
            schedule: c.path.schedule.clone(),
            target: c.path.target.clone(),
            coupling: c.path.coupling.clone(),
            solver: format!("{}{suffix}", request.solver),
            nfe: sampled.nfe,
            seed: c.seed,
            metrics: scores.values.clone(),
            train_seconds: fit.seconds,
            sample_seconds: sampled.seconds,
        };
        let event = SampleEvent {
            evaluation: request.id(),
            solver: request.solver.clone(),
            params: request.params.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            nfe: sampled.nfe,
            steps: sampled.steps,
            accepted: sampled.accepted,
            rejected: sampled.rejected,
            sample_seconds: sampled.seconds,
            samples: file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
            metrics: scores.values.clone(),
            points: scores.points_used.clone(),
            notes: notes.into_iter().collect(),
        };
        self.evaluations += 1;
        Ok((row, Event::Sample(Box::new(event))))
    }

    /// Append a script's line to the event log.
    pub fn note(&self, fields: BTreeMap<String, serde_json::Value>) -> Result<(), TrialError> {
        self.log.append(&Event::Note { fields })
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), TrialError> {
        write_atomic(path, bytes).map_err(|e| TrialError::io(path, e))
    }

    /// `run.json`: where the trial stands, for people and for `runner status`.
    pub fn write_status(&self, status: &str, error: Option<&str>) -> Result<(), TrialError> {
        let c = &self.resolved.config;
        // Where burn reports the trained network's weights, e.g. `Device<LibTorch(Cpu)>`: what
        // the `device` key turned into (null before training, and for an oracle: CPU code).
        let network_device = match &self.model {
            Some(Model::Mlp(mlp)) => mlp.devices().first().map(|d| format!("{d:?}")),
            _ => None,
        };
        let run = json!({
            "trial": self.id,
            "status": status,
            "error": error,
            "updated_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "device": c.device,
            "network_device": network_device,
            "train_seconds": self.fit.as_ref().map(|f| f.seconds),
            "final_loss": self.fit.as_ref().and_then(|f| f.final_loss),
            "evaluations": self.evaluations,
            "host": host_name(),
            "versions": {"runner": env!("CARGO_PKG_VERSION"), "burn": "0.22.1", "features": crate::device::available()},
        });
        let text = serde_json::to_string_pretty(&run).expect("JSON");
        self.write(&self.dir.join("run.json"), text.as_bytes())
    }
}

/// The finite-sample floor: metrics between two independent draws of the target of the
/// evaluation size, as the `reference` row of the target's dataset.
pub fn reference(resolved: &Resolved, registry: Arc<Registry>) -> Result<Row, TrialError> {
    let setup = Setup::new(resolved, registry)?;
    let c = &resolved.config;
    let n = c.eval.size;
    let target = test_target(&setup, c);
    let other = setup.data.sample(n, seed::derive(c.data_seed(), "reference", 0));
    let scores = evaluate::evaluate(&setup.registry, &c.eval.metrics, &other, &target, setup.dim)?;
    Ok(Row {
        trial: String::new(),
        dataset: c.data.target.clone(),
        method: "reference".into(),
        schedule: String::new(),
        target: String::new(),
        coupling: String::new(),
        solver: "none".into(),
        nfe: 0,
        seed: c.seed,
        metrics: scores.values,
        train_seconds: 0.0,
        sample_seconds: 0.0,
    })
}

/// The held-out target points every evaluation scores against, and the floor too: one draw, so
/// that a row and its floor share their test set.
pub fn test_target(setup: &Setup, c: &RunnerConfig) -> Vec<f32> {
    setup.data.sample(c.eval.size, seed::derive(c.data_seed(), "eval-target", 0))
}

/// √(mean of the squared entries of a − b), accumulated in f64.
fn rms_distance(a: &[f32], b: &[f32]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    (sum / a.len().max(1) as f64).sqrt()
}
