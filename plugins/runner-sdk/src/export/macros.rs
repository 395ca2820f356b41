//! [`export_plugin!`](crate::export_plugin): a plugin crate's one declaration of what it exports.

/// Declare a plugin library. At the crate root:
///
/// ```ignore
/// runner_sdk::export_plugin! {
///     library: "example-schedules",
///     version: env!("CARGO_PKG_VERSION"),
///     plugins: [
///         runner_sdk::export::schedule(PluginInfo::new(PluginKind::Schedule, "sigmoid", "…", PARAMS), make_sigmoid),
///     ],
/// }
/// ```
///
/// This emits:
/// - `pub fn plugins() -> Vec<runner_sdk::export::Export>`: the same plugins for a host that
///   links the crate as a Rust library (built-ins), with no ABI in between;
/// - `runner_plugin_abi` and `runner_plugin_library`, the two symbols a host loading the crate's
///   `cdylib` looks up. The descriptor is built on the first call and kept for the process; a
///   panic while building it returns null instead of unwinding into the host.
#[macro_export]
macro_rules! export_plugin {
    (library: $name:expr, version: $version:expr, plugins: [$($plugin:expr),* $(,)?] $(,)?) => {
        /// The plugins this library exports, for a host that links it as a Rust library.
        pub fn plugins() -> ::std::vec::Vec<$crate::export::Export> {
            ::std::vec![$($plugin),*]
        }

        #[doc(hidden)]
        pub struct __RunnerPluginExports;

        impl $crate::export::Exports for __RunnerPluginExports {
            fn registry() -> &'static $crate::export::Registry {
                static REGISTRY: ::std::sync::OnceLock<$crate::export::Registry> = ::std::sync::OnceLock::new();
                REGISTRY.get_or_init(|| $crate::export::Registry::new::<__RunnerPluginExports>($name, $version, plugins()))
            }
        }

        /// The ABI version this library was built against (read by the host before anything else).
        #[unsafe(no_mangle)]
        pub extern "C" fn runner_plugin_abi() -> $crate::abi::AbiVersion {
            $crate::export::abi_version()
        }

        /// The library's descriptor, valid for ever; null if building it failed.
        #[unsafe(no_mangle)]
        pub extern "C" fn runner_plugin_library() -> *const $crate::abi::Library {
            $crate::export::library::<__RunnerPluginExports>()
        }
    };
}
