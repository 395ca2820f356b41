//! Crash safety: a sweep killed at many random moments — SIGKILL to its whole process group at
//! a random time, or an abort in the middle of a random atomic write of any of its processes —
//! is rerun after each kill. After every kill each file it left is whole (or a temporary a
//! rerun removes), and the sweep finished by the reruns has the summary and the samples of an
//! uninterrupted run, bit for bit.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SWEEP: &str = r#"
let s = sweep("crash");
for target in ["moons", "gmm1d"] {
    s.reference(#{ "data.target": target });
    for method in ["fm", "ddpm"] {
        let family = if method == "fm" { #{} } else { #{ "path.schedule": "ddpm-linear", "path.target": "epsilon" } };
        let t = s.trial(#{ method: method, "data.target": target } + family);
        t.evaluate("euler", 4);
        t.evaluate(if method == "fm" { "heun" } else { "ddim" }, 8);
    }
}
s.run();
s.print_table();
"#;

/// Frequent checkpoints and log lines, so that kills land in every kind of write.
const SETTINGS: [&str; 5] =
    ["train.steps=400", "train.checkpoint_every=25", "train.log_every=25", "eval.size=200", "launcher.workers=2"];

/// How many kills the test makes before it lets the sweep finish.
const KILLS: usize = 24;

fn start(out: &Path, script: &Path, crash_in_write: Option<usize>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    command.env("RUNNER_LOG", "runner=warn").arg(script).arg("--out").arg(out);
    for s in SETTINGS {
        command.args(["--set", s]);
    }
    if let Some(n) = crash_in_write {
        command.env(runner::files::CRASH_IN_WRITE, n.to_string());
    }
    // A group of its own: the kill takes the script's process and its workers at once.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

/// A small deterministic generator: the run prints its seed, so a failing order of kills can
/// be replayed with `RUNNER_CRASH_SEED`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match path.is_dir() {
            true => out.extend(files(&path)),
            false => out.push(path),
        }
    }
    out.sort();
    out
}

/// Every file the sweep left is whole: JSON parses, every event line parses, an `.npy` holds
/// as many bytes as its header says, the summary's rows have the header's cells. Temporaries
/// (a write cut short) may be there; the next run removes them.
fn check_whole(sweep: &Path) -> Result<(), String> {
    for path in files(sweep) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(runner::files::TEMPORARY) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bad = |why: String| Err(format!("{}: {why}", path.display()));
        if name.ends_with(".json") {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                return bad(format!("not whole JSON: {e}"));
            }
        } else if name.ends_with(".jsonl") {
            let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
            if !text.is_empty() && !text.ends_with('\n') {
                return bad("a line cut short".into());
            }
            for line in text.lines() {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
                    return bad(format!("a line that does not parse ({e}): {line}"));
                }
            }
        } else if name.ends_with(".npy") {
            if let Err(e) = runner::sweep::read_npy(&path) {
                return bad(format!("not a whole array: {e}"));
            }
        } else if name == "summary.csv" {
            let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
            let mut lines = text.lines();
            let cells = lines.next().map_or(0, |h| h.split(',').count());
            if cells == 0 || lines.any(|l| l.split(',').count() != cells) || !text.ends_with('\n') {
                return bad("a table cut short".into());
            }
        }
    }
    Ok(())
}

