//! Tests of the metrics and of the assignment solver behind exact W1/W2.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use runner::metrics::assignment::{solve, Assignment, AssignmentError};
use runner::metrics::mmd::{kernel, mmd2, BANDWIDTHS};
use runner::metrics::sorted::wasserstein_1d;
use runner::metrics::wasserstein::{by_assignment, exact, Order};
use runner::metrics::REGISTRY;
use runner::registry::build;
use runner::sdk::{Dataset, Metric, ParamValue, PluginKind};

fn metric(name: &str) -> Box<dyn Metric> {
    build(REGISTRY, PluginKind::Metric, name, &BTreeMap::new()).unwrap()
}

fn dataset(name: &str) -> Box<dyn Dataset> {
    build(runner::data::REGISTRY, PluginKind::Dataset, name, &BTreeMap::new()).unwrap()
}

fn normal_points(rng: &mut StdRng, n: usize, dim: usize) -> Vec<f32> {
    (0..n * dim).map(|_| StandardNormal.sample(rng)).map(|z: f64| z as f32).collect()
}

/// The least total cost over all n! permutations.
fn brute_force(cost: &[f64], n: usize) -> f64 {
    fn go(cost: &[f64], n: usize, row: usize, used: &mut [bool], acc: f64, best: &mut f64) {
        if row == n {
            *best = best.min(acc);
            return;
        }
        for j in 0..n {
            if !used[j] {
                used[j] = true;
                go(cost, n, row + 1, used, acc + cost[row * n + j], best);
                used[j] = false;
            }
        }
    }
    let mut best = f64::INFINITY;
    go(cost, n, 0, &mut vec![false; n], 0.0, &mut best);
    if n == 0 {
        0.0
    } else {
        best
    }
}

/// Checks that `a` is a permutation whose reported cost is its cost, and that its potentials
/// prove it optimal: u_i + v_j ≤ c_ij everywhere, with equality on the assignment.
fn assert_certified(a: &Assignment, cost: &[f64], n: usize, tol: f64) {
    assert_eq!(a.rows_to_cols.len(), n);
    let mut seen = vec![false; n];
    for &j in &a.rows_to_cols {
        assert!(j < n && !seen[j], "not a permutation: {:?}", a.rows_to_cols);
        seen[j] = true;
    }
    let sum: f64 = a.rows_to_cols.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum();
    assert!((sum - a.cost).abs() <= tol, "reported cost {} but the assignment costs {sum}", a.cost);
    for i in 0..n {
        for j in 0..n {
            let slack = cost[i * n + j] - a.row_potentials[i] - a.col_potentials[j];
            assert!(slack >= -tol, "dual infeasible at ({i}, {j}): slack {slack}");
        }
        let j = a.rows_to_cols[i];
        let slack = cost[i * n + j] - a.row_potentials[i] - a.col_potentials[j];
        assert!(slack.abs() <= tol, "assigned pair ({i}, {j}) not tight: slack {slack}");
    }
}

#[test]
fn assignment_equals_brute_force_on_small_random_instances() {
    let mut rng = StdRng::seed_from_u64(1);
    for n in 0..=7usize {
        let instances = if n == 7 { 60 } else { 300 };
        for k in 0..instances {
            // Four families: continuous, heavily tied small integers, shifted negative, and
            // squared Euclidean distances between random points (the W2 case).
            let cost: Vec<f64> = match k % 4 {
                0 => (0..n * n).map(|_| rng.random::<f64>()).collect(),
                1 => (0..n * n).map(|_| f64::from(rng.random_range(0..4u8))).collect(),
                2 => (0..n * n).map(|_| 1e3 * (rng.random::<f64>() - 0.7)).collect(),
                _ => {
                    let a = normal_points(&mut rng, n, 2);
                    let b = normal_points(&mut rng, n, 2);
                    runner::metrics::wasserstein::cost_matrix(&a, &b, 2, Order::W2)
                }
            };
            let a = solve(&cost, n).unwrap();
            let best = brute_force(&cost, n);
            let tol = 1e-9 * (1.0 + best.abs());
            assert!((a.cost - best).abs() <= tol, "n {n}, instance {k}: solver {} vs brute force {best}", a.cost);
            assert_certified(&a, &cost, n, tol);
        }
    }
}

