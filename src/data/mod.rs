//! Built-in datasets.

use runner_sdk::Dataset;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Dataset>] = &[];
