//! The C ABI between the runner host and a plugin library. Only `#[repr(C)]` types, constants
//! and function-pointer types live here; `include/runner_plugin.h` declares the same for C, and
//! a test compiles the header and compares every size, offset and constant with these.
//!
//! Rules that keep the boundary sound across compilers and Rust versions:
//! - The first entry point, [`ABI_SYMBOL`], is frozen for ever: it returns only [`AbiVersion`],
//!   which the host reads before it touches anything else in the library.
//! - A library is accepted when its major version equals the host's and its minor is not newer.
//!   Minor versions only append: every table starts with its `size` in bytes, fields are added
//!   at the end, and a host reads a field only when the table's size covers it.
//! - Plain C types only: integers, doubles, (pointer, length) pairs, opaque instance pointers,
//!   `u64` tensor handles. Whoever allocates frees: a plugin's instances are freed by its own
//!   `destroy`, its strings live as long as the library (which is never unloaded), and
//!   everything the host hands in (buffers, tables) lives for the duration of the call.
//! - Fallible functions return a [`Status`] and write a UTF-8 message into the host's
//!   [`ErrorBuf`]; every exported function catches its own panics and reports [`STATUS_PANIC`].
//! - Enumerations are `u32` with fixed values starting at 1, so that 0 is never a valid one.

#![no_std]

use core::ffi::c_void;

/// "RUNNERAB": the first word of [`AbiVersion`], so that a library exporting the symbol by
/// accident is told apart from a runner plugin.
pub const MAGIC: u64 = 0x5255_4E4E_4552_4142;
pub const ABI_MAJOR: u32 = 1;
pub const ABI_MINOR: u32 = 0;

/// `AbiVersion runner_plugin_abi(void)`: frozen, read first.
pub const ABI_SYMBOL: &str = "runner_plugin_abi";
/// `const Library *runner_plugin_library(void)`: the library's descriptor, valid for ever.
pub const LIBRARY_SYMBOL: &str = "runner_plugin_library";

pub type Status = i32;
pub const STATUS_OK: Status = 0;
/// The function failed; the error buffer says why.
pub const STATUS_ERROR: Status = 1;
/// The function panicked (or threw); the error buffer holds what the panic said.
pub const STATUS_PANIC: Status = 2;

pub const KIND_SCHEDULE: u32 = 1;
pub const KIND_COUPLING: u32 = 2;
pub const KIND_SOLVER: u32 = 3;
pub const KIND_GRID: u32 = 4;
pub const KIND_DATASET: u32 = 5;
pub const KIND_METRIC: u32 = 6;

pub const PARAM_FLOAT: u32 = 1;
pub const PARAM_INT: u32 = 2;
pub const PARAM_BOOL: u32 = 3;
pub const PARAM_STR: u32 = 4;

pub const TARGET_VELOCITY: u32 = 1;
pub const TARGET_EPSILON: u32 = 2;
pub const TARGET_DATA: u32 = 3;
pub const TARGET_SCORE: u32 = 4;

pub const SOLVER_ODE: u32 = 1;
pub const SOLVER_ADAPTIVE: u32 = 2;
pub const SOLVER_STOCHASTIC: u32 = 3;
pub const SOLVER_DETERMINISTIC: u32 = 4;

pub const METRIC_POINTS: u32 = 1;
pub const METRIC_PATH: u32 = 2;
pub const METRIC_LIKELIHOOD: u32 = 3;

/// What [`ABI_SYMBOL`] returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiVersion {
    pub magic: u64,
    pub major: u32,
    pub minor: u32,
}

pub type AbiFn = unsafe extern "C" fn() -> AbiVersion;
pub type LibraryFn = unsafe extern "C" fn() -> *const Library;

/// A UTF-8 string, not NUL-terminated.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    pub ptr: *const u8,
    pub len: usize,
}

/// A host buffer for an error message: the plugin writes at most `cap` bytes of UTF-8 at `ptr`
/// and sets `len`.
#[repr(C)]
#[derive(Debug)]
pub struct ErrorBuf {
    pub ptr: *mut u8,
    pub cap: usize,
    pub len: usize,
}

/// A parameter: in a descriptor, its declaration with the default value; handed to `create`,
/// its resolved value. `kind` ([`PARAM_FLOAT`], …) says which of the value fields counts.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: Str,
    pub help: Str,
    pub kind: u32,
    pub boolean: u32,
    pub float: f64,
    pub int: i64,
    pub string: Str,
}

/// One plugin of a library. `vtable` points to the table of its kind ([`ScheduleVtable`], …).
#[repr(C)]
#[derive(Debug)]
pub struct Plugin {
    pub size: usize,
    pub kind: u32,
    pub name: Str,
    pub summary: Str,
    pub params: *const Param,
    pub n_params: usize,
    pub vtable: *const c_void,
}

