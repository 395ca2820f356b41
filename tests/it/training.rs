//! Both families really learn: a flow-matching model and a DDPM, each trained for a few hundred
//! steps on N(3, 0.5²), reach W2 < 0.1 (the 2,000-point floor is about 0.02), on every device
//! this build has (flex, and libtorch with `--features tch`).

use runner::config::Layers;
use runner::sweep::{self, Evaluation, Trial};

use crate::events;

fn trial(dir: &std::path::Path, sets: &[&str]) -> Trial {
    let mut all = vec![
        "data.target=\"gaussian\"",
        "data.target_params={ dim = 1, mean = 3.0, std = 0.5 }",
        "model.width=32",
        "model.depth=2",
        "train.steps=400",
        "train.batch_size=256",
        "train.lr=3e-3",
        "train.log_every=100",
        "eval.size=2000",
        "eval.metrics=[\"w2\"]",
    ];
    all.extend_from_slice(sets);
    let mut layers = Layers::new();
    layers.set_args(&all.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    Trial::create(dir, layers.resolve(&[]).unwrap(), crate::common::registry()).unwrap()
}

/// The `--set device=...` of every device this build can train on here: each compiled backend,
/// less the `libtorch:cuda:N` pattern (it needs a GPU).
fn devices() -> Vec<String> {
    runner::device::available().into_iter().filter(|d| !d.contains("cuda")).map(|d| format!("device={d:?}")).collect()
}

fn w2(trial: &mut Trial, solver: &str, nfe: usize) -> f64 {
    let request = Evaluation { solver: solver.into(), params: Default::default(), nfe };
    trial.evaluate(&request).unwrap().metric("w2").unwrap()
}

#[test]
fn flow_matching_learns_a_gaussian() {
    for device in devices() {
        let dir = tempfile::tempdir().unwrap();
        let mut t =
            trial(dir.path(), &[&device, "method=\"fm\"", "path.schedule=\"cond-ot\"", "path.target=\"velocity\""]);
        t.train().unwrap();
        let floor = sweep::reference(&t.resolved, crate::common::registry()).unwrap().metric("w2").unwrap();
        let fm = w2(&mut t, "euler", 20);
        assert!(fm < 0.1, "{device}: flow matching W2 {fm} (floor {floor})");
    }
}

#[test]
fn ddpm_learns_a_gaussian() {
    for device in devices() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = trial(
            dir.path(),
            &[&device, "method=\"ddpm\"", "path.schedule=\"ddpm-linear\"", "path.target=\"epsilon\""],
        );
        t.train().unwrap();
        let floor = sweep::reference(&t.resolved, crate::common::registry()).unwrap().metric("w2").unwrap();
        let ancestral = w2(&mut t, "ddpm", 1000);
        assert!(ancestral < 0.1, "{device}: DDPM W2 {ancestral} (floor {floor})");
    }
}

#[test]
fn evaluating_before_training_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trial(dir.path(), &[]);
    let err = t.evaluate(&Evaluation { solver: "euler".into(), params: Default::default(), nfe: 4 }).unwrap_err();
    assert!(err.to_string().contains("not trained yet"), "{err}");
}

#[test]
fn a_diverging_run_stops_at_the_next_log_point_naming_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trial(dir.path(), &["train.lr=1e8", "train.steps=40", "train.log_every=10"]);
    let err = t.train().expect_err("an lr of 1e8 diverges").to_string();
    assert!(err.contains("diverged") && err.contains("steps"), "{err}");
    let status = std::fs::read_to_string(t.dir.join("run.json")).unwrap();
    assert!(status.contains("\"failed\"") && status.contains("diverged"), "{status}");
}

#[test]
fn validation_keeps_the_checkpoint_with_the_lowest_validation_loss() {
    // A high learning rate makes the loss wander, so that the best checkpoint is not the last.
    let noisy = ["method=\"fm\"", "path.schedule=\"cond-ot\"", "train.lr=3e-2", "train.steps=400"];
    let dir = tempfile::tempdir().unwrap();
    let mut checked =
        trial(&dir.path().join("a"), &[&noisy[..], &["train.val_size=500", "train.val_every=50"]].concat());
    checked.train().unwrap();
    let validation = events(&checked, "validation");
    assert_eq!(validation.iter().map(|v| v.0).collect::<Vec<_>>(), (1..=8).map(|k| 50 * k).collect::<Vec<_>>());
    let best = validation.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
    let kept = events(&checked, "trained")[0].0;
    assert_eq!(kept, best, "validation losses {validation:?}");
    assert!(best < 400, "the test needs a run whose last checkpoint is not its best: {validation:?}");
    // Batches are functions of (seed, step), so a run stopped at that step without validation
    // has the same weights, and samples the same points.
    let mut stopped = trial(&dir.path().join("b"), &[&noisy[..], &[&format!("train.steps={best}")]].concat());
    stopped.train().unwrap();
    assert_eq!(events(&stopped, "trained")[0].0, best);
    assert_eq!(w2(&mut checked, "euler", 20), w2(&mut stopped, "euler", 20));
}

#[test]
fn validation_without_a_period_is_refused_by_key_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let mut layers = Layers::new();
    layers.set_args(&["train.val_size=100".to_string(), "train.val_every=0".to_string()]).unwrap();
    let refused = Trial::create(dir.path(), layers.resolve(&[]).unwrap(), crate::common::registry());
    let err = refused.err().expect("a validation period of 0").to_string();
    assert!(err.contains("train.val_every") && err.contains("at least 1"), "{err}");
}

#[test]
fn the_data_seed_fixes_the_data_sets_and_leaves_training_to_the_trial_seed() {
    let dir = tempfile::tempdir().unwrap();
    let quick = ["method=\"fm\"", "path.schedule=\"cond-ot\"", "train.steps=40", "train.log_every=10"];
    let run = |name: &str, sets: &[&str]| {
        let mut t = trial(&dir.path().join(name), &[&quick[..], sets].concat());
        let floor = sweep::reference(&t.resolved, crate::common::registry()).unwrap().metric("w2").unwrap();
        t.train().unwrap();
        (floor, events(&t, "train"))
    };
    // Unset, the data seed is the trial's seed: nothing changes for configs without it.
    assert_eq!(
        run("a", &["seed=3", "data.train_size=500"]),
        run("b", &["seed=3", "data.train_size=500", "data.seed=3"])
    );
    // The held-out draws (the floor) follow the data seed alone.
    let (floor_1, _) = run("c", &["seed=1", "data.seed=7"]);
    let (floor_2, _) = run("d", &["seed=2", "data.seed=7"]);
    let (floor_3, _) = run("e", &["seed=1", "data.seed=8"]);
    assert_eq!(floor_1, floor_2);
    assert_ne!(floor_1, floor_3);
    // A fixed training set is a data set; fresh batches are training's own draws.
    let (_, fixed_7) = run("f", &["seed=1", "data.train_size=500", "data.seed=7"]);
    let (_, fixed_8) = run("g", &["seed=1", "data.train_size=500", "data.seed=8"]);
    assert_ne!(fixed_7, fixed_8, "the training set must follow data.seed");
    let (_, fresh_7) = run("h", &["seed=1", "data.seed=7"]);
    let (_, fresh_8) = run("i", &["seed=1", "data.seed=8"]);
    assert_eq!(fresh_7, fresh_8, "fresh batches must follow the trial's seed only");
}
