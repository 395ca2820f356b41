//! Models: what maps (x_t, t) to a prediction. A trained network ([`Mlp`]) or the exact
//! posterior of a Gaussian-mixture target ([`Oracle`]); [`Model`] is the one type the sampling
//! code dispatches on.

#[cfg(feature = "flex")]
mod frozen;
pub mod host;
mod mlp;
mod oracle;
pub mod selu;
pub mod silu;
#[cfg(feature = "tch")]
mod silu_libtorch;
mod time_features;

#[cfg(feature = "flex")]
pub use frozen::FrozenMlp;
pub use mlp::{Activation, Mlp, ModelError};
pub use oracle::{Oracle, OracleError, PosteriorMeans};
pub use time_features::TimeFeatures;

/// The model a trial samples (`model.kind` in the config).
pub enum Model {
    /// A burn network trained on the configured target.
    Mlp(Mlp),
    /// The closed-form posterior of a mixture target: exact in every target, trained on nothing.
    Oracle(Oracle),
}

/// The values of `model.kind`.
pub const KINDS: [&str; 2] = ["mlp", "oracle"];
