//! The results of one `runner bench` run: a row per (device, workload) with PyTorch's figure
//! beside runner's, as a text table, JSON or CSV.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::machine::Machine;
use super::plan::Plan;
use super::reference::Reference;
use super::BenchError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub device: String,
    /// `train small`, `sample medium`, … (the plan's case names).
    pub row: String,
    /// `steps/s` or `samples/s`.
    pub unit: &'static str,
    /// The sizes, e.g. `batch 256, width 64`.
    pub workload: String,
    pub runner: f64,
    pub pytorch: Option<f64>,
    /// runner / PyTorch: above 1, runner is faster.
    pub ratio: Option<f64>,
    /// Achieved matmul GFLOP/s (counted analytically, see [`Plan::train_flops`]).
    pub gflops: f64,
    pub pytorch_gflops: Option<f64>,
    /// The device's sgemm rate, and torch.mm's.
    pub peak_gflops: f64,
    pub pytorch_peak_gflops: Option<f64>,
}

/// The matrix kernel a device multiplied with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kernel {
    pub device: String,
    pub kernel: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub threads: usize,
    pub machine: Machine,
    pub kernels: Vec<Kernel>,
    pub plan: Plan,
    pub reference: Reference,
    pub rows: Vec<Row>,
}

impl Report {
    /// A header that says what ran (and, once, why PyTorch did not), then the table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "runner bench: {} threads, {} s per timed measurement", self.threads, self.plan.seconds);
        let _ = writeln!(out, "CPU: {}, {}; the figures are this machine's", self.machine.cpu, self.machine.isa);
        let peak = |device: &str| self.rows.iter().find(|r| r.device == device).map(|r| r.peak_gflops);
        for k in &self.kernels {
            let at = peak(&k.device).map(|p| format!(", sgemm peak {} GFLOP/s", figure(p))).unwrap_or_default();
            let _ = writeln!(out, "{}: {}{at}", k.device, k.kernel);
        }
        let _ = match &self.reference {
            Reference::Ran { python, result } => writeln!(
                out,
                "PyTorch {} eager reference: {}, {} threads, {}, ATen CPU capability {}, sgemm peak {} GFLOP/s",
                result.torch,
                python.display(),
                result.threads,
                result.blas.as_deref().unwrap_or("BLAS not reported"),
                result.cpu_capability.as_deref().unwrap_or("not reported"),
                figure(result.peak_gflops)
            ),
            Reference::Skipped { python, reason } => {
                writeln!(out, "PyTorch reference skipped ({}): {reason}", python.display())
            }
        };
        out.push('\n');
        let header = [
            "device",
            "row",
            "workload",
            "unit",
            "runner",
            "PyTorch",
            "runner/PyTorch",
            "GFLOP/s runner / PyTorch",
            "sgemm peak runner / PyTorch",
        ];
        let cells: Vec<[String; 9]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.device.clone(),
                    r.row.clone(),
                    r.workload.clone(),
                    r.unit.to_string(),
                    figure(r.runner),
                    r.pytorch.map(figure).unwrap_or_else(|| "—".into()),
                    r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_else(|| "—".into()),
                    pair(r.gflops, r.pytorch_gflops),
                    pair(r.peak_gflops, r.pytorch_peak_gflops),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| cells.iter().map(|c| c[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |cols: &[String]| {
            let padded: Vec<String> = cols.iter().zip(&widths).map(|(c, &w)| format!("{c:<w$}")).collect();
            format!("| {} |\n", padded.join(" | "))
        };
        out.push_str(&line(&header.map(String::from)));
        out.push_str(&line(&widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>()));
        for c in &cells {
            out.push_str(&line(c));
        }
        out
    }

    /// Write the report to `path`: JSON (everything, with the plan) or CSV (the rows), by the
    /// file's extension.
    pub fn write(&self, path: &Path) -> Result<(), BenchError> {
        let text = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::to_string_pretty(self).expect("a report serializes") + "\n",
            Some("csv") => self.csv(),
            _ => return Err(BenchError::OutFormat(path.to_path_buf())),
        };
        std::fs::write(path, text).map_err(|source| BenchError::Write { path: path.to_path_buf(), source })
    }

    fn csv(&self) -> String {
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let mut out = String::from(
            "device,row,workload,unit,runner,pytorch,ratio,gflops,pytorch_gflops,peak_gflops,pytorch_peak_gflops\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{},{},\"{}\",{},{},{},{},{},{},{},{}",
                r.device,
                r.row,
                r.workload,
                r.unit,
                r.runner,
                opt(r.pytorch),
                opt(r.ratio),
                r.gflops,
                opt(r.pytorch_gflops),
                r.peak_gflops,
                opt(r.pytorch_peak_gflops)
            );
        }
        out
    }
}

/// About three significant figures, without an exponent.
fn figure(x: f64) -> String {
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        a if a >= 1.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    }
}

fn pair(runner: f64, pytorch: Option<f64>) -> String {
    match pytorch {
        Some(p) => format!("{} / {}", figure(runner), figure(p)),
        None => figure(runner),
    }
}
