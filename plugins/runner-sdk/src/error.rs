use thiserror::Error;

/// Errors a plugin reports to the host. Each names the plugin or parameter involved, so the
/// host can add where the offending value came from.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum PluginError {
    #[error("unknown parameter `{param}` for {plugin}; it accepts: {accepted}")]
    UnknownParam { plugin: String, param: String, accepted: String },
    #[error("parameter `{param}` of {plugin}: expected {expected}, got {got}")]
    ParamType { plugin: String, param: String, expected: &'static str, got: String },
    #[error("parameter `{param}` of {plugin}: {message}")]
    ParamValue { plugin: String, param: String, message: String },
    #[error("{plugin}: {message}")]
    Invalid { plugin: String, message: String },
    #[error("model evaluation failed: {0}")]
    Dynamics(String),
}
