//! Plugin parameters: each plugin declares [`ParamSpec`]s with defaults; the host resolves the
//! user's values against them into [`Params`], refusing unknown names and wrong types.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use crate::PluginError;

/// A parameter value as it comes from configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "\"{v}\""),
        }
    }
}

impl ParamValue {
    fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Float(_) => "a number",
            ParamValue::Int(_) => "an integer",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Str(_) => "a string",
        }
    }
}

/// A parameter a plugin accepts. `default` also fixes its type. The strings are borrowed in the
/// built-ins' `static` tables and owned when they were copied out of a loaded library.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: Cow<'static, str>,
    pub default: ParamDefault,
    pub help: Cow<'static, str>,
}

/// A default that can live in a `static` table.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamDefault {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(Cow<'static, str>),
}

impl ParamDefault {
    pub fn value(&self) -> ParamValue {
        match self {
            ParamDefault::Float(v) => ParamValue::Float(*v),
            ParamDefault::Int(v) => ParamValue::Int(*v),
            ParamDefault::Bool(v) => ParamValue::Bool(*v),
            ParamDefault::Str(v) => ParamValue::Str(v.to_string()),
        }
    }
}

impl ParamSpec {
    pub const fn float(name: &'static str, default: f64, help: &'static str) -> Self {
        ParamSpec { name: Cow::Borrowed(name), default: ParamDefault::Float(default), help: Cow::Borrowed(help) }
    }
    pub const fn int(name: &'static str, default: i64, help: &'static str) -> Self {
        ParamSpec { name: Cow::Borrowed(name), default: ParamDefault::Int(default), help: Cow::Borrowed(help) }
    }
    pub const fn boolean(name: &'static str, default: bool, help: &'static str) -> Self {
        ParamSpec { name: Cow::Borrowed(name), default: ParamDefault::Bool(default), help: Cow::Borrowed(help) }
    }
    pub const fn string(name: &'static str, default: &'static str, help: &'static str) -> Self {
        ParamSpec {
            name: Cow::Borrowed(name),
            default: ParamDefault::Str(Cow::Borrowed(default)),
            help: Cow::Borrowed(help),
        }
    }
}

/// Resolved parameters: every declared parameter present, with the user's value or its default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    plugin: String,
    values: BTreeMap<String, ParamValue>,
}

impl Params {
    /// Resolve `given` against `specs`: unknown names and wrong types are errors that name the
    /// plugin and the parameter. Integers are accepted where a number is expected.
    pub fn resolve(
        plugin: &str,
        specs: &[ParamSpec],
        given: &BTreeMap<String, ParamValue>,
    ) -> Result<Params, PluginError> {
        for name in given.keys() {
            if !specs.iter().any(|s| s.name == name.as_str()) {
                let accepted = if specs.is_empty() {
                    "no parameters".to_string()
                } else {
                    specs.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>().join(", ")
                };
                return Err(PluginError::UnknownParam { plugin: plugin.to_string(), param: name.clone(), accepted });
            }
        }
        let mut values = BTreeMap::new();
        for spec in specs {
            let default = spec.default.value();
            let value = match given.get(spec.name.as_ref()) {
                None => default,
                Some(v) => coerce(plugin, &spec.name, &default, v)?,
            };
            values.insert(spec.name.to_string(), value);
        }
        Ok(Params { plugin: plugin.to_string(), values })
    }

    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// A number parameter (an integer widens). A name the plugin did not declare with that type
    /// is an error, not a panic: the plugin may be a loaded library whose factory asks for a
    /// parameter its descriptor forgot.
    pub fn float(&self, name: &str) -> Result<f64, PluginError> {
        match self.values.get(name) {
            Some(ParamValue::Float(v)) => Ok(*v),
            Some(ParamValue::Int(v)) => Ok(*v as f64),
            other => Err(self.undeclared(name, "number", other)),
        }
    }

    pub fn int(&self, name: &str) -> Result<i64, PluginError> {
        match self.values.get(name) {
            Some(ParamValue::Int(v)) => Ok(*v),
            other => Err(self.undeclared(name, "integer", other)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<bool, PluginError> {
        match self.values.get(name) {
            Some(ParamValue::Bool(v)) => Ok(*v),
            other => Err(self.undeclared(name, "boolean", other)),
        }
    }

    pub fn string(&self, name: &str) -> Result<&str, PluginError> {
        match self.values.get(name) {
            Some(ParamValue::Str(v)) => Ok(v),
            other => Err(self.undeclared(name, "string", other)),
        }
    }

    fn undeclared(&self, name: &str, expected: &str, found: Option<&ParamValue>) -> PluginError {
        let found = found.map_or("no such parameter".to_string(), |v| format!("it is {}", v.type_name()));
        self.invalid(name, format!("read as a {expected}, but {found} was declared"))
    }

    /// An error about one parameter's value, for factories that validate ranges.
    pub fn invalid(&self, name: &str, message: impl Into<String>) -> PluginError {
        PluginError::ParamValue { plugin: self.plugin.clone(), param: name.to_string(), message: message.into() }
    }
}

fn coerce(plugin: &str, name: &str, default: &ParamValue, v: &ParamValue) -> Result<ParamValue, PluginError> {
    let ok = match (default, v) {
        (ParamValue::Float(_), ParamValue::Int(i)) => Some(ParamValue::Float(*i as f64)),
        (ParamValue::Int(_), ParamValue::Float(f)) if f.fract() == 0.0 => Some(ParamValue::Int(*f as i64)),
        (ParamValue::Float(_), ParamValue::Float(_))
        | (ParamValue::Int(_), ParamValue::Int(_))
        | (ParamValue::Bool(_), ParamValue::Bool(_))
        | (ParamValue::Str(_), ParamValue::Str(_)) => Some(v.clone()),
        _ => None,
    };
    ok.ok_or_else(|| PluginError::ParamType {
        plugin: plugin.to_string(),
        param: name.to_string(),
        expected: default.type_name(),
        got: v.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] =
        &[ParamSpec::float("sigma_min", 1e-4, "noise at t = 1"), ParamSpec::int("steps", 1000, "number of steps")];

    #[test]
    fn defaults_fill_in_and_ints_widen_to_floats() {
        let mut given = BTreeMap::new();
        given.insert("sigma_min".to_string(), ParamValue::Int(0));
        let p = Params::resolve("lipman", SPECS, &given).unwrap();
        assert_eq!(p.float("sigma_min"), Ok(0.0));
        assert_eq!(p.int("steps"), Ok(1000));
        let err = p.boolean("steps").unwrap_err().to_string();
        assert!(err.contains("`steps`") && err.contains("boolean") && err.contains("an integer"), "{err}");
        assert!(p.float("nothing").is_err());
    }

    #[test]
    fn unknown_and_mistyped_params_are_refused_by_name() {
        let mut given = BTreeMap::new();
        given.insert("sigma".to_string(), ParamValue::Float(0.1));
        let err = Params::resolve("lipman", SPECS, &given).unwrap_err().to_string();
        assert!(err.contains("`sigma`") && err.contains("lipman") && err.contains("sigma_min"), "{err}");
        let mut given = BTreeMap::new();
        given.insert("steps".to_string(), ParamValue::Str("many".into()));
        let err = Params::resolve("ddpm", SPECS, &given).unwrap_err().to_string();
        assert!(err.contains("an integer") && err.contains("many"), "{err}");
    }
}
