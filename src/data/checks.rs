//! Validation of dataset parameters, shared by the factories.

use runner_sdk::{Params, PluginError};

/// The number parameter `name`, refused unless it is finite and ≥ 0 (a zero noise or spread is
/// a legitimate degenerate case, a negative one is a typo).
pub(crate) fn non_negative(p: &Params, name: &str) -> Result<f64, PluginError> {
    let v = p.float(name)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(p.invalid(name, format!("must be a finite number ≥ 0, got {v}")))
    }
}
