//! Built-in time grids.

use runner_sdk::TimeGrid;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn TimeGrid>] = &[];
