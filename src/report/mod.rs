//! Reports: plots and one self-contained `report.html` from a sweep directory's files alone,
//! aggregation over seeds, and comparisons between sweeps.
//!
//! A report shows, per dataset: every metric against NFE (one line per method × sampler, mean
//! ± std over seeds, the floor as a dashed level), the deterministic samplers' work–precision,
//! the loss curves, generated samples over held-out target points and trajectories of the flow,
//! for a chosen set of rows (by default each sampler's cheapest and dearest row of the first
//! seed), and the summary table.

pub mod aggregate;
mod compare;
pub mod figure;
mod flows;
mod html;
pub mod palette;
mod panels;
mod plots;
mod render;
mod results;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use thiserror::Error;

pub use aggregate::{aggregate, Aggregation, Group, Spread};
pub use compare::{compare, significant};
pub use figure::{Axis, Figure, Mark, Scale};
pub use results::{Evaluated, FloorResult, LossCurves, SweepResults, TrialResults};

use crate::config::ConfigError;
use crate::device::DeviceError;
use crate::files::write_atomic;
use crate::plugins::Registry;
use crate::sampling::SampleError;
use crate::sweep::{self, metric_columns, TrialError, SOLVER_ERROR};
use crate::train::TrainError;
use flows::Rebuilt;
use html::{Page, Section};
use panels::{panels, Style};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error(transparent)]
    Sweep(#[from] TrialError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("loading a network: {0}")]
    Train(#[from] TrainError),
    #[error("trajectories: {0}")]
    Sample(#[from] SampleError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("drawing {0}")]
    Draw(String),
    #[error("no finished evaluation `{name}` in the sweep to show the samples of; its evaluations: {known}")]
    UnknownEvaluation { name: String, known: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io { path: path.to_path_buf(), source }
}

/// What to draw, and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The directory of `report.html` and `plots/`; the sweep directory when `None`.
    pub out: Option<PathBuf>,
    /// Evaluation ids (`euler-8`) whose samples and trajectories to show; each sampler's
    /// fewest- and most-NFE rows when `None`.
    pub samples: Option<Vec<String>>,
}

/// A written report.
#[derive(Debug, Clone)]
pub struct Report {
    pub html: PathBuf,
    pub plots: PathBuf,
    /// Every figure, in page order.
    pub figures: Vec<Figure>,
    pub seconds: f64,
}

/// Source points whose trajectories a flow plot shows.
const TRAJECTORIES_2D: usize = 24;
const TRAJECTORIES_1D: usize = 40;

/// Read the sweep directory, draw every figure (PNG and SVG under `plots/`) and write
/// `report.html`. `registry` rebuilds the trials' datasets and samplers for the sample and
/// trajectory plots.
pub fn write(sweep_dir: &Path, registry: &Arc<Registry>, options: &Options) -> Result<Report, ReportError> {
    let start = Instant::now();
    let results = SweepResults::read(sweep_dir)?;
    if let Some(named) = &options.samples {
        let ids: Vec<String> =
            results.trials.iter().flat_map(|t| t.evaluated.iter().map(|e| e.evaluation.id())).collect();
        if let Some(unknown) = named.iter().find(|n| !ids.contains(n)) {
            let mut known = ids.clone();
            known.sort();
            known.dedup();
            return Err(ReportError::UnknownEvaluation { name: unknown.clone(), known: known.join(", ") });
        }
    }
    let style = Style::new(&results);
    let mut quality = Vec::new();
    let mut precision = Vec::new();
    let mut training = Vec::new();
    let mut samples = Vec::new();
    let mut flows = Vec::new();
    for panel in panels(&results) {
        let rows: Vec<sweep::Row> =
            panel.trials.iter().flat_map(|t| t.evaluated.iter().map(|e| e.row.clone())).collect();
        for metric in metric_columns(&rows) {
            if metric != SOLVER_ERROR && rows.iter().any(|r| r.metric(&metric).is_some()) {
                quality.push(plots::quality(&panel, &metric, &style));
            }
        }
        precision.extend(plots::work_precision(&panel, &style));
        training.extend(plots::training(&panel, &style));
        for trial in panel.trials.iter().filter(|t| Some(t.spec.config.seed) == panel.first_seed()) {
            let chosen = chosen(trial, options.samples.as_deref());
            if chosen.is_empty() {
                continue;
            }
            let mut rebuilt = match Rebuilt::new(trial, registry) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("report: no sample plots for {}: {e}", trial.spec.id);
                    continue;
                }
            };
            let dim = rebuilt.setup.dim;
            for e in chosen {
                let file = trial.dir.join(e.evaluation.samples_file());
                let (generated, _) = sweep::read_npy(&file).map_err(io(&file))?;
                let points = plots::SamplePoints {
                    generated: &generated,
                    target: &rebuilt.target,
                    dim,
                    mixture: rebuilt.mixture.as_ref(),
                };
                samples.push(plots::samples(&panel, trial, e, &points, &style));
                if rebuilt.is_deterministic(e) {
                    let count = if dim == 1 { TRAJECTORIES_1D } else { TRAJECTORIES_2D };
                    match rebuilt.trajectory(trial, e, count) {
                        Ok(states) => flows.push(plots::flow(&panel, trial, e, &states, &rebuilt.target, dim, &style)),
                        Err(err) => {
                            tracing::warn!("report: no trajectories for {} {}: {err}", trial.spec.id, e.evaluation.id())
                        }
                    }
                }
            }
        }
    }
    let sections = [
        ("Quality against NFE", "Every metric against the number of model evaluations per sample, one line per method and sampler; the dashed line is the dataset's finite-sample floor.", quality),
        ("Work–precision", "How far each deterministic sampler's samples are from a converged solve of the same ODE, against its cost.", precision),
        ("Training", "Training and validation losses as logged, per trial.", training),
        ("Samples", "Generated samples over held-out target points.", samples),
        ("Flows", "Trajectories of the deterministic samplers from a few source points.", flows),
    ];
    let out = options.out.clone().unwrap_or_else(|| sweep_dir.to_path_buf());
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(io(&plots_dir))?;
    let all: Vec<&Figure> = sections.iter().flat_map(|(_, _, f)| f.iter()).collect();
    all.par_iter().try_for_each(|f| render::write(f, &plots_dir).map_err(ReportError::Draw))?;
    let mut page_sections = Vec::new();
    let mut figures = Vec::new();
    for (title, intro, list) in sections {
        if list.is_empty() {
            continue;
        }
        let mut drawn = Vec::new();
        for f in list {
            let png = plots_dir.join(format!("{}.png", f.name));
            let bytes = std::fs::read(&png).map_err(io(&png))?;
            figures.push(f.clone());
            drawn.push((f, bytes));
        }
        page_sections.push(Section { title: title.into(), intro: intro.into(), figures: drawn });
    }
    // The rows as summary.csv has them: floors, then each trial's, in declaration order.
    let rows: Vec<sweep::Row> = results.rows().into_iter().map(|(row, _)| row.clone()).collect();
    let csv = sweep::to_csv(&rows);
    let dir = sweep_dir.display().to_string();
    let page = Page {
        sweep: &results.name,
        dir: &dir,
        trials: results.trials.len(),
        rows: rows.len(),
        sections: &page_sections,
        summary_csv: &csv,
    };
    let html = out.join("report.html");
    write_atomic(&html, html::page(&page).as_bytes()).map_err(io(&html))?;
    Ok(Report { html, plots: plots_dir, figures, seconds: start.elapsed().as_secs_f64() })
}

/// The evaluations whose samples a report shows: those named, or each sampler's fewest- and
/// most-NFE rows.
fn chosen<'a>(trial: &'a TrialResults, named: Option<&[String]>) -> Vec<&'a Evaluated> {
    if let Some(ids) = named {
        return trial.evaluated.iter().filter(|e| ids.contains(&e.evaluation.id())).collect();
    }
    let span = |solver: &str| {
        let nfes = trial.evaluated.iter().filter(|o| o.row.solver == solver).map(|o| o.row.nfe);
        nfes.fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)))
    };
    trial
        .evaluated
        .iter()
        .filter(|e| {
            let (fewest, most) = span(&e.row.solver);
            e.row.nfe == fewest || e.row.nfe == most
        })
        .collect()
}
