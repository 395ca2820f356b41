//! Configuration: the schema of a trial's config and its layering with provenance.

mod layers;
mod ranges;
mod schema;

use std::path::PathBuf;

pub use layers::{insert, parse_value, Layers, Origin, Resolved};
pub use schema::*;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}:{column}: not valid TOML: {message}{excerpt}", path.display())]
    Parse { path: PathBuf, line: usize, column: usize, message: String, excerpt: String },
    #[error("environment variable {name}: {message}")]
    BadEnv { name: String, message: String },
    #[error("--set {arg}: {message}")]
    BadSet { arg: String, message: String },
    #[error("invalid config: {0}")]
    Invalid(String),
    /// `excerpt` is the line the source names, where it is a file's (empty otherwise).
    #[error("config key `{key}` (from {source_desc}): {message}{excerpt}")]
    Key { key: String, source_desc: String, message: String, excerpt: String },
}

impl ConfigError {
    /// A bad value or name at `key`, set by `source_desc` (`file:line:column`, a variable,
    /// a script map, `--set`), with the line a file source points at.
    pub fn key(key: &str, source_desc: &str, message: impl std::fmt::Display) -> ConfigError {
        ConfigError::Key {
            key: key.to_string(),
            source_desc: source_desc.to_string(),
            message: message.to_string(),
            excerpt: crate::source::file_excerpt(source_desc),
        }
    }
}

impl Resolved {
    /// An error about the value of `key`, naming where that value came from.
    pub fn key_error(&self, key: &str, message: impl std::fmt::Display) -> ConfigError {
        ConfigError::key(key, self.sources.get(key).map_or("default", String::as_str), message)
    }
}