#[test]
fn assignment_is_certified_optimal_on_larger_instances() {
    let mut rng = StdRng::seed_from_u64(2);
    for &n in &[20usize, 100, 300] {
        for family in 0..3 {
            let cost: Vec<f64> = match family {
                0 => (0..n * n).map(|_| rng.random::<f64>()).collect(),
                1 => (0..n * n).map(|_| f64::from(rng.random_range(0..10u8))).collect(),
                _ => {
                    let a = normal_points(&mut rng, n, 2);
                    let b = dataset("8gaussians").sample(n, n as u64);
                    runner::metrics::wasserstein::cost_matrix(&a, &b, 2, Order::W2)
                }
            };
            let a = solve(&cost, n).unwrap();
            let scale = cost.iter().fold(0.0f64, |m, c| m.max(c.abs()));
            assert_certified(&a, &cost, n, 1e-9 * scale * n as f64);
        }
    }
}

#[test]
fn assignment_refuses_bad_input() {
    assert_eq!(solve(&[1.0; 5], 2), Err(AssignmentError::Shape { len: 5, n: 2 }));
    assert_eq!(solve(&[1.0, f64::NAN, 0.0, 2.0], 2), Err(AssignmentError::NonFinite { row: 0, col: 1 }));
    let a = solve(&[], 0).unwrap();
    assert!(a.rows_to_cols.is_empty() && a.cost == 0.0);
    assert_eq!(solve(&[-3.5], 1).unwrap().rows_to_cols, vec![0]);
}

#[test]
fn sorting_gives_the_assignment_value_in_one_dimension() {
    let mut rng = StdRng::seed_from_u64(3);
    for n in [1usize, 2, 5, 17, 100, 250] {
        let a = normal_points(&mut rng, n, 1);
        // A skewed, shifted second set so that the optimal pairing is not trivial.
        let b: Vec<f32> = normal_points(&mut rng, n, 1).iter().map(|z| z * z - 0.5).collect();
        for order in [Order::W1, Order::W2] {
            let sorted = wasserstein_1d(&a, &b, order);
            let assigned = by_assignment(&a, &b, 1, order).unwrap();
            assert!((sorted - assigned).abs() < 1e-9 * (1.0 + sorted), "n {n}, {order:?}: {sorted} vs {assigned}");
        }
    }
}

#[test]
fn shifting_a_set_by_c_moves_it_exactly_norm_c() {
    // For any pairing σ, Σ‖x_i − x_σ(i) − c‖² = Σ‖x_i − x_σ(i)‖² + n‖c‖², so W2(X, X + c) = ‖c‖;
    // likewise W1 by the triangle inequality. Dyadic coordinates make x + c exact in f32.
    let mut rng = StdRng::seed_from_u64(4);
    for (dim, c) in [(1usize, vec![0.75f32]), (2, vec![0.75, -1.25]), (3, vec![-0.5, 2.0, 0.125])] {
        let norm = c.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
        for n in [1usize, 10, 200] {
            let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1024..1024i32) as f32 / 256.0).collect();
            let y: Vec<f32> = x.chunks_exact(dim).flat_map(|p| p.iter().zip(&c).map(|(a, b)| a + b)).collect();
            for order in [Order::W2, Order::W1] {
                let w = exact(&x, &y, dim, order).unwrap();
                assert!((w - norm).abs() < 1e-9, "dim {dim}, n {n}, {order:?}: {w} vs ‖c‖ = {norm}");
                if dim > 1 {
                    let name = if order == Order::W2 { "w2" } else { "w1" };
                    assert!((metric(name).evaluate(&y, &x, dim).unwrap() - norm).abs() < 1e-9);
                }
            }
        }
    }
}

