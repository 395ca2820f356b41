//! Time grids: where a solver's steps fall between t = 0 (noise) and t = 1 (data).

use crate::{PluginError, Schedule};

pub trait TimeGrid: Send + Sync {
    /// `steps + 1` increasing times from `t_start` to `t_end`; the schedule is there for grids
    /// defined in noise level (Karras, logSNR).
    fn times(&self, steps: usize, t_start: f64, t_end: f64, schedule: &dyn Schedule) -> Result<Vec<f64>, PluginError>;
}
