//! The runner plugin SDK: the traits that every built-in and every dynamic plugin implements.
//!
//! This crate has no burn dependency on purpose (DESIGN.md §3): schedules, targets, grids and
//! couplings are scalar or plain-buffer functions, and solvers see the model only through the
//! object-safe [`Dynamics`] trait, whose tensors stay inside the host behind opaque [`Handle`]s.
//!
//! Conventions (DESIGN.md §1): t runs over [0, 1], t = 0 is the source (noise), t = 1 the data,
//! and a path is `x_t = α(t)·x1 + σ(t)·x0 + γ(t)·ε`.

use std::borrow::Cow;

/// The C ABI this SDK exports plugins through (the `runner-abi` crate).
pub use runner_abi as abi;

pub mod coupling;
pub mod dataset;
pub mod dynamics;
pub mod error;
pub mod export;
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
pub use solver::{Remembered, Solver, SolverKind, StepContext};
pub use target::{Conversion, Target};

/// What kind of plugin a registry entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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

    /// The kind named as users type it (`runner plugins`, `plugin_names("solver")`).
    pub fn from_name(name: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.name() == name)
    }

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
/// the parameters it accepts with their defaults. Built-ins borrow `static` strings; a loaded
/// library's are copied out of it, so the registry owns them either way.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    pub name: Cow<'static, str>,
    pub kind: PluginKind,
    pub summary: Cow<'static, str>,
    pub params: Cow<'static, [ParamSpec]>,
}

impl PluginInfo {
    /// A built-in's record, from `static` data.
    pub const fn new(
        kind: PluginKind,
        name: &'static str,
        summary: &'static str,
        params: &'static [ParamSpec],
    ) -> PluginInfo {
        PluginInfo { name: Cow::Borrowed(name), kind, summary: Cow::Borrowed(summary), params: Cow::Borrowed(params) }
    }
}
