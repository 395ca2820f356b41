//! Loading a plugin library: open it with immediate binding (a missing symbol fails now, not
//! in the middle of a sweep), read the frozen version entry before anything else, then the
//! descriptor, and register each plugin with a factory over its kind's table. Libraries are
//! never unloaded: their code and strings must outlive every instance and every registry.
//!
//! Every failure names the file, and for a version mismatch both versions.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use runner_abi as abi;
use runner_sdk::{
    Coupling, Dataset, Metric, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, Solver, TimeGrid,
};
use thiserror::Error;

use runner_sdk::export::convert;

use super::foreign::{self, Instance};
use super::registry::{Origin, Registered, Registry, RegistryError};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("plugin {path}: no such file")]
    Missing { path: PathBuf },
    #[error("plugin {path}: not a loadable library: {message}")]
    NotALibrary { path: PathBuf, message: String },
    #[error("plugin {path}: the library exports no `{symbol}`, so it is not a runner plugin (build it with runner_sdk::export_plugin!)")]
    MissingSymbol { path: PathBuf, symbol: &'static str },
    #[error(
        "plugin {path}: `{}` returned the magic number {found:#x}, not runner's {:#x}",
        abi::ABI_SYMBOL,
        abi::MAGIC
    )]
    BadMagic { path: PathBuf, found: u64 },
    #[error(
        "plugin {path} is built for plugin ABI {major}.{minor}, but this runner speaks ABI {}.{}: {advice}",
        abi::ABI_MAJOR,
        abi::ABI_MINOR
    )]
    Version { path: PathBuf, major: u32, minor: u32, advice: &'static str },
    #[error("plugin {path}: {message}")]
    Descriptor { path: PathBuf, message: String },
    #[error("plugin {path}: {source}")]
    Registry { path: PathBuf, source: RegistryError },
}

/// Whether a plugin of ABI `major.minor` can be loaded by this host, and if not, why.
pub fn compatible(major: u32, minor: u32) -> Result<(), &'static str> {
    if major != abi::ABI_MAJOR {
        Err("rebuild the plugin against this runner's SDK")
    } else if minor > abi::ABI_MINOR {
        Err("the plugin needs a newer runner")
    } else {
        Ok(())
    }
}

impl Registry {
    /// Load the library at `path` and register its plugins.
    pub fn load_library(&mut self, path: &Path) -> Result<(), LoadError> {
        let path = path.to_path_buf();
        if !path.is_file() {
            return Err(LoadError::Missing { path });
        }
        let library = open(&path)?;
        let raw = unsafe { descriptor_of(&library, &path)? };
        // Never unloaded: every factory and instance points into it.
        std::mem::forget(library);
        unsafe { self.register_descriptor(raw, &path) }
    }

    /// Register the plugins of the descriptor `raw` (what a library's `runner_plugin_library`
    /// returned) as coming from `path`: check its sizes, strings, kinds, parameters and
    /// tables, and add every plugin or, on any error, none. [`Registry::load_library`] calls it
    /// after opening the library; it is public so that a descriptor built in memory (the fuzz
    /// harness's) can be checked without a library file.
    ///
    /// # Safety
    /// `raw` is null or points to a descriptor whose every pointer is null or valid for what
    /// its size or count says, and whose tables and functions outlive the registry.
    #[doc(hidden)]
    pub unsafe fn register_descriptor(&mut self, raw: *const abi::Library, path: &Path) -> Result<(), LoadError> {
        let descriptor = unsafe { parse_descriptor(raw, path)? };
        let path = path.to_path_buf();
        let origin = Origin::Library { path: path.clone(), library: descriptor.name, version: descriptor.version };
        // Register into a copy, so that a library with one bad plugin registers nothing.
        let mut staged = self.clone();
        for plugin in descriptor.plugins {
            plugin.register(&mut staged, origin.clone(), &path)?;
        }
        *self = staged;
        Ok(())
    }
}

#[cfg(unix)]
fn open(path: &Path) -> Result<libloading::Library, LoadError> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // dlopen searches the system's library directories for a bare file name (`plugin.so`);
    // the user means the file in the working directory.
    let path = match path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        true => Path::new(".").join(path),
        false => path.to_path_buf(),
    };
    // SAFETY: loading runs the library's initialisers; a runner plugin has none that matter.
    unsafe { Library::open(Some(&path), RTLD_NOW | RTLD_LOCAL) }
        .map(Into::into)
        .map_err(|e| LoadError::NotALibrary { path: path.to_path_buf(), message: e.to_string() })
}

#[cfg(not(unix))]
fn open(path: &Path) -> Result<libloading::Library, LoadError> {
    unsafe { libloading::Library::new(path) }
        .map_err(|e| LoadError::NotALibrary { path: path.to_path_buf(), message: e.to_string() })
}

