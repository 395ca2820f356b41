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
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    BadEnv { name: String, message: String },
    #[error("--set {arg}: {message}")]
    BadSet { arg: String, message: String },
    #[error("invalid config: {0}")]
    Invalid(String),
    #[error("config key `{key}` (from {source_desc}): {message}")]
    Key { key: String, source_desc: String, message: String },
}

impl Resolved {
    /// An error about the value of `key`, naming where that value came from.
    pub fn key_error(&self, key: &str, message: impl std::fmt::Display) -> ConfigError {
        ConfigError::Key {
            key: key.to_string(),
            source_desc: self.sources.get(key).cloned().unwrap_or_else(|| "default".into()),
            message: message.to_string(),
        }
    }
}
