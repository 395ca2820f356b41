//! Built-in metrics: exact Wasserstein distances (`w2`, `w1`) and the multi-scale MMD² (`mmd`),
//! as BENCHMARKS.md §3 defines them; and metrics of the model's flow ([`flow`]: `nll`, `bpd`,
//! `path-energy`, `npe`, `straightness`). The assignment solver behind W_p is public: the exact-OT
//! coupling reuses it.

pub mod assignment;
pub mod flow;
pub mod mmd;
pub mod points;
pub mod sorted;
pub mod wasserstein;

use runner_sdk::Metric;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Metric>] = &[
    wasserstein::W2_ENTRY,
    wasserstein::W1_ENTRY,
    mmd::ENTRY,
    flow::nll::NLL_ENTRY,
    flow::nll::BPD_ENTRY,
    flow::path_energy::ENTRY,
    flow::npe::ENTRY,
    flow::straightness::ENTRY,
];
