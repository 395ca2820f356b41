//! `VectorDynamics`, a `Dynamics` over plain `Vec<f64>` states on the CPU, lives in the plugin
//! test kit, so that plugin authors run their solvers on the very dynamics runner's own tests
//! and exact models use.

pub use runner_testkit::vector::{Model, VectorDynamics, VectorError};
