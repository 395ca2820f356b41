//! Reproducibility on flex: the same seeds and configs give the same bits — trained weights,
//! samples (of deterministic, stochastic and adaptive solvers) and metrics — whether the sweep
//! runs twice, on one local worker or two, or in the script's own process; and on libtorch's
//! CPU, across runs and across one and two compute threads.

use std::path::{Path, PathBuf};
use std::process::Command;

const SWEEP: &str = r#"
let s = sweep("same");
s.reference(#{ "data.target": "moons" });
let fm = s.trial(#{ method: "fm", "data.target": "moons", path: #{ coupling: "sinkhorn" } });
fm.evaluate("euler", 4);
fm.evaluate("dopri5", 1);
let ddpm = s.trial(#{ method: "ddpm", "data.target": "gmm1d", "path.schedule": "ddpm-linear",
                      "path.target": "epsilon", train: #{ ema_decay: 0.9 } });
ddpm.evaluate("ddim", 8);
ddpm.evaluate("ddpm", 8);
let vp = s.trial(#{ method: "fm", "data.target": "moons", "path.schedule": "vp", seed: 7 });
vp.evaluate("heun", 8);
s.run();
"#;

/// Run the sweep under `out` with `settings` on top of a short training.
fn run(out: &Path, script: &Path, settings: &[&str]) -> PathBuf {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    command.env("RUNNER_LOG", "runner=warn").arg(script).arg("--out").arg(out);
    for s in ["train.steps=300", "train.log_every=50", "eval.size=256"].iter().chain(settings) {
        command.args(["--set", s]);
    }
    let done = command.output().unwrap();
    assert!(done.status.success(), "{settings:?}: {}", String::from_utf8_lossy(&done.stderr));
    out.join("same")
}

/// Every file whose bytes the run decides — weights, samples, rows, floors — by its path in
/// the sweep; what records time or processes (logs, run.json, fit.json, summary.csv's timing
/// columns) is left out, the summary compared without its timing columns.
fn outputs(sweep: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![sweep.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = match name.as_str() {
                "model.bpk" => std::fs::read(&path).unwrap(),
                n if n.ends_with(".npy") => std::fs::read(&path).unwrap(),
                // A row: its metrics and keys; its seconds are the one thing that varies.
                n if path.parent().is_some_and(|p| p.ends_with("evals") || p.ends_with("references"))
                    && n.ends_with(".json")
                    && !n.ends_with(".config.json") =>
                {
                    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                    without_timings(&mut record);
                    serde_json::to_vec(&record).unwrap()
                }
                _ => continue,
            };
            out.push((path.strip_prefix(sweep).unwrap().display().to_string(), bytes));
        }
    }
    out.sort();
    out
}

/// A row (or an evaluation's record holding one) without its seconds.
fn without_timings(value: &mut serde_json::Value) {
    if let Some(map) = value.as_object_mut() {
        map.remove("train_seconds");
        map.remove("sample_seconds");
        if let Some(row) = map.get_mut("row") {
            without_timings(row);
        }
    }
}

fn assert_same(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)], what: &str) {
    let names = |o: &[(String, Vec<u8>)]| o.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "{what}: different files");
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{what}: {name} differs");
    }
}

#[test]
fn the_same_sweep_gives_the_same_bits_across_runs_worker_counts_and_launchers() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("same.rhai");
    std::fs::write(&script, SWEEP).unwrap();
    let two = outputs(&run(&work.path().join("two"), &script, &["launcher.workers=2"]));
    let models = two.iter().filter(|(n, _)| n.ends_with("model.bpk")).count();
    let samples = two.iter().filter(|(n, _)| n.ends_with(".npy")).count();
    assert_eq!((models, samples), (3, 5), "{:?}", two.iter().map(|(n, _)| n).collect::<Vec<_>>());

    let again = outputs(&run(&work.path().join("again"), &script, &["launcher.workers=2"]));
    assert_same(&two, &again, "a second run on two workers");
    let one = outputs(&run(&work.path().join("one"), &script, &["launcher.workers=1"]));
    assert_same(&two, &one, "one worker against two");
    let one_two_threads =
        outputs(&run(&work.path().join("threads"), &script, &["launcher.workers=1", "launcher.threads=2"]));
    assert_same(&two, &one_two_threads, "one worker of two threads against two of one");
    let inline = outputs(&run(&work.path().join("inline"), &script, &["launcher.kind=\"inline\""]));
    assert_same(&two, &inline, "in the script's process against workers");
}

#[cfg(feature = "tch")]
#[test]
fn on_libtorch_the_same_sweep_gives_the_same_bits_across_runs_and_thread_counts() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("same.rhai");
    std::fs::write(&script, SWEEP).unwrap();
    let device = "device=\"libtorch\"";
    let two = outputs(&run(&work.path().join("two"), &script, &[device, "launcher.workers=2"]));
    let again = outputs(&run(&work.path().join("again"), &script, &[device, "launcher.workers=2"]));
    assert_same(&two, &again, "a second run on libtorch");
    let threads =
        outputs(&run(&work.path().join("threads"), &script, &[device, "launcher.workers=1", "launcher.threads=2"]));
    assert_same(&two, &threads, "libtorch on one thread against two");
}
