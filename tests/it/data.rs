//! Tests of the datasets: reproducibility, shapes, and each set's defining properties.
//!
//! Statistical checks use 100,000 points and allow 5 standard errors, so a correct generator
//! fails with probability below 1e-6 per check, while a wrong constant (a radius, a scale, a
//! noise level) moves the statistic by far more than that.

use std::collections::BTreeMap;

use runner::registry::RegistryError;
use runner::sdk::{Dataset, ParamValue, PluginKind};

const N: usize = 100_000;

fn dataset(name: &str, params: &[(&str, ParamValue)]) -> Box<dyn Dataset> {
    let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    crate::common::build::<dyn runner::sdk::Dataset>(name, &given).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn default(name: &str) -> Box<dyn Dataset> {
    dataset(name, &[])
}

/// Column `c` of a row-major buffer with `dim` columns, in f64.
fn column(points: &[f32], dim: usize, c: usize) -> Vec<f64> {
    points.chunks_exact(dim).map(|p| f64::from(p[c])).collect()
}

fn rows(points: &[f32]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points.chunks_exact(2).map(|p| (f64::from(p[0]), f64::from(p[1])))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let na: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
    let nb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
    cov / (na * nb).sqrt()
}

/// Asserts that an observed fraction `k/n` matches `p` within 5 binomial standard errors.
fn assert_fraction(what: &str, k: usize, n: usize, p: f64) {
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let f = k as f64 / n as f64;
    assert!((f - p).abs() < 5.0 * se, "{what}: fraction {f}, expected {p} ± {}", 5.0 * se);
}

/// Asserts |observed − expected| < 5 standard errors.
fn assert_close(what: &str, observed: f64, expected: f64, se: f64) {
    assert!((observed - expected).abs() < 5.0 * se, "{what}: {observed}, expected {expected} ± {}", 5.0 * se);
}

#[test]
fn the_registry_holds_the_seven_builtins() {
    let names: Vec<&str> =
        crate::common::entries::<dyn runner::sdk::Dataset>().iter().map(|e| e.info.name.as_ref()).collect();
    // The built-ins first, then the example plugin.
    assert_eq!(names, ["gaussian", "gmm1d", "gmm", "moons", "8gaussians", "scurve", "checkerboard", "spiral"]);
    assert!(crate::common::entries::<dyn runner::sdk::Dataset>().iter().all(|e| e.info.kind == PluginKind::Dataset));
}

#[test]
fn every_dataset_has_the_declared_shape_and_is_reproducible_per_seed() {
    for entry in crate::common::entries::<dyn runner::sdk::Dataset>() {
        let d = default(entry.info.name.as_ref());
        let name = entry.info.name.as_ref();
        for n in [0, 1, 2, 3, 1001] {
            let a = d.sample(n, 7);
            assert_eq!(a.len(), n * d.dim(), "{name}: {n} points");
            assert!(a.iter().all(|v| v.is_finite()), "{name}");
            assert_eq!(a, d.sample(n, 7), "{name}: same seed, different points");
        }
        assert_ne!(d.sample(100, 7), d.sample(100, 8), "{name}: seeds 7 and 8 gave the same points");
    }
}

#[test]
fn different_seeds_give_uncorrelated_draws() {
    let n = 20_000;
    let bound = 5.0 / (n as f64).sqrt();
    for entry in crate::common::entries::<dyn runner::sdk::Dataset>() {
        let d = default(entry.info.name.as_ref());
        for (s1, s2) in [(0, 1), (1, 2), (41, 42)] {
            let (a, b) = (d.sample(n, s1), d.sample(n, s2));
            for c in 0..d.dim() {
                let r = correlation(&column(&a, d.dim(), c), &column(&b, d.dim(), c));
                assert!(r.abs() < bound, "{}: seeds {s1}, {s2}, column {c}: correlation {r}", entry.info.name.as_ref());
            }
        }
    }
}

#[test]
fn datasets_with_the_same_seed_use_different_streams() {
    // The host may draw source and target with one seed; the noise must not be reused.
    let a = default("gaussian").sample(N, 3);
    let b = default("8gaussians").sample(N, 3);
    for c in 0..2 {
        let r = correlation(&column(&a, 2, c), &column(&b, 2, c));
        assert!(r.abs() < 5.0 / (N as f64).sqrt(), "column {c}: correlation {r}");
    }
}

#[test]
fn bad_parameters_are_refused_by_name() {
    let err = crate::common::build::<dyn runner::sdk::Dataset>(
        "moons",
        &BTreeMap::from([("noise".to_string(), ParamValue::Float(-0.1))]),
    )
    .err()
    .expect("negative noise accepted");
    assert!(matches!(err, RegistryError::Plugin(_)) && err.to_string().contains("noise"), "{err}");
    let err = crate::common::build::<dyn runner::sdk::Dataset>(
        "gaussian",
        &BTreeMap::from([("dim".to_string(), ParamValue::Int(0))]),
    )
    .err()
    .expect("dim 0 accepted");
    assert!(err.to_string().contains("dim"), "{err}");
    let err = crate::common::build::<dyn runner::sdk::Dataset>("spirals", &BTreeMap::new())
        .err()
        .expect("unknown name accepted");
    assert!(err.to_string().contains("8gaussians"), "{err}");
}

#[test]
fn gaussian_is_standard_normal_in_the_asked_dimension() {
    let d = dataset("gaussian", &[("dim", ParamValue::Int(3))]);
    assert_eq!(d.dim(), 3);
    let x = d.sample(N, 11);
    let cols: Vec<Vec<f64>> = (0..3).map(|c| column(&x, 3, c)).collect();
    let se_mean = (1.0 / N as f64).sqrt();
    let se_var = (2.0 / N as f64).sqrt();
    for (c, col) in cols.iter().enumerate() {
        assert_close(&format!("mean of column {c}"), mean(col), 0.0, se_mean);
        assert_close(&format!("variance of column {c}"), variance(col), 1.0, se_var);
        // Normal tails: P(|z| > 2) = 0.0455.
        assert_fraction(&format!("|z| > 2 in column {c}"), col.iter().filter(|z| z.abs() > 2.0).count(), N, 0.0455);
    }
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let cov = cols[a].iter().zip(&cols[b]).map(|(x, y)| x * y).sum::<f64>() / N as f64;
        assert_close(&format!("covariance of columns {a}, {b}"), cov, 0.0, se_mean);
    }
}

