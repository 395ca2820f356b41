//! Test support for runner plugins, for a plugin author's own `cargo test`: [`VectorDynamics`]
//! (a model over plain vectors on the CPU, which counts evaluations and tracks every handle), a
//! minimal fixed-step loop with its own [`StepContext`](runner_sdk::StepContext), and
//! conformance checks that hold a plugin to what its declaration promises.

mod build;
mod context;
mod dataset;
mod error_buffer;
mod integrate;
mod schedule;
mod solver;
pub mod vector;

pub use build::{c_plugin, cdylib};
pub use context::VecContext;
pub use dataset::check_dataset;
pub use error_buffer::ErrorBuffer;
pub use integrate::integrate;
pub use schedule::check_schedule;
pub use solver::{check_solver, measured_order};
pub use vector::{Model, VectorDynamics, VectorError};
