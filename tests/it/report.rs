//! Reports and comparisons, on two small sweeps that differ in their learning rate, each with
//! two seeds of flow matching and DDPM on moons (2-D) and gmm1d (1-D): the plots show the
//! sweep's numbers, `runner compare` prints the means and spreads of `summary.csv`, and the page
//! works in a real browser.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use runner::config::Layers;
use runner::report::{self, Figure, Mark};

const SCRIPT: &str = r#"
let datasets = [#{ "data.target": "moons" }, #{ "data.target": "gmm1d" }];
for name in ["a", "b"] {
    let sweep = sweep(name);
    let lr = if name == "a" { 1e-3 } else { 3e-3 };
    for data in datasets {
        for seed in [0, 1] {
            sweep.reference(data + #{ seed: seed });
            let fm = sweep.trial(data + #{ method: "fm", "path.schedule": "cond-ot", "path.target": "velocity", seed: seed, "train.lr": lr });
            for nfe in [2, 4, 8] { fm.evaluate("euler", nfe); }
            fm.evaluate("heun", 4);
            let ddpm = sweep.trial(data + #{ method: "ddpm", "path.schedule": "ddpm-linear", "path.target": "epsilon", seed: seed, "train.lr": lr });
            ddpm.evaluate("ddim", 10);
            ddpm.evaluate("ddpm", 1000);
        }
    }
    sweep.run();
    // The script-level aggregation: a group per method, dataset and evaluation (floors too),
    // each over both seeds.
    let groups = sweep.aggregate(#{ by: ["method", "data.target"], over: "seed" });
    if groups.len() != 2 * (4 + 2 + 1) { throw `expected 14 groups, got ${groups.len()}`; }
    for g in groups {
        if g.n != 2 || g.w2.n != 2 || g.w2.std == () { throw `a group without both seeds: ${g}`; }
    }
    if name == "a" {
        let page = sweep.report();
        if !page.ends_with("report.html") { throw `report() returned ${page}`; }
    }
}
"#;

/// The two sweeps' directory, made once for every test of this file.
static SWEEPS: LazyLock<PathBuf> = LazyLock::new(|| {
    let out = crate::common::out_dir().join("report-sweeps");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let script = out.join("two_sweeps.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let sets = [
        format!("out={:?}", out.display().to_string()),
        "launcher.kind=\"inline\"".into(),
        "train.steps=30".into(),
        "train.log_every=10".into(),
        "train.val_size=64".into(),
        "train.val_every=10".into(),
        "eval.size=300".into(),
        "eval.reference_nfe=20".into(),
        "eval.reference_points=50".into(),
    ];
    let mut layers = Layers::new();
    layers.set_args(&sets).unwrap();
    runner::script::run(crate::common::session(&script, layers)).unwrap();
    out
});

/// `summary.csv` as maps from column name to cell.
fn summary(sweep: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let csv = std::fs::read_to_string(sweep.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(String::from)).collect()).collect()
}

/// Mean and sample standard deviation.
fn spread(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (mean, (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

fn figure<'a>(figures: &'a [Figure], name: &str) -> &'a Figure {
    let names: Vec<&str> = figures.iter().map(|f| f.name.as_str()).collect();
    figures.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no figure {name} in {names:?}"))
}

#[test]
fn the_metric_plots_show_every_row_of_the_sweep_and_the_floor_at_its_value() {
    let sweep = SWEEPS.join("a");
    let written = report::write(&sweep, &crate::common::registry(), &report::Options::default()).unwrap();
    let rows = summary(&sweep);
    for dataset in ["moons", "gmm1d"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["dataset"] == dataset && r["method"] != "reference").collect();
        for metric in ["w2", "mmd"] {
            let f = figure(&written.figures, &format!("{metric}-vs-nfe-{dataset}"));
            // One series per method × sampler, one point per NFE, each the mean over both seeds.
            let series = f.series();
            let labels: Vec<&str> = series.iter().map(|(l, _)| *l).collect();
            assert_eq!(labels, ["fm · euler", "fm · heun", "ddpm · ddim", "ddpm · ddpm"], "{}", f.name);
            let points: usize = series.iter().map(|(_, p)| p.len()).sum();
            assert_eq!(points * 2, mine.len(), "{}: every row, two seeds a point", f.name);
            for (label, pts) in &series {
                let (method, solver) = label.split_once(" · ").unwrap();
                for &(nfe, y) in *pts {
                    let values: Vec<f64> = mine
                        .iter()
                        .filter(|r| r["method"] == method && r["solver"] == solver && r["nfe"] == nfe.to_string())
                        .map(|r| r[metric].parse().unwrap())
                        .collect();
                    assert_eq!(values.len(), 2, "{label} at {nfe}");
                    let (mean, std) = spread(&values);
                    assert!((y - mean).abs() < 1e-6, "{label} at {nfe}: plotted {y}, rows' mean {mean}");
                    // The ± std band about the point.
                    let band = f.marks.iter().find_map(|m| match m {
                        Mark::Band { points, .. } => {
                            points.iter().find(|p| p.0 == nfe && ((p.1 + p.2) / 2.0 - y).abs() < 1e-9)
                        }
                        _ => None,
                    });
                    let &(_, lo, hi) = band.unwrap_or_else(|| panic!("{label} at {nfe}: no ± std band"));
                    assert!((hi - lo - 2.0 * std).abs() < 1e-5, "{label} at {nfe}: band {lo}..{hi}, std {std}");
                }
            }
            // The floor: the mean over both seeds of the dataset's reference rows.
            let floors: Vec<f64> = rows
                .iter()
                .filter(|r| r["dataset"] == dataset && r["method"] == "reference")
                .map(|r| r[metric].parse().unwrap())
                .collect();
            assert_eq!(floors.len(), 2);
            let levels = f.levels();
            assert_eq!(levels.len(), 1, "{}", f.name);
            assert!(
                (levels[0].1 - spread(&floors).0).abs() < 1e-6,
                "{}: floor at {}, rows {floors:?}",
                f.name,
                levels[0].1
            );
        }
        // Work–precision: the deterministic samplers only, with their grid.
        let f = figure(&written.figures, &format!("solver-error-vs-nfe-{dataset}"));
        let labels: Vec<&str> = f.series().iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, ["fm · euler · uniform", "fm · heun · uniform", "ddpm · ddim · uniform"]);
        // Loss curves: training and validation of every trial (first seed's in the legend).
        let f = figure(&written.figures, &format!("loss-{dataset}"));
        let lines = f.marks.iter().filter(|m| matches!(m, Mark::Line { .. })).count();
        assert_eq!(lines, 2 * 4, "{}: training and validation of four trials", f.name);
        for m in &f.marks {
            if let Mark::Line { points, .. } = m {
                assert!(points.len() >= 3, "{}: a curve of {} points", f.name, points.len());
            }
        }
    }
    // Samples and trajectories: each sampler's fewest- and most-NFE rows of the first seed, a
    // scatter over the target in 2-D and histograms with the target's density in 1-D.
    let scatter = figure(&written.figures, "samples-moons-fm-euler-2");
    let clouds: Vec<usize> = scatter
        .marks
        .iter()
        .filter_map(|m| match m {
            Mark::Points { points, .. } => Some(points.len()),
            _ => None,
        })
        .collect();
    assert_eq!(clouds, [300, 300], "held-out target and generated points");
    let histogram = figure(&written.figures, "samples-gmm1d-fm-euler-8");
    assert!(histogram.marks.iter().any(|m| matches!(m, Mark::Line { label: Some(l), .. } if l == "target density")));
    let flow = figure(&written.figures, "flow-moons-fm-heun-4");
    let paths = flow.marks.iter().find_map(|m| match m {
        Mark::Paths { paths, .. } => Some(paths),
        _ => None,
    });
    // Heun at 4 NFE takes 2 steps: 3 states a path.
    assert!(paths.is_some_and(|p| p.len() == 24 && p.iter().all(|p| p.len() == 3)), "{paths:?}");
    // The ancestral sampler is stochastic: samples, no trajectories.
    assert!(written.figures.iter().any(|f| f.name == "samples-moons-ddpm-ddpm-1000"));
    assert!(!written.figures.iter().any(|f| f.name.starts_with("flow-") && f.name.contains("ddpm-1000")));
    // Every figure is on disk as PNG and SVG, and in the page with its data's size.
    let html = std::fs::read_to_string(&written.html).unwrap();
    for f in &written.figures {
        for ext in ["png", "svg"] {
            let file = written.plots.join(format!("{}.{ext}", f.name));
            assert!(std::fs::metadata(&file).is_ok_and(|m| m.len() > 1000), "{}", file.display());
        }
        let points: usize = f.series().iter().map(|(_, p)| p.len()).sum();
        let tag = format!("id=\"{}\" data-series=\"{}\" data-points=\"{points}\"", f.name, f.series().len());
        assert!(html.contains(&tag), "the page lacks {tag}");
    }
    assert_eq!(html.matches("<figure class=\"plot\"").count(), written.figures.len());
    // The SVG draws one polyline per series of the metric plot (legend samples are paths too,
    // so at least).
    let svg = std::fs::read_to_string(written.plots.join("w2-vs-nfe-moons.svg")).unwrap();
    assert!(svg.matches("<polyline").count() >= 4, "{svg:.400}");
}

/// The cells of a `runner compare` table, by column, read at the header's column offsets.
fn table_cells(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let lines: Vec<Vec<char>> =
        text.lines().skip_while(|l| !l.starts_with("mean ± std")).skip(1).map(|l| l.chars().collect()).collect();
    let header = &lines[0];
    let mut starts = Vec::new();
    for i in 0..header.len() {
        if header[i] != ' ' && (i == 0 || header[i - 1] == ' ') {
            starts.push(i);
        }
    }
    let names: Vec<String> = (0..starts.len())
        .map(|k| {
            header[starts[k]..*starts.get(k + 1).unwrap_or(&header.len())].iter().collect::<String>().trim().to_string()
        })
        .collect();
    lines[1..]
        .iter()
        .map(|l| {
            (0..starts.len())
                .map(|k| {
                    let (a, b) = (starts[k].min(l.len()), starts.get(k + 1).copied().unwrap_or(l.len()).min(l.len()));
                    (names[k].clone(), l[a..b].iter().collect::<String>().trim().to_string())
                })
                .collect()
        })
        .collect()
}

#[test]
fn compare_prints_the_differing_settings_and_the_means_and_spreads_of_the_summaries() {
    let (a, b) = (SWEEPS.join("a"), SWEEPS.join("b"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_runner")).arg("compare").arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // The differing settings, with their values.
    for line in ["  sweep ", "  seed ", "  train.lr ", "  data.target ", "  method "] {
        assert!(text.lines().any(|l| l.starts_with(line)), "no `{}` line in\n{text}", line.trim());
    }
    let lr = text.lines().find(|l| l.starts_with("  train.lr ")).unwrap();
    assert!(lr.ends_with("0.001, 0.003"), "{lr}");
    let cells = table_cells(&text);
    // Two sweeps × (floor + 4 fm + 2 ddpm evaluations) × two datasets.
    assert_eq!(cells.len(), 2 * 2 * 7, "{text}");
    for (name, dir) in [("a", &a), ("b", &b)] {
        let rows = summary(dir);
        for g in cells.iter().filter(|c| c["sweep"] == name) {
            let mine: Vec<_> = rows
                .iter()
                .filter(|r| {
                    r["dataset"] == g["data.target"]
                        && r["method"] == g["method"]
                        && r["solver"] == g["solver"]
                        && r["nfe"] == g["nfe"]
                })
                .collect();
            assert_eq!(mine.len(), 2, "{g:?}");
            for metric in ["w2", "mmd"] {
                let values: Vec<f64> = mine.iter().map(|r| r[metric].parse().unwrap()).collect();
                let (mean, std) = spread(&values);
                let cell = &g[metric];
                let (m, rest) = cell.split_once(" ± ").unwrap_or_else(|| panic!("{metric}: `{cell}` in {g:?}"));
                let (s, n) = rest.split_once(' ').unwrap();
                assert_eq!(n, "(2)", "{cell}");
                let close = |printed: &str, exact: f64| {
                    let p: f64 = printed.parse().unwrap();
                    (p - exact).abs() <= 1e-3 * exact.abs() + 2e-6
                };
                assert!(
                    close(m, mean) && close(s, std),
                    "{name} {g:?}: {metric} `{cell}`, summary.csv gives {mean} ± {std}"
                );
            }
        }
    }
}

#[test]
#[ignore = "needs Chromium: scripts/setup-chromium.sh installs it (.ci/run does)"]
fn the_report_opens_in_headless_chromium_with_every_plot_drawn_and_a_sortable_table() {
    let sweep = SWEEPS.join("a");
    let out = crate::common::out_dir().join("report-in-chromium");
    let options = report::Options { out: Some(out.clone()), samples: None };
    let written = report::write(&sweep, &crate::common::registry(), &options).unwrap();
    let mut browser = crate::browser::Browser::launch().unwrap();
    let mut page = browser.open(&format!("file://{}", written.html.display())).unwrap();
    // Every plot: decoded, drawn at its size, and not blank (the share of its pixels that are
    // not near-white: axes, text and data).
    let plots = page
        .eval(
            r#"(async () => {
                const out = [];
                for (const f of document.querySelectorAll('figure.plot')) {
                    const img = f.querySelector('img');
                    await img.decode();
                    const c = document.createElement('canvas');
                    c.width = img.naturalWidth;
                    c.height = img.naturalHeight;
                    const g = c.getContext('2d');
                    g.drawImage(img, 0, 0);
                    const d = g.getImageData(0, 0, c.width, c.height).data;
                    let ink = 0;
                    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
                    const r = img.getBoundingClientRect();
                    out.push({ id: f.id, width: img.naturalWidth, shown: r.width * r.height, ink: ink / (c.width * c.height) });
                }
                return out;
            })()"#,
        )
        .unwrap();
    let plots = plots.as_array().unwrap();
    let ids: Vec<&str> = plots.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = written.figures.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(ids, expected, "the page's plots");
    for p in plots {
        assert!(p["width"].as_f64().unwrap() > 0.0 && p["shown"].as_f64().unwrap() > 10_000.0, "{p}");
        assert!(p["ink"].as_f64().unwrap() > 0.01, "a blank plot: {p}");
    }
    // The summary table: every row of summary.csv, sorted by a column on a click.
    let rows = summary(&sweep);
    let count = page.eval("document.querySelectorAll('#summary-table tbody tr').length").unwrap();
    assert_eq!(count.as_u64().unwrap() as usize, rows.len());
    let column = r#"(() => {
        const headers = Array.from(document.querySelectorAll('#summary-table th'));
        const i = headers.findIndex(h => h.textContent === 'w2');
        headers[i].click();
        return Array.from(document.querySelectorAll('#summary-table tbody tr')).map(r => Number(r.cells[i].textContent));
    })()"#;
    for ascending in [true, false] {
        let values: Vec<f64> =
            page.eval(column).unwrap().as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(values.len(), rows.len());
        let sorted = values.windows(2).all(|w| if ascending { w[0] <= w[1] } else { w[0] >= w[1] });
        assert!(sorted, "ascending {ascending}: {values:?}");
    }
    // Self-contained and clean: nothing fetched, nothing logged as an error.
    assert_eq!(page.requests(), Vec::<String>::new(), "the page fetched something");
    assert_eq!(page.problems(), Vec::<String>::new(), "console errors");
    let shot = out.join("report-screenshot.png");
    page.screenshot(&shot).unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 50_000, "{} bytes", png.len());
}

#[test]
fn a_misspelt_grouping_key_or_evaluation_is_refused_with_the_known_names() {
    let sweep = SWEEPS.join("a");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["compare", "--by", "methd"])
        .arg(&sweep)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("unknown key `methd`") && stderr.contains("method") && stderr.contains("train.lr"),
        "{stderr}"
    );
    let options = report::Options {
        out: Some(crate::common::out_dir().join("report-refused")),
        samples: Some(vec!["euler-3".into()]),
    };
    let e = report::write(&sweep, &crate::common::registry(), &options).unwrap_err().to_string();
    assert!(e.contains("`euler-3`") && e.contains("euler-2, euler-4, euler-8"), "{e}");
    assert!(!crate::common::out_dir().join("report-refused/report.html").exists(), "a report was written");
}
