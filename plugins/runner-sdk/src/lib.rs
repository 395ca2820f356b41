//! The runner plugin SDK: the traits that every built-in and every dynamic plugin implements.
//!
//! This crate has no burn dependency on purpose (DESIGN.md §3): schedules, targets, grids and
//! couplings are scalar or plain-buffer functions, and solvers see the model only through the
//! object-safe [`Dynamics`] trait, whose tensors stay inside the host behind opaque [`Handle`]s.
//!
//! Conventions (DESIGN.md §1): t runs over [0, 1], t = 0 is the source (noise), t = 1 the data,
//! and a path is `x_t = α(t)·x1 + σ(t)·x0 + γ(t)·ε`.

pub mod coupling;
pub mod dataset;
pub mod dynamics;
pub mod error;
pub mod grid;
pub mod metric;
pub mod params;
pub mod schedule;
pub mod solver;
pub mod target;

pub use coupling::Coupling;
pub use dataset::{Component, Dataset, Mixture};
pub use dynamics::{Dynamics, Handle};
pub use error::PluginError;
pub use grid::TimeGrid;
pub use metric::{Likelihood, Metric, MetricInput, PathIntegrals};
pub use params::{ParamDefault, ParamSpec, ParamValue, Params};
pub use schedule::{Coefficients, Schedule};
pub use solver::{Remembered, Solver, SolverKind, StepContext, StepControl};
pub use target::{Conversion, Target};

/// What kind of plugin a registry entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PluginKind {
    Schedule,
    Coupling,
    Target,
    Solver,
    Grid,
    Dataset,
    Metric,
}

impl PluginKind {
    pub const ALL: [PluginKind; 7] = [
        PluginKind::Schedule,
        PluginKind::Coupling,
        PluginKind::Target,
        PluginKind::Solver,
        PluginKind::Grid,
        PluginKind::Dataset,
        PluginKind::Metric,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Schedule => "schedule",
            PluginKind::Coupling => "coupling",
            PluginKind::Target => "target",
            PluginKind::Solver => "solver",
            PluginKind::Grid => "grid",
            PluginKind::Dataset => "dataset",
            PluginKind::Metric => "metric",
        }
    }
}

/// What a registry lists about a plugin: its name (what users type), a one-line summary and
/// the parameters it accepts with their defaults.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub name: &'static str,
    pub kind: PluginKind,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}
