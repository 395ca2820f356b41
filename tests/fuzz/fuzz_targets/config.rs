//! The config resolver: `runner.toml`, a TOML file a script loads, `RUNNER_*` variables and
//! `--set` arguments are layered, resolved into a config and range-checked, and the resolved
//! config is written as TOML and described with its sources, as every declared trial is.
//! Checks that none of it panics, whatever the layers hold, and that every error it returns
//! says something.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use runner::config::{ConfigError, Layers};
use runner_fuzz_input::ConfigInput;

/// A directory for the layers' files, made once per process: the resolver reads files by path.
static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

/// More layers than this only repeat what fewer show, and slow every run down.
const MOST: usize = 8;

fuzz_target!(|input: ConfigInput| {
    let dir = DIR.path();
    let runner_toml = dir.join("runner.toml");
    match &input.runner_toml {
        Some(text) => std::fs::write(&runner_toml, text).expect("runner.toml is written"),
        None => {
            let _ = std::fs::remove_file(&runner_toml);
        }
    }
    let env = input.env.iter().take(MOST).map(|(name, value)| (format!("RUNNER_{name}"), value.clone()));
    let sets: Vec<String> = input.sets.iter().take(MOST).cloned().collect();
    let mut layers = match Layers::discover(dir, env, &sets) {
        Ok(layers) => layers,
        Err(e) => return says_something(&e),
    };
    let loaded: PathBuf = dir.join("loaded.toml");
    std::fs::write(&loaded, &input.loaded_toml).expect("the loaded file is written");
    if let Err(e) = layers.load_toml(&loaded) {
        return says_something(&e);
    }
    let resolved = match layers.resolve(&[]) {
        Ok(resolved) => resolved,
        Err(e) => return says_something(&e),
    };
    if let Err(e) = resolved.check_ranges() {
        return says_something(&e);
    }
    let toml = resolved.to_toml();
    assert!(!toml.is_empty());
    assert!(!resolved.describe().is_empty());
});

fn says_something(e: &ConfigError) {
    assert!(!e.to_string().trim().is_empty(), "an empty error message: {e:?}");
}
