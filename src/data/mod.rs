//! Built-in datasets: seeded generators of row-major `n × dim` f32 points. One file each; the
//! definitions of the 2-D sets follow the conditional-flow-matching benchmark (BENCHMARKS.md §1)
//! so that its published numbers and finite-sample floors apply to ours.

pub mod checkerboard;
mod checks;
pub mod eight_gaussians;
pub mod gaussian;
pub mod gmm;
pub mod gmm1d;
pub mod moons;
pub mod scurve;
mod seed;

use runner_sdk::Dataset;

use crate::registry::Entry;

pub static REGISTRY: &[Entry<dyn Dataset>] = &[
    gaussian::ENTRY,
    gmm1d::ENTRY,
    gmm::ENTRY,
    moons::ENTRY,
    eight_gaussians::ENTRY,
    scurve::ENTRY,
    checkerboard::ENTRY,
];
