//! Built-in schedules (DESIGN.md §1). One file per family.

use runner_sdk::Schedule;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Schedule>] = &[];
