//! The SDK's traits over a loaded library's tables: each adapter owns one plugin instance
//! (freed by the library's own `destroy`), calls the library with host-owned buffers only, and
//! turns a failing status into a [`PluginError`] that names the plugin.
//!
//! Plugin instances are shared between threads (training builds batches on several): the SDK
//! requires its traits to be `Send + Sync`, and a plugin written in C promises the same by
//! being loaded.

mod coupling;
mod dataset;
mod grid;
mod metric;
mod schedule;
mod solver;

use std::ffi::c_void;

use runner_abi as abi;
use runner_sdk::{Params, PluginError, PluginInfo};

pub use coupling::ForeignCoupling;
pub use dataset::ForeignDataset;
pub use grid::ForeignGrid;
pub use metric::ForeignMetric;
pub use schedule::ForeignSchedule;
pub use solver::ForeignSolver;

/// Room for a plugin's error message; longer ones are cut by the plugin.
const ERROR_CAPACITY: usize = 4096;

/// One plugin instance, destroyed with its library's own function.
pub struct Instance {
    ptr: *mut c_void,
    destroy: abi::DestroyFn,
    /// The plugin's name, for errors.
    pub name: String,
}

// The instance is only ever passed back to its own library, whose functions the plugin
// contract requires to be thread-safe.
unsafe impl Send for Instance {}
unsafe impl Sync for Instance {}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from this table's `create` and is destroyed once.
        unsafe { (self.destroy)(self.ptr) }
    }
}

impl Instance {
    pub fn ptr(&self) -> *const c_void {
        self.ptr
    }

    /// Create an instance with `create` from resolved parameters.
    pub fn create(
        info: &PluginInfo,
        create: abi::CreateFn,
        destroy: abi::DestroyFn,
        params: &Params,
    ) -> Result<Instance, PluginError> {
        // In declaration order; the array borrows its strings from `params`, which outlives the call.
        let array: Vec<abi::Param> = info
            .params
            .iter()
            .filter_map(|spec| params.iter().find(|(k, _)| *k == spec.name))
            .map(|(name, value)| runner_sdk::export::convert::param_to_abi(name, value))
            .collect();
        let mut ptr: *mut c_void = std::ptr::null_mut();
        call(&info.name, |err| unsafe { create(array.as_ptr(), array.len(), &mut ptr, err) })?;
        if ptr.is_null() {
            return Err(invalid(&info.name, "`create` reported success but returned no instance".into()));
        }
        Ok(Instance { ptr, destroy, name: info.name.to_string() })
    }
}

/// Call a library function with an error buffer and turn its status into a result.
pub fn call(plugin: &str, f: impl FnOnce(*mut abi::ErrorBuf) -> abi::Status) -> Result<(), PluginError> {
    let mut buffer = vec![0u8; ERROR_CAPACITY];
    let mut err = abi::ErrorBuf { ptr: buffer.as_mut_ptr(), cap: buffer.len(), len: 0 };
    let status = f(&mut err);
    if status == abi::STATUS_OK {
        return Ok(());
    }
    let message = String::from_utf8_lossy(&buffer[..err.len.min(buffer.len())]).into_owned();
    let message = if message.is_empty() { "(no message)".to_string() } else { message };
    Err(invalid(
        plugin,
        match status {
            abi::STATUS_PANIC => format!("the plugin panicked: {message}"),
            abi::STATUS_ERROR => message,
            other => format!("unknown status {other}: {message}"),
        },
    ))
}

pub fn invalid(plugin: &str, message: String) -> PluginError {
    PluginError::Invalid { plugin: plugin.to_string(), message }
}

/// A required function of a table, or the error that names it.
pub fn required<F>(plugin: &str, table: &str, field: &str, f: Option<F>) -> Result<F, String> {
    f.ok_or_else(|| format!("{plugin}: its {table} has no `{field}` function"))
}
