//! The library descriptor: built once per process from a crate's [`Export`]s and never freed,
//! so that every pointer the host reads out of it stays valid for as long as the library is
//! loaded (for ever: the host never unloads one).

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::convert::{kind_to_abi, param_from_abi, param_spec_to_abi, str_to_abi};
use super::{abi_error, guard, input, into_instance, put, Constructor, Export};
use crate::abi;

/// The most plugins one library exports: `create` has no context argument, so each plugin
/// gets its own monomorphised `create` that knows its index, from a table of this many.
pub const MAX_PLUGINS: usize = 64;

/// The library a plugin crate exports: the type [`export_plugin!`](crate::export_plugin)
/// emits, whose registry the `create` trampolines find their plugin in.
pub trait Exports: 'static {
    fn registry() -> &'static Registry;
}

/// A library's exports and the ABI descriptor pointing into them.
pub struct Registry {
    exports: Vec<Export>,
    library: abi::Library,
    // What the descriptor points into: kept here, never read again from Rust.
    _plugins: Vec<abi::Plugin>,
    _params: Vec<Vec<abi::Param>>,
    _vtables: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

// SAFETY: a registry is immutable once built; its raw pointers point into its own heap data
// (and `'static` strings), which no thread writes.
unsafe impl Send for Registry {}
unsafe impl Sync for Registry {}

impl Registry {
    /// The descriptor of library `name` at `version` exporting `exports`, whose `create`
    /// functions look their plugin up in `R::registry()` (this registry, once stored there).
    ///
    /// # Panics
    /// With more than [`MAX_PLUGINS`] exports, or one of a kind the ABI has no table for.
    pub fn new<R: Exports>(name: &'static str, version: &'static str, exports: Vec<Export>) -> Registry {
        assert!(exports.len() <= MAX_PLUGINS, "a library exports at most {MAX_PLUGINS} plugins, not {}", exports.len());
        let mut params = Vec::with_capacity(exports.len());
        let mut vtables: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::with_capacity(exports.len());
        let mut plugins = Vec::with_capacity(exports.len());
        for (index, export) in exports.iter().enumerate() {
            let create = create_fn::<R>(index);
            let (vtable, table): (*const c_void, Box<dyn std::any::Any + Send + Sync>) = match export.constructor {
                Constructor::Schedule(_) => boxed_table(super::schedule::vtable(create)),
                Constructor::Coupling(_) => boxed_table(super::coupling::vtable(create)),
                Constructor::Grid(_) => boxed_table(super::grid::vtable(create)),
                Constructor::Dataset(_) => boxed_table(super::dataset::vtable(create)),
                Constructor::Metric(_) => boxed_table(super::metric::vtable(create)),
                Constructor::Solver(_) => boxed_table(super::solver::vtable(create)),
            };
            vtables.push(table);
            let declared: Vec<abi::Param> = export.info.params.iter().map(param_spec_to_abi).collect();
            let kind = kind_to_abi(export.info.kind).unwrap_or_else(|| {
                panic!("plugin `{}`: the ABI has no {} plugins", export.info.name, export.info.kind.name())
            });
            plugins.push(abi::Plugin {
                size: std::mem::size_of::<abi::Plugin>(),
                kind,
                name: str_to_abi(&export.info.name),
                summary: str_to_abi(&export.info.summary),
                params: declared.as_ptr(),
                n_params: declared.len(),
                vtable,
            });
            params.push(declared);
        }
        let library = abi::Library {
            size: std::mem::size_of::<abi::Library>(),
            name: abi::Str::from_static(name),
            version: abi::Str::from_static(version),
            plugins: plugins.as_ptr(),
            n_plugins: plugins.len(),
        };
        Registry { exports, library, _plugins: plugins, _params: params, _vtables: vtables }
    }

    pub fn exports(&self) -> &[Export] {
        &self.exports
    }

    pub fn library(&self) -> &abi::Library {
        &self.library
    }
}

/// A table on the heap and its address, which moving the box does not change.
fn boxed_table<T: Send + Sync + 'static>(table: T) -> (*const c_void, Box<dyn std::any::Any + Send + Sync>) {
    let table = Box::new(table);
    (&*table as *const T as *const c_void, table)
}

/// What `runner_plugin_abi` returns: this SDK's ABI version.
pub const fn abi_version() -> abi::AbiVersion {
    abi::AbiVersion { magic: abi::MAGIC, major: abi::ABI_MAJOR, minor: abi::ABI_MINOR }
}

/// What `runner_plugin_library` returns: the descriptor of `R`, built on the first call; null
/// when building it panicked (the panic must not reach the host).
pub fn library<R: Exports>() -> *const abi::Library {
    match catch_unwind(|| R::registry().library() as *const abi::Library) {
        Ok(library) => library,
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(|| drop(payload)));
            std::ptr::null()
        }
    }
}

/// The `create` of plugin `I` of library `R`.
unsafe extern "C" fn create<R: Exports, const I: usize>(
    params: *const abi::Param,
    n: usize,
    out: *mut *mut c_void,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    guard(err, || unsafe { create_at(R::registry(), I, params, n, out) })
}

/// Build plugin `index` of `registry` from the host's resolved parameters.
unsafe fn create_at(
    registry: &Registry,
    index: usize,
    params: *const abi::Param,
    n: usize,
    out: *mut *mut c_void,
) -> Result<(), super::PluginError> {
    let export = registry.exports.get(index).ok_or_else(|| abi_error(format!("no plugin at index {index}")))?;
    if out.is_null() {
        return Err(abi_error("the host passed a null `out` to create"));
    }
    let mut given = BTreeMap::new();
    for p in input(params, n, "params")? {
        let (name, value) = param_from_abi(p)?;
        given.insert(name, value);
    }
    let params = export.resolve(&given)?;
    let instance = match &export.constructor {
        Constructor::Schedule(f) => into_instance(f(&params)?),
        Constructor::Coupling(f) => into_instance(f(&params)?),
        Constructor::Grid(f) => into_instance(f(&params)?),
        Constructor::Dataset(f) => into_instance(f(&params)?),
        Constructor::Metric(f) => into_instance(f(&params)?),
        Constructor::Solver(f) => into_instance(f(&params)?),
    };
    put(out, instance, "out")
}

macro_rules! create_table {
    ($($i:literal)*) => {
        /// The `create` of plugin `index`.
        fn create_fn<R: Exports>(index: usize) -> abi::CreateFn {
            let table: [abi::CreateFn; MAX_PLUGINS] = [$(create::<R, $i>),*];
            table[index]
        }
    };
}

create_table!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
);