#[test]
fn gmm1d_is_the_bimodal_mixture() {
    let d = default("gmm1d");
    assert_eq!(d.dim(), 1);
    let x = column(&d.sample(N, 5), 1, 0);
    // ±m + s·z: variance m² + s², fourth moment m⁴ + 6m²s² + 3s⁴.
    let (m, s) = (1.5f64, 0.5f64);
    let var = m * m + s * s;
    let m4 = m.powi(4) + 6.0 * m * m * s * s + 3.0 * s.powi(4);
    assert_close("mean", mean(&x), 0.0, (var / N as f64).sqrt());
    assert_close("variance", variance(&x), var, ((m4 - var * var) / N as f64).sqrt());
    assert_fraction("right mode", x.iter().filter(|&&v| v > 0.0).count(), N, 0.5);
    // Within one std of a mode: 68.27 %; in the gap |x| < 0.5 (2σ to 4σ from a mode): 2.272 %.
    assert_fraction("within 1σ of a mode", x.iter().filter(|&&v| (v.abs() - m).abs() < s).count(), N, 0.6827);
    assert_fraction("in the gap", x.iter().filter(|&&v| v.abs() < 0.5).count(), N, 0.02272);

    let d = dataset("gmm1d", &[("mean", ParamValue::Float(3.0)), ("std", ParamValue::Float(0.0))]);
    let x = d.sample(1000, 1);
    assert!(x.iter().all(|&v| v == 3.0 || v == -3.0), "std 0 must give the two modes exactly");
}

