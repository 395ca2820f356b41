//! The report's figures, built as data from a sweep's results (see [`Figure`]).

use std::collections::BTreeMap;

use runner_sdk::Mixture;

use super::aggregate::Spread;
use super::figure::{Axis, Figure, Mark};
use super::palette::{REFERENCE, TARGET};
use super::panels::{Panel, Style};
use super::results::{Evaluated, TrialResults};
use crate::sweep::SOLVER_ERROR;

/// How metrics read on an axis: what they measure, in words.
fn metric_label(metric: &str) -> String {
    match metric {
        "w2" => "W2 to held-out target (lower is better)".into(),
        "w1" => "W1 to held-out target (lower is better)".into(),
        "sliced-w2" => "sliced W2 to held-out target (lower is better)".into(),
        "mmd" => "MMD² to held-out target (lower is better)".into(),
        "energy" => "energy distance to held-out target (lower is better)".into(),
        "npe" => "normalized path energy NPE (lower is better)".into(),
        "path-energy" => "path energy (lower is straighter)".into(),
        "straightness" => "straightness of the flow".into(),
        "nll" => "negative log-likelihood, nats (lower is better)".into(),
        "bpd" => "negative log-likelihood, bits per dimension".into(),
        SOLVER_ERROR => "RMS distance to converged ODE solve".into(),
        other => other.to_string(),
    }
}

/// A metric's name in a title: `W2`, `MMD²`, `NPE`.
fn metric_title(metric: &str) -> String {
    match metric {
        "mmd" => "MMD²".into(),
        "sliced-w2" => "Sliced W2".into(),
        "energy" | "path-energy" | "straightness" => metric.into(),
        other => other.to_uppercase(),
    }
}

/// The log scale where every value is positive and they span a decade or more (errors that
/// fall by orders of magnitude), else linear.
fn axis_for(label: String, values: impl IntoIterator<Item = f64>) -> Axis {
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if !values.is_empty() && lo > 0.0 && hi / lo >= 10.0 {
        Axis::log(label)
    } else {
        Axis::linear(label)
    }
}

/// The values the axis must show: the lines' and levels' (a band's lower edge may reach below
/// zero, which a log axis cuts off instead of giving up its scale).
fn plotted(marks: &[Mark]) -> Vec<f64> {
    marks
        .iter()
        .filter(|m| matches!(m, Mark::Line { .. } | Mark::Level { .. }))
        .flat_map(|m| m.extent())
        .map(|(_, y)| y)
        .collect()
}

/// One series per method × sampler: its mean at each NFE over the trials (seeds) it holds.
struct Series {
    label: String,
    method: String,
    solver: String,
    by_nfe: BTreeMap<usize, Vec<f64>>,
}

fn series(panel: &Panel, metric: &str, label: impl Fn(&TrialResults, &Evaluated) -> String) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for t in &panel.trials {
        for e in &t.evaluated {
            let Some(v) = e.row.metric(metric) else { continue };
            let label = label(t, e);
            let i = match out.iter().position(|s| s.label == label) {
                Some(i) => i,
                None => {
                    out.push(Series {
                        label,
                        method: t.spec.config.method.clone(),
                        solver: e.row.solver.clone(),
                        by_nfe: BTreeMap::new(),
                    });
                    out.len() - 1
                }
            };
            out[i].by_nfe.entry(e.row.nfe).or_default().push(v);
        }
    }
    out
}

/// Lines (and ± std bands where there are several seeds) of `series` against NFE.
fn lines(series: &[Series], style: &Style) -> Vec<Mark> {
    let mut marks = Vec::new();
    for s in series {
        let colour = style.methods.colour(&s.method);
        let spreads: Vec<(f64, Spread)> = s.by_nfe.iter().map(|(&nfe, v)| (nfe as f64, Spread::of(v))).collect();
        let band: Vec<(f64, f64, f64)> =
            spreads.iter().filter_map(|(x, sp)| sp.std.map(|std| (*x, sp.mean - std, sp.mean + std))).collect();
        if !band.is_empty() {
            marks.push(Mark::Band { colour, points: band });
        }
        marks.push(Mark::Line {
            label: Some(s.label.clone()),
            colour,
            points: spreads.iter().map(|(x, sp)| (*x, sp.mean)).collect(),
            marker: Some(style.samplers.marker(&s.solver)),
            dashed: false,
        });
    }
    marks
}

