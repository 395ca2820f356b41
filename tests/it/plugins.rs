//! Loading plugins and every way it can fail, each with the message a user sees; and the
//! failures of a loaded plugin at run time, through the real `runner` binary (its allocator is
//! not the one `cargo test` uses, and a panic or a freed pointer that crossed the boundary
//! would kill it).

use std::path::{Path, PathBuf};
use std::process::Command;

use runner::plugins::Registry;
use runner::sdk::PluginKind;

use crate::common::{c_plugin, cdylib, out_dir, root};

fn faulty_c(name: &str) -> PathBuf {
    c_plugin(&root().join(format!("plugins/examples/faulty/c/{name}.c")), name)
}

fn load_error(file: &Path) -> String {
    match Registry::with_plugins(&[file.to_path_buf()]) {
        Ok(_) => panic!("{} loaded", file.display()),
        Err(e) => e.to_string(),
    }
}

fn contains_all(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
}

#[test]
fn a_library_for_another_major_version_is_refused_naming_the_file_and_both_versions() {
    let file = faulty_c("wrong_major");
    let err = load_error(&file);
    contains_all(&err, &[&file.display().to_string(), "ABI 2.0", "ABI 1.0", "rebuild"]);
}

#[test]
fn a_library_for_a_newer_minor_version_is_refused() {
    let file = faulty_c("newer_minor");
    contains_all(&load_error(&file), &[&file.display().to_string(), "ABI 1.99", "ABI 1.0", "newer runner"]);
}

#[test]
fn a_library_whose_version_entry_is_not_runners_is_refused() {
    let file = faulty_c("bad_magic");
    contains_all(&load_error(&file), &[&file.display().to_string(), "magic number"]);
}

#[test]
fn a_library_without_the_descriptor_entry_is_refused_naming_the_symbol() {
    let file = faulty_c("no_library");
    contains_all(&load_error(&file), &[&file.display().to_string(), "runner_plugin_library", "not a runner plugin"]);
}

#[test]
fn a_library_without_any_entry_is_not_a_runner_plugin() {
    // A real shared library that is no plugin: the C schedule without its symbols exported.
    let dir = out_dir().join("c-plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("nothing.c");
    std::fs::write(&source, "int runner_unrelated(void) { return 1; }\n").unwrap();
    let file = c_plugin(&source, "nothing");
    contains_all(&load_error(&file), &[&file.display().to_string(), "runner_plugin_abi", "not a runner plugin"]);
}

#[test]
fn a_file_that_is_not_a_library_and_a_missing_file_are_refused_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("libnotes.so");
    std::fs::write(&text, "these are notes, not code\n").unwrap();
    contains_all(&load_error(&text), &[&text.display().to_string(), "not a loadable library"]);
    let missing = dir.path().join("libmissing.so");
    contains_all(&load_error(&missing), &[&missing.display().to_string(), "no such file"]);
}

#[test]
fn a_plugin_whose_name_is_taken_is_refused_naming_both_origins() {
    // The same library under a second path registers `sigmoid` again.
    let first = cdylib("runner-example-sigmoid");
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("libsigmoid_copy.so");
    std::fs::copy(&first, &second).unwrap();
    let err = match Registry::with_plugins(&[first.clone(), second.clone()]) {
        Ok(_) => panic!("a duplicate name was accepted"),
        Err(e) => e.to_string(),
    };
    contains_all(
        &err,
        &["schedule `sigmoid`", &first.display().to_string(), &second.display().to_string(), "already registered"],
    );
    // A script schedule under a built-in's name.
    let script = dir.path().join("cond-ot.rhai");
    std::fs::write(&script, "fn alpha(t) { t }\nfn sigma(t) { 1.0 - t }\n").unwrap();
    contains_all(&load_error(&script), &["schedule `cond-ot`", "built-in", &script.display().to_string()]);
}

#[test]
fn loading_the_same_file_twice_is_one_load() {
    let file = cdylib("runner-example-sigmoid");
    let registry = Registry::with_plugins(&[file.clone(), file]).unwrap();
    assert_eq!(registry.names(PluginKind::Schedule).iter().filter(|n| **n == "sigmoid").count(), 1);
}

