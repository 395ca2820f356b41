//! Prediction targets. The conversions are scalar and live in the SDK
//! (`runner_sdk::target`), so that plugins and the host share one implementation.

pub use runner_sdk::target::{Conversion, Target};
use runner_sdk::{PluginInfo, PluginKind};

/// The targets, as registry entries for `runner plugins`.
pub fn infos() -> Vec<PluginInfo> {
    Target::ALL.into_iter().map(|t| PluginInfo::new(PluginKind::Target, t.name(), t.summary(), &[])).collect()
}