#[test]
fn moons_are_sklearn_make_moons_scaled_and_shifted() {
    let d = default("moons");
    // Noise 0.05 before ×2: 0.1 after.
    let noise = 0.1;
    for n in [N, N + 1] {
        let x = d.sample(n, 9);
        // Outer moon: circle of radius 2 around (−1, 0), y ≥ 0; inner: radius 2 around (1, 1),
        // y ≤ 1. The arcs are ≥ 1 apart (10 noise std), so the nearer arc names the moon.
        let arc_distance = |(px, py): (f64, f64), (cx, cy): (f64, f64), upper: bool| {
            let on_side = if upper { py >= cy } else { py <= cy };
            let r = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            if on_side {
                (r - 2.0).abs()
            } else {
                // Nearest arc end: (cx ± 2, cy).
                ((px - cx).abs() - 2.0).hypot(py - cy)
            }
        };
        let (mut outer, mut radial) = (0usize, Vec::with_capacity(n));
        for p in rows(&x) {
            let d_out = arc_distance(p, (-1.0, 0.0), true);
            let d_in = arc_distance(p, (1.0, 1.0), false);
            if d_out < d_in {
                outer += 1;
                radial.push(((p.0 + 1.0).hypot(p.1) - 2.0, d_out));
            } else {
                radial.push(((p.0 - 1.0).hypot(p.1 - 1.0) - 2.0, d_in));
            }
            assert!(d_out.min(d_in) < 8.0 * noise, "point {p:?} is far from both moons");
        }
        // make_moons puts exactly n/2 points on the outer moon (checked exactly without noise
        // below); a 5σ excursion near an arc's end may flip a point, a random split would be
        // off by hundreds.
        assert!(outer.abs_diff(n / 2) <= 3, "{n} points, {outer} on the outer moon");
        // The noise is isotropic with std 0.1, so the radial offsets have std ≈ 0.1 (curvature
        // 1/2 biases this by less than 1 %).
        let offsets: Vec<f64> = radial.iter().map(|r| r.0).collect();
        let rms = (offsets.iter().map(|r| r * r).sum::<f64>() / n as f64).sqrt();
        assert!((rms - noise).abs() < 0.01 * noise + 5.0 * noise / (2.0 * n as f64).sqrt(), "radial rms {rms}");
        let (xs, ys) = (column(&x, 2, 0), column(&x, 2, 1));
        let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
        let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
        assert!(min(&xs) > -3.0 - 6.0 * noise && max(&xs) < 3.0 + 6.0 * noise, "x range");
        assert!(min(&ys) > -1.0 - 6.0 * noise && max(&ys) < 2.0 + 6.0 * noise, "y range");
        assert!(
            min(&xs) < -2.95 && max(&xs) > 2.95 && min(&ys) < -0.95 && max(&ys) > 1.95,
            "moons do not span their range"
        );
        // Evenly spaced angles: mean of x over both moons is exactly 0 without noise.
        assert_close("mean x", mean(&xs), 0.0, noise / (n as f64).sqrt() + 1e-4);
    }
    // The rows are shuffled: of the first 500 points, about 500 · 1/2 · 2/3 lie on the outer
    // moon's top (y > 1); unshuffled, all 500 would be outer points and 333 of them on top.
    let x = d.sample(1000, 9);
    let upper_in_first_half = rows(&x[..1000]).filter(|p| p.1 > 1.0).count();
    assert!(upper_in_first_half > 100 && upper_in_first_half < 250, "{upper_in_first_half}");
}

