//! The plugin side of the C ABI: what turns SDK trait implementations into a loadable library.
//!
//! A plugin crate lists its plugins once, with [`export_plugin!`](crate::export_plugin), as
//! [`Export`]s made by [`schedule`], [`coupling`], [`grid`], [`dataset`], [`metric`] and
//! [`solver`]. The macro emits the two symbols the host looks up, and a `plugins()` function
//! that hands the same [`Export`]s to a host linking the crate as an ordinary Rust library.
//!
//! Every function the host calls through a table is an `extern "C"` trampoline here: it catches
//! panics (a panic leaving an `extern "C"` function aborts the whole process, host included),
//! turns a [`PluginError`] into [`abi::STATUS_ERROR`] with its message, and writes its results
//! only into buffers the host handed in, because memory must be freed by whoever allocated it.
//! Instances are boxed here and freed by the same library's `destroy`; descriptors are built
//! once per process and never freed.
//!
//! The other direction, host tables seen as SDK traits inside the plugin, lives in [`host`]:
//! an unchanged [`Solver::step`] runs against the host's dynamics and step memory.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::abi;
use crate::{Coupling, Dataset, Metric, Params, PluginError, PluginInfo, PluginKind, Schedule, Solver, TimeGrid};

pub mod convert;
mod coupling;
mod dataset;
mod grid;
pub mod host;
mod library;
mod macros;
mod metric;
mod schedule;
mod solver;

pub use library::{abi_version, library, Exports, Registry, MAX_PLUGINS};

/// Builds one instance of a plugin from its resolved parameters.
pub type Factory<T> = Arc<dyn Fn(&Params) -> Result<Box<T>, PluginError> + Send + Sync>;

/// A plugin's factory, by kind.
#[derive(Clone)]
pub enum Constructor {
    Schedule(Factory<dyn Schedule>),
    Coupling(Factory<dyn Coupling>),
    Grid(Factory<dyn TimeGrid>),
    Dataset(Factory<dyn Dataset>),
    Metric(Factory<dyn Metric>),
    Solver(Factory<dyn Solver>),
}

impl Constructor {
    pub fn kind(&self) -> PluginKind {
        match self {
            Constructor::Schedule(_) => PluginKind::Schedule,
            Constructor::Coupling(_) => PluginKind::Coupling,
            Constructor::Grid(_) => PluginKind::Grid,
            Constructor::Dataset(_) => PluginKind::Dataset,
            Constructor::Metric(_) => PluginKind::Metric,
            Constructor::Solver(_) => PluginKind::Solver,
        }
    }
}

/// One plugin a library exports: what the registry lists about it and how to build it. A host
/// that links the plugin crate directly registers these as built-ins, without the ABI.
#[derive(Clone)]
pub struct Export {
    pub info: PluginInfo,
    pub constructor: Constructor,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Export {
    /// The export of `constructor` described by `info`. A kind in `info` other than the
    /// constructor's is a programming error in the plugin, reported where the list is built.
    pub fn new(info: PluginInfo, constructor: Constructor) -> Export {
        assert_eq!(
            info.kind,
            constructor.kind(),
            "plugin `{}` is described as a {} but built as a {}",
            info.name,
            info.kind.name(),
            constructor.kind().name()
        );
        Export { info, constructor }
    }

    /// Resolve `params` against the plugin's declared parameters.
    pub fn resolve(
        &self,
        given: &std::collections::BTreeMap<String, crate::ParamValue>,
    ) -> Result<Params, PluginError> {
        Params::resolve(&self.info.name, &self.info.params, given)
    }
}

/// Export a schedule built by `factory`.
pub fn schedule<S, F>(info: PluginInfo, factory: F) -> Export
where
    S: Schedule + 'static,
    F: Fn(&Params) -> Result<S, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Schedule(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn Schedule>))))
}

/// Export a coupling built by `factory`.
pub fn coupling<C, F>(info: PluginInfo, factory: F) -> Export
where
    C: Coupling + 'static,
    F: Fn(&Params) -> Result<C, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Coupling(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn Coupling>))))
}

/// Export a time grid built by `factory`.
pub fn grid<G, F>(info: PluginInfo, factory: F) -> Export
where
    G: TimeGrid + 'static,
    F: Fn(&Params) -> Result<G, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Grid(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn TimeGrid>))))
}

/// Export a data set built by `factory`.
pub fn dataset<D, F>(info: PluginInfo, factory: F) -> Export
where
    D: Dataset + 'static,
    F: Fn(&Params) -> Result<D, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Dataset(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn Dataset>))))
}

/// Export a metric built by `factory`.
pub fn metric<M, F>(info: PluginInfo, factory: F) -> Export
where
    M: Metric + 'static,
    F: Fn(&Params) -> Result<M, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Metric(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn Metric>))))
}