/// What a library's descriptor says, copied into host-owned values.
struct Descriptor {
    name: String,
    version: String,
    plugins: Vec<Plugin>,
}

/// One plugin of a library: its record, and its kind's table (which lives as long as the
/// library, that is for ever).
struct Plugin {
    info: PluginInfo,
    vtable: *const c_void,
}

/// The descriptor of an open library, once its version entry says that it speaks this ABI.
unsafe fn descriptor_of(library: &libloading::Library, path: &Path) -> Result<*const abi::Library, LoadError> {
    let version_fn = unsafe { library.get::<abi::AbiFn>(abi::ABI_SYMBOL.as_bytes()) }
        .map_err(|_| LoadError::MissingSymbol { path: path.to_path_buf(), symbol: abi::ABI_SYMBOL })?;
    let version = unsafe { version_fn() };
    if version.magic != abi::MAGIC {
        return Err(LoadError::BadMagic { path: path.to_path_buf(), found: version.magic });
    }
    compatible(version.major, version.minor).map_err(|advice| LoadError::Version {
        path: path.to_path_buf(),
        major: version.major,
        minor: version.minor,
        advice,
    })?;
    let library_fn = unsafe { library.get::<abi::LibraryFn>(abi::LIBRARY_SYMBOL.as_bytes()) }
        .map_err(|_| LoadError::MissingSymbol { path: path.to_path_buf(), symbol: abi::LIBRARY_SYMBOL })?;
    Ok(unsafe { library_fn() })
}

/// The descriptor at `raw`, copied into host-owned values.
unsafe fn parse_descriptor(raw: *const abi::Library, path: &Path) -> Result<Descriptor, LoadError> {
    let bad = |message: String| LoadError::Descriptor { path: path.to_path_buf(), message };
    if raw.is_null() {
        return Err(bad(format!(
            "`{}` returned no descriptor (the plugin failed to describe itself)",
            abi::LIBRARY_SYMBOL
        )));
    }
    // Only the size is read before it says that the whole struct is there.
    let size = unsafe { *(raw as *const usize) };
    if size < size_of::<abi::Library>() {
        return Err(bad(format!(
            "its descriptor is {} bytes, smaller than ABI 1.0's {}",
            size,
            size_of::<abi::Library>()
        )));
    }
    let raw = unsafe { &*raw };
    let text = |s: abi::Str, what: &str| -> Result<String, LoadError> {
        unsafe { convert::str_from_abi(s, what) }.map(str::to_owned).map_err(|e| bad(e.to_string()))
    };
    let name = text(raw.name, "the library name")?;
    let version = text(raw.version, "the library version")?;
    let raw_plugins = unsafe { items(raw.plugins, raw.n_plugins, "the plugin array") }.map_err(bad)?;
    let mut plugins = Vec::with_capacity(raw_plugins.len());
    for (i, p) in raw_plugins.iter().enumerate() {
        if p.size < size_of::<abi::Plugin>() {
            return Err(bad(format!("plugin {i}'s record is {} bytes, smaller than ABI 1.0's", p.size)));
        }
        let plugin_name = text(p.name, &format!("plugin {i}'s name"))?;
        let kind = convert::kind_from_abi(p.kind).map_err(|e| bad(format!("plugin `{plugin_name}`: {e}")))?;
        let raw_params =
            unsafe { items(p.params, p.n_params, &format!("the parameters of `{plugin_name}`")) }.map_err(bad)?;
        let params = raw_params
            .iter()
            .map(|q| unsafe { convert::param_spec_from_abi(q) })
            .collect::<Result<Vec<ParamSpec>, _>>()
            .map_err(|e| bad(format!("a parameter of `{plugin_name}`: {e}")))?;
        if p.vtable.is_null() {
            return Err(bad(format!("plugin `{plugin_name}` has no function table")));
        }
        let info = PluginInfo {
            name: plugin_name.into(),
            kind,
            summary: text(p.summary, "a plugin summary")?.into(),
            params: params.into(),
        };
        plugins.push(Plugin { info, vtable: p.vtable });
    }
    Ok(Descriptor { name, version, plugins })
}

/// The `n` items of a descriptor's array at `ptr`. A count with a null (or misaligned) pointer,
/// or one too large for any array, is an error: the plugin's, not a crash of the host.
unsafe fn items<'a, T>(ptr: *const T, n: usize, what: &str) -> Result<&'a [T], String> {
    if n == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(format!(
            "{what} has {n} items but its pointer is {}",
            if ptr.is_null() { "null" } else { "misaligned" }
        ));
    }
    if n.checked_mul(size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(format!("{what} claims {n} items, more than memory holds"));
    }
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// The table at `ptr`, whose size must cover ABI 1.0's fields.
fn table<T>(ptr: *const c_void, name: &str) -> Result<&'static T, String> {
    // Every table starts with its size; the rest is read only once the size covers it.
    let size = unsafe { *(ptr as *const usize) };
    if size < size_of::<T>() {
        return Err(format!("`{name}`'s function table is {size} bytes, smaller than ABI 1.0's {}", size_of::<T>()));
    }
    Ok(unsafe { &*(ptr as *const T) })
}

