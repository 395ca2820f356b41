//! Summary rows: one per (trial, solver, NFE), plus a `reference` row per dataset that
//! compares two independent draws of the target (the finite-sample floor).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::status::Failure;

/// The fixed columns of `summary.csv`, then one column per metric, then the costs.
pub const KEY_COLUMNS: [&str; 9] =
    ["trial", "dataset", "method", "schedule", "target", "coupling", "solver", "nfe", "seed"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub trial: String,
    pub dataset: String,
    pub method: String,
    pub schedule: String,
    pub target: String,
    pub coupling: String,
    pub solver: String,
    pub nfe: usize,
    pub seed: u64,
    pub metrics: BTreeMap<String, f64>,
    pub train_seconds: f64,
    pub sample_seconds: f64,
}

impl Row {
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied()
    }
}

/// Metric columns in a stable order: w2 and mmd first (the columns), then the rest.
pub fn metric_columns(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = vec!["w2".into(), "mmd".into()];
    for r in rows {
        for k in r.metrics.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    names
}

pub fn to_csv(rows: &[Row]) -> String {
    let metrics = metric_columns(rows);
    let mut out = String::new();
    let header: Vec<&str> = KEY_COLUMNS
        .iter()
        .copied()
        .chain(metrics.iter().map(String::as_str))
        .chain(["train_seconds", "sample_seconds"])
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for r in rows {
        let mut cells = vec![
            csv_cell(&r.trial),
            csv_cell(&r.dataset),
            csv_cell(&r.method),
            csv_cell(&r.schedule),
            csv_cell(&r.target),
            csv_cell(&r.coupling),
            csv_cell(&r.solver),
            r.nfe.to_string(),
            r.seed.to_string(),
        ];
        cells.extend(metrics.iter().map(|m| r.metric(m).map(|v| format!("{v:.6}")).unwrap_or_default()));
        cells.push(format!("{:.3}", r.train_seconds));
        cells.push(format!("{:.3}", r.sample_seconds));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A fixed-width table for the terminal, grouped by dataset, the floor first; then the
/// evaluations of trials that failed or stopped, each with the first line of its reason.
pub fn to_table(rows: &[Row], failures: &[Failure]) -> String {
    let metrics = metric_columns(rows);
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        (a.dataset.as_str(), a.method != "reference", a.method.as_str(), a.solver.as_str(), a.nfe).cmp(&(
            b.dataset.as_str(),
            b.method != "reference",
            b.method.as_str(),
            b.solver.as_str(),
            b.nfe,
        ))
    });
    let mut out = String::new();
    let _ = write!(out, "{:<12} {:<10} {:<12} {:<9} {:>5}", "dataset", "method", "schedule", "solver", "nfe");
    for m in &metrics {
        let _ = write!(out, " {m:>10}");
    }
    let _ = writeln!(out, " {:>9} {:>9}", "train_s", "sample_s");
    for r in sorted {
        let _ = write!(out, "{:<12} {:<10} {:<12} {:<9} {:>5}", r.dataset, r.method, r.schedule, r.solver, r.nfe);
        for m in &metrics {
            match r.metric(m) {
                Some(v) => {
                    let _ = write!(out, " {v:>10.4}");
                }
                None => {
                    let _ = write!(out, " {:>10}", "");
                }
            }
        }
        let _ = writeln!(out, " {:>9.1} {:>9.2}", r.train_seconds, r.sample_seconds);
    }
    for f in failures {
        let _ = write!(out, "{:<12} {:<10} {:<12} {:<9} {:>5}", f.dataset, f.method, f.schedule, f.solver, f.nfe);
        let reason = f.reason.lines().next().unwrap_or_default();
        let cut: String = reason.chars().take(REASON_WIDTH).collect();
        let more = if cut.len() < reason.len() { "…" } else { "" };
        let _ = writeln!(out, " {}: {cut}{more} [{}]", f.status, f.trial);
    }
    if !failures.is_empty() {
        let _ = writeln!(out, "(why in full: each trial's run.json and events.jsonl, or `runner status`)");
    }
    out
}

/// The characters of a failure's reason that the table shows.
const REASON_WIDTH: usize = 100;