/// Export a solver built by `factory`.
pub fn solver<S, F>(info: PluginInfo, factory: F) -> Export
where
    S: Solver + 'static,
    F: Fn(&Params) -> Result<S, PluginError> + Send + Sync + 'static,
{
    Export::new(info, Constructor::Solver(Arc::new(move |p| Ok(Box::new(factory(p)?) as Box<dyn Solver>))))
}

/// Run the body of an exported function: its panics become [`abi::STATUS_PANIC`] and its
/// errors [`abi::STATUS_ERROR`], each with its message in `err`. Formatting the message runs
/// inside the guard too, since a `Display` implementation may panic as well.
pub(crate) fn guard(err: *mut abi::ErrorBuf, body: impl FnOnce() -> Result<(), PluginError>) -> abi::Status {
    let outcome = catch_unwind(AssertUnwindSafe(|| body().map_err(|e| e.to_string())));
    match outcome {
        Ok(Ok(())) => abi::STATUS_OK,
        Ok(Err(message)) => {
            write_error(err, &message);
            abi::STATUS_ERROR
        }
        Err(payload) => {
            write_error(err, panic_message(payload.as_ref()));
            // A payload whose own drop panics must not unwind out of here either.
            if catch_unwind(AssertUnwindSafe(|| drop(payload))).is_err() {
                write_error(err, "a panic whose payload panicked when dropped");
            }
            abi::STATUS_PANIC
        }
    }
}

/// Like [`guard`], for functions without an error buffer (`destroy`): a panic is swallowed,
/// since there is nowhere to report it and unwinding into the host would abort it.
pub(crate) fn guard_silent(body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(payload)));
    }
}

/// What a panic said, for the panics of `panic!("…")` and `panic!("{…}")`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}

/// Write `message` into the host's buffer (cut at a character boundary to fit); a null buffer
/// means the host does not want the message.
pub(crate) fn write_error(err: *mut abi::ErrorBuf, message: &str) {
    // SAFETY: the host hands in either null or a buffer of `cap` writable bytes for the call.
    if let Some(err) = unsafe { err.as_mut() } {
        unsafe { err.write(message) };
    }
}

/// The error for a host that broke the ABI's rules (a null buffer, an unknown value).
pub(crate) fn abi_error(message: impl Into<String>) -> PluginError {
    PluginError::Invalid { plugin: "runner plugin ABI".into(), message: message.into() }
}

/// `n` values at `ptr`, which may be null when `n` is 0.
///
/// # Safety
/// A non-null `ptr` must point to `n` readable values that outlive `'a`.
pub(crate) unsafe fn input<'a, T>(ptr: *const T, n: usize, what: &str) -> Result<&'a [T], PluginError> {
    if n == 0 {
        Ok(&[])
    } else if ptr.is_null() {
        Err(abi_error(format!("the host passed a null `{what}` for {n} values")))
    } else {
        Ok(std::slice::from_raw_parts(ptr, n))
    }
}

/// Room for `n` values at `ptr`, which may be null when `n` is 0.
///
/// # Safety
/// A non-null `ptr` must point to `n` writable values that outlive `'a`.
pub(crate) unsafe fn output<'a, T>(ptr: *mut T, n: usize, what: &str) -> Result<&'a mut [T], PluginError> {
    if n == 0 {
        Ok(&mut [])
    } else if ptr.is_null() {
        Err(abi_error(format!("the host passed a null `{what}` for {n} values")))
    } else {
        Ok(std::slice::from_raw_parts_mut(ptr, n))
    }
}

/// One value into `out`.
///
/// # Safety
/// A non-null `out` must be writable.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), PluginError> {
    if out.is_null() {
        return Err(abi_error(format!("the host passed a null `{what}`")));
    }
    out.write(value);
    Ok(())
}

/// The instance behind a pointer made by `create`.
///
/// # Safety
/// `instance` must be null or come from the `create` of a table over `T`, not yet destroyed.
pub(crate) unsafe fn instance<'a, T: ?Sized>(instance: *const std::ffi::c_void) -> Result<&'a T, PluginError> {
    let boxed = instance as *const Box<T>;
    boxed.as_ref().map(|b| b.as_ref()).ok_or_else(|| abi_error("the host passed a null instance"))
}

/// Box an instance for the host: the pointer `destroy` frees. A `Box<dyn Trait>` is boxed
/// once more so that the host holds a thin pointer.
pub(crate) fn into_instance<T: ?Sized>(value: Box<T>) -> *mut std::ffi::c_void {
    Box::into_raw(Box::new(value)) as *mut std::ffi::c_void
}

/// Free an instance made by [`into_instance`].
///
/// # Safety
/// `instance` must be null or come from [`into_instance`] over `T`, and is invalid afterwards.
pub(crate) unsafe extern "C" fn destroy<T: ?Sized>(instance: *mut std::ffi::c_void) {
    if !instance.is_null() {
        guard_silent(|| drop(Box::from_raw(instance as *mut Box<T>)));
    }
}

#[cfg(test)]
mod tests;
