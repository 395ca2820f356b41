//! One registry table per plugin kind: name → factory(params) → boxed trait object.
//! Each kind's table lives beside its built-ins (`schedules::REGISTRY`, `solvers::REGISTRY`, …);
//! adding a built-in is one file and one line in its table.

use std::collections::BTreeMap;

use runner_sdk::{ParamValue, Params, PluginError, PluginInfo, PluginKind};
use thiserror::Error;

/// A registered plugin: what it is called and how to build it from resolved parameters.
pub struct Entry<T: ?Sized + 'static> {
    pub info: PluginInfo,
    pub make: fn(&Params) -> Result<Box<T>, PluginError>,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("unknown {kind} `{name}`; known: {known}")]
    Unknown {
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// Look `name` up in `table` and build it with `given` parameters (defaults fill the rest).
pub fn build<T: ?Sized + 'static>(
    table: &[Entry<T>],
    kind: PluginKind,
    name: &str,
    given: &BTreeMap<String, ParamValue>,
) -> Result<Box<T>, RegistryError> {
    let entry = find(table, kind, name)?;
    let params = Params::resolve(entry.info.name, entry.info.params, given)?;
    Ok((entry.make)(&params)?)
}

/// The entry called `name`, or an error that lists the known names.
pub fn find<'a, T: ?Sized + 'static>(
    table: &'a [Entry<T>],
    kind: PluginKind,
    name: &str,
) -> Result<&'a Entry<T>, RegistryError> {
    table.iter().find(|e| e.info.name == name).ok_or_else(|| RegistryError::Unknown {
        kind: kind.name(),
        name: name.to_string(),
        known: table.iter().map(|e| e.info.name).collect::<Vec<_>>().join(", "),
    })
}

/// Every registered plugin of every kind, for `runner plugins`.
pub fn all() -> Vec<PluginInfo> {
    fn infos<T: ?Sized>(t: &[Entry<T>]) -> impl Iterator<Item = PluginInfo> + '_ {
        t.iter().map(|e| e.info.clone())
    }
    let mut out: Vec<PluginInfo> = Vec::new();
    out.extend(infos(crate::schedules::REGISTRY));
    out.extend(infos(crate::couplings::REGISTRY));
    out.extend(crate::targets::infos());
    out.extend(infos(crate::solvers::REGISTRY));
    out.extend(infos(crate::grids::REGISTRY));
    out.extend(infos(crate::data::REGISTRY));
    out.extend(infos(crate::metrics::REGISTRY));
    out
}
