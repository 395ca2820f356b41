//! Plugins at run time: the [`registry`] every name is resolved in, the loader of dynamic
//! libraries built against the C ABI ([`library`]), the adapters that make a library's tables
//! look like the SDK's traits, and schedules written as rhai scripts.

pub mod foreign;
pub mod library;
pub mod registry;
mod script;

pub use library::LoadError;
pub use registry::{Origin, Pluggable, Registered, Registry, RegistryError};

use std::path::{Path, PathBuf};

/// The variable that names directories of plugins to load (separated like `PATH`).
pub const PLUGIN_PATH_VAR: &str = "RUNNER_PLUGIN_PATH";

/// The plugin files in the directories `value` names (a `PATH`-style list): every library and
/// rhai file directly inside each, in name order. A directory that does not exist is an error:
/// a typo must not silently load nothing.
pub fn files_in_plugin_path(value: &str) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for dir in std::env::split_paths(value).filter(|d| !d.as_os_str().is_empty()) {
        let entries = std::fs::read_dir(&dir).map_err(|_| LoadError::Missing { path: dir.clone() })?;
        let mut files: Vec<PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_plugin_file(p)).collect();
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

fn is_plugin_file(path: &Path) -> bool {
    path.is_file() && matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll" | "rhai"))
}

impl Registry {
    /// The built-ins and the plugins in `files`.
    pub fn with_plugins(files: &[PathBuf]) -> Result<Registry, LoadError> {
        let mut registry = Registry::builtin();
        for file in files {
            registry.load(file)?;
        }
        Ok(registry)
    }

    /// Load a plugin file: a rhai script or a dynamic library. A file loaded before is not
    /// loaded again (two config layers may name the same one).
    pub fn load(&mut self, file: &Path) -> Result<(), LoadError> {
        if self.is_loaded(file) {
            return Ok(());
        }
        let key = loaded_key(file);
        match file.extension().and_then(|e| e.to_str()) {
            Some("rhai") => self.load_script(file)?,
            _ => self.load_library(file)?,
        }
        self.loaded.push(key);
        Ok(())
    }

    /// Every plugin file loaded so far (canonical paths, in load order): what a worker process
    /// loads to see the same plugins.
    pub fn loaded_files(&self) -> &[PathBuf] {
        &self.loaded
    }

    /// Whether `file` has been loaded into this registry.
    pub fn is_loaded(&self, file: &Path) -> bool {
        self.loaded.contains(&loaded_key(file))
    }
}

/// The name a loaded file is remembered by: its canonical path, so that two spellings of one
/// file are one load.
fn loaded_key(file: &Path) -> PathBuf {
    file.canonicalize().unwrap_or_else(|_| file.to_path_buf())
}
