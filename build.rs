//! With the `tch` feature, every binary and test executable of this package finds libtorch at
//! run time without LD_LIBRARY_PATH: the library directory torch-sys linked against is embedded
//! as an rpath. (torch-sys passes `-rpath` only to the compiler of its own C++ wrapper, which
//! never reaches the final link.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    // torch-sys (`links = "tch"`) publishes the directory it found, from LIBTORCH,
    // LIBTORCH_USE_PYTORCH or a system install, to the packages that depend on it directly.
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys did not report its libtorch directory (DEP_TCH_LIBTORCH_LIB)");
    // rustc-link-arg reaches every link target of the package: the binary and the tests.
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("unix") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