fn seeds_note(series: &[Series]) -> String {
    let most = series.iter().flat_map(|s| s.by_nfe.values().map(Vec::len)).max().unwrap_or(0);
    match most {
        0 | 1 => "One trial per point".into(),
        n => format!("Mean over up to {n} seeds, band ±1 std"),
    }
}

/// A metric against NFE, one line per method × sampler, with the dataset's floor.
pub fn quality(panel: &Panel, metric: &str, style: &Style) -> Figure {
    let series = series(panel, metric, |t, e| panel.series(t, &e.row));
    let mut marks = lines(&series, style);
    let mut caption = format!("{}. ", seeds_note(&series));
    let floor = panel.floor(metric);
    if let Some(floor) = floor {
        let value = super::compare::significant(floor.mean);
        marks.push(Mark::Level {
            label: format!("floor: two target draws ({value})"),
            colour: REFERENCE,
            y: floor.mean,
        });
        caption.push_str(&format!(
            "The dashed line is the finite-sample floor, the {metric} between two independent draws of the target: a row at it is as good as this test set can tell."
        ));
    }
    let values = plotted(&marks);
    Figure {
        name: format!("{metric}-vs-nfe-{}", panel.name),
        title: format!("{} on {}: quality against NFE", metric_title(metric), panel.label),
        x: Axis::log("model evaluations per sample (NFE)"),
        y: axis_for(metric_label(metric), values),
        marks,
        caption,
        square: false,
    }
}

/// Work–precision: the deterministic samplers' distance to a converged solve against NFE, per
/// solver and time grid.
pub fn work_precision(panel: &Panel, style: &Style) -> Option<Figure> {
    let series =
        series(panel, SOLVER_ERROR, |t, e| format!("{} · {}", panel.series(t, &e.row), t.spec.config.eval.grid));
    if series.is_empty() {
        return None;
    }
    let marks = lines(&series, style);
    let values = plotted(&marks);
    Some(Figure {
        name: format!("solver-error-vs-nfe-{}", panel.name),
        title: format!("{}: solver error against NFE (work–precision)", panel.label),
        x: Axis::log("model evaluations per sample (NFE)"),
        y: axis_for(metric_label(SOLVER_ERROR), values),
        marks,
        caption: format!(
            "{}. The error of the sampler alone, against a converged solve of the same ODE from the same source points: the slope is the solver's order. Stochastic samplers have none.",
            seeds_note(&series)
        ),
        square: false,
    })
}

/// The training (solid) and validation (dashed) losses of each trial.
pub fn training(panel: &Panel, style: &Style) -> Option<Figure> {
    let seeds: Vec<u64> = panel.trials.iter().map(|t| t.spec.config.seed).collect();
    let several = seeds.iter().any(|&s| s != seeds[0]);
    let mut marks = Vec::new();
    for t in &panel.trials {
        let c = &t.spec.config;
        let colour = style.methods.colour(&c.method);
        let mut label = [vec![c.method.clone()], panel.extra_values(t)].concat().join(" · ");
        if several {
            label.push_str(&format!(" · seed {}", c.seed));
        }
        // Only the first seed of a method gets a legend entry: the others share its colour.
        let first = !several || Some(c.seed) == panel.first_seed();
        for (points, kind, dashed) in [(&t.curves.train, "training", false), (&t.curves.validation, "validation", true)]
        {
            if !points.is_empty() {
                marks.push(Mark::Line {
                    label: first.then(|| format!("{label} · {kind}")),
                    colour,
                    points: points.clone(),
                    marker: None,
                    dashed,
                });
            }
        }
    }
    if marks.is_empty() {
        return None;
    }
    let values = plotted(&marks);
    Some(Figure {
        name: format!("loss-{}", panel.name),
        title: format!("{}: training loss", panel.label),
        x: Axis::linear("training step"),
        y: axis_for("loss (mean over the logging window)".into(), values),
        marks,
        caption: "Each method's loss is its own objective (ε-, velocity- or data-prediction MSE): compare a curve's shape, not its level across methods. Reflow rounds continue the step count.".into(),
        square: false,
    })
}

