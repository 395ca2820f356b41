//! Sweeps that survive: a killed training resumes to the same weights, a killed sweep reruns to
//! the same summary without redoing what it finished, a trained trial takes new evaluations
//! without training again, and a trial directory has one writer.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use burn::module::Module;
use runner::config::Layers;
use runner::setup::Setup;
use runner::sweep::{read_events, Event, TrialError, TrialLock};
use runner::train::{self, Checkpoints, Hooks, Progress};

fn resolved(sets: &[&str]) -> runner::config::Resolved {
    let mut layers = Layers::new();
    layers.set_args(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    layers.resolve(&[]).unwrap()
}

/// Every parameter's values, in the module's order (the parameter ids, which a fresh network
/// draws anew, left out).
fn weights(model: &runner::models::Mlp) -> Vec<Vec<f32>> {
    struct Values(Vec<Vec<f32>>);
    impl burn::module::ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<D>>) {
            self.0.push(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let mut values = Values(Vec::new());
    model.visit(&mut values);
    values.0
}

/// Train to the end, but stop (as a kill would) right after the checkpoint at `stop`
/// (round, step) is saved.
fn train_until_killed(setup: &Setup, config: &runner::config::RunnerConfig, dir: &Path, stop: (usize, usize)) {
    let device = runner::device::parse("flex").unwrap();
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut observer = |p: &Progress| {
            if let Progress::Checkpoint { round, step } = p {
                if (*round, *step) == stop {
                    panic!("killed after the checkpoint at {round}:{step}");
                }
            }
        };
        let checkpoints = Checkpoints { dir: dir.to_path_buf(), every: config.train.checkpoint_every };
        let mut hooks = Hooks { checkpoints: Some(checkpoints), observer: Some(&mut observer) };
        train::train_with(setup, config, &device, &mut hooks)
    }));
    assert!(killed.is_err(), "the training ran past the checkpoint at {stop:?}");
}

#[test]
fn a_killed_training_resumes_from_its_checkpoint_to_the_same_weights_bit_for_bit() {
    // EMA, validation (best checkpoint), a log window that is open at the checkpoints, and a
    // reflow round whose pairs are part of the state.
    let config = resolved(&[
        "data.target=\"moons\"",
        "model.width=32",
        "train.steps=60",
        "train.batch_size=64",
        "train.log_every=7",
        "train.ema_decay=0.9",
        "train.val_size=64",
        "train.val_every=15",
        "train.checkpoint_every=20",
        "train.reflow=1",
        "train.reflow_pairs=128",
        "train.reflow_nfe=4",
    ]);
    let setup = Setup::new(&config, crate::common::registry()).unwrap();
    let device = runner::device::parse("flex").unwrap();
    let whole = train::train(&setup, &config.config, &device).unwrap();
    for stop in [(0, 40), (1, 20)] {
        let dir = tempfile::tempdir().unwrap();
        train_until_killed(&setup, &config.config, dir.path(), stop);
        let mut resumed_at = None;
        let mut observer = |p: &Progress| {
            if let Progress::Resumed { round, step } = p {
                resumed_at = Some((*round, *step));
            }
        };
        let checkpoints = Checkpoints { dir: dir.path().to_path_buf(), every: 20 };
        let mut hooks = Hooks { checkpoints: Some(checkpoints), observer: Some(&mut observer) };
        let resumed = train::train_with(&setup, &config.config, &device, &mut hooks).unwrap();
        drop(hooks);
        assert_eq!(resumed_at, Some(stop));
        assert_eq!(resumed.losses, whole.losses, "killed at {stop:?}");
        assert_eq!(resumed.validation, whole.validation, "killed at {stop:?}");
        assert_eq!(resumed.step, whole.step);
        assert!(weights(&resumed.model) == weights(&whole.model), "the weights differ after resuming at {stop:?}");
    }
}

fn runner() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    command.env("RUNNER_LOG", "runner=warn");
    command
}

