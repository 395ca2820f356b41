//! Built-in metrics: exact Wasserstein distances (`w2`, `w1`) and the multi-scale MMD² (`mmd`),
//! as BENCHMARKS.md §3 defines them. The assignment solver behind W_p is public: the exact-OT
//! coupling reuses it.

pub mod assignment;
pub mod mmd;
pub mod points;
pub mod sorted;
pub mod wasserstein;

use runner_sdk::Metric;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Metric>] = &[wasserstein::W2_ENTRY, wasserstein::W1_ENTRY, mmd::ENTRY];