/// The first `n` points of a row-major `[_, dim]` set as 2-D pairs.
fn pairs(points: &[f32], n: usize) -> Vec<(f64, f64)> {
    points.chunks_exact(2).take(n).map(|p| (f64::from(p[0]), f64::from(p[1]))).collect()
}

/// Points drawn per cloud: enough to show the shape, few enough for a light SVG.
pub const CLOUD: usize = 2000;

/// Generated samples over held-out target points: a scatter in 2-D, histograms in 1-D with the
/// target's density where it is known in closed form.
/// A row's generated points with the held-out target points they are scored against.
pub struct SamplePoints<'a> {
    pub generated: &'a [f32],
    pub target: &'a [f32],
    pub dim: usize,
    /// The target's density, where it is known in closed form.
    pub mixture: Option<&'a Mixture>,
}

pub fn samples(panel: &Panel, trial: &TrialResults, e: &Evaluated, points: &SamplePoints, style: &Style) -> Figure {
    let SamplePoints { generated, target, dim, mixture } = *points;
    let colour = style.methods.colour(&trial.spec.config.method);
    let row = &e.row;
    let name = format!("samples-{}-{}-{}", panel.name, trial.spec.config.method, e.evaluation.id());
    let title = format!("{} · {} at {} NFE on {}", trial.spec.config.method, row.solver, row.nfe, panel.label);
    let w2 = row.metric("w2").map(|v| format!(" W2 = {}.", super::compare::significant(v))).unwrap_or_default();
    if dim == 1 {
        let (lo, hi) = histogram_range(target);
        let bins = 60;
        let mut marks = vec![
            Mark::Bars {
                label: "held-out target".into(),
                colour: TARGET,
                bins: histogram(target, lo, hi, bins),
                opacity: 0.5,
            },
            Mark::Bars { label: "generated".into(), colour, bins: histogram(generated, lo, hi, bins), opacity: 0.45 },
        ];
        if let Some(m) = mixture {
            let points = (0..=400).map(|i| lo + (hi - lo) * i as f64 / 400.0).map(|x| (x, density_1d(m, x))).collect();
            marks.push(Mark::Line {
                label: Some("target density".into()),
                colour: REFERENCE,
                points,
                marker: None,
                dashed: false,
            });
        }
        return Figure {
            name,
            title,
            x: Axis::linear("x"),
            y: Axis::linear("density"),
            marks,
            caption: format!("Histograms of {} generated and {} held-out points.{w2}", generated.len(), target.len()),
            square: false,
        };
    }
    let marks = vec![
        Mark::Points {
            label: Some("held-out target".into()),
            colour: TARGET,
            points: pairs(target, CLOUD),
            size: 2,
            opacity: 0.6,
        },
        Mark::Points {
            label: Some("generated".into()),
            colour,
            points: pairs(generated, CLOUD),
            size: 2,
            opacity: 0.6,
        },
    ];
    Figure {
        name,
        title,
        x: Axis::linear("x₁"),
        y: Axis::linear("x₂"),
        marks,
        caption: format!(
            "The first {CLOUD} of each point set{}.{w2}",
            if dim > 2 { " (first two coordinates)" } else { "" }
        ),
        square: true,
    }
}

