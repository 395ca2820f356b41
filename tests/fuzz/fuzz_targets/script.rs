//! The script entry point: a rhai source runs with the whole scripting API registered, as a
//! dry run (`runner config SCRIPT`), which declares trials, resolves and checks their configs
//! and prints them, but writes and trains nothing. Checks that no script makes the host panic;
//! errors of any kind are the script's.

#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use runner::config::Layers;
use runner::plugins::Registry;
use runner::script::{run_source, Session};

static REGISTRY: LazyLock<Arc<Registry>> = LazyLock::new(|| Arc::new(Registry::builtin()));

/// The script's directory, which relative paths are resolved against: nothing but the
/// experiments' config files, so that the experiment scripts get past their `load_config`.
static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let experiments = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    for entry in std::fs::read_dir(&experiments).expect("the experiments directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).expect("a config copied");
        }
    }
    dir
});

/// Enough for every experiment script's dry run; a script that loops for ever stops here
/// with an error.
const MAX_OPERATIONS: u64 = 200_000;
/// Far more than any experiment builds; a script that doubles a string or an array in a loop
/// stops here with an error instead of exhausting memory.
const MAX_DATA_SIZE: usize = 100_000;

fuzz_target!(|source: &str| {
    // Plugin files are opened as shared libraries, which runs their initialisers: a fuzzed
    // path must never reach that. `load_plugin` names a file directly, and a trial's
    // `plugins.load` loads the files it lists. (A key the script builds from pieces could
    // still say `plugins`; it would also need the path of a real library.)
    if source.contains("load_plugin") || source.contains("plugins") {
        return;
    }
    let session = Session {
        dry_run: true,
        max_operations: MAX_OPERATIONS,
        max_data_size: MAX_DATA_SIZE,
        ..Session::new(DIR.path().join("fuzz.rhai"), Layers::new(), REGISTRY.clone())
    };
    let _ = run_source(session, source);
});
