//! Layered configuration (DESIGN.md §4), later layers win:
//! built-in defaults < `runner.toml` < TOML files the script loads < `RUNNER_*` environment
//! variables (`__` nests: `RUNNER_TRAIN__LR=3e-4` is `train.lr`) < maps passed in the script
//! < `--set key=value` on the command line.
//!
//! figment merges the layers and reports type errors with the key and the layer's name; the
//! provenance of every key (file and line, variable, script location, `--set`) is kept here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Num, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::{ConfigError, RunnerConfig};

/// Where a layer came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Default,
    /// `runner.toml` in the working directory.
    RunnerToml(PathBuf),
    /// A TOML file loaded by the script.
    ScriptToml(PathBuf),
    Env,
    /// A map passed in the script, with its location (`script.rhai:12:5`).
    Script(String),
    /// `--set` on the command line.
    Set,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::RunnerToml(p) | Origin::ScriptToml(p) => write!(f, "{}", p.display()),
            Origin::Env => write!(f, "environment"),
            Origin::Script(at) => write!(f, "script map at {at}"),
            Origin::Set => write!(f, "--set"),
        }
    }
}

/// One layer: its origin, its values, and for files the text (to find a key's line).
#[derive(Debug, Clone)]
struct Layer {
    origin: Origin,
    text: Option<String>,
    dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let meta = Metadata::named(self.origin.to_string());
        match &self.origin {
            Origin::RunnerToml(p) | Origin::ScriptToml(p) => meta.source(Source::File(p.clone())),
            _ => meta,
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

impl Layer {
    /// Where `key` (dotted) is set in this layer, if it is.
    fn locate(&self, key: &str) -> Option<String> {
        let segments: Vec<&str> = key.split('.').collect();
        lookup(&self.dict, &segments)?;
        Some(match &self.origin {
            Origin::RunnerToml(p) | Origin::ScriptToml(p) => {
                match self.text.as_deref().and_then(|t| toml_line(t, key)) {
                    Some((line, column)) => format!("{}:{line}:{column}", p.display()),
                    None => p.display().to_string(),
                }
            }
            Origin::Env => format!("env RUNNER_{}", key.to_uppercase().replace('.', "__")),
            Origin::Set => format!("--set {key}"),
            other => other.to_string(),
        })
    }
}

/// The layers of one session: defaults, files, environment and `--set`; script maps are
/// given per trial to [`Layers::resolve`].
#[derive(Debug, Clone)]
pub struct Layers {
    defaults: Layer,
    files: Vec<Layer>,
    env: Layer,
    sets: Layer,
}

/// A resolved config and the source of every key.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: RunnerConfig,
    /// Dotted key → where its value came from (`runner.toml:3`, `env RUNNER_TRAIN__LR`, …).
    pub sources: BTreeMap<String, String>,
}

impl Default for Layers {
    fn default() -> Self {
        Layers::new()
    }
}

impl Layers {
    /// Built-in defaults only.
    pub fn new() -> Layers {
        let defaults = match Value::serialize(RunnerConfig::default()) {
            Ok(Value::Dict(_, d)) => d,
            other => unreachable!("the default config serializes to a table: {other:?}"),
        };
        let empty = |origin| Layer { origin, text: None, dict: Dict::new() };
        Layers {
            defaults: Layer { origin: Origin::Default, text: None, dict: defaults },
            files: Vec::new(),
            env: empty(Origin::Env),
            sets: empty(Origin::Set),
        }
    }

    /// The layers a command line sees: `runner.toml` in `dir` if it exists, the `RUNNER_*`
    /// variables among `env`, and the `--set` arguments.
    pub fn discover(
        dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
        sets: &[String],
    ) -> Result<Layers, ConfigError> {
        let mut layers = Layers::new();
        let runner_toml = dir.join("runner.toml");
        if runner_toml.is_file() {
            let layer = toml_layer(&runner_toml, Origin::RunnerToml(runner_toml.clone()))?;
            layers.files.push(layer);
        }
        layers.set_env(env)?;
        layers.set_args(sets)?;
        Ok(layers)
    }

    /// Add a TOML file loaded by a script (above `runner.toml` and earlier loads, below the
    /// environment).
    pub fn load_toml(&mut self, path: &Path) -> Result<(), ConfigError> {
        let layer = toml_layer(path, Origin::ScriptToml(path.to_path_buf()))?;
        self.files.push(layer);
        Ok(())
    }