#[test]
fn w2_between_normal_draws_shrinks_with_n() {
    let w2 = metric("w2");
    let floor = |n: usize| {
        (0..5u64)
            .map(|s| {
                let mut rng = StdRng::seed_from_u64(100 + s);
                let (a, b) = (normal_points(&mut rng, n, 1), normal_points(&mut rng, n, 1));
                w2.evaluate(&a, &b, 1).unwrap()
            })
            .sum::<f64>()
            / 5.0
    };
    let (small, medium, large) = (floor(100), floor(5_000), floor(50_000));
    // E W2² ≈ c·log log n / n for the normal: each factor of ~10 in n divides W2 by ~3.
    assert!(medium < small / 3.0, "n 100: {small}, n 5000: {medium}");
    assert!(large < medium / 2.0, "n 5000: {medium}, n 50000: {large}");
    assert!(large > 0.0 && large < 0.05, "n 50000: {large}");
}

#[test]
fn w1_never_exceeds_w2() {
    let mut rng = StdRng::seed_from_u64(5);
    let (w1, w2) = (metric("w1"), metric("w2"));
    for (dim, a, b) in [
        (2, dataset("moons").sample(300, 1), dataset("8gaussians").sample(300, 2)),
        (2, normal_points(&mut rng, 300, 2), dataset("scurve").sample(300, 3)),
        (3, normal_points(&mut rng, 200, 3), normal_points(&mut rng, 200, 3)),
        (1, normal_points(&mut rng, 1000, 1), dataset("gmm1d").sample(1000, 4)),
    ] {
        let (v1, v2) = (w1.evaluate(&a, &b, dim).unwrap(), w2.evaluate(&a, &b, dim).unwrap());
        assert!(v1 > 0.0 && v1 <= v2 * (1.0 + 1e-12), "dim {dim}: W1 {v1} > W2 {v2}");
    }
}

#[test]
fn wasserstein_metrics_refuse_unequal_and_oversized_sets() {
    for name in ["w2", "w1"] {
        let m = metric(name);
        assert_eq!(m.max_points(1), None);
        assert_eq!(m.max_points(2), Some(2000));
        let err = m.evaluate(&[0.0; 10], &[0.0; 8], 2).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains("5 samples") && err.contains("4 target"), "{err}");
        let big = vec![0.5f32; 2 * 2001];
        let err = m.evaluate(&big, &big, 2).unwrap_err().to_string();
        assert!(err.contains("2001") && err.contains("2000"), "{err}");
        // In 1-D there is no limit: sorting handles any size.
        assert_eq!(m.evaluate(&big, &big, 1).unwrap(), 0.0);
        let err = m.evaluate(&[0.0, f32::NAN], &[0.0, 1.0], 1).unwrap_err().to_string();
        assert!(err.contains("non-finite"), "{err}");
        let err = m.evaluate(&[0.0; 3], &[0.0; 3], 2).unwrap_err().to_string();
        assert!(err.contains("3 values"), "{err}");
    }
    let raised = build(REGISTRY, PluginKind::Metric, "w2", &BTreeMap::from([("max_points".to_string(), ParamValue::Int(3000))]))
        .unwrap();
    assert_eq!(raised.max_points(2), Some(3000));
}

#[test]
fn mmd_matches_its_definition_on_single_points() {
    // X = {x}, Y = {y}: MMD² = K(0) + K(0) − 2K(d²) with K(0) = 5 (one per bandwidth).
    let d: f64 = 0.7;
    let expected = 2.0 * 5.0 - 2.0 * BANDWIDTHS.iter().map(|s| (-d * d / (2.0 * s * s)).exp()).sum::<f64>();
    let got = metric("mmd").evaluate(&[0.0, 0.0], &[0.7, 0.0], 2).unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    assert_eq!(kernel(0.0), 5.0);
}

