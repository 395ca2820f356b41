//! The run-time registry: every plugin a run can name, of every kind, built at start-up from
//! the built-in tables, the loaded libraries and the script plugins, and passed to whatever
//! resolves a name. It owns its strings, knows where each plugin came from, and refuses a
//! second plugin of a kind under a name already taken, naming both origins.
//!
//! Built-ins stay `static` tables beside their implementations (`schedules::REGISTRY`, …):
//! adding one is one file and one line in its table. This module is the only one that names
//! every kind ([`Pluggable`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use runner_sdk::export::{Constructor, Export};
use runner_sdk::{
    Coupling, Dataset, Metric, ParamValue, Params, PluginError, PluginInfo, PluginKind, Schedule, Solver, TimeGrid,
};
use thiserror::Error;

/// A built-in's table row: what it is called and how to build it from resolved parameters.
pub struct Entry<T: ?Sized + 'static> {
    pub info: PluginInfo,
    pub make: fn(&Params) -> Result<Box<T>, PluginError>,
}

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    /// A dynamic library: its file, and the name and version its descriptor declares.
    Library {
        path: PathBuf,
        library: String,
        version: String,
    },
    /// A rhai file.
    Script {
        path: PathBuf,
    },
    /// A plugin crate linked into the binary.
    Linked {
        library: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn => write!(f, "built-in"),
            Origin::Library { path, library, version } => write!(f, "{library} {version} ({})", path.display()),
            Origin::Script { path } => write!(f, "script {}", path.display()),
            Origin::Linked { library } => write!(f, "{library} (linked)"),
        }
    }
}

/// Builds a plugin from its resolved parameters.
pub type Factory<T> = Arc<dyn Fn(&Params) -> Result<Box<T>, PluginError> + Send + Sync>;

/// A plugin the registry holds.
pub struct Registered<T: ?Sized> {
    pub info: PluginInfo,
    pub origin: Origin,
    make: Factory<T>,
}

impl<T: ?Sized> Clone for Registered<T> {
    fn clone(&self) -> Self {
        Registered { info: self.info.clone(), origin: self.origin.clone(), make: self.make.clone() }
    }
}

impl<T: ?Sized> Registered<T> {
    pub fn new(info: PluginInfo, origin: Origin, make: Factory<T>) -> Registered<T> {
        Registered { info, origin, make }
    }