/// What [`LIBRARY_SYMBOL`] returns: the library's name and version, and its plugins.
#[repr(C)]
#[derive(Debug)]
pub struct Library {
    pub size: usize,
    pub name: Str,
    pub version: Str,
    pub plugins: *const Plugin,
    pub n_plugins: usize,
}

/// Builds an instance from resolved parameters (every declared one, in declaration order).
pub type CreateFn =
    unsafe extern "C" fn(params: *const Param, n: usize, out: *mut *mut c_void, err: *mut ErrorBuf) -> Status;
/// Frees an instance made by the same table's `create`.
pub type DestroyFn = unsafe extern "C" fn(instance: *mut c_void);

/// The coefficients of a path at one time (x_t = α·x1 + σ·x0 + γ·ε and their t-derivatives).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Coefficients {
    pub alpha: f64,
    pub sigma: f64,
    pub gamma: f64,
    pub d_alpha: f64,
    pub d_sigma: f64,
    pub d_gamma: f64,
}

#[repr(C)]
pub struct ScheduleVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    /// `out[i]` = the coefficients at `t[i]`, for `n` times.
    pub coefficients: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            t: *const f64,
            n: usize,
            out: *mut Coefficients,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

#[repr(C)]
pub struct CouplingVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    /// `out[i]` (for each of the `n_source` source rows) = the target row it is paired with.
    pub pair: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            source: *const f32,
            n_source: usize,
            target: *const f32,
            n_target: usize,
            dim: usize,
            seed: u64,
            out: *mut u64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

/// The host's schedule, for grids defined in noise level.
#[repr(C)]
pub struct ScheduleRef {
    pub size: usize,
    pub host: *const c_void,
    pub coefficients: unsafe extern "C" fn(host: *const c_void, t: f64, out: *mut Coefficients),
}

#[repr(C)]
pub struct GridVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    /// `steps + 1` increasing times from `t_start` to `t_end` into `out`.
    pub times: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            steps: usize,
            t_start: f64,
            t_end: f64,
            schedule: *const ScheduleRef,
            out: *mut f64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

#[repr(C)]
pub struct DatasetVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    pub dim: Option<unsafe extern "C" fn(instance: *const c_void, out: *mut usize, err: *mut ErrorBuf) -> Status>,
    /// `n × dim` values, row-major, drawn with `seed`.
    pub sample: Option<
        unsafe extern "C" fn(instance: *const c_void, n: usize, seed: u64, out: *mut f32, err: *mut ErrorBuf) -> Status,
    >,
    /// Optional: the number of components of the isotropic Gaussian mixture the data set is
    /// (0: it is none).
    pub mixture_components:
        Option<unsafe extern "C" fn(instance: *const c_void, out: *mut usize, err: *mut ErrorBuf) -> Status>,
    /// Optional, with `mixture_components`: the weights (k), means (k × dim) and standard
    /// deviations (k).
    pub mixture: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            weights: *mut f64,
            means: *mut f64,
            stds: *mut f64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

/// What the host measured along a deterministic solve ([`METRIC_PATH`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PathIntegrals {
    pub dim: usize,
    /// Trajectories: `source` and `end` hold `n × dim` values, `energy` holds `n`.
    pub n: usize,
    pub source: *const f64,
    pub end: *const f64,
    pub energy: *const f64,
    /// Held-out target points, `n_target × dim`.
    pub n_target: usize,
    pub target: *const f32,
}

/// The model's log density at `n` held-out points ([`METRIC_LIKELIHOOD`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Likelihood {
    pub dim: usize,
    pub n: usize,
    pub log_density: *const f64,
}

#[repr(C)]
pub struct MetricVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    /// Optional ([`METRIC_POINTS`] when null).
    pub input: Option<unsafe extern "C" fn(instance: *const c_void, out: *mut u32, err: *mut ErrorBuf) -> Status>,
    /// Optional (no limit when null): the most points per side in `dim` dimensions, `usize::MAX`
    /// for no limit.
    pub max_points: Option<
        unsafe extern "C" fn(instance: *const c_void, dim: usize, out: *mut usize, err: *mut ErrorBuf) -> Status,
    >,
    pub evaluate: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            samples: *const f32,
            n_samples: usize,
            target: *const f32,
            n_target: usize,
            dim: usize,
            out: *mut f64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
    /// Optional: for [`METRIC_PATH`] metrics.
    pub evaluate_path: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            path: *const PathIntegrals,
            out: *mut f64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
    /// Optional: for [`METRIC_LIKELIHOOD`] metrics.
    pub evaluate_likelihood: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            likelihood: *const Likelihood,
            out: *mut f64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

/// A term of a linear combination.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    pub coef: f64,
    pub handle: u64,
}

