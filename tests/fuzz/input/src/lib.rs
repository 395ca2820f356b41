//! The structured inputs of the fuzz targets (decoded from libFuzzer's bytes by `arbitrary`),
//! and an encoder that writes a value as the bytes that decode to it, for the seed corpora.
//! The script target takes its source as plain text and has no type here.

use arbitrary::Arbitrary;

pub mod encode;

/// The config resolver's layers: `runner.toml`, a TOML file a script loads, `RUNNER_*`
/// variables and `--set` arguments.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct ConfigInput {
    /// Variables, each name without its `RUNNER_` prefix (`TRAIN__LR`).
    pub env: Vec<(String, String)>,
    /// `--set` arguments (`train.lr=3e-4`).
    pub sets: Vec<String>,
    /// `runner.toml`, where there is one.
    pub runner_toml: Option<String>,
    /// The file the script loads, above `runner.toml`.
    pub loaded_toml: String,
}

/// A plugin library's descriptor, built in memory with pointers that are valid for what they
/// claim (sizes and counts the host must check are fuzzed; lengths never point past a buffer).
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct DescriptorInput {
    /// `runner_plugin_library` returned no descriptor.
    pub null: bool,
    /// The descriptor's `size` field; `None`: its true size.
    pub size: Option<u64>,
    pub name: AbiStr,
    pub version: AbiStr,
    /// What every plugin's `create` answers (`STATUS_OK`, …) when a registered plugin is
    /// built, and the message length it claims to have written (`None`: the true one).
    pub create_status: i32,
    pub create_message_len: Option<u64>,
    pub plugins: AbiArray<PluginInput>,
}

/// A string of the ABI.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct AbiStr {
    /// The buffer the string points into (any bytes, UTF-8 or not).
    pub bytes: Vec<u8>,
    /// A null pointer (with `len` as given, 0 where `None`).
    pub null: bool,
    /// The length: `None` is the whole buffer; otherwise it is cut to the buffer.
    pub len: Option<u64>,
}

/// A (pointer, count) pair of the ABI.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct AbiArray<T> {
    pub items: Vec<T>,
    /// A null pointer, with `count` as given (the number of items where `None`).
    pub null: bool,
    /// The count: `None` is every item; otherwise it is cut to the items there are.
    pub count: Option<u64>,
}

#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct PluginInput {
    /// The record's `size` field; `None`: its true size.
    pub size: Option<u64>,
    /// `KIND_SCHEDULE` … `KIND_METRIC`, or anything else.
    pub kind: u32,
    pub name: AbiStr,
    pub summary: AbiStr,
    pub params: AbiArray<ParamInput>,
    /// The function table; `None`: a null pointer.
    pub table: Option<TableInput>,
}

#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct ParamInput {
    pub name: AbiStr,
    pub help: AbiStr,
    /// `PARAM_FLOAT` … `PARAM_STR`, or anything else.
    pub kind: u32,
    pub boolean: u32,
    pub float: f64,
    pub int: i64,
    pub string: AbiStr,
}

/// The table of the plugin's kind.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct TableInput {
    /// The table's `size` field; `None`: its true size. The buffer is as long as the size says
    /// (up to every field of the largest table), so a host that reads past it is caught.
    pub size: Option<u64>,
    /// Which function fields are set (bit i: the i-th function after `size`), to functions of
    /// the harness; the others are null.
    pub functions: u16,
}
