//! The `slurm` launcher against a real Slurm: a small sweep submitted as job arrays (split, as a
//! cluster's `MaxArraySize` would split it), waited for, and compared with the same sweep run
//! inline, bit for bit. Needs the daemons that `scripts/setup-slurm.sh` starts, so it is
//! ignored by a plain `cargo test`; `.ci/run` sets them up and runs it with `--ignored`. Without
//! Slurm it fails, saying so.

use std::path::Path;
use std::process::Command;

const SWEEP: &str = r#"
let s = sweep("cluster");
s.reference(#{ "data.target": "moons" });
for seed in [0, 1, 2] {
    let t = s.trial(#{ "data.target": "moons", seed: seed });
    t.evaluate("euler", 8);
    t.evaluate("rk4", 8);
}
let report = s.run();
print(`done ${report.done} of ${report.trials}`);
"#;

fn run(script: &Path, out: &Path, launcher: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    command.arg(script).arg("--out").arg(out).env("RUNNER_LOG", "runner=info");
    for s in ["train.steps=100", "eval.size=200"].iter().chain(launcher) {
        command.args(["--set", s]);
    }
    let output = command.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{text}");
    text
}

fn metrics(sweep_dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(sweep_dir.join("summary.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    text.lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let kept: Vec<&str> =
                (0..cells.len()).filter(|&i| !header[i].ends_with("_seconds")).map(|i| cells[i]).collect();
            kept.join(",")
        })
        .collect()
}

#[test]
#[ignore = "needs a running Slurm: scripts/setup-slurm.sh, then cargo test --test it slurm -- --ignored"]
fn a_sweep_on_slurm_job_arrays_matches_the_inline_run_bit_for_bit() {
    let up = Command::new("scontrol").arg("ping").output();
    let up = up.as_ref().map(|o| String::from_utf8_lossy(&o.stdout).contains("UP")).unwrap_or(false);
    assert!(up, "no Slurm controller answers `scontrol ping`: run scripts/setup-slurm.sh first (it installs slurm-wlm and munge and starts the daemons)");

    let work = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let script = work.path().join("cluster.rhai");
    std::fs::write(&script, SWEEP).unwrap();
    run(&script, &work.path().join("inline"), &["launcher.kind=\"inline\""]);
    let text = run(
        &script,
        &work.path().join("slurm"),
        &[
            "launcher.kind=\"slurm\"",
            // Three trials in arrays of at most two: two submissions.
            "launcher.slurm.max_array_size=2",
            "launcher.slurm.parallel=2",
            "launcher.slurm.time=\"00:10:00\"",
            "launcher.slurm.mem=\"1G\"",
            "launcher.slurm.extra=[\"--comment=runner-test\"]",
            "launcher.slurm.poll_seconds=0.5",
        ],
    );
    assert!(text.contains("done 3 of 3"), "{text}");
    let sweep = work.path().join("slurm/cluster");
    assert_eq!(metrics(&sweep), metrics(&work.path().join("inline/cluster")));

    let jobs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("slurm/jobs.json")).unwrap()).unwrap();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 2, "{jobs}");
    let array = std::fs::read_to_string(sweep.join("slurm/array-0.sh")).unwrap();
    for line in
        ["#SBATCH --array=0-1%2", "#SBATCH --time=00:10:00", "#SBATCH --mem=1G", "#SBATCH --comment=runner-test"]
    {
        assert!(array.contains(line), "{line} not in\n{array}");
    }
    let logs = std::fs::read_dir(sweep.join("slurm"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".log"));
    assert_eq!(logs.count(), 3, "a log per task");

    let status = Command::new(env!("CARGO_BIN_EXE_runner")).arg("status").arg(&sweep).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("3 trials: 3 done"), "{status}");
}

/// `squeue`'s lines for a job (all its tasks still in the queue).
fn queued(job: &str) -> String {
    let out = Command::new("squeue").args(["-h", "-o", "%i %T", "-j", job]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn scontrol(args: &[&str]) {
    let out = Command::new("scontrol").args(args).output().unwrap();
    assert!(out.status.success(), "scontrol {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
#[ignore = "needs a running Slurm: scripts/setup-slurm.sh, then cargo test --test it slurm -- --ignored"]
fn a_requeued_task_resumes_from_its_checkpoint_and_a_sweep_can_be_left_to_slurm() {
    let work = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let script = work.path().join("requeue.rhai");
    let text = "let s = sweep(\"requeue\");\nlet t = s.trial(#{ \"data.target\": \"moons\" });\nt.evaluate(\"heun\", 8);\nlet r = s.run();\nprint(`submitted ${r.submitted}`);\n";
    std::fs::write(&script, text).unwrap();
    let long = ["train.steps=8000", "train.checkpoint_every=500"];
    // `launcher.wait = false`: the script returns once the array is submitted.
    let submitted = run(
        &script,
        &work.path().join("slurm"),
        &[&long[..], &["launcher.kind=\"slurm\"", "launcher.wait=false"]].concat(),
    );
    assert!(submitted.contains("submitted [\""), "{submitted}");
    let sweep = work.path().join("slurm/requeue");
    let jobs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("slurm/jobs.json")).unwrap()).unwrap();
    let job = jobs["jobs"][0]["job"].as_str().unwrap().to_string();
    let trial = sweep.join(jobs["jobs"][0]["trials"][0].as_str().unwrap());

    // Pre-empted once its training has saved a checkpoint: requeued, and started again at once
    // (a requeued job waits for its begin time otherwise).
    let start = std::time::Instant::now();
    let checkpointed =
        || std::fs::read_to_string(trial.join("events.jsonl")).unwrap_or_default().contains("\"checkpoint\"");
    while !checkpointed() {
        assert!(start.elapsed().as_secs() < 300, "no checkpoint: {}", queued(&job));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let task = format!("{job}_0");
    scontrol(&["requeue", &task]);
    let status = Command::new(env!("CARGO_BIN_EXE_runner")).arg("status").arg(&sweep).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("slurm:"), "{}", String::from_utf8_lossy(&status.stdout));
    loop {
        let queue = queued(&job);
        if queue.is_empty() {
            break;
        }
        assert!(start.elapsed().as_secs() < 600, "the requeued task did not finish: {queue}");
        if queue.contains("PENDING") {
            let _ = Command::new("scontrol").args(["update", &format!("jobid={task}"), "starttime=now"]).output();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(trial.join("events.jsonl")).unwrap();
    assert!(log.contains("\"resumed\""), "the requeued task trained from scratch:\n{log}");
    assert_eq!(log.matches("\"trained\"").count(), 1, "{log}");

    // The same numbers as a run that was never stopped.
    run(&script, &work.path().join("inline"), &[&long[..], &["launcher.kind=\"inline\""]].concat());
    run(&script, &work.path().join("slurm"), &[&long[..], &["launcher.kind=\"inline\""]].concat());
    assert_eq!(metrics(&sweep), metrics(&work.path().join("inline/requeue")));
}
