//! Built-in time grids: where the steps of `integrate()` fall between t = 0 (noise) and
//! t = 1 (data). A grid returns `steps + 1` increasing times; grids defined in noise level
//! (Karras, logSNR) read the schedule they are given.

use runner_sdk::{PluginError, TimeGrid};

use crate::registry::Entry;

pub mod uniform;

pub static REGISTRY: &[Entry<dyn TimeGrid>] = &[uniform::ENTRY];

/// The checks every grid shares: at least one step and an increasing span inside [0, 1].
pub(crate) fn check_span(grid: &str, steps: usize, t_start: f64, t_end: f64) -> Result<(), PluginError> {
    let problem = if steps == 0 {
        Some("needs at least one step".to_string())
    } else if !(0.0 <= t_start && t_start < t_end && t_end <= 1.0) {
        Some(format!("needs 0 ≤ t_start < t_end ≤ 1, got t_start = {t_start}, t_end = {t_end}"))
    } else {
        None
    };
    match problem {
        Some(message) => Err(PluginError::Invalid { plugin: grid.to_string(), message }),
        None => Ok(()),
    }
}