    /// Take the `RUNNER_*` variables among `env`. Variables whose first segment is not a
    /// config key (e.g. `RUNNER_OS` of a CI system) are not ours and are ignored.
    pub fn set_env(&mut self, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
        let mut dict = Dict::new();
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("RUNNER_") else { continue };
            let key = rest.to_lowercase().replace("__", ".");
            let first = key.split('.').next().unwrap_or_default();
            if !self.defaults.dict.contains_key(first) {
                continue;
            }
            insert(&mut dict, &key, parse_value(&raw)).map_err(|message| ConfigError::BadEnv { name, message })?;
        }
        self.env.dict = dict;
        Ok(())
    }

    /// Take `--set key=value` arguments; values parse as TOML (numbers, booleans, arrays,
    /// inline tables), anything else is a string.
    pub fn set_args(&mut self, sets: &[String]) -> Result<(), ConfigError> {
        let mut dict = Dict::new();
        for arg in sets {
            let bad = |message: &str| ConfigError::BadSet { arg: arg.clone(), message: message.to_string() };
            let (key, raw) = arg.split_once('=').ok_or_else(|| bad("expected KEY=VALUE, as in --set train.lr=3e-4"))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(bad("the key is empty"));
            }
            insert(&mut dict, key, parse_value(raw.trim())).map_err(|m| bad(&m))?;
        }
        self.sets.dict = dict;
        Ok(())
    }

    /// Resolve a config with the given script maps (each with its location), in order.
    pub fn resolve(&self, script_maps: &[(String, Dict)]) -> Result<Resolved, ConfigError> {
        let script: Vec<Layer> = script_maps
            .iter()
            .map(|(at, dict)| Layer { origin: Origin::Script(at.clone()), text: None, dict: dict.clone() })
            .collect();
        let mut order: Vec<&Layer> = vec![&self.defaults];
        order.extend(self.files.iter());
        order.push(&self.env);
        order.extend(script.iter());
        order.push(&self.sets);

        for layer in &order[1..] {
            check_tables(&self.defaults.dict, layer)?;
        }
        let figment = order.iter().fold(Figment::new(), |f, layer| f.merge((*layer).clone()));
        let config: RunnerConfig = figment.extract().map_err(|e| extract_error(e, &order))?;

        let mut sources = BTreeMap::new();
        let value = Value::serialize(&config).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        for key in leaf_keys(&value) {
            let source = order.iter().rev().find_map(|l| l.locate(&key)).unwrap_or_else(|| "default".into());
            sources.insert(key, source);
        }
        Ok(Resolved { config, sources })
    }
}

impl Resolved {
    /// The config as TOML, as written to each trial's `config.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.config).expect("a resolved config is valid TOML")
    }

    /// Every key with its value and source, one a line, for `runner config`.
    pub fn describe(&self) -> String {
        let value = Value::serialize(&self.config).expect("config serializes");
        let mut lines = Vec::new();
        for key in leaf_keys(&value) {
            let v = value.find_ref(&key).map(render).unwrap_or_default();
            let src = self.sources.get(&key).map(String::as_str).unwrap_or("default");
            lines.push((format!("{key} = {v}"), src.to_string()));
        }
        let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        lines.iter().map(|(l, s)| format!("{l:width$}  # {s}\n")).collect()
    }
}

/// Refuse a value where the schema has a table (`train = 3`): merged, it would replace the
/// table without an error, and every key of it would quietly keep its default.
fn check_tables(schema: &Dict, layer: &Layer) -> Result<(), ConfigError> {
    check_tables_at(schema, &layer.dict, layer, "")
}

/// [`check_tables`] for the part `dict` of `layer` at dotted `prefix`.
fn check_tables_at(schema: &Dict, dict: &Dict, layer: &Layer, prefix: &str) -> Result<(), ConfigError> {
    for (key, value) in dict {
        let Some(Value::Dict(_, table)) = schema.get(key) else { continue };
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            Value::Dict(_, inner) => check_tables_at(table, inner, layer, &full)?,
            other => {
                let keys: Vec<&str> = table.keys().map(String::as_str).collect();
                let source = layer.locate(&full).unwrap_or_else(|| layer.origin.to_string());
                let why = format!("invalid type: found {}, expected a table of {}", other.to_actual(), keys.join(", "));
                return Err(ConfigError::key(&full, &source, why));
            }
        }
    }
    Ok(())
}

/// A value of the wrong type, or a key the schema does not know, named with the layer that set
/// it (file and line, variable, script map, `--set`).
fn extract_error(e: figment::Error, order: &[&Layer]) -> ConfigError {
    let first = e.clone().into_iter().next();
    match first {
        Some(err) if !err.path.is_empty() => {
            let key = err.path.join(".");
            let source_desc = order.iter().rev().find_map(|l| l.locate(&key)).unwrap_or_else(|| "default".into());
            let message = match &err.kind {
                figment::error::Kind::UnknownField(field, known) => format!(
                    "unknown key `{field}`{}; known: {}",
                    crate::suggest::hint(field, known.iter().copied()),
                    known.join(", ")
                ),
                kind => kind.to_string(),
            };
            ConfigError::key(&key, &source_desc, message)
        }
        _ => ConfigError::Invalid(describe_figment_error(e)),
    }
}

