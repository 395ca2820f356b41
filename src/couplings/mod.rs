//! Built-in couplings.

use runner_sdk::Coupling;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Coupling>] = &[];
