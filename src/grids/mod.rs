//! Built-in time grids: where the steps of `integrate()` fall between t = 0 (noise) and
//! t = 1 (data). A grid returns `steps + 1` strictly increasing times from exactly `t_start` to
//! exactly `t_end`; grids defined in noise level (Karras, logSNR) read the schedule they are
//! given and invert it by bisection.

use runner_sdk::{PluginError, TimeGrid};

use crate::registry::Entry;

pub mod explicit;
pub mod karras;
pub mod logsnr_uniform;
pub mod shifted;
pub mod uniform;

pub static REGISTRY: &[Entry<dyn TimeGrid>] =
    &[uniform::ENTRY, karras::ENTRY, logsnr_uniform::ENTRY, shifted::ENTRY, explicit::ENTRY];

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

/// Pin the ends to exactly `t_start` and `t_end` and refuse a grid that is not strictly
/// increasing (a noise-level grid whose levels the schedule cannot tell apart on this span).
pub(crate) fn finish(grid: &str, mut times: Vec<f64>, t_start: f64, t_end: f64) -> Result<Vec<f64>, PluginError> {
    let last = times.len() - 1;
    times[0] = t_start;
    times[last] = t_end;
    if let Some(i) = times.windows(2).position(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater)) {
        return Err(PluginError::Invalid {
            plugin: grid.to_string(),
            message: format!(
                "the grid collapses: t[{i}] = {} and t[{}] = {} on [{t_start}, {t_end}] \
                 (too many steps for the schedule's range of noise levels there?)",
                times[i],
                i + 1,
                times[i + 1]
            ),
        });
    }
    Ok(times)
}

/// The t in [lo, hi] where the increasing function `g` reaches `target`, by bisection; the
/// ends when `target` lies outside g's range there. Bisection only needs monotonicity, which
/// every schedule's noise-to-signal ratio and logSNR have, and no derivative.
pub(crate) fn invert_increasing(g: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    if target <= g(lo) {
        return lo;
    }
    if target >= g(hi) {
        return hi;
    }
    let (mut lo, mut hi) = (lo, hi);
    // 200 halvings reach adjacent floats on any span inside [0, 1].
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if g(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
