//! The C example library, compiled with the system C compiler and loaded as a host loads it:
//! the version first, then the descriptor, then a schedule created, called and destroyed.
//! The faulty C files of the host's failure tests are compiled too, so that they stay valid C.

use std::ffi::c_void;
use std::path::{Path, PathBuf};

use runner_sdk::abi;
use runner_sdk::export::convert::param_to_abi;
use runner_sdk::ParamValue;

fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Compile `source` into the shared library `lib<name>` in the test's scratch directory.
fn compile(source: &Path, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-plugins");
    runner_testkit::c_plugin(source, &plugins_dir().join("runner-abi/include"), &dir, name)
}

use runner_testkit::ErrorBuffer as Error;

#[test]
fn the_c_schedule_loads_and_runs() {
    let path = compile(&plugins_dir().join("examples/c-schedule/schedule.c"), "c_schedule");
    unsafe {
        let lib = libloading::Library::new(&path).unwrap();
        let version = lib.get::<abi::AbiFn>(abi::ABI_SYMBOL.as_bytes()).unwrap()();
        assert_eq!(version, runner_sdk::export::abi_version());
        let library = &*lib.get::<abi::LibraryFn>(abi::LIBRARY_SYMBOL.as_bytes()).unwrap()();
        assert_eq!(library.size, std::mem::size_of::<abi::Library>());
        assert_eq!(library.name.bytes(), b"example-c-schedule");
        assert_eq!(library.n_plugins, 1);
        let plugin = &*library.plugins;
        assert_eq!((plugin.kind, plugin.name.bytes(), plugin.n_params), (abi::KIND_SCHEDULE, &b"polynomial-c"[..], 1));
        let declared = runner_sdk::export::convert::param_spec_from_abi(&*plugin.params).unwrap();
        assert_eq!(declared, runner_sdk::ParamSpec::float("p", 2.0, "the exponent of t (> 0)"));
        let vtable = &*(plugin.vtable as *const abi::ScheduleVtable);
        assert_eq!(vtable.size, std::mem::size_of::<abi::ScheduleVtable>());

        let create = |p: f64| {
            let params = [param_to_abi("p", &ParamValue::Float(p))];
            let mut err = Error::new(256);
            let mut out: *mut c_void = std::ptr::null_mut();
            let status = vtable.create.unwrap()(params.as_ptr(), 1, &mut out, &mut err.buf);
            (status, out, err.message().to_string())
        };
        let (status, instance, message) = create(3.0);
        assert_eq!(status, abi::STATUS_OK, "{message}");
        let t = [0.0, 0.5, 1.0];
        let mut out = [abi::Coefficients::default(); 3];
        let mut err = Error::new(64);
        let status = vtable.coefficients.unwrap()(instance, t.as_ptr(), 3, out.as_mut_ptr(), &mut err.buf);
        assert_eq!(status, abi::STATUS_OK);
        assert_eq!((out[1].alpha, out[1].sigma, out[1].d_alpha, out[1].d_sigma), (0.125, 0.875, 0.75, -0.75));
        assert_eq!((out[0].alpha, out[0].d_alpha, out[2].alpha, out[2].d_alpha), (0.0, 0.0, 1.0, 3.0));
        vtable.destroy.unwrap()(instance);

        let (status, _, message) = create(0.0);
        assert_eq!(status, abi::STATUS_ERROR);
        assert_eq!(message, "parameter `p` of polynomial-c: must be > 0, got 0");
    }
}

#[test]
fn the_faulty_c_libraries_compile_with_the_symbols_they_promise() {
    let cases = [
        ("wrong_major", abi::AbiVersion { magic: abi::MAGIC, major: 2, minor: 0 }),
        ("newer_minor", abi::AbiVersion { magic: abi::MAGIC, major: abi::ABI_MAJOR, minor: 99 }),
        ("bad_magic", abi::AbiVersion { magic: 0x0123_4567_89AB_CDEF, major: abi::ABI_MAJOR, minor: abi::ABI_MINOR }),
        ("no_library", runner_sdk::export::abi_version()),
    ];
    for (name, want) in cases {
        let path = compile(&plugins_dir().join(format!("examples/faulty/c/{name}.c")), name);
        unsafe {
            let lib = libloading::Library::new(&path).unwrap();
            assert_eq!(lib.get::<abi::AbiFn>(abi::ABI_SYMBOL.as_bytes()).unwrap()(), want, "{name}");
            assert!(lib.get::<abi::LibraryFn>(abi::LIBRARY_SYMBOL.as_bytes()).is_err(), "{name}");
        }
    }
}
