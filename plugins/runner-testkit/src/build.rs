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
