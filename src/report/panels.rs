//! A report's panels: the trials that share a dataset (every `data.*` setting), with the floors
//! drawn with the same data, and the settings that tell their series apart.

use super::aggregate::Spread;
use super::palette::Assignment;
use super::results::{show, FloorResult, Settings, SweepResults, TrialResults};
use crate::sweep::Row;

/// Trials on one dataset.
pub struct Panel<'a> {
    /// For file names: `moons`, `moons-to-8gaussians`.
    pub name: String,
    /// For titles: `moons`, `moons → 8gaussians`.
    pub label: String,
    pub trials: Vec<&'a TrialResults>,
    pub floors: Vec<&'a FloorResult>,
    /// Settings besides the method, sampler, seed and data that differ between trials of one
    /// method: they enter the series' labels.
    pub extra: Vec<String>,
}

/// How methods and samplers look in every plot of one report.
pub struct Style {
    pub methods: Assignment,
    pub samplers: Assignment,
}

impl Style {
    pub fn new(results: &SweepResults) -> Style {
        let rows: Vec<&Row> = results.trials.iter().flat_map(|t| t.evaluated.iter().map(|e| &e.row)).collect();
        Style {
            methods: Assignment::new(results.trials.iter().map(|t| t.spec.config.method.as_str())),
            samplers: Assignment::new(rows.iter().map(|r| r.solver.as_str())),
        }
    }
}

fn data_settings(s: &Settings) -> Vec<(&String, &serde_json::Value)> {
    s.iter().filter(|(k, _)| k.starts_with("data.")).collect()
}

/// The panels of a sweep, in the order their first trials were declared.
pub fn panels(results: &SweepResults) -> Vec<Panel<'_>> {
    let mut groups: Vec<Vec<&TrialResults>> = Vec::new();
    for t in &results.trials {
        match groups.iter_mut().find(|g| data_settings(&g[0].settings) == data_settings(&t.settings)) {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    let mut panels: Vec<Panel> = groups
        .into_iter()
        .map(|trials| {
            let first = &trials[0].spec.config;
            let target = &first.data.target;
            let (name, label) = match first.data.source.as_str() {
                "gaussian" => (slug(target), target.clone()),
                source => (format!("{}-to-{}", slug(source), slug(target)), format!("{source} → {target}")),
            };
            let size = first.eval.size;
            let floors = results
                .floors
                .iter()
                .filter(|f| match &f.settings {
                    Some(s) => {
                        data_settings(s) == data_settings(&trials[0].settings)
                            && s.get("eval.size").and_then(|v| v.as_u64()) == Some(size as u64)
                    }
                    // A sweep that did not record its floors' configs: match by dataset name.
                    None => f.row.dataset == first.data.target,
                })
                .collect();
            Panel { name, label, extra: extra_keys(&trials), trials, floors }
        })
        .collect();
    // Two datasets that read alike (other parameters) are told apart by number.
    for i in 0..panels.len() {
        let same = panels.iter().filter(|p| p.label == panels[i].label).count();
        if same > 1 {
            let k = panels[..i].iter().filter(|p| p.label.starts_with(&panels[i].label)).count() + 1;
            panels[i].label = format!("{} ({k})", panels[i].label);
            panels[i].name = format!("{}-{k}", panels[i].name);
        }
    }
    panels
}

/// Settings that vary between the trials of one method (seeds and data aside).
fn extra_keys(trials: &[&TrialResults]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for t in trials {
        for (k, v) in &t.settings {
            if k == "seed" || k == "method" || k.starts_with("data.") || keys.contains(k) {
                continue;
            }
            let differs = trials
                .iter()
                .any(|o| o.spec.config.method == t.spec.config.method && o.settings.get(k).is_some_and(|w| w != v));
            if differs {
                keys.push(k.clone());
            }
        }
    }
    keys
}

impl Panel<'_> {
    /// `method · sampler · key=value…`: the series a row belongs to.
    pub fn series(&self, trial: &TrialResults, row: &Row) -> String {
        [vec![trial.spec.config.method.clone(), row.solver.clone()], self.extra_values(trial)].concat().join(" · ")
    }

    /// `lr=0.001`: the trial's values of the panel's extra settings, by their last name.
    pub fn extra_values(&self, trial: &TrialResults) -> Vec<String> {
        self.extra
            .iter()
            .map(|k| {
                let short = k.rsplit('.').next().unwrap_or(k);
                format!("{short}={}", trial.settings.get(k).map(show).unwrap_or_default())
            })
            .collect()
    }

    /// The floor of `metric` on this panel's data: the mean over the floors' seeds.
    pub fn floor(&self, metric: &str) -> Option<Spread> {
        let values: Vec<f64> = self.floors.iter().filter_map(|f| f.row.metric(metric)).collect();
        (!values.is_empty()).then(|| Spread::of(&values))
    }

    /// The smallest seed among the panel's trials: sample plots show that seed's trials only.
    pub fn first_seed(&self) -> Option<u64> {
        self.trials.iter().map(|t| t.spec.config.seed).min()
    }
}

/// Lower-case letters, digits and dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_lowercase());
    }
    out
}
