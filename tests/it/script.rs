//! The rhai layer: experiments/sweep.rhai runs end to end on tiny settings and writes every
//! file of the run-directory contract; other API functions and script errors are checked on
//! small scripts.

use std::path::{Path, PathBuf};

use runner::config::Layers;
use runner::script::{self, Session};
use runner::sweep::read_npy;

fn layers(out: &Path, extra: &[&str]) -> Layers {
    let mut sets = vec![format!("out={:?}", out.display().to_string())];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let mut layers = Layers::new();
    layers.set_args(&sets).unwrap();
    layers
}

fn experiments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments")
}

/// A sweep's `summary.csv`: its header and its rows, cells found by column name.
struct Summary {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Summary {
    fn read(sweep_dir: &Path) -> Summary {
        let csv = std::fs::read_to_string(sweep_dir.join("summary.csv")).unwrap();
        let mut lines = csv.lines().map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
        let header = lines.next().unwrap();
        Summary { header, rows: lines.collect() }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {:?}", self.header))
    }
}

/// The summary's cells without the timing columns: what must not depend on how a sweep ran.
fn numbers(summary: &Summary) -> Vec<Vec<String>> {
    let keep: Vec<usize> = (0..summary.header.len()).filter(|&i| !summary.header[i].ends_with("_seconds")).collect();
    summary.rows.iter().map(|r| keep.iter().map(|&i| r[i].clone()).collect()).collect()
}

/// Run an experiment unchanged (tiny settings from the top layer) on local workers, the
/// default, and inline; both must give the same numbers. Returns the output directory of the
/// local run and its summary.
fn run_both(experiment: &str, sweep: &str, sets: &[&str]) -> (tempfile::TempDir, Summary) {
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("local");
    script::run(crate::common::session(experiments().join(experiment), layers(&local, sets))).unwrap();
    let inline = out.path().join("inline");
    let mut inline_sets = sets.to_vec();
    inline_sets.push("launcher.kind=\"inline\"");
    script::run(crate::common::session(experiments().join(experiment), layers(&inline, &inline_sets))).unwrap();
    let (a, b) = (Summary::read(&local.join(sweep)), Summary::read(&inline.join(sweep)));
    assert_eq!(a.header, b.header);
    assert_eq!(numbers(&a), numbers(&b), "{experiment}: local workers and inline differ");
    (out, a)
}

#[test]
fn the_sweep_experiment_writes_the_run_directory_contract() {
    // Tiny settings from the top layer: the script itself runs unchanged.
    let (out, summary) = run_both("sweep.rhai", "sweep", &["train.steps=30", "train.log_every=10", "eval.size=300"]);
    let sweep = out.path().join("local/sweep");
    for col in [
        "dataset",
        "method",
        "schedule",
        "target",
        "coupling",
        "solver",
        "nfe",
        "seed",
        "w2",
        "mmd",
        "train_seconds",
        "sample_seconds",
    ] {
        assert!(summary.header.iter().any(|h| h == col), "summary.csv lacks column {col}: {:?}", summary.header);
    }
    let (rows, col) = (&summary.rows, |name: &str| summary.col(name));
    let find = |dataset: &str, method: &str, solver: &str, nfe: &str| {
        rows.iter().any(|r| {
            r[col("dataset")] == dataset
                && r[col("method")] == method
                && r[col("solver")] == solver
                && r[col("nfe")] == nfe
        })
    };
    for dataset in ["gmm1d", "moons"] {
        assert!(find(dataset, "reference", "none", "0"), "no reference row for {dataset}");
        assert!(find(dataset, "ddpm", "ddpm", "1000"));
        for nfe in ["10", "20", "50", "100"] {
            assert!(find(dataset, "ddpm", "ddim", nfe), "{dataset} ddim {nfe}");
        }
        for (solver, nfe) in [("euler", "2"), ("heun", "100"), ("rk4", "4"), ("rk4", "100")] {
            assert!(find(dataset, "fm", solver, nfe), "{dataset} {solver} {nfe}");
        }
    }
    // 2 references + 2 × (5 DDPM rows + 17 flow-matching rows).
    assert_eq!(rows.len(), 2 + 2 * (5 + 17));
    for r in rows {
        let w2: f64 = r[col("w2")].parse().unwrap();
        assert!(w2.is_finite() && w2 >= 0.0, "{r:?}");
    }

    let trials: Vec<PathBuf> = std::fs::read_dir(&sweep)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("spec.json").is_file())
        .collect();
    assert_eq!(trials.len(), 4, "{trials:?}");
    for dir in trials {
        for file in ["spec.json", "config.toml", "run.json", "events.jsonl", "model.bpk", "fit.json"] {
            assert!(dir.join(file).is_file(), "{} lacks {file}", dir.display());
        }
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["status"], "done");
        let config: runner::config::RunnerConfig =
            toml::from_str(&std::fs::read_to_string(dir.join("config.toml")).unwrap()).unwrap();
        assert_eq!(config.train.steps, 30);
        let dim = if config.data.target == "gmm1d" { 1 } else { 2 };
        let npy = if config.method == "ddpm" { "samples-ddim-10.npy" } else { "samples-rk4-100.npy" };
        let (_, shape) = read_npy(&dir.join(npy)).unwrap();
        assert_eq!(shape, [300, dim]);
        let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.iter().filter(|e| e["event"] == "train").count(), 3);
        assert!(events.iter().any(|e| e["event"] == "sample" && e["metrics"]["w2"].is_number()));
        // Fixed-step solvers accept every step and reject none.
        for e in events.iter().filter(|e| e["event"] == "sample") {
            assert_eq!(e["accepted"], e["steps"], "{e}");
            assert_eq!(e["rejected"], 0, "{e}");
        }
    }
}

