//! What every test resolves names in: the built-ins and the example plugins — the Rust
//! libraries built as the `cdylib`s a user loads, the C schedule compiled with the system
//! compiler, and the rhai script schedule — so that every suite that runs over a kind's
//! registry covers the plugins too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use runner::plugins::{Pluggable, Registered, Registry, RegistryError};
use runner::sdk::ParamValue;

/// The example plugin crates, by package name.
pub const RUST_EXAMPLES: [&str; 3] = ["runner-example-sigmoid", "runner-example-ssp-rk3", "runner-example-spiral"];

static REGISTRY: LazyLock<Arc<Registry>> = LazyLock::new(|| {
    let mut files: Vec<PathBuf> = RUST_EXAMPLES.iter().map(|p| cdylib(p)).collect();
    files.push(c_plugin(&root().join("plugins/examples/c-schedule/schedule.c"), "c_schedule"));
    files.push(root().join("plugins/examples/script-schedule/smoothstep.rhai"));
    Arc::new(Registry::with_plugins(&files).unwrap_or_else(|e| panic!("loading the example plugins: {e}")))
});

/// The registry of the built-ins and the example plugins.
pub fn registry() -> Arc<Registry> {
    REGISTRY.clone()
}

/// The same registry, borrowed for the whole run.
pub fn registry_ref() -> &'static Registry {
    &REGISTRY
}

/// Every plugin of kind `T`, in registration order.
pub fn entries<T: Pluggable + ?Sized>() -> &'static [Registered<T>] {
    T::table(&REGISTRY)
}

/// Build the plugin `name` of kind `T`.
pub fn build<T: Pluggable + ?Sized>(
    name: &str,
    given: &std::collections::BTreeMap<String, ParamValue>,
) -> Result<Box<T>, RegistryError> {
    REGISTRY.build::<T>(name, given)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Build the example package `package` and return the path of its shared library.
pub fn cdylib(package: &str) -> PathBuf {
    runner_testkit::cdylib(&root(), package)
}

/// Compile the C plugin `source` against the header into `lib<name>.so` in a directory of its
/// own under the target directory, and return its path.
pub fn c_plugin(source: &Path, name: &str) -> PathBuf {
    runner_testkit::c_plugin(source, &root().join("plugins/runner-abi/include"), &out_dir().join("c-plugins"), name)
}

/// A directory for files the tests build, beside the test binary.
pub fn out_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().join("runner-tests")
}

/// A script run resolving in the shared registry, whose workers run the `runner` binary of this
/// build (the test binary itself cannot be a worker).
pub fn session(script: impl Into<PathBuf>, layers: runner::config::Layers) -> runner::script::Session {
    runner::script::Session {
        program: PathBuf::from(env!("CARGO_BIN_EXE_runner")),
        ..runner::script::Session::new(script, layers, registry())
    }
}

/// The run's summary without its timing columns (the only cells that differ between runs).
pub fn summary(sweep_dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(sweep_dir.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> =
        (0..header.len()).filter(|&i| !matches!(header[i], "train_seconds" | "sample_seconds")).collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect()
}