/// figment's message names the key and the layer; drop its profile prefix ("default.").
fn describe_figment_error(e: figment::Error) -> String {
    e.into_iter().map(|e| e.to_string().replace("key \"default.", "key \"")).collect::<Vec<_>>().join("; ")
}

fn toml_layer(path: &Path, origin: Origin) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read { path: path.to_path_buf(), source: e })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let (line, column) = crate::source::line_column(&text, e.span().map_or(0, |s| s.start));
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().to_string(),
            excerpt: crate::source::excerpt(&text, line, Some(column)),
        }
    })?;
    let dict = match Value::serialize(table) {
        Ok(Value::Dict(_, d)) => d,
        _ => Dict::new(),
    };
    Ok(Layer { origin, text: Some(text), dict })
}

/// A command-line or environment value: TOML if it parses as a TOML value, else a string.
pub fn parse_value(raw: &str) -> Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .and_then(|v| Value::serialize(v).ok())
        .unwrap_or_else(|| Value::from(raw.to_string()))
}

/// Insert `value` at the dotted `key`, creating tables on the way.
pub fn insert(dict: &mut Dict, key: &str, value: Value) -> Result<(), String> {
    let mut segments: Vec<&str> = key.split('.').collect();
    let last = segments.pop().unwrap_or_default();
    let mut cur = dict;
    for seg in segments {
        let entry = cur.entry(seg.to_string()).or_insert_with(|| Value::from(Dict::new()));
        cur = match entry {
            Value::Dict(_, d) => d,
            _ => return Err(format!("`{seg}` is a value, not a table")),
        };
    }
    if last.is_empty() {
        return Err("empty key segment".into());
    }
    cur.insert(last.to_string(), value);
    Ok(())
}

fn lookup<'a>(dict: &'a Dict, segments: &[&str]) -> Option<&'a Value> {
    let (first, rest) = segments.split_first()?;
    let v = dict.get(*first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Dict(_, d) => lookup(d, rest),
        _ => None,
    }
}

/// Dotted keys of every leaf (arrays count as leaves).
fn leaf_keys(value: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Dict(_, d) if !d.is_empty() => {
                for (k, v) in d {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, v, out);
                }
            }
            _ if !prefix.is_empty() => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

fn render(v: &Value) -> String {
    match v {
        Value::String(_, s) => format!("{s:?}"),
        Value::Array(_, a) => format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Dict(_, d) if d.is_empty() => "{}".into(),
        Value::Dict(_, d) => {
            format!("{{ {} }}", d.iter().map(|(k, v)| format!("{k} = {}", render(v))).collect::<Vec<_>>().join(", "))
        }
        Value::Num(_, n) => match n {
            Num::F32(f) => format!("{f:?}"),
            Num::F64(f) => format!("{f:?}"),
            n => n.to_i128().map(|i| i.to_string()).or_else(|| n.to_u128().map(|u| u.to_string())).unwrap_or_default(),
        },
        Value::Bool(_, b) => b.to_string(),
        Value::Char(_, c) => format!("{c:?}"),
        Value::Empty(..) => "\"\"".into(),
    }
}

/// How many characters of `line` come before `value` (the text after its `=`) starts.
fn value_column(line: &str, value: &str) -> usize {
    let value_start = line.len() - value.len() + (value.len() - value.trim_start().len());
    line[..value_start].chars().count()
}

/// The 1-based line and column that set dotted `key` in TOML `text`: a `key = …` line under its
/// `[table]` header, or failing that the line of the nearest enclosing key (inline tables).
fn toml_line(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut table = String::new();
    let mut found: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let indent = raw.chars().take_while(|c| c.is_whitespace()).count();
        let at = (i + 1, indent + 1);
        if line.starts_with("[[") {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = unquote_path(header);
            found.entry(table.clone()).or_insert(at);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, value)) = line.split_once('=') {
            let k = unquote_path(k);
            let full = if table.is_empty() { k } else { format!("{table}.{k}") };
            // The column of the value, which is what a bad-value message is about.
            found.entry(full).or_insert((i + 1, indent + value_column(line, value) + 1));
        }
    }
    let mut probe = key.to_string();
    loop {
        if let Some(n) = found.get(&probe) {
            return Some(*n);
        }
        probe = probe.rsplit_once('.')?.0.to_string();
    }
}

fn unquote_path(s: &str) -> String {
    s.split('.').map(|p| p.trim().trim_matches('"').trim_matches('\'')).collect::<Vec<_>>().join(".")
}