/// Write `text` as `name` in `dir` and run it with its sweeps under `dir` and a short training;
/// panics with the run's errors if it fails.
fn run_script(dir: &Path, name: &str, text: &str, steps: usize) {
    let script = dir.join(name);
    std::fs::write(&script, text).unwrap();
    let out = runner()
        .arg(&script)
        .arg("--out")
        .arg(dir)
        .args(["--set", &format!("train.steps={steps}"), "--set", "eval.size=200"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn trial_dirs(sweep_dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sweep_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("spec.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Every file under `dir` whose name marks an unfinished write.
fn partial_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(partial_files(&path));
        } else if path.to_string_lossy().ends_with(runner::files::TEMPORARY) {
            out.push(path);
        }
    }
    out
}

const SWEEP: &str = r#"
let s = sweep("crash");
for target in ["moons", "gmm1d"] {
    s.reference(#{ "data.target": target });
    for method in ["fm", "ddpm"] {
        let family = if method == "fm" { #{} } else { #{ "path.schedule": "ddpm-linear", "path.target": "epsilon" } };
        let t = s.trial(#{ method: method, "data.target": target } + family);
        if method == "fm" {
            t.evaluate("euler", 8);
            t.evaluate("heun", 8);
        } else {
            t.evaluate("ddim", 10);
            t.evaluate("ddim", 20);
        }
    }
}
s.run();
s.print_table();
"#;

const SETTINGS: [&str; 5] =
    ["train.steps=3000", "train.checkpoint_every=250", "train.log_every=250", "eval.size=200", "launcher.workers=2"];

fn start(dir: &Path, script: &Path) -> Child {
    let mut command = runner();
    command.arg(script).arg("--out").arg(dir);
    for s in SETTINGS {
        command.args(["--set", s]);
    }
    // A process group of its own, so that the test can kill the sweep's parent and workers at
    // once, as a Ctrl-C or a pre-emption does.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.stdout(std::process::Stdio::null()).spawn().unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(300), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn events(dir: &Path) -> Vec<Event> {
    read_events(&dir.join("events.jsonl"))
}

#[test]
fn a_killed_sweep_reruns_to_the_summary_of_an_uninterrupted_one_redoing_nothing_it_finished() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("crash.rhai");
    std::fs::write(&script, SWEEP).unwrap();

    let whole = work.path().join("whole");
    assert!(start(&whole, &script).wait().unwrap().success());
    let expected = crate::common::summary(&whole.join("crash"));
    assert_eq!(expected.len(), 2 + 4 * 2);

    // Killed in the middle of training: the whole process group, once a checkpoint is saved.
    let out = work.path().join("killed");
    let sweep = out.join("crash");
    let mut child = start(&out, &script);
    wait_for("a checkpoint", || {
        sweep.is_dir()
            && trial_dirs(&sweep).iter().any(|d| events(d).iter().any(|e| matches!(e, Event::Checkpoint { .. })))
    });
    let group = child.id() as i32;
    assert!(Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status().unwrap().success());
    child.wait().unwrap();
    let mid_training = trial_dirs(&sweep)
        .into_iter()
        .filter(|d| d.join("checkpoint").is_dir() && !d.join("fit.json").exists())
        .count();
    assert!(mid_training > 0, "no trial was killed in the middle of its training");

    // Killed in the middle of writing: a worker aborts halfway through a file (its fourth
    // atomic write: a checkpoint's), as `runner worker` runs under every launcher.
    let id = trial_dirs(&sweep)[0].file_name().unwrap().to_string_lossy().to_string();
    let crashed = runner()
        .args(["worker", &sweep.display().to_string(), "--trial", &id])
        .env(runner::files::CRASH_IN_WRITE, "4")
        .status()
        .unwrap();
    assert!(!crashed.success());
    assert!(!partial_files(&sweep).is_empty(), "the crash left no half-written file");

    // The rerun finishes everything.
    assert!(start(&out, &script).wait().unwrap().success());
    assert_eq!(crate::common::summary(&sweep), expected);
    assert_eq!(partial_files(&sweep), Vec::<PathBuf>::new());
    let mut resumed = 0;
    for dir in trial_dirs(&sweep) {
        let log = events(&dir);
        let trained = log.iter().filter(|e| matches!(e, Event::Trained { .. })).count();
        assert_eq!(trained, 1, "{}: trained {trained} times", dir.display());
        resumed += log.iter().filter(|e| matches!(e, Event::Resumed { .. })).count();
        let mut sampled: Vec<String> = log
            .iter()
            .filter_map(|e| match e {
                Event::Sample(s) => Some(s.evaluation.clone()),
                _ => None,
            })
            .collect();
        sampled.sort();
        let count = sampled.len();
        sampled.dedup();
        assert_eq!(sampled.len(), count, "{}: an evaluation ran twice", dir.display());
        assert_eq!(count, 2);
        assert!(!dir.join("checkpoint").exists(), "{}: a checkpoint outlived its training", dir.display());
    }
    assert!(resumed > 0, "no training resumed from a checkpoint");
}

#[test]
fn a_new_solver_on_a_trained_trial_loads_its_network_and_trains_nothing() {
    let work = tempfile::tempdir().unwrap();
    let declare = |evaluations: &str| {
        format!(
            "let s = sweep(\"again\");\nlet t = s.trial(#{{ \"data.target\": \"moons\" }});\n{evaluations}\ns.run();\nprint(`dir ${{t.dir}}`);\n"
        )
    };
    let run = |name: &str, text: String| run_script(work.path(), name, &text, 200);
    run("first.rhai", declare("t.evaluate(\"euler\", 8);"));
    let dir = trial_dirs(&work.path().join("again")).pop().unwrap();
    let before = events(&dir).len();
    run("second.rhai", declare("t.evaluate(\"euler\", 8);\nt.evaluate(\"rk4\", 8);"));
    let log = events(&dir);
    let later = &log[before..];
    assert!(later.iter().any(|e| matches!(e, Event::Loaded { .. })), "{later:?}");
    assert!(!later.iter().any(|e| matches!(e, Event::Train { .. } | Event::Trained { .. })), "{later:?}");
    let sampled: Vec<&str> = later
        .iter()
        .filter_map(|e| match e {
            Event::Sample(s) => Some(s.evaluation.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(sampled, ["rk4-8"], "only the new evaluation runs");
    let summary = std::fs::read_to_string(work.path().join("again/summary.csv")).unwrap();
    assert!(summary.contains(",euler,8,") && summary.contains(",rk4,8,"), "{summary}");
}

#[test]
fn a_trial_directory_has_one_writer_and_a_dead_writers_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let held = TrialLock::acquire(dir.path()).unwrap();
    match TrialLock::acquire(dir.path()) {
        Err(TrialError::Locked { pid, .. }) => assert_eq!(pid, std::process::id()),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a second writer took the lock"),
    }
    drop(held);
    // A lock left by a process that has exited.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let stale = runner::sweep::Holder { pid, started: Some(1), ..runner::sweep::Holder::current() };
    std::fs::write(dir.path().join("lock"), serde_json::to_string(&stale).unwrap()).unwrap();
    let taken = TrialLock::acquire(dir.path()).unwrap();
    assert_eq!(runner::sweep::read_holder(dir.path()).unwrap().pid, std::process::id());
    drop(taken);
    assert!(!dir.path().join("lock").exists());
}

#[test]
fn runner_status_reports_every_trial_from_its_directory() {
    let work = tempfile::tempdir().unwrap();
    let text = "let s = sweep(\"st\");\nfor seed in [0, 1] {\n  let t = s.trial(#{ seed: seed });\n  t.evaluate(\"euler\", 4);\n}\ns.run();\n";
    run_script(work.path(), "status.rhai", text, 50);
    let out = runner().arg("status").arg(work.path().join("st")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains(" done ") && l.contains("1/1 evaluations")).count(), 2, "{text}");
    assert!(text.contains("2 trials: 2 done"), "{text}");
    let missing = runner().arg("status").arg(work.path().join("nope")).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a sweep directory"));
}
