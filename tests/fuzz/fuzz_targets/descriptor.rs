//! Plugin descriptors: the host reads the `runner_abi::Library` a plugin library returns (its
//! size, name and version, every plugin's record, parameters and function table) and registers
//! the plugins, checking each table's size and required functions. The descriptor is built in
//! memory from the fuzzer's input, with every pointer valid for what it claims; the sizes,
//! counts, kinds, strings (UTF-8 or not, null, shorter than their buffer) and parameter values
//! the host must check are the fuzzer's. Function fields are null or functions of this harness
//! that never build anything.
//!
//! Checks that the host never crashes or reads past what a descriptor provides (AddressSanitizer
//! watches every buffer), that a refused library registers nothing, with a message, and that
//! every plugin of an accepted one is registered and fails to build with `create`'s error.

#![no_main]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use runner::plugins::{Origin, Registry};
use runner::sdk::{Coupling, Dataset, Metric, PluginKind, Schedule, Solver, TimeGrid};
use runner_abi as abi;
use runner_fuzz_input::{AbiArray, AbiStr, DescriptorInput, PluginInput, TableInput};

static BUILTIN: LazyLock<Registry> = LazyLock::new(Registry::builtin);

thread_local! {
    /// What `create` answers: a status, and the message length it claims.
    static CREATE: Cell<(abi::Status, Option<u64>)> = const { Cell::new((abi::STATUS_ERROR, None)) };
}

/// Everything a descriptor points into. It must outlive the registry, whose factories keep
/// pointers to the tables.
#[derive(Default)]
struct Memory {
    bytes: Vec<Vec<u8>>,
    params: Vec<Vec<abi::Param>>,
    plugins: Vec<abi::Plugin>,
    words: Vec<Vec<u64>>,
}

impl Memory {
    fn str(&mut self, s: &AbiStr) -> abi::Str {
        if s.null {
            return abi::Str { ptr: std::ptr::null(), len: s.len.unwrap_or(0) as usize };
        }
        let buffer = s.bytes.clone();
        let len = s.len.map_or(buffer.len(), |len| (len % (buffer.len() as u64 + 1)) as usize);
        let str = abi::Str { ptr: buffer.as_ptr(), len };
        self.bytes.push(buffer);
        str
    }

    /// The (pointer, count) of `items`, kept here by `keep`.
    fn array<T, I>(items: Vec<T>, a: &AbiArray<I>, keep: impl FnOnce(Vec<T>) -> *const T) -> (*const T, usize) {
        if a.null {
            return (std::ptr::null(), a.count.map_or(items.len(), |c| c as usize));
        }
        let count = a.count.map_or(items.len(), |c| (c % (items.len() as u64 + 1)) as usize);
        (keep(items), count)
    }

    /// A buffer as long as `size` says (at least its first word, at most `most` words) that
    /// starts with `image`, with `size` in its first word.
    fn sized(&mut self, image: &[u8], size: usize, most: usize) -> *const c_void {
        let mut words = vec![0u64; size.div_ceil(8).clamp(1, most)];
        let n = image.len().min(words.len() * 8);
        // SAFETY: `words` holds at least `n` bytes.
        unsafe { std::ptr::copy_nonoverlapping(image.as_ptr(), words.as_mut_ptr() as *mut u8, n) };
        words[0] = size as u64;
        let ptr = words.as_ptr() as *const c_void;
        self.words.push(words);
        ptr
    }

    fn table(&mut self, kind: u32, t: &TableInput) -> *const c_void {
        let image = table_image(kind, t.functions);
        let size = t.size.map_or(image.len(), |s| s as usize);
        self.sized(&image, size, LARGEST_TABLE.div_ceil(8))
    }

    fn plugin(&mut self, p: &PluginInput) -> abi::Plugin {
        let params: Vec<abi::Param> = p
            .params
            .items
            .iter()
            .map(|q| abi::Param {
                name: self.str(&q.name),
                help: self.str(&q.help),
                kind: q.kind,
                boolean: q.boolean,
                float: q.float,
                int: q.int,
                string: self.str(&q.string),
            })
            .collect();
        let (params, n_params) = Memory::array(params, &p.params, |v| {
            self.params.push(v);
            self.params.last().unwrap().as_ptr()
        });
        abi::Plugin {
            size: p.size.map_or(size_of::<abi::Plugin>(), |s| s as usize),
            kind: p.kind,
            name: self.str(&p.name),
            summary: self.str(&p.summary),
            params,
            n_params,
            vtable: p.table.as_ref().map_or(std::ptr::null(), |t| self.table(p.kind, t)),
        }
    }

