//! Built-in couplings: which source point goes with which target point inside a minibatch.

mod batch;
pub mod independent;

pub use batch::batch_size;

use runner_sdk::Coupling;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Coupling>] = &[independent::ENTRY];