/// The host's side of a solve: opaque handles to tensors that stay in the host. A non-zero
/// status from the host means its operation failed; the host keeps the reason, so the plugin
/// only returns [`STATUS_ERROR`] in turn.
#[repr(C)]
pub struct Dynamics {
    pub size: usize,
    pub host: *mut c_void,
    pub predict: unsafe extern "C" fn(host: *mut c_void, x: u64, t: f64, target: u32, out: *mut u64) -> Status,
    pub lincomb: unsafe extern "C" fn(host: *mut c_void, terms: *const Term, n: usize, out: *mut u64) -> Status,
    pub noise_like: unsafe extern "C" fn(host: *mut c_void, x: u64, out: *mut u64) -> Status,
    pub error_norm: unsafe extern "C" fn(host: *mut c_void, a: u64, b: u64, out: *mut f64) -> Status,
    pub is_finite: unsafe extern "C" fn(host: *mut c_void, x: u64, out: *mut u32) -> Status,
    pub coefficients: unsafe extern "C" fn(host: *mut c_void, t: f64, out: *mut Coefficients),
    pub release: unsafe extern "C" fn(host: *mut c_void, x: u64),
}

/// An evaluation a solver kept for later steps.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Remembered {
    pub t: f64,
    pub target: u32,
    pub reserved: u32,
    pub value: u64,
}

/// The host's step memory: the grid and the evaluations earlier steps kept.
#[repr(C)]
pub struct StepContext {
    pub size: usize,
    pub host: *mut c_void,
    pub grid: *const f64,
    pub grid_len: usize,
    pub index: usize,
    /// The remembered evaluations, oldest first; valid until the next call on this table.
    pub history: unsafe extern "C" fn(host: *mut c_void, out: *mut *const Remembered, len: *mut usize),
    pub remember: unsafe extern "C" fn(host: *mut c_void, t: f64, target: u32, value: u64),
    pub forget: unsafe extern "C" fn(host: *mut c_void, value: u64),
    pub set_error_estimate: unsafe extern "C" fn(host: *mut c_void, value: u64),
}

/// A solver's fixed properties.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolverInfo {
    /// [`SOLVER_ODE`], …
    pub kind: u32,
    /// The order of an ODE or adaptive method (0 otherwise).
    pub order: u32,
    /// The lower order of an adaptive method's embedded pair (0 otherwise).
    pub error_order: u32,
    pub reserved: u32,
    pub evals_per_step: usize,
}

#[repr(C)]
pub struct SolverVtable {
    pub size: usize,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    pub info: Option<unsafe extern "C" fn(instance: *const c_void, out: *mut SolverInfo, err: *mut ErrorBuf) -> Status>,
    /// Optional (`steps × evals_per_step` when null): the model evaluations of `steps` steps.
    pub nfe: Option<
        unsafe extern "C" fn(instance: *const c_void, steps: usize, out: *mut usize, err: *mut ErrorBuf) -> Status,
    >,
    /// Optional (the host's rule by kind when null): the NFE to run at when none is asked for.
    pub default_nfe:
        Option<unsafe extern "C" fn(instance: *const c_void, out: *mut usize, err: *mut ErrorBuf) -> Status>,
    /// One step from the state `x` at `t` to `t_next`; the new state's handle into `out`.
    pub step: Option<
        unsafe extern "C" fn(
            instance: *const c_void,
            dynamics: *const Dynamics,
            context: *const StepContext,
            x: u64,
            t: f64,
            t_next: f64,
            out: *mut u64,
            err: *mut ErrorBuf,
        ) -> Status,
    >,
}

impl Str {
    /// A string that lives as long as the library.
    pub const fn from_static(s: &'static str) -> Str {
        Str { ptr: s.as_ptr(), len: s.len() }
    }

    pub const EMPTY: Str = Str { ptr: core::ptr::null(), len: 0 };

    /// The bytes, empty for a null pointer.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive the returned slice.
    pub unsafe fn bytes<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            core::slice::from_raw_parts(self.ptr, self.len)
        }
    }
}

impl ErrorBuf {
    /// Write `message` (cut at a character boundary to fit).
    ///
    /// # Safety
    /// `ptr` must point to `cap` writable bytes.
    pub unsafe fn write(&mut self, message: &str) {
        if self.ptr.is_null() {
            return;
        }
        let mut n = message.len().min(self.cap);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        core::ptr::copy_nonoverlapping(message.as_ptr(), self.ptr, n);
        self.len = n;
    }
}

// Descriptors are immutable statics shared by every thread that reads them.
unsafe impl Sync for Str {}
unsafe impl Send for Str {}
unsafe impl Sync for Param {}
unsafe impl Sync for Plugin {}
unsafe impl Sync for Library {}
