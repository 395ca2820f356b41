//! Integration tests: one binary, a module per feature.

mod data;
mod metrics;
mod schedules;
mod solvers;
mod targets;
