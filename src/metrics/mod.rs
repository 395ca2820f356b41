//! Built-in metrics, as BENCHMARKS.md §3 defines them: exact Wasserstein distances (`w2`, `w1`;
//! up to 10,000 points per side in any dimension), the sliced W2 (`sliced-w2`), the multi-scale
//! MMD² (`mmd`) and the energy distance (`energy`); and metrics of the model's flow ([`flow`]:
//! `nll`, `bpd`, `path-energy`, `npe`, `straightness`). The assignment solver behind W_p is
//! in [`crate::transport`], which the exact-OT coupling shares.

pub mod energy;
pub mod flow;
pub mod mmd;
pub mod parallel;
pub mod points;
pub mod sliced;
pub mod sorted;
pub mod wasserstein;

use runner_sdk::Metric;

use crate::registry::Entry;

/// Every built-in metric, by the name users type.
pub static REGISTRY: &[Entry<dyn Metric>] = &[
    wasserstein::W2_ENTRY,
    wasserstein::W1_ENTRY,
    sliced::ENTRY,
    mmd::ENTRY,
    energy::ENTRY,
    flow::nll::NLL_ENTRY,
    flow::nll::BPD_ENTRY,
    flow::path_energy::ENTRY,
    flow::npe::ENTRY,
    flow::straightness::ENTRY,
];
