//! Integration tests: one binary, a module per feature.

mod activation;
mod bad_inputs;
mod bench;
mod browser;
mod cli;
mod common;
mod config;
mod conformance;
mod couplings;
mod crash;
mod data;
mod determinism;
mod device;
mod flow;
mod grids;
mod metrics;
mod oracle;
mod plugins;
mod readme;
mod reflow;
mod report;
mod sampling;
mod schedules;
mod script;
mod slurm;
mod solvers;
mod sources;
mod sweeps;
mod targets;
mod training;

/// The `(step, loss)` of a trial's logged events of one kind (`train`, `validation`, `trained`).
pub fn events(trial: &runner::sweep::Trial, kind: &str) -> Vec<(u64, f64)> {
    let log = std::fs::read_to_string(trial.dir.join("events.jsonl")).unwrap();
    log.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == kind)
        .map(|e| (e["step"].as_u64().unwrap(), e["loss"].as_f64().unwrap_or(f64::NAN)))
        .collect()
}