/// The `create` and `destroy` every table starts with, both required.
macro_rules! lifecycle {
    ($t:expr, $name:expr, $table:literal) => {
        foreign::required($name, $table, "create", $t.create)
            .and_then(|create| Ok((create, foreign::required($name, $table, "destroy", $t.destroy)?)))
    };
}

impl Plugin {
    /// Add the plugin to `registry` with a factory over its kind's table. A table smaller than
    /// ABI 1.0's, or without a required function, is refused here: when the library loads, not
    /// at the plugin's first use.
    fn register(self, registry: &mut Registry, origin: Origin, path: &Path) -> Result<(), LoadError> {
        let bad = |message: String| LoadError::Descriptor { path: path.to_path_buf(), message };
        let Plugin { info, vtable } = self;
        let name = info.name.to_string();
        let n = name.as_str();
        let registered = match info.kind {
            PluginKind::Schedule => {
                let t = table::<abi::ScheduleVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "schedule table").map_err(bad)?;
                let coefficients =
                    foreign::required(n, "schedule table", "coefficients", t.coefficients).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn Schedule>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    Ok(Box::new(foreign::ForeignSchedule { instance, coefficients }))
                };
                registry.add::<dyn Schedule>(Registered::new(info, origin, Arc::new(make)))
            }
            PluginKind::Coupling => {
                let t = table::<abi::CouplingVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "coupling table").map_err(bad)?;
                let pair = foreign::required(n, "coupling table", "pair", t.pair).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn Coupling>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    Ok(Box::new(foreign::ForeignCoupling { instance, pair }))
                };
                registry.add::<dyn Coupling>(Registered::new(info, origin, Arc::new(make)))
            }
            PluginKind::Solver => {
                let t = table::<abi::SolverVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "solver table").map_err(bad)?;
                let solver_info = foreign::required(n, "solver table", "info", t.info).map_err(bad)?;
                let step = foreign::required(n, "solver table", "step", t.step).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn Solver>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    let mut raw = abi::SolverInfo::default();
                    foreign::call(&name, |err| unsafe { solver_info(instance.ptr(), &mut raw, err) })?;
                    let kind =
                        convert::solver_kind_from_abi(&raw).map_err(|e| foreign::invalid(&name, e.to_string()))?;
                    let evals_per_step = raw.evals_per_step;
                    Ok(Box::new(foreign::ForeignSolver { instance, vtable: t, step, kind, evals_per_step }))
                };
                registry.add::<dyn Solver>(Registered::new(info, origin, Arc::new(make)))
            }
            PluginKind::Grid => {
                let t = table::<abi::GridVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "grid table").map_err(bad)?;
                let times = foreign::required(n, "grid table", "times", t.times).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn TimeGrid>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    Ok(Box::new(foreign::ForeignGrid { instance, times }))
                };
                registry.add::<dyn TimeGrid>(Registered::new(info, origin, Arc::new(make)))
            }
            PluginKind::Dataset => {
                let t = table::<abi::DatasetVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "dataset table").map_err(bad)?;
                foreign::required(n, "dataset table", "dim", t.dim).map_err(bad)?;
                let sample = foreign::required(n, "dataset table", "sample", t.sample).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn Dataset>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    Ok(Box::new(foreign::ForeignDataset::new(instance, t, sample)?))
                };
                registry.add::<dyn Dataset>(Registered::new(info, origin, Arc::new(make)))
            }
            PluginKind::Metric => {
                let t = table::<abi::MetricVtable>(vtable, n).map_err(bad)?;
                let (create, destroy) = lifecycle!(t, n, "metric table").map_err(bad)?;
                foreign::required(n, "metric table", "evaluate", t.evaluate).map_err(bad)?;
                let spec = info.clone();
                let make = move |p: &Params| -> Result<Box<dyn Metric>, PluginError> {
                    let instance = Instance::create(&spec, create, destroy, p)?;
                    let mut input = abi::METRIC_POINTS;
                    if let Some(f) = t.input {
                        foreign::call(&name, |err| unsafe { f(instance.ptr(), &mut input, err) })?;
                    }
                    let input =
                        convert::metric_input_from_abi(input).map_err(|e| foreign::invalid(&name, e.to_string()))?;
                    Ok(Box::new(foreign::ForeignMetric { instance, vtable: t, input }))
                };
                registry.add::<dyn Metric>(Registered::new(info, origin, Arc::new(make)))
            }
            kind => return Err(bad(format!("`{n}`: plugins of kind {} cannot be loaded", kind.name()))),
        };
        registered.map_err(|source| LoadError::Registry { path: path.to_path_buf(), source })
    }
}
