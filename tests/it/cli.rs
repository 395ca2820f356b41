//! The command line as the README shows it: `runner plugins`, `runner config`, errors.

use std::process::Command;

fn runner(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(args)
        .env("RUNNER_LOG", "warn")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn plugins_lists_every_kind_with_parameters() {
    let (ok, out, err) = runner(&["plugins"]);
    assert!(ok, "{err}");
    for heading in ["schedules:", "couplings:", "targets:", "solvers:", "grids:", "datasets:", "metrics:"] {
        assert!(out.contains(heading), "no {heading} in\n{out}");
    }
    for name in [
        "cond-ot",
        "ddpm-linear",
        "independent",
        "velocity",
        "epsilon",
        "euler",
        "rk4",
        "ddim",
        "uniform",
        "gmm1d",
        "moons",
        "w2",
        "mmd",
    ] {
        assert!(out.lines().any(|l| l.split_whitespace().next() == Some(name)), "{name} missing in\n{out}");
    }
    // Parameters are listed with their defaults.
    assert!(out.contains("sigma_min = 0.0001"), "{out}");
    assert!(out.contains("eta = 0"), "{out}");
}

#[test]
fn config_prints_every_key_with_its_source() {
    let (ok, out, err) = runner(&["config", "--set", "train.lr=0.5"]);
    assert!(ok, "{err}");
    assert!(out.contains("train.lr = 0.5") && out.contains("# --set train.lr"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("device = \"flex\"") && l.ends_with("# default")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("train.steps = 2000 ") && l.ends_with("# default")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("seed = 0 ")), "{out}");
}

#[test]
fn config_of_a_script_shows_each_trial_and_the_files_it_loads() {
    let (ok, out, err) = runner(&["config", "experiments/sweep.rhai"]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("# trial at").count(), 4, "{out}");
    assert!(out.contains("sweep.toml:15:"), "train.steps should come from sweep.toml line 15:\n{out}");
    assert!(out.contains("script map at"), "{out}");
}

#[test]
fn bad_input_fails_with_a_message_that_names_it() {
    let (ok, _, err) = runner(&["config", "--set", "device"]);
    assert!(!ok && err.contains("--set device") && err.contains("KEY=VALUE"), "{err}");
    let (ok, _, err) = runner(&["no-such-script.rhai"]);
    assert!(!ok && err.contains("no-such-script.rhai"), "{err}");
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let (ok, _, err) =
        runner(&["experiments/sweep.rhai", "--out", out, "--set", "device=cuda", "--set", "eval.size=100"]);
    assert!(!ok, "an unknown device must fail");
    assert!(
        err.contains("sweep.rhai:") && err.contains("`device`") && err.contains("--set device") && err.contains("cuda"),
        "{err}"
    );
}

/// A small sweep's run, its stderr captured (not a terminal).
fn logged_run(format: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("log.rhai");
    std::fs::write(&script, "let s = sweep(\"log\");\nlet t = s.trial();\nt.evaluate(\"euler\", 4);\ns.run();\n")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .arg(&script)
        .args(format)
        .args(["--out", &dir.path().display().to_string(), "--set", "train.steps=50", "--set", "eval.size=64"])
        .env("RUNNER_LOG", "runner=info")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    err
}

#[test]
fn logs_that_are_not_on_a_terminal_carry_no_colour_codes_and_can_be_json() {
    let text = logged_run(&[]);
    assert!(text.contains("progress: 1/1 trials done"), "{text}");
    assert!(!text.contains('\u{1b}'), "ANSI escape codes in a log that is not a terminal:\n{text}");
    let json = logged_run(&["--log-format", "json"]);
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"].as_str().is_some_and(|m| m.starts_with("progress:"))),
        "{json}"
    );
    assert!(lines.iter().all(|l| l["level"].is_string()), "{json}");
}

#[test]
fn help_documents_the_worker_status_and_launcher_keys() {
    let (ok, out, err) = runner(&["--help"]);
    assert!(ok, "{err}");
    for word in ["worker", "status", "launcher.kind", "launcher.workers", "launcher.slurm", "--force", "--log-format"] {
        assert!(out.contains(word), "--help lacks {word}:\n{out}");
    }
    let (ok, out, _) = runner(&["worker", "--help"]);
    assert!(ok && out.contains("--trial") && out.contains("--index"), "{out}");
}

#[test]
fn a_bad_launcher_is_refused_where_the_sweep_opens_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.rhai");
    std::fs::write(&script, "let s = sweep(\"bad\");\nlet t = s.trial();\nt.evaluate(\"euler\", 4);\ns.run();\n")
        .unwrap();
    for (set, words) in [
        ("launcher.kind=\"nope\"", &["bad.rhai:1:", "launcher.kind", "`nope`", "local, inline, slurm"][..]),
        ("launcher.program=\"/no/such/runner\"", &["bad.rhai:1:", "launcher.program", "/no/such/runner"][..]),
    ] {
        let out = dir.path().join("out");
        let (ok, _, err) = runner(&[&script.display().to_string(), "--out", &out.display().to_string(), "--set", set]);
        assert!(!ok);
        for w in words {
            assert!(err.contains(w), "{w} not in {err}");
        }
        assert!(!out.exists(), "a refused sweep wrote {}", out.display());
    }
}
