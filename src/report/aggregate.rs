//! Mean ± standard deviation over seeds (or any other key): rows grouped by the settings that
//! tell them apart, one group per setting and evaluation.
//!
//! A grouping key is a row column (`dataset`, `method`, `schedule`, `target`, `coupling`,
//! `solver`, `nfe`, `seed`, `trial`), the pseudo-key `sweep` (the sweep a row came from), or a
//! dotted config key (`path.schedule`, `train.lr`). Every group is also split by evaluation
//! (solver and NFE). Floors have no training, path or model: they take part in the keys that
//! are columns, `data.*` and `eval.*`, and show blank for the rest.

use std::collections::BTreeMap;

use super::results::{show, Settings, SweepResults};
use crate::sweep::Row;

/// The row columns a grouping key may name.
pub const COLUMNS: [&str; 9] =
    ["trial", "dataset", "method", "schedule", "target", "coupling", "solver", "nfe", "seed"];

/// The pseudo-key of the sweep a row came from, when several are compared.
pub const SWEEP: &str = "sweep";

/// How to group: by these keys (all the settings that differ between trials when `None`),
/// across the values of `over`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    pub by: Option<Vec<String>>,
    pub over: String,
}

impl Default for Aggregation {
    fn default() -> Aggregation {
        Aggregation { by: None, over: "seed".into() }
    }
}

/// Rows that share their `by` values and evaluation, summarised across `over`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The `by` keys and their values, in the order asked.
    pub key: Vec<(String, String)>,
    pub solver: String,
    pub nfe: usize,
    /// The values of `over` in the group, in row order.
    pub over: Vec<String>,
    pub trials: Vec<String>,
    pub metrics: BTreeMap<String, Spread>,
}

/// Mean and sample standard deviation (n − 1 in the denominator; none for one value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub mean: f64,
    pub std: Option<f64>,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let std = (n > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        Spread { n, mean, std }
    }
}

/// A row with where it came from: its sweep and the settings of its trial or floor.
#[derive(Debug, Clone, Copy)]
pub struct Sourced<'a> {
    pub sweep: &'a str,
    pub row: &'a Row,
    pub settings: Option<&'a Settings>,
}

impl Sourced<'_> {
    fn is_floor(&self) -> bool {
        self.row.method == "reference"
    }

    /// The value of grouping key `key` for this row (blank where it has none).
    pub fn value(&self, key: &str) -> String {
        let r = self.row;
        match key {
            SWEEP => self.sweep.to_string(),
            "trial" => r.trial.clone(),
            "dataset" => r.dataset.clone(),
            "method" => r.method.clone(),
            "schedule" => r.schedule.clone(),
            "target" => r.target.clone(),
            "coupling" => r.coupling.clone(),
            "solver" => r.solver.clone(),
            "nfe" => r.nfe.to_string(),
            "seed" => r.seed.to_string(),
            _ if self.is_floor() && !(key.starts_with("data.") || key.starts_with("eval.")) => String::new(),
            _ => self.settings.and_then(|s| s.get(key)).map(show).unwrap_or_default(),
        }
    }
}

/// What the `sweep` key holds for each sweep: its name, or its directory where two compared
/// sweeps share a name.
fn sweep_names(sweeps: &[SweepResults]) -> Vec<&str> {
    sweeps
        .iter()
        .map(|s| match sweeps.iter().filter(|o| o.name == s.name).count() > 1 {
            true => s.dir.to_str().unwrap_or(&s.name),
            false => s.name.as_str(),
        })
        .collect()
}

/// Every row of the sweeps, each with its sweep's name ([`sweep_names`]).
pub fn sourced(sweeps: &[SweepResults]) -> Vec<Sourced<'_>> {
    let mut out = Vec::new();
    for (s, name) in sweeps.iter().zip(sweep_names(sweeps)) {
        out.extend(s.rows().into_iter().map(|(row, settings)| Sourced { sweep: name, row, settings }));
    }
    out
}

/// The settings that differ between the sweeps' trials, with their values in order of first
/// appearance; with several sweeps, `sweep` first.
pub fn differing(sweeps: &[SweepResults]) -> Vec<(String, Vec<String>)> {
    let trials: Vec<&Settings> = sweeps.iter().flat_map(|s| s.trials.iter().map(|t| &t.settings)).collect();
    let mut keys: Vec<&String> = trials.iter().flat_map(|s| s.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    if sweeps.len() > 1 {
        out.push((SWEEP.to_string(), sweep_names(sweeps).into_iter().map(String::from).collect()));
    }
    for key in keys {
        let mut values: Vec<String> = Vec::new();
        for s in &trials {
            let v = s.get(key).map(show).unwrap_or_default();
            if !values.contains(&v) {
                values.push(v);
            }
        }
        if values.len() > 1 {
            out.push((key.clone(), values));
        }
    }
    out
}

/// The keys a default aggregation groups by: the differing settings but `over`.
pub fn default_keys(sweeps: &[SweepResults], over: &str) -> Vec<String> {
    differing(sweeps).into_iter().map(|(k, _)| k).filter(|k| k != over).collect()
}

/// Refuse a grouping key that names nothing the sweeps hold (a typo would group every row
/// under a blank), naming the known keys.
pub fn check(sweeps: &[SweepResults], how: &Aggregation) -> Result<(), String> {
    let settings: Vec<&String> = sweeps.iter().flat_map(|s| s.trials.iter().flat_map(|t| t.settings.keys())).collect();
    let known = |k: &str| COLUMNS.contains(&k) || k == SWEEP || settings.iter().any(|s| *s == k);
    for key in how.by.iter().flatten().chain(std::iter::once(&how.over)) {
        if !known(key) {
            let mut config: Vec<&str> =
                settings.iter().map(|s| s.as_str()).filter(|s| !COLUMNS.contains(s) && *s != "out").collect();
            config.sort();
            config.dedup();
            return Err(format!(
                "unknown key `{key}`: neither a row column ({}, {SWEEP}) nor a config key ({})",
                COLUMNS.join(", "),
                config.join(", ")
            ));
        }
    }
    Ok(())
}

/// Group the sweeps' rows (floors included) and summarise every metric of each group.
pub fn aggregate(sweeps: &[SweepResults], how: &Aggregation) -> Vec<Group> {
    let by = how.by.clone().unwrap_or_else(|| default_keys(sweeps, &how.over));
    let mut groups: Vec<(Group, BTreeMap<String, Vec<f64>>)> = Vec::new();
    for r in sourced(sweeps) {
        let key: Vec<(String, String)> = by.iter().map(|k| (k.clone(), r.value(k))).collect();
        let i = match groups.iter().position(|(g, _)| g.key == key && g.solver == r.row.solver && g.nfe == r.row.nfe) {
            Some(i) => i,
            None => {
                let group = Group {
                    key,
                    solver: r.row.solver.clone(),
                    nfe: r.row.nfe,
                    over: Vec::new(),
                    trials: Vec::new(),
                    metrics: BTreeMap::new(),
                };
                groups.push((group, BTreeMap::new()));
                groups.len() - 1
            }
        };
        let (group, values) = &mut groups[i];
        group.over.push(r.value(&how.over));
        if !r.row.trial.is_empty() {
            group.trials.push(r.row.trial.clone());
        }
        for (name, v) in &r.row.metrics {
            values.entry(name.clone()).or_default().push(*v);
        }
    }
    groups
        .into_iter()
        .map(|(mut g, values)| {
            g.metrics = values.into_iter().map(|(k, v)| (k, Spread::of(&v))).collect();
            g
        })
        .collect()
}
