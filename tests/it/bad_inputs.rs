//! The corpus of bad input (`tests/data/bad-inputs.toml`): each case runs the `runner` binary
//! in a directory of its own and must fail, with a message holding every fragment the case
//! names, before any trial starts. The time from start to the error is printed per case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::common::root;

#[derive(Deserialize)]
struct Corpus {
    base: Base,
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Base {
    files: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    setup: Option<Setup>,
    expect: Vec<String>,
}

/// Situations a file cannot describe, built by the test.
#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Setup {
    /// `plain.so`: a shared library compiled from C with no runner symbols.
    LibraryWithoutSymbols,
    /// `mnt/`: a read-only tmpfs.
    ReadOnlyOut,
    /// `mnt/`: a small tmpfs with `mnt/runs/` and no space left.
    FullOut,
    /// `worker.sh`: a "worker" that kills itself with SIGKILL.
    KilledWorker,
}

/// A tmpfs mounted for one case, unmounted when the case ends.
struct Mount(PathBuf);

impl Mount {
    fn new(at: &Path, options: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(at).output();
        match out {
            Ok(o) if o.status.success() => Ok(Mount(at.to_path_buf())),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Build the case's situation in `dir`; `Err` where this machine cannot (no root to mount).
fn set_up(setup: Setup, dir: &Path) -> Result<Option<Mount>, String> {
    let mnt = dir.join("mnt");
    match setup {
        Setup::LibraryWithoutSymbols => {
            let source = dir.join("plain.c");
            std::fs::write(&source, "int plain(void) { return 1; }\n").unwrap();
            let built = runner_testkit::c_plugin(&source, &root().join("plugins/runner-abi/include"), dir, "plain");
            std::fs::rename(built, dir.join("plain.so")).unwrap();
            Ok(None)
        }
        Setup::ReadOnlyOut => Mount::new(&mnt, "ro,size=64k").map(Some),
        Setup::FullOut => {
            let mount = Mount::new(&mnt, "size=64k")?;
            std::fs::create_dir(mnt.join("runs")).unwrap();
            // Fill it: the writes stop at the first one that finds no space.
            let mut fill = std::fs::File::create(mnt.join("fill")).unwrap();
            let block = vec![0u8; 4096];
            while std::io::Write::write_all(&mut fill, &block).is_ok() {}
            Ok(Some(mount))
        }
        Setup::KilledWorker => {
            let worker = dir.join("worker.sh");
            std::fs::write(&worker, "#!/bin/sh\nkill -9 $$\n").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).unwrap();
            Ok(None)
        }
    }
}

/// Whether any trial under `dir` logged that it started.
fn trial_started(dir: &Path) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "events.jsonl") {
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                if log.lines().any(|l| l.contains(r#""event":"started""#)) {
                    return Some(path);
                }
            }
        }
    }
    None
}

#[test]
fn every_bad_input_of_the_corpus_is_refused_before_any_trial_starts_naming_its_source() {
    let text = std::fs::read_to_string(root().join("tests/data/bad-inputs.toml")).unwrap();
    let corpus: Corpus = toml::from_str(&text).unwrap();
    assert!(corpus.case.len() >= 40, "the corpus has {} cases", corpus.case.len());
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for case in &corpus.case {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in corpus.base.files.iter().chain(&case.files) {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let _mount = match case.setup.map(|s| set_up(s, dir.path())).transpose() {
            Ok(m) => m.flatten(),
            Err(why) if is_root() => panic!("{}: could not set the case up: {why}", case.name),
            Err(why) => {
                // Mounting a file system takes root, which CI has; elsewhere say what was skipped.
                eprintln!("skipped (not root): {}: {why}", case.name);
                continue;
            }
        };
        let args = case.args.clone().unwrap_or_else(|| vec!["exp.rhai".into()]);
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_runner"))
            .args(&args)
            .current_dir(dir.path())
            .env("RUNNER_LOG", "warn")
            .envs(&case.env)
            .output()
            .unwrap();
        let took = start.elapsed();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        println!("{:>6.0} ms  {}", took.as_secs_f64() * 1e3, case.name);
        if took > slowest.0 {
            slowest = (took, case.name.clone());
        }
        let missing: Vec<&String> = case.expect.iter().filter(|f| !text.contains(f.as_str())).collect();
        let started = trial_started(dir.path());
        if out.status.success() || !missing.is_empty() || started.is_some() {
            failures.push(format!(
                "{}: exit {:?}, missing {missing:?}, started: {started:?}\n{text}",
                case.name,
                out.status.code()
            ));
        }
    }
    println!("slowest: {:.0} ms ({})", slowest.0.as_secs_f64() * 1e3, slowest.1);
    assert!(failures.is_empty(), "{} of {} cases:\n\n{}", failures.len(), corpus.case.len(), failures.join("\n\n"));
}

/// Whether this process runs as root (the cases that mount a file system need it).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}
