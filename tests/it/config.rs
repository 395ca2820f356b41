//! The config layers override in the documented order, one test per layer, and errors name
//! the key and where its value came from.

use std::path::Path;

use figment::value::{Dict, Value};
use runner::config::{Layers, RunnerConfig};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn script_map(key: &str, value: Value) -> Vec<(String, Dict)> {
    let mut dict = Dict::new();
    runner::config::insert(&mut dict, key, value).unwrap();
    vec![("exp.rhai:3:9".to_string(), dict)]
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every layer sets train.lr; `upto` layers are present, so the top one must win.
fn layered(upto: usize) -> (runner::config::Resolved, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    if upto >= 1 {
        write(dir.path(), "runner.toml", "# project defaults\n[train]\nlr = 0.01\n");
    }
    let vars = if upto >= 3 { env(&[("RUNNER_TRAIN__LR", "0.03"), ("RUNNER_OS", "Linux")]) } else { vec![] };
    let sets = if upto >= 5 { vec!["train.lr=0.05".to_string()] } else { vec![] };
    let mut layers = Layers::discover(dir.path(), vars, &sets).unwrap();
    if upto >= 2 {
        let exp = write(dir.path(), "exp.toml", "method = \"ddpm\"\n\n[train]\nsteps = 7\nlr = 0.02\n");
        layers.load_toml(&exp).unwrap();
    }
    let maps = if upto >= 4 { script_map("train.lr", Value::from(0.04)) } else { vec![] };
    (layers.resolve(&maps).unwrap(), dir)
}

#[test]
fn defaults_are_the_bottom_layer() {
    let (r, _d) = layered(0);
    assert_eq!(r.config, RunnerConfig::default());
    assert!(r.sources.values().all(|s| s == "default"), "{:?}", r.sources);
}

#[test]
fn runner_toml_overrides_defaults() {
    let (r, _d) = layered(1);
    assert_eq!(r.config.train.lr, 0.01);
    assert!(r.sources["train.lr"].ends_with("runner.toml:3:6"), "{}", r.sources["train.lr"]);
    assert_eq!(r.sources["train.steps"], "default");
}

#[test]
fn script_loaded_toml_overrides_runner_toml() {
    let (r, _d) = layered(2);
    assert_eq!(r.config.train.lr, 0.02);
    assert_eq!(r.config.train.steps, 7);
    assert_eq!(r.config.method, "ddpm");
    assert!(r.sources["train.lr"].ends_with("exp.toml:5:6"), "{}", r.sources["train.lr"]);
    assert!(r.sources["method"].ends_with("exp.toml:1:10"), "{}", r.sources["method"]);
}

#[test]
fn environment_overrides_loaded_toml_and_ignores_foreign_variables() {
    let (r, _d) = layered(3);
    assert_eq!(r.config.train.lr, 0.03);
    assert_eq!(r.sources["train.lr"], "env RUNNER_TRAIN__LR");
    // RUNNER_OS is not a config key: not an error, not a value.
    assert_eq!(r.config.train.steps, 7);
}

#[test]
fn script_maps_override_the_environment() {
    let (r, _d) = layered(4);
    assert_eq!(r.config.train.lr, 0.04);
    assert_eq!(r.sources["train.lr"], "script map at exp.rhai:3:9");
}

#[test]
fn command_line_set_overrides_everything() {
    let (r, _d) = layered(5);
    assert_eq!(r.config.train.lr, 0.05);
    assert_eq!(r.sources["train.lr"], "--set train.lr");
    let described = r.describe();
    assert!(described.contains("train.lr = 0.05") && described.contains("# --set train.lr"), "{described}");
}

#[test]
fn errors_name_the_key_and_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.toml", "[train]\nlrr = 1\n");
    let mut layers = Layers::new();
    layers.load_toml(&bad).unwrap();
    let err = layers.resolve(&[]).unwrap_err().to_string();
    assert!(err.contains("lrr") && err.contains("bad.toml"), "{err}");

    let mut layers = Layers::new();
    layers.set_args(&["train.steps=many".to_string()]).unwrap();
    let err = layers.resolve(&[]).unwrap_err().to_string();
    assert!(err.contains("train.steps") && err.contains("--set") && err.contains("many"), "{err}");

    let err = Layers::new().set_args(&["train.steps".to_string()]).unwrap_err().to_string();
    assert!(err.contains("--set train.steps") && err.contains("KEY=VALUE"), "{err}");

    let broken = write(dir.path(), "broken.toml", "[train\n");
    let err = Layers::new().load_toml(&broken).unwrap_err().to_string();
    assert!(err.contains("broken.toml") && err.contains("TOML"), "{err}");
}
