//! Trials as data. A script declares trials and the evaluations asked of each; the declaration
//! is a [`TrialSpec`] written into the trial's directory, and any process (the script's, a
//! local worker, a Slurm task) runs it from there, with no script.
//!
//! A trial's id is a hash of its resolved config without what does not change its results
//! (where outputs go, where plugin files lie, how it is launched and checkpointed, which GPU),
//! so the same config always lands in the same directory, and a rerun finds what it finished.
//! An evaluation's id names its solver, parameters and NFE.

use std::collections::BTreeMap;
use std::path::Path;

use runner_sdk::ParamValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Row, TrialError};
use crate::config::{LauncherConfig, Resolved, RunnerConfig, DEFAULT_CHECKPOINT_EVERY};
use crate::files::{read_json, write_atomic, write_json};

/// The file name of a trial's spec.
pub const SPEC: &str = "spec.json";

/// One evaluation request: sample with a solver at an NFE and score the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub solver: String,
    #[serde(with = "param_map")]
    pub params: BTreeMap<String, ParamValue>,
    pub nfe: usize,
}

impl Evaluation {
    pub fn new(solver: &str, nfe: usize) -> Evaluation {
        Evaluation { solver: solver.to_string(), params: BTreeMap::new(), nfe }
    }

    /// `<solver>-<nfe><-param value…>`: the evaluation's file names (row, samples).
    pub fn id(&self) -> String {
        let raw = format!("{}-{}{}", self.solver, self.nfe, param_suffix(&self.params));
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
    }

    /// The `.npy` file of the evaluation's samples in its trial's directory.
    pub fn samples_file(&self) -> String {
        format!("samples-{}-{}{}.npy", self.solver, self.nfe, param_suffix(&self.params))
    }
}

/// `-<name><value>` for each solver parameter: how rows and files tell parameter settings apart.
pub fn param_suffix(params: &BTreeMap<String, ParamValue>) -> String {
    params.iter().map(|(k, v)| format!("-{k}{}", v.to_string().trim_matches('"'))).collect()
}

/// A trial as data: its resolved config (with where each key came from, for error messages in
/// the process that runs it) and its evaluations, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialSpec {
    pub id: String,
    pub config: RunnerConfig,
    pub sources: BTreeMap<String, String>,
    pub evaluations: Vec<Evaluation>,
}

impl TrialSpec {
    pub fn new(resolved: Resolved) -> TrialSpec {
        TrialSpec {
            id: trial_id(&resolved.config),
            config: resolved.config,
            sources: resolved.sources,
            evaluations: Vec::new(),
        }
    }

    pub fn resolved(&self) -> Resolved {
        Resolved { config: self.config.clone(), sources: self.sources.clone() }
    }

    /// Ask for an evaluation; the same one twice is one.
    pub fn add(&mut self, evaluation: Evaluation) {
        if !self.evaluations.contains(&evaluation) {
            self.evaluations.push(evaluation);
        }
    }

    pub fn read(trial_dir: &Path) -> Result<TrialSpec, TrialError> {
        let path = trial_dir.join(SPEC);
        read_json(&path).map_err(|e| TrialError::io(&path, e))
    }

    /// Write `spec.json` and `config.toml` (the resolved config, for people) atomically.
    pub fn write(&self, trial_dir: &Path) -> Result<(), TrialError> {
        std::fs::create_dir_all(trial_dir).map_err(|e| TrialError::io(trial_dir, e))?;
        let path = trial_dir.join(SPEC);
        write_json(&path, self).map_err(|e| TrialError::io(&path, e))?;
        let path = trial_dir.join("config.toml");
        write_atomic(&path, self.resolved().to_toml().as_bytes()).map_err(|e| TrialError::io(&path, e))
    }
}

/// What an evaluation left in `evals/<id>.json`: its row, or the error it failed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    pub evaluation: Evaluation,
    pub row: Option<Row>,
    pub error: Option<String>,
}

/// `<method>-<dataset>-<hash>`: readable, and unique per config.
pub fn trial_id(config: &RunnerConfig) -> String {
    let config = identity(config);
    let text = toml::to_string(&config).expect("config serializes");
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{hex}", label(&config.method), label(&config.data.target))
}

/// A name as part of a directory's name: letters, digits, `-`, `_` and `.` are kept, anything
/// else (a `/` above all) becomes `_`, and so does a leading dot, so that a method or dataset
/// name from a script can neither leave the sweep directory nor hide a trial in it.
fn label(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| match c.is_ascii_alphanumeric() || "-_.".contains(c) && !(i == 0 && c == '.') {
            true => c,
            false => '_',
        })
        .collect()
}

/// The config without what does not change a trial's results: what names the trial, and what
/// tells two trials' settings apart.
pub fn identity(config: &RunnerConfig) -> RunnerConfig {
    let mut config = config.clone();
    config.out.clear();
    // Where the plugins' files lie is not what the trial computes (their names in the config are).
    config.plugins.load.clear();
    config.launcher = LauncherConfig::default();
    // A resumed training ends bit for bit where an uninterrupted one does.
    config.train.checkpoint_every = DEFAULT_CHECKPOINT_EVERY;
    // Which GPU of a machine runs the trial is the scheduler's choice, not the experiment's.
    if let Some((backend, _ordinal)) = config.device.rsplit_once(':').filter(|(_, n)| n.parse::<u32>().is_ok()) {
        config.device = backend.to_string();
    }
    config
}

/// Solver parameters as JSON values (numbers stay integers or floats as given).
mod param_map {
    use std::collections::BTreeMap;

    use runner_sdk::ParamValue;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(params: &BTreeMap<String, ParamValue>, s: S) -> Result<S::Ok, S::Error> {
        let values: BTreeMap<&String, Value> = params
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    ParamValue::Float(f) => Value::from(*f),
                    ParamValue::Int(i) => Value::from(*i),
                    ParamValue::Bool(b) => Value::from(*b),
                    ParamValue::Str(s) => Value::from(s.clone()),
                };
                (k, value)
            })
            .collect();
        values.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, ParamValue>, D::Error> {
        let values = BTreeMap::<String, Value>::deserialize(d)?;
        values
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Bool(b) => ParamValue::Bool(b),
                    Value::String(s) => ParamValue::Str(s),
                    Value::Number(n) if n.is_i64() => ParamValue::Int(n.as_i64().expect("checked")),
                    Value::Number(n) => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                    other => return Err(serde::de::Error::custom(format!("parameter `{k}`: {other} is not a value"))),
                };
                Ok((k, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_id_is_one_directory_whatever_the_method_is_called() {
        let mut config = RunnerConfig { method: "../../etc/x y".into(), ..RunnerConfig::default() };
        let id = trial_id(&config);
        assert!(id.starts_with("_._.._etc_x_y-gmm1d-"), "{id}");
        config.method = "fm".into();
        assert!(trial_id(&config).starts_with("fm-gmm1d-"));
    }
}
