//! Building plugin libraries from a test: `cargo test` builds no `cdylib`, so a test that loads
//! a plugin builds it with cargo and takes the library's path from cargo's JSON messages.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Build the workspace package `package` (run from `dir`) and return the path of its shared
/// library. Panics with cargo's output when the build fails: this is for tests.
pub fn cdylib(dir: &Path, package: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(dir)
        .args(["build", "-p", package, "--message-format=json-render-diagnostics"])
        .output()
        .expect("run cargo");
    assert!(output.status.success(), "building {package} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("cargo writes UTF-8");
    // Dependencies (proc macros) are shared libraries too: take the package's own.
    let file = format!("/lib{}.{}", package.replace('-', "_"), std::env::consts::DLL_EXTENSION);
    let artifact = stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .flat_map(|l| l.split('"'))
        .find(|s| s.ends_with(&file))
        .unwrap_or_else(|| panic!("no {file} among the artifacts of {package}"));
    PathBuf::from(artifact)
}

/// Compile the C plugin `source` against the ABI header in `include` into `dir/lib<name>.so`
/// with the system C compiler (`$CC`, else `cc`), warnings as errors, and return its path.
pub fn c_plugin(source: &Path, include: &Path, dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create the output directory");
    let out = dir.join(format!("lib{name}.{}", std::env::consts::DLL_EXTENSION));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-std=c99", "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(include)
        .arg("-o")
        .arg(&out)
        .arg(source)
        .arg("-lm")
        .status()
        .unwrap_or_else(|e| panic!("could not run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "the C compiler failed on {}", source.display());
    out
}
