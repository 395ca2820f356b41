//! A trial: one resolved config, trained once and evaluated with any number of solvers.
//! It owns its run directory: `config.toml`, `run.json`, `metrics.jsonl`, `samples-*.npy`.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use runner_sdk::ParamValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{npy, Row, TrialError};
use crate::config::Resolved;
use crate::evaluate::{self, Scores};
use crate::sampling::{self, Network, SampleSpec};
use crate::seed;
use crate::setup::Setup;
use crate::train::{self, Trained};

pub struct Trial {
    pub id: String,
    pub dir: PathBuf,
    pub resolved: Resolved,
    setup: Setup,
    device: Device,
    trained: Option<Trained>,
    evaluations: usize,
}

/// One evaluation request.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub solver: String,
    pub params: BTreeMap<String, ParamValue>,
    pub nfe: usize,
}

impl Trial {
    /// Build the trial's plugins and create its run directory under `sweep_dir`. The id is a
    /// hash of the resolved config, so the same config always lands in the same directory
    /// (whose previous contents are replaced).
    pub fn create(sweep_dir: &Path, resolved: Resolved) -> Result<Trial, TrialError> {
        let setup = Setup::new(&resolved)?;
        let device = crate::device::parse(&resolved.config.device).map_err(|e| resolved.key_error("device", e))?;
        let id = trial_id(&resolved);
        let dir = sweep_dir.join(&id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| TrialError::io(&dir, e))?;
        let trial = Trial { id, dir, resolved, setup, device, trained: None, evaluations: 0 };
        trial.write(&trial.dir.join("config.toml"), trial.resolved.to_toml().as_bytes())?;
        trial.write_status("created", None)?;
        Ok(trial)
    }

    pub fn config(&self) -> &crate::config::RunnerConfig {
        &self.resolved.config
    }

    pub fn trained(&self) -> Option<&Trained> {
        self.trained.as_ref()
    }

    /// Train the network (again, if it was trained before) and log the loss curve.
    pub fn train(&mut self) -> Result<&Trained, TrialError> {
        self.write_status("training", None)?;
        let result = train::train(&self.setup, &self.resolved.config, &self.device);
        let trained = match result {
            Ok(t) => t,
            Err(e) => {
                self.write_status("failed", Some(&e.to_string()))?;
                return Err(e.into());
            }
        };
        for p in &trained.losses {
            self.log(json!({"event": "train", "step": p.step, "loss": p.loss}))?;
        }
        self.log(json!({"event": "trained", "seconds": trained.seconds}))?;
        self.trained = Some(trained);
        self.write_status("trained", None)?;
        Ok(self.trained.as_ref().expect("just set"))
    }

    /// Sample with a solver at a given NFE from fresh source points, score the samples against
    /// held-out target points, write `samples-<solver>-<nfe>.npy` and log the row.
    pub fn evaluate(&mut self, request: &Evaluation) -> Result<Row, TrialError> {
        let trained = self.trained.as_ref().ok_or(TrialError::NotTrained)?;
        let c = &self.resolved.config;
        let n = c.eval.size;
        let x0 = self.setup.source.sample(n, seed::derive(c.seed, "eval-source", 0));
        let target = self.setup.data.sample(n, seed::derive(c.seed, "eval-target", 0));
        let spec = SampleSpec { solver: &request.solver, solver_params: &request.params, nfe: request.nfe, grid: &c.eval.grid };
        let noise_seed = seed::derive(c.seed, "sample-noise", 0);
        let network = Network { model: &trained.model, schedule: self.setup.schedule.as_ref(), target: self.setup.target };
        let sampled = sampling::sample(&network, &self.device, x0, self.setup.dim, &spec, noise_seed)?;
        let scores = evaluate::evaluate(&c.eval.metrics, &sampled.points, &target, self.setup.dim)?;

        let suffix: String = request.params.iter().map(|(k, v)| format!("-{k}{}", v.to_string().trim_matches('"'))).collect();
        let file = self.dir.join(format!("samples-{}-{}{suffix}.npy", request.solver, request.nfe));
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
            train_seconds: trained.seconds,
            sample_seconds: sampled.seconds,
        };
        let mut entry = json!({
            "event": "sample", "solver": request.solver, "nfe": sampled.nfe, "steps": sampled.steps,
            "params": request.params.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "sample_seconds": sampled.seconds, "samples": file.file_name().map(|f| f.to_string_lossy().to_string()),
        });
        merge_scores(&mut entry, &scores);
        self.log(entry)?;
        self.evaluations += 1;
        self.write_status("evaluated", None)?;
        Ok(row)
    }

    /// Append one JSON object as a line of `metrics.jsonl`.
    pub fn log(&self, entry: Value) -> Result<(), TrialError> {
        let path = self.dir.join("metrics.jsonl");
        let mut f = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| TrialError::io(&path, e))?;
        writeln!(f, "{entry}").map_err(|e| TrialError::io(&path, e))
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), TrialError> {
        fs::write(path, bytes).map_err(|e| TrialError::io(path, e))
    }

    fn write_status(&self, status: &str, error: Option<&str>) -> Result<(), TrialError> {
        let c = &self.resolved.config;
        let run = json!({
            "trial": self.id,
            "status": status,
            "error": error,
            "updated_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "device": c.device,
            "train_seconds": self.trained.as_ref().map(|t| t.seconds),
            "final_loss": self.trained.as_ref().and_then(|t| t.losses.last()).map(|p| p.loss),
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
pub fn reference(resolved: &Resolved) -> Result<Row, TrialError> {
    let setup = Setup::new(resolved)?;
    let c = &resolved.config;
    let n = c.eval.size;
    let target = setup.data.sample(n, seed::derive(c.seed, "eval-target", 0));
    let other = setup.data.sample(n, seed::derive(c.seed, "reference", 0));
    let scores = evaluate::evaluate(&c.eval.metrics, &other, &target, setup.dim)?;
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

fn merge_scores(entry: &mut Value, scores: &Scores) {
    if let Value::Object(map) = entry {
        for (k, v) in &scores.values {
            map.insert(k.clone(), json!(v));
        }
        for (k, n) in &scores.points_used {
            map.insert(format!("{k}_points"), json!(n));
        }
    }
}

/// `<method>-<dataset>-<hash>`: readable, and unique per resolved config (`out` excluded:
/// where results go does not change them).
fn trial_id(resolved: &Resolved) -> String {
    let mut config = resolved.config.clone();
    config.out.clear();
    let text = toml::to_string(&config).expect("config serializes");
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{hex}", config.method, config.data.target)
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
        .unwrap_or_default()
}
