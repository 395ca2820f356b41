//! Built-in solvers and the single integration loop.

use runner_sdk::Solver;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Solver>] = &[];