#[test]
fn a_dry_run_resolves_every_trial_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let layers = layers(out.path(), &[]);
    script::run(Session { dry_run: true, ..crate::common::session(experiments().join("sweep.rhai"), layers) }).unwrap();
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn grid_rows_log_and_properties_work_from_a_script() {
    let out = tempfile::tempdir().unwrap();
    let script = r#"
        let s = sweep("small");
        let g = grid(#{ seed: [1, 2], "path.schedule": "cond-ot", "train.steps": [5, 6] });
        if g.len() != 4 { throw `grid has ${g.len()} maps`; }
        let t = s.trial(g[3] + #{ "eval.size": 64, "data.target": "moons" });
        if t.config.train.steps != 6 || t.config.seed != 2 { throw "grid order"; }
        t.log(#{ value: 1.5 });
        let handle = t.evaluate(#{ solver: "ddim", nfe: 4, eta: 0.5 });
        if handle.row() != () || s.rows().len() != 0 { throw "a row before the run"; }
        let report = s.run();
        if report.done != 1 || report.failed.len() != 0 { throw `report ${report}`; }
        let row = handle.row();
        if row.nfe != 4 || row.solver != "ddim-eta0.5" { throw `row ${row}`; }
        if t.fit().seconds <= 0.0 { throw "fit"; }
        if s.rows().len() != 1 || s.rows()[0].w2 != row.w2 { throw "rows"; }
        if !s.table().contains("moons") { throw "table"; }
        if t.id == "" || t.dir == "" || s.dir == "" { throw "properties"; }
    "#;
    let session = crate::common::session(PathBuf::from("small.rhai"), layers(out.path(), &[]));
    script::run_source(session, script).unwrap();
    let trial_dir = std::fs::read_dir(out.path().join("small"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("spec.json").is_file())
        .unwrap();
    let log = std::fs::read_to_string(trial_dir.join("events.jsonl")).unwrap();
    assert!(log.lines().any(|l| l.contains("\"note\"") && l.contains("1.5")), "{log}");
    assert!(trial_dir.join("samples-ddim-4-eta0.5.npy").is_file());
}

#[test]
fn script_errors_name_the_line_column_and_the_config_key() {
    let out = tempfile::tempdir().unwrap();
    let script = "let s = sweep(\"bad\");\n\nlet t = s.trial(#{ \"path.schedule\": \"nope\" });\n";
    let session = crate::common::session(PathBuf::from("bad.rhai"), layers(out.path(), &[]));
    let err = script::run_source(session, script).unwrap_err().to_string();
    assert!(err.starts_with("bad.rhai:3:"), "{err}");
    assert!(err.contains("path.schedule") && err.contains("nope") && err.contains("cond-ot"), "{err}");
    assert!(err.contains("script map at bad.rhai:3"), "{err}");

    let session = crate::common::session(PathBuf::from("bad.rhai"), layers(out.path(), &[]));
    let err =
        script::run_source(session, "let s = sweep(\"b\");\nlet t = s.trial();\nt.train();").unwrap_err().to_string();
    assert!(
        err.starts_with("bad.rhai:3:") && err.contains("declared, not run") && err.contains("sweep.run()"),
        "{err}"
    );

    // An evaluation is checked where it is declared, before anything runs.
    let session = crate::common::session(PathBuf::from("bad.rhai"), layers(out.path(), &[]));
    let err = script::run_source(session, "let s = sweep(\"c\");\nlet t = s.trial();\nt.evaluate(\"nope\", 4);")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bad.rhai:3:") && err.contains("nope"), "{err}");
    assert!(!out.path().join("c").join("sweep.json").exists());
}

#[test]
fn the_solvers_experiment_covers_every_solver_and_grid_on_the_oracle() {
    let (_out, summary) = run_both("solvers.rhai", "solvers", &["eval.size=200", "eval.reference_nfe=400"]);
    let (rows, col) = (&summary.rows, |name: &str| summary.col(name));
    for entry in crate::common::entries::<dyn runner::sdk::Solver>() {
        let name = entry.info.name.as_ref();
        for dataset in ["8gaussians", "gmm1d"] {
            let mine: Vec<&Vec<String>> = rows
                .iter()
                .filter(|r| r[col("solver")] == name && r[col("dataset")] == dataset && r[col("schedule")] == "cond-ot")
                .collect();
            assert!(!mine.is_empty(), "no cond-ot rows for {name} on {dataset}");
            for r in mine {
                // Deterministic solvers carry a solver error, stochastic ones leave it empty.
                let deterministic = !matches!(
                    crate::common::build::<dyn runner::sdk::Solver>(name, &Default::default()).unwrap().kind(),
                    runner::sdk::SolverKind::Stochastic
                );
                assert_eq!(!r[col("solver_error")].is_empty(), deterministic, "{r:?}");
                assert!(r[col("train_seconds")] == "0.000", "an oracle trains nothing: {r:?}");
            }
        }
    }
    // rk4 at 1000 NFE on the straight path is converged: far below the 1e-2 threshold.
    let rk4 = rows
        .iter()
        .find(|r| r[col("solver")] == "rk4" && r[col("nfe")] == "1000" && r[col("schedule")] == "cond-ot")
        .unwrap();
    assert!(rk4[col("solver_error")].parse::<f64>().unwrap() < 1e-4, "{rk4:?}");
}

#[test]
fn adaptive_solvers_report_their_accepted_and_rejected_steps() {
    let out = tempfile::tempdir().unwrap();
    let script = r#"
        let s = sweep("adaptive");
        let t = s.trial(#{ "model.kind": "oracle", "data.target": "gmm1d", "eval.size": 500, "eval.metrics": ["w2"] });
        let handle = t.evaluate("dopri5", 1);
        s.run();
        let row = handle.row();
        if !row.contains("solver_error") || row.solver_error > 0.05 { throw `solver_error ${row}`; }
    "#;
    let session =
        crate::common::session(PathBuf::from("adaptive.rhai"), layers(out.path(), &["eval.reference_nfe=400"]));
    script::run_source(session, script).unwrap();
    let trial_dir = std::fs::read_dir(out.path().join("adaptive"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("spec.json").is_file())
        .unwrap();
    let log = std::fs::read_to_string(trial_dir.join("events.jsonl")).unwrap();
    let sample: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .find(|e: &serde_json::Value| e["event"] == "sample")
        .unwrap();
    let accepted = sample["accepted"].as_u64().unwrap();
    let nfe = sample["nfe"].as_u64().unwrap();
    // The controller chose several steps, and every attempted step cost model evaluations.
    assert!(accepted >= 2, "{sample}");
    assert!(nfe > accepted + sample["rejected"].as_u64().unwrap(), "{sample}");
}

#[test]
fn the_article_experiment_runs_every_family_with_w2_and_nll() {
    let sets =
        ["train.steps=200", "eval.size=300", "eval.nll_points=100", "eval.nll_nfe=20", "eval.nll_solver=\"rk4\""];
    let (_out, summary) = run_both("article_gmm.rhai", "article_gmm", &sets);
    let (rows, col) = (&summary.rows, |name: &str| summary.col(name));
    // Three seeds of: the article's 10-step diffusion (ddpm, ddim), DDPM (1 + 4 samplers) and
    // flow matching (7 + 6 + 5 solver/NFE pairs), plus one reference row per seed.
    assert_eq!(rows.len(), 3 * (2 + 5 + 18 + 1), "{rows:?}");
    for r in rows.iter().filter(|r| r[col("method")] != "reference") {
        let nll: f64 = r[col("nll")].parse().unwrap_or_else(|_| panic!("no nll in {r:?}"));
        let w2: f64 = r[col("w2")].parse().unwrap();
        assert!(nll.is_finite() && w2.is_finite() && w2 >= 0.0, "{r:?}");
    }
    // The article's diffusion really is the 10-step, constant-β one: its ancestral sampler
    // spends 10 evaluations.
    assert!(rows.iter().any(|r| r[col("solver")] == "ddpm" && r[col("nfe")] == "10"), "{rows:?}");
}

#[test]
fn the_torchcfm_table_runs_every_method_on_every_dataset_with_w2_and_npe() {
    let (_out, summary) = run_both(
        "torchcfm_2d.rhai",
        "torchcfm_2d",
        &[
            "train.steps=20",
            "train.batch_size=64",
            "data.train_size=200",
            "train.reflow_pairs=100",
            "train.reflow_nfe=8",
            "train.val_size=100",
            "train.val_every=10",
            "eval.size=100",
            "eval.reference_nfe=20",
            "eval.reference_points=10",
        ],
    );
    let (rows, col) = (&summary.rows, |name: &str| summary.col(name));
    // Five seeds of: six methods on the three Gaussian-source datasets, OT-CFM, I-CFM and
    // rectified flow on 8gaussians→moons, and a floor row per dataset.
    assert_eq!(rows.len(), 5 * (3 * 6 + 3 + 4), "{rows:?}");
    for method in ["ot-cfm", "i-cfm", "sb-cfm", "rectified-flow", "fm-lipman", "diffusion-vp"] {
        let mine: Vec<_> = rows.iter().filter(|r| r[col("method")] == method).collect();
        assert!(!mine.is_empty(), "no {method} rows");
        for r in mine {
            let (w2, npe): (f64, f64) = (r[col("w2")].parse().unwrap(), r[col("npe")].parse().unwrap());
            assert!(w2.is_finite() && w2 > 0.0 && npe.is_finite() && npe >= 0.0, "{r:?}");
            assert_eq!(r[col("solver")], "euler", "{r:?}");
        }
    }
}
