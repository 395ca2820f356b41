//! Rust plugin libraries built as the `cdylib`s a host loads and called across that boundary:
//! a panic in a step must come back as `STATUS_PANIC` with its message, not abort the process.
//! `cargo test` builds no `cdylib`, so the test builds them with cargo and takes the `.so` from
//! cargo's JSON messages.

use std::ffi::c_void;
use std::path::{Path, PathBuf};

use runner_sdk::abi;

/// Build `package` and return the path of its shared library.
fn build(package: &str) -> PathBuf {
    runner_testkit::cdylib(Path::new(env!("CARGO_MANIFEST_DIR")), package)
}

use runner_testkit::ErrorBuffer as Error;

/// The plugin `name` of a loaded library.
unsafe fn plugin<'a>(lib: &'a libloading::Library, name: &str) -> &'a abi::Plugin {
    let library = &*lib.get::<abi::LibraryFn>(abi::LIBRARY_SYMBOL.as_bytes()).unwrap()();
    let plugins = std::slice::from_raw_parts(library.plugins, library.n_plugins);
    plugins.iter().find(|p| p.name.bytes() == name.as_bytes()).expect("the plugin is exported")
}

unsafe fn create(vtable: *const c_void) -> *mut c_void {
    // Every table starts with size, create, destroy.
    let vtable = &*(vtable as *const abi::ScheduleVtable);
    let mut err = Error::new(256);
    let mut out = std::ptr::null_mut();
    assert_eq!(
        vtable.create.unwrap()(std::ptr::null(), 0, &mut out, &mut err.buf),
        abi::STATUS_OK,
        "{}",
        err.message()
    );
    out
}

#[test]
fn failures_in_a_loaded_library_come_back_as_statuses() {
    let path = build("runner-example-faulty");
    unsafe {
        let lib = libloading::Library::new(&path).unwrap();
        assert_eq!(lib.get::<abi::AbiFn>(abi::ABI_SYMBOL.as_bytes()).unwrap()(), runner_sdk::export::abi_version());

        // The step panics before it touches the dynamics or the context, so none is needed.
        for (name, status, message) in [
            ("panicking-step", abi::STATUS_PANIC, "deliberate panic in step"),
            ("failing-step", abi::STATUS_ERROR, "failing-step: deliberate error status"),
        ] {
            let p = plugin(&lib, name);
            let vtable = &*(p.vtable as *const abi::SolverVtable);
            let instance = create(p.vtable);
            let (dynamics, context) = host_tables();
            let mut err = Error::new(256);
            let mut out = 0;
            let s = vtable.step.unwrap()(instance, &dynamics, &context, 0, 0.0, 0.5, &mut out, &mut err.buf);
            assert_eq!((s, err.message()), (status, message), "{name}");
            vtable.destroy.unwrap()(instance);
        }

        let p = plugin(&lib, "error-metric");
        let vtable = &*(p.vtable as *const abi::MetricVtable);
        let instance = create(p.vtable);
        let mut err = Error::new(4096);
        let mut value = 0.0;
        let s =
            vtable.evaluate.unwrap()(instance, std::ptr::null(), 0, std::ptr::null(), 0, 2, &mut value, &mut err.buf);
        assert_eq!(s, abi::STATUS_ERROR);
        assert!(err.message().len() > 4000 && err.message().starts_with("error-metric: deliberate long error: üü"));
        vtable.destroy.unwrap()(instance);

        let p = plugin(&lib, "allocating");
        assert!(p.summary.bytes().starts_with(b"the straight path, allocating"));
        let vtable = &*(p.vtable as *const abi::ScheduleVtable);
        let instance = create(p.vtable);
        let t = [0.25];
        let mut c = [abi::Coefficients::default()];
        let mut err = Error::new(64);
        assert_eq!(vtable.coefficients.unwrap()(instance, t.as_ptr(), 1, c.as_mut_ptr(), &mut err.buf), abi::STATUS_OK);
        assert_eq!(c[0].alpha, 0.25);
        vtable.destroy.unwrap()(instance);
    }
}

#[test]
fn the_sigmoid_library_loads_and_runs() {
    let path = build("runner-example-sigmoid");
    unsafe {
        let lib = libloading::Library::new(&path).unwrap();
        let p = plugin(&lib, "sigmoid");
        let vtable = &*(p.vtable as *const abi::ScheduleVtable);
        let params = [runner_sdk::export::convert::param_to_abi("k", &runner_sdk::ParamValue::Float(4.0))];
        let mut err = Error::new(256);
        let mut instance = std::ptr::null_mut();
        assert_eq!(vtable.create.unwrap()(params.as_ptr(), 1, &mut instance, &mut err.buf), abi::STATUS_OK);
        let t = [0.5];
        let mut c = [abi::Coefficients::default()];
        assert_eq!(vtable.coefficients.unwrap()(instance, t.as_ptr(), 1, c.as_mut_ptr(), &mut err.buf), abi::STATUS_OK);
        assert!((c[0].alpha - 0.5).abs() < 1e-15);
        vtable.destroy.unwrap()(instance);
    }
}

/// Tables whose functions are never called (the faulty steps fail first).
fn host_tables() -> (abi::Dynamics, abi::StepContext) {
    unsafe extern "C" fn predict(_: *mut c_void, _: u64, _: f64, _: u32, _: *mut u64) -> abi::Status {
        abi::STATUS_ERROR
    }
    unsafe extern "C" fn lincomb(_: *mut c_void, _: *const abi::Term, _: usize, _: *mut u64) -> abi::Status {
        abi::STATUS_ERROR
    }
    unsafe extern "C" fn noise_like(_: *mut c_void, _: u64, _: *mut u64) -> abi::Status {
        abi::STATUS_ERROR
    }
    unsafe extern "C" fn error_norm(_: *mut c_void, _: u64, _: u64, _: *mut f64) -> abi::Status {
        abi::STATUS_ERROR
    }
    unsafe extern "C" fn is_finite(_: *mut c_void, _: u64, _: *mut u32) -> abi::Status {
        abi::STATUS_ERROR
    }
    unsafe extern "C" fn coefficients(_: *mut c_void, _: f64, _: *mut abi::Coefficients) {}
    unsafe extern "C" fn handle(_: *mut c_void, _: u64) {}
    unsafe extern "C" fn history(_: *mut c_void, out: *mut *const abi::Remembered, len: *mut usize) {
        *out = std::ptr::null();
        *len = 0;
    }
    unsafe extern "C" fn remember(_: *mut c_void, _: f64, _: u32, _: u64) {}
    static GRID: [f64; 2] = [0.0, 0.5];
    let dynamics = abi::Dynamics {
        size: std::mem::size_of::<abi::Dynamics>(),
        host: std::ptr::null_mut(),
        predict,
        lincomb,
        noise_like,
        error_norm,
        is_finite,
        coefficients,
        release: handle,
    };
    let context = abi::StepContext {
        size: std::mem::size_of::<abi::StepContext>(),
        host: std::ptr::null_mut(),
        grid: GRID.as_ptr(),
        grid_len: 2,
        index: 0,
        history,
        remember,
        forget: handle,
        set_error_estimate: handle,
    };
    (dynamics, context)
}