#[test]
fn a_script_schedule_without_sigma_or_that_does_not_compile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let half = dir.path().join("half.rhai");
    std::fs::write(&half, "fn alpha(t) { t }\n").unwrap();
    contains_all(&load_error(&half), &[&half.display().to_string(), "fn sigma(t)"]);
    let broken = dir.path().join("broken.rhai");
    std::fs::write(&broken, "fn alpha(t) { t +* }\n").unwrap();
    contains_all(&load_error(&broken), &[&broken.display().to_string(), "does not compile"]);
}

/// Every plugin of every kind: a kebab-case name unique in its kind, a summary, and every
/// parameter documented.
#[test]
fn every_registered_plugin_is_named_summarised_and_documented() {
    let registry = crate::common::registry();
    let plugins = registry.plugins();
    for kind in PluginKind::ALL {
        let names = registry.names(kind);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{} names repeat: {names:?}", kind.name());
    }
    for (info, origin) in plugins {
        let name = info.name.as_ref();
        let kebab = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--");
        assert!(kebab, "`{name}` ({origin}) is not kebab-case");
        assert!(!info.summary.trim().is_empty(), "`{name}` ({origin}) has no summary");
        for p in info.params.iter() {
            assert!(!p.help.trim().is_empty(), "parameter `{}` of `{name}` ({origin}) is undocumented", p.name);
            assert!(
                p.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "parameter `{}` of `{name}`",
                p.name
            );
        }
    }
}

/// Run the real binary on a script in `dir`, with `plugins` loaded.
fn run_binary(dir: &Path, script: &str, plugins: &[PathBuf]) -> (Option<i32>, String) {
    let file = dir.join("run.rhai");
    std::fs::write(&file, script).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    for p in plugins {
        command.arg("--plugin").arg(p);
    }
    let out = command
        .arg(&file)
        .args(["--out", &dir.display().to_string(), "--set", "train.steps=20", "--set", "eval.size=64"])
        .env("RUNNER_LOG", "warn")
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

const EVALUATE: &str = r#"
let s = sweep("plugins");
let t = s.trial(#{ path: #{ schedule: "cond-ot" } });
let good = t.evaluate("rk4", 8);
let bad = t.evaluate("SOLVER", 8);
s.run();
print("rk4 " + good.row().nfe);
print("failed: " + bad.error());
print("after");
"#;

/// What the process says at the end when the one trial of [`EVALUATE`] did not finish.
const TRIAL_FAILED: &str = "1 of 1 trials did not finish";

#[test]
fn a_panicking_step_fails_its_trial_naming_the_plugin_and_the_process_survives_to_report_it() {
    let faulty = cdylib("runner-example-faulty");
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_binary(dir.path(), &EVALUATE.replace("SOLVER", "panicking-step"), &[faulty]);
    // The panic did not abort the worker: its other evaluation has its row, the failed one its
    // error, and the script goes on to report both; the process then says the trial failed.
    assert_eq!(code, Some(1), "{out}");
    contains_all(
        &out,
        &["rk4 8", "failed: ", "panicking-step", "panicked", "deliberate panic in step", "after", TRIAL_FAILED],
    );
}

#[test]
fn a_schedule_that_panics_is_refused_before_training_and_the_log_says_why() {
    let faulty = cdylib("runner-example-faulty");
    let dir = tempfile::tempdir().unwrap();
    let script = "let s = sweep(\"p\");\nlet t = s.trial(#{ path: #{ schedule: \"panicking-schedule\" } });\nprint(\"created\");\n";
    let (code, out) = run_binary(dir.path(), script, &[faulty]);
    assert_eq!(code, Some(1), "{out}");
    contains_all(
        &out,
        &[
            "path.schedule",
            "`panicking-schedule` is not finite at t = 0.51",
            "deliberate panic in coefficients at t = 0.51",
        ],
    );
    assert!(!out.contains("created"), "{out}");
}

#[test]
fn an_error_status_fails_its_trial_with_the_plugins_message() {
    let faulty = cdylib("runner-example-faulty");
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_binary(dir.path(), &EVALUATE.replace("SOLVER", "failing-step"), &[faulty]);
    assert_eq!(code, Some(1), "{out}");
    contains_all(&out, &["rk4 8", "failed: ", "failing-step", "deliberate error status", TRIAL_FAILED]);
}

#[test]
fn a_plugin_that_allocates_and_returns_strings_runs_under_the_binarys_allocator() {
    // The schedule allocates in every call and its summary and errors are strings made at run
    // time; the metric's error message is longer than the host's buffer.
    let faulty = cdylib("runner-example-faulty");
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
let s = sweep("alloc");
let t = s.trial(#{ path: #{ schedule: "allocating" }, "eval": #{ metrics: ["w2"] } });
let row = t.evaluate("rk4", 8);
let u = s.trial(#{ path: #{ schedule: "allocating" }, "eval": #{ metrics: ["error-metric"] } });
let failing = u.evaluate("euler", 4);
s.run();
print("w2 " + row.row().w2);
print("failed: " + failing.error());
"#;
    let (code, out) = run_binary(dir.path(), script, std::slice::from_ref(&faulty));
    assert_eq!(code, Some(1), "{out}");
    contains_all(&out, &["w2 ", "error-metric", "deliberate long error: üü", "1 of 2 trials did not finish"]);
    let listing =
        Command::new(env!("CARGO_BIN_EXE_runner")).arg("--plugin").arg(&faulty).arg("plugins").output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("allocating in every call (2 allocations)"), "{listing}");
}

/// The files `plugins/README.md` tells a new plugin author to write, by the `file=` of their
/// code fences.
fn readme_files() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("plugins/README.md")).unwrap();
    let mut files = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(name) =
            line.strip_prefix("```").and_then(|info| info.split_whitespace().find_map(|w| w.strip_prefix("file=")))
        else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        files.push((name.to_string(), body.join("\n") + "\n"));
    }
    files
}