/// The summary without its timing columns, and every sample file's bytes.
fn results(sweep: &Path) -> (Vec<String>, Vec<(String, Vec<u8>)>) {
    let rows = crate::common::summary(sweep);
    let samples = files(sweep)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .map(|p| (p.strip_prefix(sweep).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    (rows, samples)
}

/// What the sweep was doing when it was killed, from its trials' last events.
fn phase(sweep: &Path) -> &'static str {
    let last: Vec<String> = files(sweep)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "events.jsonl"))
        .filter_map(|p| std::fs::read_to_string(p).ok()?.lines().last().map(str::to_string))
        .collect();
    let any = |kind: &str| last.iter().any(|l| l.contains(&format!(r#""event":"{kind}""#)));
    match () {
        _ if last.is_empty() => "before any trial",
        _ if any("checkpoint") || any("train") || any("progress") || any("resumed") => "training",
        _ if any("trained") || any("loaded") || any("sample") => "evaluating",
        _ => "between trials",
    }
}

#[test]
fn a_sweep_killed_at_random_moments_reruns_to_the_uninterrupted_results_bit_for_bit() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("crash.rhai");
    std::fs::write(&script, SWEEP).unwrap();

    let whole = work.path().join("whole");
    let begun = Instant::now();
    assert!(start(&whole, &script, None).wait().unwrap().success());
    let duration = begun.elapsed();
    let expected = results(&whole.join("crash"));
    assert_eq!(expected.0.len(), 2 + 4 * 2);

    let seed = std::env::var("RUNNER_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("uninterrupted: {:.1} s; kill order seed RUNNER_CRASH_SEED={seed}", duration.as_secs_f64());
    let mut rng = Lcg(seed);
    let out = work.path().join("killed");
    let sweep = out.join("crash");
    let mut phases: std::collections::BTreeMap<&str, usize> = Default::default();
    let (mut kills, mut reruns, mut finished_early) = (0, 0, 0);
    while kills < KILLS {
        // One to three kills in a row, then a rerun to the end, compared with the uninterrupted
        // run; then the next round starts from nothing.
        let mut round = 0;
        let kills_this_round = 1 + rng.below(3);
        while round < kills_this_round {
            // Half the kills are a SIGKILL at a random time, half an abort in the middle of a
            // random one of the first atomic writes of each process (manifest, specs,
            // checkpoints, rows, samples, summary).
            let by_write = rng.below(2) == 0;
            let mut child = start(&out, &script, by_write.then(|| 1 + rng.below(60) as usize));
            if !by_write {
                std::thread::sleep(Duration::from_millis(rng.below(duration.as_millis() as u64)));
            }
            // The whole group: an abort in the script's process leaves its workers running.
            let group = child.id() as i32;
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status();
            let status = child.wait().unwrap();
            wait_for_group(group);
            if status.success() {
                // It finished before the kill: nothing was interrupted.
                finished_early += 1;
                break;
            }
            round += 1;
            kills += 1;
            *phases.entry(phase(&sweep)).or_default() += 1;
            let kind = if by_write { "an abort in a write" } else { "SIGKILL" };
            if let Err(e) = check_whole(&sweep) {
                panic!("after kill {kills} ({kind}; seed {seed}): {e}");
            }
        }
        let rerun = start(&out, &script, None).wait().unwrap();
        assert!(rerun.success(), "the rerun after kill {kills} failed (seed {seed})");
        reruns += 1;
        check_whole(&sweep).unwrap();
        let temporaries: Vec<PathBuf> =
            files(&sweep).into_iter().filter(|p| p.to_string_lossy().ends_with(runner::files::TEMPORARY)).collect();
        assert!(temporaries.is_empty(), "{temporaries:?}");
        let got = results(&sweep);
        assert_eq!(got.0, expected.0, "the summary after kill {kills} differs (seed {seed})");
        assert_eq!(got.1.len(), expected.1.len());
        for ((name, bytes), (want_name, want)) in got.1.iter().zip(&expected.1) {
            assert_eq!(name, want_name);
            assert!(bytes == want, "{name} after kill {kills} differs from the uninterrupted run's (seed {seed})");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
    println!("{kills} kills, {reruns} reruns to the end; killed while {phases:?}; {finished_early} runs ended before their kill");
}

/// Wait until no process of `group` is left (the kernel reaps killed workers soon after).
fn wait_for_group(group: i32) {
    let start = Instant::now();
    while Command::new("kill")
        .args(["-0", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "process group {group} outlived its kill");
        std::thread::sleep(Duration::from_millis(10));
    }
}
