//! Built-in couplings: which source point goes with which target point inside a minibatch.
//!
//! `independent` pairs rows in order (the product coupling), `exact-ot` solves the minibatch
//! optimal-transport problem exactly (OT-CFM), `sinkhorn` solves its entropic relaxation and
//! draws each source row's partner from the plan (SB-CFM). All use the squared Euclidean cost.

mod batch;
pub mod exact_ot;
pub mod independent;
pub mod sinkhorn;

pub use batch::batch_size;

use runner_sdk::Coupling;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Coupling>] = &[independent::ENTRY, exact_ot::ENTRY, sinkhorn::ENTRY];
