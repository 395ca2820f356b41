//! Built-in metrics.

use runner_sdk::Metric;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Metric>] = &[];
