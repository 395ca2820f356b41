//! Integration tests: one binary, a module per feature.

mod activation;
mod bench;
mod cli;
mod config;
mod conformance;
mod couplings;
mod data;
mod device;
mod flow;
mod grids;
mod metrics;
mod oracle;
mod reflow;
mod readme;
mod sampling;
mod schedules;
mod solvers;
mod sources;
mod script;
mod targets;
mod training;
