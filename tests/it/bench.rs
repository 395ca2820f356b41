//! `runner bench` on tiny workloads: the structure of its report, never its timings (figures
//! from a shared machine are no test).

use std::path::{Path, PathBuf};
use std::process::Command;

use runner::bench::{self, Options, Plan, Reference, SampleCase, TrainCase};

/// The bench's workloads shrunk to milliseconds: one training and one sampling case.
fn tiny_plan() -> Plan {
    Plan {
        train: vec![TrainCase { name: "tiny".into(), batch: 8, width: 4 }],
        sample: vec![SampleCase { name: "tiny".into(), width: 4, points: 16, nfe: 3 }],
        warmup_steps: 1,
        warmup_nfe: 1,
        seconds: 0.0,
        min_steps: 2,
        peak_size: 16,
        peak_reps: 1,
        ..Plan::quick()
    }
}

fn options(python: PathBuf) -> Options {
    Options { devices: bench::default_devices(), threads: 1, python, plan: tiny_plan() }
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

#[test]
fn every_row_on_every_device_with_the_reference_where_it_ran() {
    let python = bench::python(None, Path::new(env!("CARGO_MANIFEST_DIR")));
    let options = options(python);
    let report = bench::run(&options, &mut |_| {}).unwrap();
    let ran = report.reference.result();
    for device in &options.devices {
        for row in ["train tiny", "sample tiny"] {
            let found: Vec<_> = report.rows.iter().filter(|r| &r.device == device && r.row == row).collect();
            assert_eq!(found.len(), 1, "{device} {row} in\n{}", report.table());
            let r = found[0];
            assert!(positive(r.runner) && positive(r.gflops) && positive(r.peak_gflops), "{r:?}");
            // runner's figures stand beside PyTorch's exactly when the reference ran.
            assert_eq!(r.ratio.is_some(), ran.is_some(), "{r:?}\n{:?}", report.reference);
            if ran.is_some() {
                let theirs = [r.pytorch, r.ratio, r.pytorch_gflops, r.pytorch_peak_gflops];
                assert!(theirs.iter().all(|x| x.is_some_and(positive)), "{r:?}");
            }
        }
    }
    assert_eq!(report.rows.len(), 2 * options.devices.len(), "{}", report.table());
    // The figures are one machine's: the table says which CPU, and each side's matrix kernel
    // beside its peak.
    let table = report.table();
    assert!(!report.machine.cpu.is_empty() && table.contains(&format!("CPU: {}", report.machine.cpu)), "{table}");
    for device in &options.devices {
        let line = table.lines().find(|l| l.starts_with(&format!("{device}: "))).unwrap_or_else(|| panic!("{table}"));
        assert!(line.contains("sgemm peak") && !line.contains("unknown"), "{line}");
    }
    if let Some(p) = ran {
        assert!(p.cpu_capability.as_deref().is_some_and(|c| !c.is_empty()) && p.blas.is_some(), "{p:?}");
        assert!(table.contains("ATen CPU capability"), "{table}");
    }
}

#[test]
fn a_missing_reference_is_reported_once_and_the_rows_still_come() {
    let mut options = options(PathBuf::from("/no/such/python"));
    options.devices.truncate(1);
    let report = bench::run(&options, &mut |_| {}).unwrap();
    let Reference::Skipped { reason, .. } = &report.reference else { panic!("{:?}", report.reference) };
    assert!(reason.contains("/no/such/python"), "{reason}");
    assert!(report.rows.iter().all(|r| r.pytorch.is_none() && r.ratio.is_none()), "{:?}", report.rows);
    let table = report.table();
    assert_eq!(table.matches("skipped").count(), 1, "{table}");
    assert!(table.contains(&options.devices[0]) && table.contains("train tiny"), "{table}");

    let dir = tempfile::tempdir().unwrap();
    report.write(&dir.path().join("bench.json")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bench.json")).unwrap()).unwrap();
    assert_eq!(json["reference"]["status"], "skipped");
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
    report.write(&dir.path().join("bench.csv")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("bench.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let err = report.write(&dir.path().join("bench.txt")).unwrap_err();
    assert!(err.to_string().contains(".json or .csv"), "{err}");
}

#[test]
fn an_unknown_device_fails_before_anything_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["bench", "--device", "tpu", "--python", "/no/such/python"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`tpu`"), "{err}");
    assert!(!err.contains("PyTorch"), "the reference must not start:\n{err}");
}

#[test]
fn rows_are_selected_by_name_and_an_unknown_one_is_refused() {
    let plan = Plan::standard().select(&["sample small".into(), "train large".into()]).unwrap();
    let names: Vec<_> = plan.train.iter().map(|c| &c.name).chain(plan.sample.iter().map(|c| &c.name)).collect();
    assert_eq!(names, ["large", "small"]);
    assert_eq!(plan.train[0].batch, 4096);
    assert_eq!(Plan::standard().select(&[]).unwrap(), Plan::standard());
    let err = Plan::standard().select(&["sample huge".into()]).unwrap_err();
    assert!(err.contains("`sample huge`") && err.contains("train medium"), "{err}");
}
