//! runner: experiments that compare diffusion models against flow matching.
//!
//! See DESIGN.md for the conventions: t = 0 is noise, t = 1 is data; schedules are scalar
//! coefficient functions; one integration loop drives every solver; plugins implement the
//! traits of the `runner-sdk` crate.

pub mod couplings;
pub mod data;
pub mod grids;
pub mod metrics;
pub mod registry;
pub mod schedules;
pub mod solvers;
pub mod targets;

pub use runner_sdk as sdk;
