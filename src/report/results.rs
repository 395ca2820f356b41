//! What a sweep directory holds, read back for reports and comparisons: every trial's config
//! and rows and its loss curves, and the floors. Nothing here needs the script that made the
//! sweep, or the process that ran it: a sweep that ran on Slurm reads like one that ran here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ReportError;
use crate::config::RunnerConfig;
use crate::sweep::{self, read_events, read_record, Evaluation, Event, Manifest, Row, TrialSpec, EVENTS};

/// A sweep directory's results.
#[derive(Debug, Clone)]
pub struct SweepResults {
    pub name: String,
    pub dir: PathBuf,
    pub trials: Vec<TrialResults>,
    pub floors: Vec<FloorResult>,
}

/// A trial: its config (as its settings, the keys that name it) and what it computed.
#[derive(Debug, Clone)]
pub struct TrialResults {
    pub dir: PathBuf,
    pub spec: TrialSpec,
    pub settings: Settings,
    /// Its finished evaluations, in the order they were asked for.
    pub evaluated: Vec<Evaluated>,
    pub curves: LossCurves,
}

/// A finished evaluation: what was asked, and its row.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub evaluation: Evaluation,
    pub row: Row,
}

/// A floor's row and, where the sweep recorded it, the config it was drawn with.
#[derive(Debug, Clone)]
pub struct FloorResult {
    pub settings: Option<Settings>,
    pub row: Row,
}

/// A config as dotted keys and their values (`data.target` → `"moons"`), without the keys that
/// do not change what a trial computes (see [`sweep::identity`]).
pub type Settings = BTreeMap<String, Value>;

/// The logged losses of a training, by global step (a reflow round continues the count).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossCurves {
    pub train: Vec<(f64, f64)>,
    pub validation: Vec<(f64, f64)>,
}

impl SweepResults {
    pub fn read(dir: &Path) -> Result<SweepResults, ReportError> {
        let manifest = Manifest::read(dir)?;
        let mut trials = Vec::new();
        for id in &manifest.trials {
            let trial_dir = dir.join(id);
            let spec = TrialSpec::read(&trial_dir)?;
            let evaluated = spec
                .evaluations
                .iter()
                .filter_map(|e| {
                    let row = read_record(&trial_dir, &e.id())?.row?;
                    Some(Evaluated { evaluation: e.clone(), row })
                })
                .collect();
            let curves = LossCurves::read(&trial_dir, spec.config.train.steps);
            trials.push(TrialResults { settings: settings(&spec.config), dir: trial_dir, spec, evaluated, curves });
        }
        let mut floors = Vec::new();
        for id in &manifest.references {
            let Some(row) = sweep::read_floor(dir, id)? else { continue };
            let settings = sweep::read_floor_config(dir, id).ok().map(|c| settings(&c));
            floors.push(FloorResult { settings, row });
        }
        Ok(SweepResults { name: manifest.name, dir: dir.to_path_buf(), trials, floors })
    }

    /// Every row with the settings of the trial or floor it came from: floors first, as in
    /// `summary.csv`.
    pub fn rows(&self) -> Vec<(&Row, Option<&Settings>)> {
        let floors = self.floors.iter().map(|f| (&f.row, f.settings.as_ref()));
        let trials = self.trials.iter().flat_map(|t| t.evaluated.iter().map(move |e| (&e.row, Some(&t.settings))));
        floors.chain(trials).collect()
    }
}

/// A config's settings: its identity's leaf keys and values. Tables are walked into; arrays
/// (a metric list) are one value.
pub fn settings(config: &RunnerConfig) -> Settings {
    fn walk(prefix: &str, value: Value, out: &mut Settings) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                    walk(&key, v, out);
                }
            }
            leaf => {
                out.insert(prefix.to_string(), leaf);
            }
        }
    }
    let mut out = Settings::new();
    walk("", serde_json::to_value(sweep::identity(config)).expect("config serializes"), &mut out);
    out
}

/// A setting as people read it: strings without quotes, other values as JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl LossCurves {
    /// From the trial's event log. A resumed training logs again the steps after its checkpoint,
    /// with the same losses: the last value of each step is kept.
    fn read(trial_dir: &Path, steps: usize) -> LossCurves {
        let mut train = BTreeMap::new();
        let mut validation = BTreeMap::new();
        let global = |round: usize, step: usize| (round * steps + step) as u64;
        for event in read_events(&trial_dir.join(EVENTS)) {
            match event {
                Event::Train { round, step, loss, .. } => {
                    train.insert(global(round, step), loss);
                }
                Event::Validation { round, step, loss } => {
                    validation.insert(global(round, step), loss);
                }
                _ => {}
            }
        }
        let points = |m: BTreeMap<u64, f64>| m.into_iter().map(|(s, l)| (s as f64, l)).collect();
        LossCurves { train: points(train), validation: points(validation) }
    }
}