/// The sampler's states from a few source points to the data: paths in the plane (2-D), or each
/// coordinate against time (1-D).
pub fn flow(
    panel: &Panel,
    trial: &TrialResults,
    e: &Evaluated,
    states: &[(f64, Vec<f32>)],
    target: &[f32],
    dim: usize,
    style: &Style,
) -> Figure {
    let colour = style.methods.colour(&trial.spec.config.method);
    let row = &e.row;
    let n = states.first().map_or(0, |(_, x)| x.len() / dim);
    let name = format!("flow-{}-{}-{}", panel.name, trial.spec.config.method, e.evaluation.id());
    let title =
        format!("{} · {} at {} NFE on {}: trajectories", trial.spec.config.method, row.solver, row.nfe, panel.label);
    if dim == 1 {
        let paths = (0..n).map(|i| states.iter().map(|(t, x)| (*t, f64::from(x[i]))).collect()).collect();
        return Figure {
            name,
            title,
            x: Axis::linear("time t (0 = noise, 1 = data)"),
            y: Axis::linear("x(t)"),
            marks: vec![Mark::Paths { label: format!("{n} trajectories"), colour, paths }],
            caption: format!("The sampler's state at each of its grid times, from {n} source points. Straight lines are a flow one Euler step would follow."),
            square: false,
        };
    }
    let paths: Vec<Vec<(f64, f64)>> = (0..n)
        .map(|i| states.iter().map(|(_, x)| (f64::from(x[i * dim]), f64::from(x[i * dim + 1]))).collect())
        .collect();
    let starts = paths.iter().filter_map(|p| p.first().copied()).collect();
    let ends = paths.iter().filter_map(|p| p.last().copied()).collect();
    Figure {
        name,
        title,
        x: Axis::linear("x₁"),
        y: Axis::linear("x₂"),
        marks: vec![
            Mark::Points { label: Some("held-out target".into()), colour: TARGET, points: pairs(target, CLOUD), size: 1, opacity: 0.35 },
            Mark::Paths { label: format!("{n} trajectories"), colour, paths },
            Mark::Points { label: Some("source points (t = 0)".into()), colour: REFERENCE, points: starts, size: 3, opacity: 1.0 },
            Mark::Points { label: Some("ends (t = 1)".into()), colour, points: ends, size: 3, opacity: 1.0 },
        ],
        caption: format!("The sampler's state at each of its grid times, from {n} source points. Straight paths are a flow one Euler step would follow."),
        square: true,
    }
}

/// The target's 0.2 % to 99.8 % quantiles, widened by a tenth: outliers do not squash the plot.
fn histogram_range(target: &[f32]) -> (f64, f64) {
    let mut v: Vec<f64> = target.iter().map(|&x| f64::from(x)).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.002), q(0.998));
    let pad = ((hi - lo) * 0.1).max(1e-6);
    (lo - pad, hi + pad)
}

/// A histogram normalised to a density over `[lo, hi]`, counting points outside it in the
/// total (so the bars of a sample with mass outside the range sit lower, as they should).
fn histogram(points: &[f32], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64, f64)> {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in points {
        let i = ((f64::from(x) - lo) / width).floor();
        if i >= 0.0 && (i as usize) < bins {
            counts[i as usize] += 1;
        }
    }
    let total = points.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (lo + i as f64 * width, lo + (i + 1) as f64 * width, c as f64 / (total * width)))
        .collect()
}

fn density_1d(m: &Mixture, x: f64) -> f64 {
    m.components
        .iter()
        .map(|c| {
            let z = (x - c.mean[0]) / c.std;
            c.weight * (-0.5 * z * z).exp() / (c.std * (2.0 * std::f64::consts::PI).sqrt())
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_integrates_to_the_share_of_points_in_its_range() {
        let points: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let bars = histogram(&points, 0.0, 0.5, 10);
        let mass: f64 = bars.iter().map(|(a, b, h)| (b - a) * h).sum();
        assert!((mass - 0.5).abs() < 1e-9, "{mass}");
    }
}
