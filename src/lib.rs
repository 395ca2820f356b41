//! runner: experiments that compare diffusion models against flow matching.
//!
//! See DESIGN.md for the conventions: t = 0 is noise, t = 1 is data; schedules are scalar
//! coefficient functions; one integration loop drives every solver; plugins implement the
//! traits of the `runner-sdk` crate.

pub mod bench;
pub mod config;
pub mod couplings;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod files;
pub mod grids;
pub mod launch;
pub mod metrics;
pub mod models;
pub mod plugins;
pub mod progress;
pub mod report;
pub mod sampling;
pub mod schedules;
pub mod script;
pub mod seed;
pub mod setup;
pub mod simd;
pub mod solvers;
pub mod source;
pub mod suggest;
pub mod sweep;
pub mod targets;
pub mod train;
pub mod transport;

pub use plugins::registry;
pub use runner_sdk as sdk;
