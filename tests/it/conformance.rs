//! Solver conformance on an exact model: every registered solver, driven by the oracle of
//! gmm1d at its default NFE, is accurate — deterministic ones to a solver error ≤ 1e-3 against
//! a converged solve from the same noise, stochastic ones to a W1 within 0.02 of the
//! finite-sample floor on 100,000 points. New solvers are covered with no new test code.

use runner::config::Layers;
use runner::sdk::SolverKind;
use runner::sweep::{self, Evaluation, Trial};

/// The two standard paths: the straight one first; the diffusion one for solvers that need
/// α > 0 where they start (EDM's Heun).
const PATHS: [&str; 2] = ["cond-ot", "ddpm-linear"];

fn oracle_trial(dir: &std::path::Path, schedule: &str, size: usize, metric: &str) -> Trial {
    let mut layers = Layers::new();
    let sets = [
        "model.kind=\"oracle\"".to_string(),
        "data.target=\"gmm1d\"".to_string(),
        format!("path.schedule={schedule:?}"),
        format!("eval.size={size}"),
        format!("eval.metrics=[{metric:?}]"),
    ];
    layers.set_args(&sets).unwrap();
    let mut trial = Trial::create(dir, layers.resolve(&[]).unwrap(), crate::common::registry()).unwrap();
    trial.train().unwrap();
    trial
}

#[test]
fn every_solver_is_accurate_at_its_default_nfe_on_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for entry in crate::common::entries::<dyn runner::sdk::Solver>() {
        let name = entry.info.name.as_ref();
        let solver = crate::common::build::<dyn runner::sdk::Solver>(name, &Default::default()).unwrap();
        let stochastic = solver.kind() == SolverKind::Stochastic;
        let (size, metric) = if stochastic { (100_000, "w1") } else { (2000, "w2") };
        let request = Evaluation { solver: name.to_string(), params: Default::default(), nfe: solver.default_nfe() };
        let mut outcome = None;
        for schedule in PATHS {
            let mut trial = oracle_trial(dir.path(), schedule, size, metric);
            if let Ok(row) = trial.evaluate(&request) {
                let floor = stochastic.then(|| {
                    sweep::reference(&trial.resolved, crate::common::registry()).unwrap().metric("w1").unwrap()
                });
                outcome = Some((schedule, row, floor));
                break;
            }
        }
        let Some((schedule, row, floor)) = outcome else {
            failures.push(format!("{name}: runs on neither {PATHS:?}"));
            continue;
        };
        match floor {
            Some(floor) => {
                let w1 = row.metric("w1").unwrap();
                eprintln!("{name} on {schedule} at NFE {}: W1 {w1:.4} (floor {floor:.4})", row.nfe);
                if w1 > floor + 0.02 {
                    failures.push(format!("{name} on {schedule}: W1 {w1} against floor {floor}"));
                }
            }
            None => {
                let error = row.metric("solver_error").unwrap();
                eprintln!("{name} on {schedule} at NFE {}: solver_error {error:.2e}", row.nfe);
                if error > 1e-3 {
                    failures.push(format!("{name} on {schedule} at NFE {}: solver_error {error}", row.nfe));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
