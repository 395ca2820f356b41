//! Conversions between rhai values and the config / result types.

use figment::value::{Dict, Value};
use rhai::{Dynamic, Map};
use runner_sdk::ParamValue;

use crate::report::Group;
use crate::sweep::Row;

/// A rhai map as a config layer. Keys may be dotted (`"path.schedule"`) or nested maps;
/// both merge into one table.
pub fn map_to_dict(map: &Map) -> Result<Dict, String> {
    let json: serde_json::Value =
        rhai::serde::from_dynamic(&Dynamic::from_map(map.clone())).map_err(|e| e.to_string())?;
    let mut dict = Dict::new();
    if let serde_json::Value::Object(obj) = json {
        for (k, v) in obj {
            merge_at(&mut dict, &k, json_to_value(v)?)?;
        }
    }
    Ok(dict)
}

fn json_to_value(v: serde_json::Value) -> Result<Value, String> {
    match v {
        serde_json::Value::Object(obj) => {
            let mut dict = Dict::new();
            for (k, v) in obj {
                merge_at(&mut dict, &k, json_to_value(v)?)?;
            }
            Ok(Value::from(dict))
        }
        serde_json::Value::Null => Err("() (unit) is not a config value".into()),
        other => Value::serialize(other).map_err(|e| e.to_string()),
    }
}

/// Put `value` at dotted `key`, merging tables that meet.
fn merge_at(dict: &mut Dict, key: &str, value: Value) -> Result<(), String> {
    let (head, rest) = match key.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (key, None),
    };
    let value = match rest {
        Some(r) => {
            let mut inner = Dict::new();
            merge_at(&mut inner, r, value)?;
            Value::from(inner)
        }
        None => value,
    };
    match (dict.get_mut(head), value) {
        (Some(Value::Dict(_, existing)), Value::Dict(_, new)) => {
            for (k, v) in new {
                merge_at(existing, &k, v)?;
            }
        }
        (_, value) => {
            dict.insert(head.to_string(), value);
        }
    }
    Ok(())
}

/// A rhai value as a plugin parameter.
pub fn param_value(name: &str, v: &Dynamic) -> Result<ParamValue, String> {
    if let Some(i) = v.clone().try_cast::<i64>() {
        return Ok(ParamValue::Int(i));
    }
    if let Some(f) = v.clone().try_cast::<f64>() {
        return Ok(ParamValue::Float(f));
    }
    if let Some(b) = v.clone().try_cast::<bool>() {
        return Ok(ParamValue::Bool(b));
    }
    if v.is_string() {
        return Ok(ParamValue::Str(v.to_string()));
    }
    Err(format!("parameter `{name}`: {} is not a number, boolean or string", v.type_name()))
}

/// A summary row as a flat rhai map (metrics as top-level keys).
pub fn row_to_map(row: &Row) -> Map {
    let mut map = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        map.insert(k.into(), v);
    };
    put("trial", row.trial.clone().into());
    put("dataset", row.dataset.clone().into());
    put("method", row.method.clone().into());
    put("schedule", row.schedule.clone().into());
    put("target", row.target.clone().into());
    put("coupling", row.coupling.clone().into());
    put("solver", row.solver.clone().into());
    put("nfe", (row.nfe as i64).into());
    put("seed", (row.seed as i64).into());
    put("train_seconds", row.train_seconds.into());
    put("sample_seconds", row.sample_seconds.into());
    for (k, v) in &row.metrics {
        put(k, (*v).into());
    }
    map
}

/// An aggregated group as scripts see it: its key values by key name, `solver`, `nfe`, `n` (its
/// rows), `over` (the values aggregated across), `trials`, and per metric `#{ n, mean, std }`
/// (`std` is `()` for a single value).
pub fn group_to_map(group: &Group) -> Map {
    let mut map = Map::new();
    for (k, v) in &group.key {
        map.insert(k.as_str().into(), v.clone().into());
    }
    map.insert("solver".into(), group.solver.clone().into());
    map.insert("nfe".into(), (group.nfe as i64).into());
    map.insert("n".into(), (group.over.len() as i64).into());
    map.insert("over".into(), group.over.iter().map(|v| Dynamic::from(v.clone())).collect::<rhai::Array>().into());
    map.insert("trials".into(), group.trials.iter().map(|v| Dynamic::from(v.clone())).collect::<rhai::Array>().into());
    for (name, spread) in &group.metrics {
        let mut m = Map::new();
        m.insert("n".into(), (spread.n as i64).into());
        m.insert("mean".into(), spread.mean.into());
        m.insert("std".into(), spread.std.map_or(Dynamic::UNIT, Dynamic::from));
        map.insert(name.as_str().into(), m.into());
    }
    map
}

/// Any serializable value (e.g. a resolved config) as a rhai value.
pub fn to_dynamic<T: serde::Serialize>(value: &T) -> Dynamic {
    rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
}