    /// Build it with `given` parameters (its defaults fill the rest).
    pub fn build(&self, given: &BTreeMap<String, ParamValue>) -> Result<Box<T>, PluginError> {
        let params = Params::resolve(&self.info.name, &self.info.params, given)?;
        (self.make)(&params)
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("unknown {kind} `{name}`{hint}; known: {known}")]
    Unknown { kind: &'static str, name: String, hint: String, known: String },
    #[error("{kind} `{name}` of {new} is already registered by {old}")]
    Duplicate { kind: &'static str, name: String, old: Box<Origin>, new: Box<Origin> },
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The kinds a registry holds tables of.
pub trait Pluggable: 'static {
    const KIND: PluginKind;
    fn table(registry: &Registry) -> &Vec<Registered<Self>>;
    fn table_mut(registry: &mut Registry) -> &mut Vec<Registered<Self>>;
}

macro_rules! pluggable {
    ($($trait:ident => $field:ident, $kind:ident;)*) => {
        /// Every plugin a run can name, by kind.
        #[derive(Clone, Default)]
        pub struct Registry {
            $($field: Vec<Registered<dyn $trait>>,)*
            /// The plugin files loaded so far (canonical paths).
            pub(super) loaded: Vec<PathBuf>,
        }

        $(impl Pluggable for dyn $trait {
            const KIND: PluginKind = PluginKind::$kind;
            fn table(registry: &Registry) -> &Vec<Registered<Self>> {
                &registry.$field
            }
            fn table_mut(registry: &mut Registry) -> &mut Vec<Registered<Self>> {
                &mut registry.$field
            }
        })*

        impl Registry {
            /// The built-in plugins.
            pub fn builtin() -> Registry {
                let mut registry = Registry::default();
                $(for entry in crate::$field::REGISTRY {
                    let make = entry.make;
                    registry.add::<dyn $trait>(Registered::new(entry.info.clone(), Origin::BuiltIn, Arc::new(make)))
                        .expect("built-in names are unique");
                })*
                registry
            }

            /// What every registered plugin is and where it came from, kind by kind (the
            /// targets, which are closed-form conversions and not pluggable, included).
            pub fn plugins(&self) -> Vec<(&PluginInfo, &Origin)> {
                let mut out = Vec::new();
                $(out.extend(self.$field.iter().map(|r| (&r.info, &r.origin)));)*
                out.extend(TARGETS.iter().map(|info| (info, &Origin::BuiltIn)));
                out.sort_by_key(|(info, _)| info.kind);
                out
            }
        }
    };
}

pluggable! {
    Schedule => schedules, Schedule;
    Coupling => couplings, Coupling;
    Solver => solvers, Solver;
    TimeGrid => grids, Grid;
    Dataset => data, Dataset;
    Metric => metrics, Metric;
}

static TARGETS: std::sync::LazyLock<Vec<PluginInfo>> = std::sync::LazyLock::new(crate::targets::infos);

impl Registry {
    /// Add a plugin; a name its kind already has is refused with both origins.
    pub fn add<T: Pluggable + ?Sized>(&mut self, plugin: Registered<T>) -> Result<(), RegistryError> {
        let table = T::table_mut(self);
        if let Some(old) = table.iter().find(|r| r.info.name == plugin.info.name) {
            return Err(RegistryError::Duplicate {
                kind: T::KIND.name(),
                name: plugin.info.name.to_string(),
                old: Box::new(old.origin.clone()),
                new: Box::new(plugin.origin),
            });
        }
        table.push(plugin);
        Ok(())
    }

    /// The plugin of kind `T` called `name`, or an error that lists the known names.
    pub fn find<T: Pluggable + ?Sized>(&self, name: &str) -> Result<&Registered<T>, RegistryError> {
        let table = T::table(self);
        table.iter().find(|r| r.info.name == name).ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|r| r.info.name.as_ref()).collect();
            RegistryError::Unknown {
                kind: T::KIND.name(),
                name: name.to_string(),
                hint: crate::suggest::hint(name, names.iter().copied()),
                known: names.join(", "),
            }
        })
    }

    /// Look `name` up and build it with `given` parameters (defaults fill the rest).
    pub fn build<T: Pluggable + ?Sized>(
        &self,
        name: &str,
        given: &BTreeMap<String, ParamValue>,
    ) -> Result<Box<T>, RegistryError> {
        Ok(self.find::<T>(name)?.build(given)?)
    }

    /// Register the plugins of a plugin crate linked into this binary (its `plugins()`, which
    /// `export_plugin!` emits beside the C entry points): the same code a loaded library runs,
    /// called directly.
    pub fn add_linked(&mut self, exports: Vec<Export>, origin: Origin) -> Result<(), RegistryError> {
        for e in exports {
            let (info, origin) = (e.info, origin.clone());
            match e.constructor {
                Constructor::Schedule(f) => self.add::<dyn Schedule>(Registered::new(info, origin, f))?,
                Constructor::Coupling(f) => self.add::<dyn Coupling>(Registered::new(info, origin, f))?,
                Constructor::Solver(f) => self.add::<dyn Solver>(Registered::new(info, origin, f))?,
                Constructor::Grid(f) => self.add::<dyn TimeGrid>(Registered::new(info, origin, f))?,
                Constructor::Dataset(f) => self.add::<dyn Dataset>(Registered::new(info, origin, f))?,
                Constructor::Metric(f) => self.add::<dyn Metric>(Registered::new(info, origin, f))?,
            }
        }
        Ok(())
    }

    /// The names of every plugin of `kind`, in registration order.
    pub fn names(&self, kind: PluginKind) -> Vec<&str> {
        self.plugins().into_iter().filter(|(info, _)| info.kind == kind).map(|(info, _)| info.name.as_ref()).collect()
    }
}