#[test]
fn the_plugin_readme_builds_a_new_crate_outside_the_workspace_that_runner_lists() {
    let files = readme_files();
    assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["Cargo.toml", "src/lib.rs"]);
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("my-plugin");
    for (name, body) in &files {
        let path = crate_dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // The README's crate sits next to a checkout of runner at ../runner.
        std::fs::write(&path, body.replace("../runner/", &format!("{}/", root().display()))).unwrap();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target = out_dir().join("readme-plugin-target");
    for args in [&["test"][..], &["build"][..]] {
        let out =
            Command::new(&cargo).args(args).current_dir(&crate_dir).env("CARGO_TARGET_DIR", &target).output().unwrap();
        assert!(
            out.status.success(),
            "cargo {args:?} in the README's crate:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let library = target.join("debug").join(format!("libmy_plugin.{}", std::env::consts::DLL_EXTENSION));
    let out = Command::new(env!("CARGO_BIN_EXE_runner")).arg("--plugin").arg(&library).arg("plugins").output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some("power"))
        .unwrap_or_else(|| panic!("no `power` in\n{listing}"));
    assert!(line.contains("my-plugin 0.1.0"), "{line}");
    assert!(listing.contains("p = 2"), "{listing}");
}

#[test]
fn the_plugin_demo_runs_the_example_plugins_beside_the_built_ins() {
    use runner::config::Layers;
    use runner::script;
    let out = tempfile::tempdir().unwrap();
    // On local workers (which load the plugins from each trial's config) and inline: the same
    // numbers.
    let run = |dir: &str, launcher: &str| {
        let mut layers = Layers::new();
        let sets = [
            format!("out={:?}", out.path().join(dir).display().to_string()),
            "train.steps=30".into(),
            "eval.size=128".into(),
            "eval.metrics=[\"w2\"]".into(),
            format!("launcher.kind={launcher:?}"),
        ];
        layers.set_args(&sets).unwrap();
        script::run(crate::common::session(root().join("experiments/plugin_demo.rhai"), layers)).unwrap();
        let summary = std::fs::read_to_string(out.path().join(dir).join("plugin_demo/summary.csv")).unwrap();
        // Without the two timing columns.
        let numbers: Vec<String> =
            summary.lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap_or_default().to_string()).collect();
        (summary, numbers)
    };
    let (summary, local) = run("local", "local");
    let (_, inline) = run("inline", "inline");
    assert_eq!(local, inline, "local workers and inline differ");
    for schedule in ["cond-ot", "sigmoid", "smoothstep", "polynomial-c"] {
        for solver in ["rk4", "ssp-rk3"] {
            let rows = summary
                .lines()
                .filter(|l| l.contains(&format!(",{schedule},")) && l.contains(&format!(",{solver},")))
                .count();
            assert_eq!(rows, 2, "{schedule} × {solver} in\n{summary}");
        }
    }
}