#[test]
fn moons_without_noise_are_the_evenly_spaced_skeleton_in_shuffled_order() {
    // The skeleton is what keeps the benchmark's moons floor low (BENCHMARKS.md §1): without
    // noise, every draw is the same multiset of points, only the row order changes.
    let d = dataset("moons", &[("noise", ParamValue::Float(0.0))]);
    let n = 1001;
    let sorted_rows = |x: &[f32]| {
        let mut r: Vec<(f32, f32)> = x.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        r.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        r
    };
    let (a, b) = (d.sample(n, 1), d.sample(n, 2));
    assert_ne!(a, b, "rows not shuffled");
    let skeleton = sorted_rows(&a);
    assert_eq!(skeleton, sorted_rows(&b));
    // n/2 = 500 outer points at θ_k = kπ/499 and 501 inner points at θ_k = kπ/500.
    let mut expected: Vec<(f32, f32)> = (0..500)
        .map(|k| k as f64 * std::f64::consts::PI / 499.0)
        .map(|t| ((2.0 * t.cos() - 1.0) as f32, (2.0 * t.sin()) as f32))
        .chain(
            (0..501)
                .map(|k| k as f64 * std::f64::consts::PI / 500.0)
                .map(|t| ((2.0 * (1.0 - t.cos()) - 1.0) as f32, (2.0 * (1.0 - t.sin() - 0.5)) as f32)),
        )
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    for (got, want) in skeleton.iter().zip(&expected) {
        assert!((got.0 - want.0).abs() < 1e-6 && (got.1 - want.1).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn eight_gaussians_have_radius_5_and_unit_std() {
    let d = default("8gaussians");
    let x = d.sample(N, 13);
    let (r, s) = (5.0f64, 1.0f64);
    let centres: Vec<(f64, f64)> = (0..8)
        .map(|k| {
            let a = k as f64 * std::f64::consts::FRAC_PI_4;
            (r * a.cos(), r * a.sin())
        })
        .collect();
    // Equal weights: each angular sector of 45° around a centre holds 1/8 (by symmetry, even
    // though noise moves some points across sector borders).
    let mut sector = [0usize; 8];
    let (mut within_half, mut within_one) = (0, 0);
    let mut sq_norms = Vec::with_capacity(N);
    for (px, py) in rows(&x) {
        let k = ((py.atan2(px) / std::f64::consts::FRAC_PI_4).round() as i64).rem_euclid(8) as usize;
        sector[k] += 1;
        let nearest = centres.iter().map(|c| (px - c.0).hypot(py - c.1)).fold(f64::MAX, f64::min);
        within_half += usize::from(nearest < 0.5 * s);
        within_one += usize::from(nearest < s);
        sq_norms.push(px * px + py * py);
    }
    for (k, &count) in sector.iter().enumerate() {
        assert_fraction(&format!("sector {k}"), count, N, 0.125);
    }
    // Distance to the own centre is Rayleigh(s): P(< a) = 1 − exp(−a²/2s²). Points within 1 of a
    // neighbouring centre (3.83 away) add about 7e-4, far inside the margin.
    assert_fraction("within 0.5 of a centre", within_half, N, 1.0 - (-0.125f64).exp());
    assert_fraction("within 1 of a centre", within_one, N, 1.0 - (-0.5f64).exp());
    // ‖x‖² = r² + 2r·(c·z)/r + ‖z‖²: mean r² + 2s², variance 4r²s² + 4s⁴.
    let var = 4.0 * r * r * s * s + 4.0 * s.powi(4);
    assert_close("mean ‖x‖²", mean(&sq_norms), r * r + 2.0 * s * s, (var / N as f64).sqrt());
    let (xs, ys) = (column(&x, 2, 0), column(&x, 2, 1));
    let se = ((r * r / 2.0 + s * s) / N as f64).sqrt();
    assert_close("mean x", mean(&xs), 0.0, se);
    assert_close("mean y", mean(&ys), 0.0, se);

    // The 8gaussians→moons target: radius 4, std 0.5, then ×3 (the reference code's two_dim.py).
    let d = dataset("8gaussians", &[("radius", ParamValue::Float(12.0)), ("std", ParamValue::Float(1.5))]);
    let sq: Vec<f64> = rows(&d.sample(N, 1)).map(|(a, b)| a * a + b * b).collect();
    let (r, s) = (12.0f64, 1.5f64);
    let var = 4.0 * r * r * s * s + 4.0 * s.powi(4);
    assert_close("mean ‖x‖², radius 12, std 1.5", mean(&sq), r * r + 2.0 * s * s, (var / N as f64).sqrt());
}

#[test]
fn standardised_moons_are_the_8gaussians_to_moons_source() {
    // noise 0.1, one scalar mean and std over both coordinates, ×7 (BENCHMARKS.md §1).
    let params =
        [("noise", ParamValue::Float(0.1)), ("standardise", ParamValue::Bool(true)), ("scale", ParamValue::Float(7.0))];
    let x = dataset("moons", &params).sample(N, 3);
    let pooled: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    // The pooled mean and std are those of the population, so a draw has mean 0 and std 7 to
    // within its sampling error (the skeleton is evenly spaced: the noise dominates that error).
    let se = 7.0 / (2.0 * N as f64).sqrt();
    assert_close("pooled mean", mean(&pooled), 0.0, se);
    assert_close("pooled std", variance(&pooled).sqrt(), 7.0, se);
    // The same draw as the plain moons, mapped by the standardisation instead of ×2, x − 1.
    let raw = dataset("moons", &[("noise", ParamValue::Float(0.1))]).sample(N, 3);
    let (m, sd) = (3.0 / 8.0, (43.0 / 64.0 - 1.0 / (2.0 * std::f64::consts::PI) + 0.01f64).sqrt());
    for (a, b) in x.chunks_exact(2).zip(raw.chunks_exact(2)).take(1000) {
        let (u, v) = ((f64::from(b[0]) + 1.0) / 2.0, f64::from(b[1]) / 2.0);
        let want = [7.0 * (u - m) / sd, 7.0 * (v - m) / sd];
        assert!(
            (f64::from(a[0]) - want[0]).abs() < 1e-4 && (f64::from(a[1]) - want[1]).abs() < 1e-4,
            "{a:?} vs {want:?}"
        );
    }
}

#[test]
fn moons_scale_multiplies_the_benchmark_map_and_defaults_to_it() {
    let plain = default("moons").sample(1000, 4);
    assert_eq!(
        plain,
        dataset("moons", &[("standardise", ParamValue::Bool(false)), ("scale", ParamValue::Float(1.0))])
            .sample(1000, 4)
    );
    let tripled = dataset("moons", &[("scale", ParamValue::Float(3.0))]).sample(1000, 4);
    for (a, b) in tripled.iter().zip(&plain) {
        assert!((a - 3.0 * b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs 3 × {b}");
    }
}

#[test]
fn scurve_lies_on_two_circles_and_is_point_symmetric() {
    let d = default("scurve");
    let x = d.sample(N, 17);
    let (scale, noise) = (1.5f64, 0.05 * 1.5);
    // Noise-free points lie on circles of radius 1.5 around (0, −1.5) (t > 0) and (0, 1.5)
    // (t < 0); noise of std 0.075 moves them off radially by about that much.
    let mut residuals = Vec::with_capacity(N);
    for (px, pz) in rows(&x) {
        let r = |cz: f64| ((px.hypot(pz - cz)) - scale).abs();
        residuals.push(r(-scale).min(r(scale)));
    }
    let rms = (residuals.iter().map(|r| r * r).sum::<f64>() / N as f64).sqrt();
    // Taking the nearer of two circles can only shrink a residual; near the origin, where the
    // circles touch, it does, by about 1 % of the rms in all.
    assert!(rms > 0.96 * noise && rms < 1.01 * noise, "residual rms {rms}, noise {noise}");
    assert!(residuals.iter().all(|&r| r < 7.0 * noise), "a point far from the curve");
    let (xs, zs) = (column(&x, 2, 0), column(&x, 2, 1));
    let max_abs = |v: &[f64]| v.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    assert!(max_abs(&xs) < scale + 6.0 * noise && max_abs(&xs) > scale - 0.05, "x range {}", max_abs(&xs));
    assert!(max_abs(&zs) < 2.0 * scale + 6.0 * noise && max_abs(&zs) > 2.0 * scale - 0.05, "z range {}", max_abs(&zs));
    // (x, z) → (−x, −z) symmetry: zero means and half the points in each half plane.
    assert_close("mean x", mean(&xs), 0.0, (variance(&xs) / N as f64).sqrt());
    assert_close("mean z", mean(&zs), 0.0, (variance(&zs) / N as f64).sqrt());
    assert_fraction("z > 0", zs.iter().filter(|&&z| z > 0.0).count(), N, 0.5);
    assert_fraction("x > 0", xs.iter().filter(|&&v| v > 0.0).count(), N, 0.5);
}

#[test]
fn checkerboard_fills_the_even_cells_uniformly() {
    let d = default("checkerboard");
    let x = d.sample(N, 19);
    let mut cells = std::collections::BTreeMap::<(i64, i64), usize>::new();
    let mut odd_cells = 0;
    let mut frac_sum = (0.0, 0.0);
    for (px, py) in rows(&x) {
        assert!((-4.0..=4.0).contains(&px) && (-4.0..=4.0).contains(&py), "({px}, {py}) outside [−4, 4]²");
        let (cx, cy) = ((px / 2.0).floor() as i64, (py / 2.0).floor() as i64);
        let inside = (-2..=1).contains(&cx) && (-2..=1).contains(&cy);
        if !inside || (cx + cy).rem_euclid(2) != 0 {
            // Only rounding to f32 can push a point onto the edge of a neighbouring cell.
            let to_edge = |v: f64| (v / 2.0 - (v / 2.0).round()).abs();
            assert!(to_edge(px).min(to_edge(py)) < 1e-6, "({px}, {py}) in an odd cell or outside");
            odd_cells += 1;
            continue;
        }
        *cells.entry((cx, cy)).or_default() += 1;
        frac_sum.0 += px / 2.0 - cx as f64;
        frac_sum.1 += py / 2.0 - cy as f64;
    }
    assert!(odd_cells < 10, "{odd_cells} points on odd cells");
    assert_eq!(cells.len(), 8, "{cells:?}");
    for (cell, &count) in &cells {
        assert_fraction(&format!("cell {cell:?}"), count, N, 0.125);
    }
    // Uniform inside the cells: the position within a cell has mean 1/2 and std 1/√12.
    let se = (1.0 / 12.0 / N as f64).sqrt();
    assert_close("mean position in cell, x", frac_sum.0 / N as f64, 0.5, se);
    assert_close("mean position in cell, y", frac_sum.1 / N as f64, 0.5, se);
}

fn text(v: &str) -> ParamValue {
    ParamValue::Str(v.to_string())
}

#[test]
fn gmm_samples_the_mixture_it_is_given() {
    // Three well-separated components in 2-D with unequal weights and widths: each point is
    // attributed to its nearest mean, and the fractions and per-component spreads must match.
    let d = dataset(
        "gmm",
        &[("means", text("-4, 0; 4, 0; 0,6")), ("stds", text("0.3, 0.5, 0.2")), ("weights", text("1, 2, 1"))],
    );
    assert_eq!(d.dim(), 2);
    let m = d.mixture().unwrap();
    let weights: Vec<f64> = m.components.iter().map(|c| c.weight).collect();
    assert_eq!(weights, [0.25, 0.5, 0.25]);
    let points = d.sample(N, 3);
    let mut groups = vec![Vec::new(); 3];
    for (x, y) in rows(&points) {
        let k = m
            .components
            .iter()
            .map(|c| (x - c.mean[0]).powi(2) + (y - c.mean[1]).powi(2))
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
            .0;
        groups[k].push((x - m.components[k].mean[0], y - m.components[k].mean[1]));
    }
    for (k, (g, c)) in groups.iter().zip(&m.components).enumerate() {
        assert_fraction(&format!("component {k}"), g.len(), N, c.weight);
        let dx: Vec<f64> = g.iter().map(|p| p.0).collect();
        let dy: Vec<f64> = g.iter().map(|p| p.1).collect();
        let n = g.len() as f64;
        assert_close(&format!("component {k} mean x"), mean(&dx), 0.0, c.std / n.sqrt());
        assert_close(&format!("component {k} std y"), variance(&dy).sqrt(), c.std, c.std / (2.0 * n).sqrt());
    }
    // One std for all and equal weights by default; 1-D works too.
    let one = dataset("gmm", &[("means", text("-1; 1")), ("stds", text("0.1"))]).mixture().unwrap();
    assert_eq!((one.dim, one.components[1].std, one.components[0].weight), (1, 0.1, 0.5));
}

#[test]
fn gmm_refuses_malformed_parameters_naming_them() {
    for (params, words) in [
        (vec![("means", text("0,0; 1"))], vec!["means", "2 coordinates", "component 2 has 1"]),
        (vec![("means", text("0; x"))], vec!["means", "\"x\" is not a finite number"]),
        (vec![("means", text("0; 1")), ("stds", text("0.1, 0.2, 0.3"))], vec!["stds", "3 entries for 2 components"]),
        (vec![("means", text("0; 1")), ("stds", text("-0.1"))], vec!["stds", "≥ 0"]),
        (vec![("means", text("0; 1")), ("weights", text("1, 0"))], vec!["weights", "component 2", "positive"]),
    ] {
        let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let err = crate::common::build::<dyn runner::sdk::Dataset>("gmm", &given).err().expect("refused").to_string();
        assert!(words.iter().all(|w| err.contains(w)), "{err} should name {words:?}");
    }
}