    /// The descriptor, and how many plugins it says it has.
    fn library(&mut self, d: &DescriptorInput) -> (*const abi::Library, usize) {
        let records: Vec<abi::Plugin> = d.plugins.items.iter().map(|p| self.plugin(p)).collect();
        let (plugins, n_plugins) = Memory::array(records, &d.plugins, |v| {
            self.plugins = v;
            self.plugins.as_ptr()
        });
        let library = abi::Library {
            size: size_of::<abi::Library>(),
            name: self.str(&d.name),
            version: self.str(&d.version),
            plugins,
            n_plugins,
        };
        let size = d.size.map_or(library.size, |s| s as usize);
        // SAFETY: a plain `repr(C)` struct, read as its bytes.
        let image = unsafe { std::slice::from_raw_parts(&library as *const _ as *const u8, size_of::<abi::Library>()) };
        let most = size_of::<abi::Library>().div_ceil(8);
        (self.sized(image, size, most) as *const abi::Library, n_plugins)
    }
}

// SAFETY (all of the harness's plugin functions): they read only what the host passes in,
// within the lengths it gives.

/// Builds nothing: answers with the status the input chose, and never an instance.
unsafe extern "C" fn create(
    params: *const abi::Param,
    n: usize,
    _out: *mut *mut c_void,
    err: *mut abi::ErrorBuf,
) -> abi::Status {
    // Touch every parameter the host passes, so that the sanitizer checks them.
    let params = if n == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(params, n) } };
    for p in params {
        std::hint::black_box(unsafe { (p.name.bytes(), p.string.bytes()) });
    }
    let (status, claimed) = CREATE.get();
    let err = unsafe { &mut *err };
    unsafe { err.write("the fuzz harness's plugins build nothing") };
    if let Some(len) = claimed {
        err.len = len as usize;
    }
    status
}

unsafe extern "C" fn destroy(_: *mut c_void) {}

/// Functions that are never called while nothing is built; each refuses if it is.
macro_rules! refuse {
    ($($name:ident($($arg:ty),*);)*) => {$(
        unsafe extern "C" fn $name($(_: $arg),*) -> abi::Status {
            abi::STATUS_ERROR
        }
    )*};
}

type ErrBuf = *mut abi::ErrorBuf;
type Instance = *const c_void;
refuse! {
    coefficients(Instance, *const f64, usize, *mut abi::Coefficients, ErrBuf);
    pair(Instance, *const f32, usize, *const f32, usize, usize, u64, *mut u64, ErrBuf);
    times(Instance, usize, f64, f64, *const abi::ScheduleRef, *mut f64, ErrBuf);
    count(Instance, *mut usize, ErrBuf);
    count_for(Instance, usize, *mut usize, ErrBuf);
    sample(Instance, usize, u64, *mut f32, ErrBuf);
    mixture(Instance, *mut f64, *mut f64, *mut f64, ErrBuf);
    input(Instance, *mut u32, ErrBuf);
    evaluate(Instance, *const f32, usize, *const f32, usize, usize, *mut f64, ErrBuf);
    evaluate_path(Instance, *const abi::PathIntegrals, *mut f64, ErrBuf);
    evaluate_likelihood(Instance, *const abi::Likelihood, *mut f64, ErrBuf);
    info(Instance, *mut abi::SolverInfo, ErrBuf);
    step(Instance, *const abi::Dynamics, *const abi::StepContext, u64, f64, f64, *mut u64, ErrBuf);
}

const LARGEST_TABLE: usize = {
    let sizes = [
        size_of::<abi::ScheduleVtable>(),
        size_of::<abi::CouplingVtable>(),
        size_of::<abi::GridVtable>(),
        size_of::<abi::DatasetVtable>(),
        size_of::<abi::MetricVtable>(),
        size_of::<abi::SolverVtable>(),
    ];
    let mut largest = 0;
    let mut i = 0;
    while i < sizes.len() {
        if sizes[i] > largest {
            largest = sizes[i];
        }
        i += 1;
    }
    largest
};

