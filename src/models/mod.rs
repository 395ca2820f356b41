//! Models: networks that map (x_t, t) to a prediction of the configured target.

mod mlp;
mod time_features;

pub use mlp::{Activation, Mlp, ModelError};
pub use time_features::TimeFeatures;