#[test]
fn mmd_is_zero_on_identical_sets_symmetric_and_grows_with_a_shift() {
    let mmd = metric("mmd");
    assert_eq!(mmd.max_points(2), Some(5000));
    let x = dataset("moons").sample(400, 1);
    assert!(mmd.evaluate(&x, &x, 2).unwrap() < 1e-12);
    let y = dataset("moons").sample(400, 2);
    let g = dataset("8gaussians").sample(300, 3);
    let (xy, yx) = (mmd.evaluate(&x, &y, 2).unwrap(), mmd.evaluate(&y, &x, 2).unwrap());
    assert!((xy - yx).abs() < 1e-12 * (1.0 + xy), "{xy} vs {yx}");
    let (xg, gx) = (mmd.evaluate(&x, &g, 2).unwrap(), mmd.evaluate(&g, &x, 2).unwrap());
    assert!((xg - gx).abs() < 1e-12 * (1.0 + xg), "unequal sizes: {xg} vs {gx}");
    // Two draws of one set are closer than two different sets.
    assert!(xy > 0.0 && xg > 10.0 * xy, "same set {xy}, different sets {xg}");
    // A second draw shifted by growing amounts drifts further and further away.
    let mut last = xy;
    for shift in [0.25f32, 0.5, 1.0, 2.0, 4.0] {
        let shifted: Vec<f32> = y.chunks_exact(2).flat_map(|p| [p[0] + shift, p[1]]).collect();
        let v = mmd2(&x, &shifted, 2, None).unwrap();
        assert!(v > 1.5 * last, "shift {shift}: {v} after {last}");
        last = v;
    }
    let err = mmd.evaluate(&vec![0.0; 2 * 5001], &[0.0; 2], 2).unwrap_err().to_string();
    assert!(err.contains("5001") && err.contains("mmd"), "{err}");
}

#[test]
fn the_registry_holds_w2_w1_and_mmd() {
    let names: Vec<&str> = REGISTRY.iter().map(|e| e.info.name).collect();
    // The flow metrics follow (tests/it/flow.rs).
    assert_eq!(names[..3], ["w2", "w1", "mmd"]);
}

/// Finite-sample floors (W2 between two independent draws of one dataset, 10 seeds) and the
/// assignment solver's speed. A measurement, not a check: run it with an optimised build,
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --test it floors -- --ignored --nocapture`.
#[test]
#[ignore]
fn floors_and_timings() {
    use std::time::Instant;
    let w2 = metric("w2");
    for (name, n) in [("gmm1d", 2000usize), ("gmm1d", 50_000), ("moons", 1000), ("8gaussians", 1000), ("scurve", 1000)] {
        let d = dataset(name);
        let start = Instant::now();
        let v: Vec<f64> = (0..10u64).map(|s| w2.evaluate(&d.sample(n, 2 * s), &d.sample(n, 2 * s + 1), d.dim()).unwrap()).collect();
        let secs = start.elapsed().as_secs_f64() / 10.0;
        let m = v.iter().sum::<f64>() / 10.0;
        let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 9.0).sqrt();
        println!("floor {name:>10} n {n:>6}: W2 {m:.4} ± {sd:.4} (min {:.4}, max {:.4}), {secs:.3} s per evaluation",
            v.iter().cloned().fold(f64::MAX, f64::min), v.iter().cloned().fold(f64::MIN, f64::max));
    }
    for (name, n) in [("8gaussians", 2000usize), ("moons", 2000), ("scurve", 2000), ("gaussian", 2000)] {
        let d = dataset(name);
        let (a, b) = (d.sample(n, 1), d.sample(n, 2));
        let cost = runner::metrics::wasserstein::cost_matrix(&a, &b, 2, Order::W2);
        let start = Instant::now();
        let sol = solve(&cost, n).unwrap();
        println!("assignment {name:>10} {n}×{n}: {:.3} s (W2 {:.4})", start.elapsed().as_secs_f64(), (sol.cost / n as f64).sqrt());
    }
    let mut rng = StdRng::seed_from_u64(9);
    let cost: Vec<f64> = (0..2000 * 2000).map(|_| rng.random::<f64>()).collect();
    let start = Instant::now();
    solve(&cost, 2000).unwrap();
    println!("assignment uniform random costs 2000×2000: {:.3} s", start.elapsed().as_secs_f64());
    let (a, b) = (dataset("gmm1d").sample(50_000, 1), dataset("gmm1d").sample(50_000, 2));
    let start = Instant::now();
    let v = w2.evaluate(&a, &b, 1).unwrap();
    println!("w2 1-D 50,000 points: {:.4} s (W2 {v:.4})", start.elapsed().as_secs_f64());
    let (a, b) = (dataset("moons").sample(5000, 1), dataset("moons").sample(5000, 2));
    let start = Instant::now();
    let v = metric("mmd").evaluate(&a, &b, 2).unwrap();
    println!("mmd 5000 vs 5000: {:.3} s (MMD² {v:.3e})", start.elapsed().as_secs_f64());
}
