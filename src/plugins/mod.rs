//! Plugins at run time: the [`registry`] every name is resolved in, the loader of dynamic
//! libraries built against the C ABI ([`library`]), the adapters that make a library's tables
//! look like the SDK's traits, and schedules written as rhai scripts.

pub mod foreign;
pub mod library;
pub mod registry;

pub use library::LoadError;
pub use registry::{Origin, Pluggable, Registered, Registry, RegistryError};