/// The bytes of `kind`'s table with its true size and the functions `mask` picks (bit i: the
/// i-th function field); for a kind that has no table, the largest table's size of zeros.
fn table_image(kind: u32, mask: u16) -> Vec<u8> {
    fn bytes<T>(table: T) -> Vec<u8> {
        // SAFETY: a `repr(C)` table of a size and function pointers, without padding.
        let bytes = unsafe { std::slice::from_raw_parts(&table as *const T as *const u8, size_of::<T>()) };
        let mut out = bytes.to_vec();
        out[..8].copy_from_slice(&(size_of::<T>() as u64).to_ne_bytes());
        out
    }
    let on = |i: u32| mask & (1 << i) != 0;
    let create = on(0).then_some(create as abi::CreateFn);
    let destroy = on(1).then_some(destroy as abi::DestroyFn);
    match kind {
        abi::KIND_SCHEDULE => {
            bytes(abi::ScheduleVtable { size: 0, create, destroy, coefficients: on(2).then_some(coefficients) })
        }
        abi::KIND_COUPLING => bytes(abi::CouplingVtable { size: 0, create, destroy, pair: on(2).then_some(pair) }),
        abi::KIND_SOLVER => bytes(abi::SolverVtable {
            size: 0,
            create,
            destroy,
            info: on(2).then_some(info),
            nfe: on(3).then_some(count_for),
            default_nfe: on(4).then_some(count),
            step: on(5).then_some(step),
        }),
        abi::KIND_GRID => bytes(abi::GridVtable { size: 0, create, destroy, times: on(2).then_some(times) }),
        abi::KIND_DATASET => bytes(abi::DatasetVtable {
            size: 0,
            create,
            destroy,
            dim: on(2).then_some(count),
            sample: on(3).then_some(sample),
            mixture_components: on(4).then_some(count),
            mixture: on(5).then_some(mixture),
        }),
        abi::KIND_METRIC => bytes(abi::MetricVtable {
            size: 0,
            create,
            destroy,
            input: on(2).then_some(input),
            max_points: on(3).then_some(count_for),
            evaluate: on(4).then_some(evaluate),
            evaluate_path: on(5).then_some(evaluate_path),
            evaluate_likelihood: on(6).then_some(evaluate_likelihood),
        }),
        _ => {
            let mut zeros = vec![0; LARGEST_TABLE];
            zeros[..8].copy_from_slice(&(LARGEST_TABLE as u64).to_ne_bytes());
            zeros
        }
    }
}

/// Build the plugin `name` of `kind` with its defaults: `Err` with a message, or `Ok` if it
/// built.
fn build(registry: &Registry, kind: PluginKind, name: &str) -> Result<(), String> {
    let given = BTreeMap::new();
    let result = match kind {
        PluginKind::Schedule => registry.build::<dyn Schedule>(name, &given).map(drop),
        PluginKind::Coupling => registry.build::<dyn Coupling>(name, &given).map(drop),
        PluginKind::Solver => registry.build::<dyn Solver>(name, &given).map(drop),
        PluginKind::Grid => registry.build::<dyn TimeGrid>(name, &given).map(drop),
        PluginKind::Dataset => registry.build::<dyn Dataset>(name, &given).map(drop),
        PluginKind::Metric => registry.build::<dyn Metric>(name, &given).map(drop),
        other => panic!("a library registered a plugin of kind {}", other.name()),
    };
    result.map_err(|e| e.to_string())
}

fuzz_target!(|input: DescriptorInput| {
    let mut memory = Memory::default();
    let (raw, n_plugins) = match input.null {
        true => (std::ptr::null(), 0),
        false => memory.library(&input),
    };
    CREATE.set((input.create_status, input.create_message_len));
    let mut registry = BUILTIN.clone();
    let path = Path::new("fuzz/libfuzz_plugins.so");
    // SAFETY: `memory` holds everything the descriptor points to, and outlives `registry`.
    match unsafe { registry.register_descriptor(raw, path) } {
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "an empty error message: {e:?}");
            assert_eq!(registry.plugins().len(), BUILTIN.plugins().len(), "a refused library registered plugins");
        }
        Ok(()) => {
            let loaded: Vec<_> = registry
                .plugins()
                .into_iter()
                .filter(|(_, origin)| matches!(origin, Origin::Library { .. }))
                .map(|(info, _)| (info.kind, info.name.to_string()))
                .collect();
            assert_eq!(loaded.len(), n_plugins, "not every plugin of an accepted library is registered");
            for (kind, name) in loaded {
                let e = build(&registry, kind, &name).expect_err("a harness plugin built");
                assert!(!e.trim().is_empty(), "an empty error building `{name}`");
            }
        }
    }
    drop(registry);
    drop(memory);
});
