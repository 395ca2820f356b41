//! Tests of the metrics and of the assignment solver behind exact W1/W2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use runner::metrics::energy::energy_distance;
use runner::metrics::mmd::{kernel, mmd2, BANDWIDTHS};
use runner::metrics::sliced::{directions, sliced_w2};
use runner::metrics::sorted::wasserstein_1d;
use runner::metrics::wasserstein::{by_assignment, cost_matrix, exact, Order};
use runner::sdk::{Dataset, Metric, ParamValue, PluginKind};
use runner::transport::assignment::{solve, solve_costs, Assignment, AssignmentError, Start, AUCTION_FROM};
use runner::transport::auction::SWEEP_BELOW;
use runner::transport::costs::{Costs, DenseCosts, PointCosts};

fn metric(name: &str) -> Box<dyn Metric> {
    crate::common::build::<dyn runner::sdk::Metric>(name, &BTreeMap::new()).unwrap()
}

fn dataset(name: &str) -> Box<dyn Dataset> {
    crate::common::build::<dyn runner::sdk::Dataset>(name, &BTreeMap::new()).unwrap()
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
    assert_certified_costs(a, &DenseCosts::new(cost, n).unwrap(), tol);
}

/// [`assert_certified`] for costs read by rows (nothing n × n is stored); returns the largest
/// violation of the certificate, for reports.
fn assert_certified_costs<C: Costs>(a: &Assignment, costs: &C, tol: f64) -> f64 {
    let n = costs.size();
    assert_eq!(a.rows_to_cols.len(), n);
    let mut seen = vec![false; n];
    for &j in &a.rows_to_cols {
        assert!(j < n && !seen[j], "not a permutation");
        seen[j] = true;
    }
    let sum: f64 = a.rows_to_cols.iter().enumerate().map(|(i, &j)| costs.cost(i, j)).sum();
    assert!((sum - a.cost).abs() <= tol, "reported cost {} but the assignment costs {sum}", a.cost);
    let mut scratch = vec![0.0; n];
    let mut worst = 0.0f64;
    for i in 0..n {
        let row = costs.row(i, &mut scratch);
        let u = a.row_potentials[i];
        for (j, (&c, &v)) in row.iter().zip(&a.col_potentials).enumerate() {
            let slack = c - u - v;
            worst = worst.max(-slack);
            assert!(slack >= -tol, "dual infeasible at ({i}, {j}): slack {slack}");
        }
        let j = a.rows_to_cols[i];
        let slack = row[j] - u - a.col_potentials[j];
        worst = worst.max(slack.abs());
        assert!(slack.abs() <= tol, "assigned pair ({i}, {j}) not tight: slack {slack}");
    }
    worst
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
                    cost_matrix(&a, &b, 2, Order::W2)
                }
            };
            let best = brute_force(&cost, n);
            let tol = 1e-9 * (1.0 + best.abs());
            let costs = DenseCosts::new(&cost, n).unwrap();
            for start in [Start::Reduction, Start::Auction] {
                let a = solve_costs(&costs, start).assignment;
                assert!(
                    (a.cost - best).abs() <= tol,
                    "n {n}, instance {k}, {start:?}: {} vs brute force {best}",
                    a.cost
                );
                assert_certified(&a, &cost, n, tol);
            }
            assert_eq!(solve(&cost, n).unwrap().cost, solve_costs(&costs, Start::for_size(n)).assignment.cost);
        }
    }
}

#[test]
fn assignment_is_certified_optimal_on_larger_instances() {
    let mut rng = StdRng::seed_from_u64(2);
    for &n in &[20usize, 100, 300] {
        for family in 0..4 {
            let cost: Vec<f64> = match family {
                0 => (0..n * n).map(|_| rng.random::<f64>()).collect(),
                1 => (0..n * n).map(|_| f64::from(rng.random_range(0..10u8))).collect(),
                2 => {
                    let a = normal_points(&mut rng, n, 2);
                    let b = dataset("8gaussians").sample(n, n as u64);
                    cost_matrix(&a, &b, 2, Order::W2)
                }
                _ => {
                    // Duplicated points: whole rows and columns tie.
                    let grid =
                        |rng: &mut StdRng| (0..2 * n).map(|_| rng.random_range(0..3u8) as f32).collect::<Vec<_>>();
                    cost_matrix(&grid(&mut rng), &grid(&mut rng), 2, Order::W1)
                }
            };
            let scale = cost.iter().fold(0.0f64, |m, c| m.max(c.abs()));
            let costs = DenseCosts::new(&cost, n).unwrap();
            let (by_reduction, by_auction) =
                (solve_costs(&costs, Start::Reduction).assignment, solve_costs(&costs, Start::Auction).assignment);
            assert_certified(&by_reduction, &cost, n, 1e-9 * scale * n as f64);
            assert_certified(&by_auction, &cost, n, 1e-9 * scale * n as f64);
            let tol = 1e-12 * scale * n as f64;
            assert!(
                (by_reduction.cost - by_auction.cost).abs() <= tol,
                "n {n}, family {family}: {} vs {}",
                by_reduction.cost,
                by_auction.cost
            );
        }
    }
}

#[test]
fn auction_start_is_certified_on_geometric_problems_at_its_scale() {
    // The sizes where `w2`/`w1` start from the auction, on costs computed from the points: bids
    // that sweep whole rows below `SWEEP_BELOW`, candidate lists from there.
    let mut rng = StdRng::seed_from_u64(7);
    let moons = dataset("moons");
    let cases = [
        (2, Order::W2, moons.sample(AUCTION_FROM, 1), moons.sample(AUCTION_FROM, 2)),
        (3, Order::W1, normal_points(&mut rng, 1500, 3), normal_points(&mut rng, 1500, 3)),
        (2, Order::W2, normal_points(&mut rng, SWEEP_BELOW, 2), dataset("8gaussians").sample(SWEEP_BELOW, 3)),
    ];
    for (dim, order, a, b) in cases {
        let costs = PointCosts::new(&a, &b, dim, order);
        let solved = solve_costs(&costs, Start::for_size(a.len() / dim));
        assert!(solved.effort.auction_phases > 0, "{dim}-D: not started by the auction");
        assert_certified_costs(&solved.assignment, &costs, 1e-10);
    }
}

#[test]
fn point_costs_are_the_cost_matrix_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(6);
    for dim in [1usize, 2, 5] {
        let (a, b) = (normal_points(&mut rng, 37, dim), normal_points(&mut rng, 37, dim));
        for order in [Order::W1, Order::W2] {
            let dense = cost_matrix(&a, &b, dim, order);
            let costs = PointCosts::new(&a, &b, dim, order);
            let mut scratch = vec![0.0; 37];
            for i in 0..37 {
                let row = costs.row(i, &mut scratch).to_vec();
                for j in 0..37 {
                    assert_eq!(row[j].to_bits(), dense[i * 37 + j].to_bits(), "dim {dim}, {order:?}, ({i}, {j})");
                    assert_eq!(
                        costs.cost(i, j).to_bits(),
                        dense[i * 37 + j].to_bits(),
                        "dim {dim}, {order:?}, ({i}, {j})"
                    );
                }
            }
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
        assert_eq!(m.max_points(2), Some(10_000));
        let err = m.evaluate(&[0.0; 10], &[0.0; 8], 2).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains("5 samples") && err.contains("4 target"), "{err}");
        let big = vec![0.5f32; 2 * 10_001];
        let err = m.evaluate(&big, &big, 2).unwrap_err().to_string();
        assert!(err.contains("10001") && err.contains("10000"), "{err}");
        // In 1-D there is no limit: sorting handles any size.
        assert_eq!(m.evaluate(&big, &big, 1).unwrap(), 0.0);
        let err = m.evaluate(&[0.0, f32::NAN], &[0.0, 1.0], 1).unwrap_err().to_string();
        assert!(err.contains("non-finite"), "{err}");
        let err = m.evaluate(&[0.0; 3], &[0.0; 3], 2).unwrap_err().to_string();
        assert!(err.contains("3 values"), "{err}");
    }
    let raised = crate::common::build::<dyn runner::sdk::Metric>(
        "w2",
        &BTreeMap::from([("max_points".to_string(), ParamValue::Int(30_000))]),
    )
    .unwrap();
    assert_eq!(raised.max_points(2), Some(30_000));
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
fn the_registry_holds_w2_w1_sliced_w2_mmd_and_energy() {
    let names: Vec<&str> =
        crate::common::entries::<dyn runner::sdk::Metric>().iter().map(|e| e.info.name.as_ref()).collect();
    // The flow metrics follow (tests/it/flow.rs).
    assert_eq!(names[..5], ["w2", "w1", "sliced-w2", "mmd", "energy"]);
    assert!(crate::common::entries::<dyn runner::sdk::Metric>().iter().all(|e| e.info.kind == PluginKind::Metric));
}

/// Finite-sample floors (W2 between two independent draws of one dataset, 10 seeds) and the
/// assignment solver's speed. A measurement, not a check: run it with an optimised build,
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --test it floors -- --ignored --nocapture`.
#[test]
#[ignore]
fn floors_and_timings() {
    use std::time::Instant;
    let w2 = metric("w2");
    for (name, n) in [("gmm1d", 2000usize), ("gmm1d", 50_000), ("moons", 1000), ("8gaussians", 1000), ("scurve", 1000)]
    {
        let d = dataset(name);
        let start = Instant::now();
        let v: Vec<f64> =
            (0..10u64).map(|s| w2.evaluate(&d.sample(n, 2 * s), &d.sample(n, 2 * s + 1), d.dim()).unwrap()).collect();
        let secs = start.elapsed().as_secs_f64() / 10.0;
        let m = v.iter().sum::<f64>() / 10.0;
        let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 9.0).sqrt();
        println!(
            "floor {name:>10} n {n:>6}: W2 {m:.4} ± {sd:.4} (min {:.4}, max {:.4}), {secs:.3} s per evaluation",
            v.iter().cloned().fold(f64::MAX, f64::min),
            v.iter().cloned().fold(f64::MIN, f64::max)
        );
    }
    for (name, n) in [("8gaussians", 2000usize), ("moons", 2000), ("scurve", 2000), ("gaussian", 2000)] {
        let d = dataset(name);
        let (a, b) = (d.sample(n, 1), d.sample(n, 2));
        let cost = runner::metrics::wasserstein::cost_matrix(&a, &b, 2, Order::W2);
        let start = Instant::now();
        let sol = solve(&cost, n).unwrap();
        println!(
            "assignment {name:>10} {n}×{n}: {:.3} s (W2 {:.4})",
            start.elapsed().as_secs_f64(),
            (sol.cost / n as f64).sqrt()
        );
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
    let (a, b) = (dataset("moons").sample(10_000, 1), dataset("moons").sample(10_000, 2));
    for name in ["energy", "sliced-w2"] {
        let start = Instant::now();
        let v = metric(name).evaluate(&a, &b, 2).unwrap();
        println!("{name} 10000 vs 10000: {:.3} s ({v:.4e})", start.elapsed().as_secs_f64());
    }
}

/// The committed fixtures of scripts/reference/wasserstein_fixtures.py: fixed point sets and
/// their exact W2 and W1 from SciPy's assignment solver.
const FIXTURES: [&str; 6] = ["1d", "2d", "2d_large", "5d", "ties", "ties_large"];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data")
}

/// The values of a little-endian f64 `.npy` file (C order, any shape): the fixtures' reference
/// numbers (runner's own reader is for f32 point sets).
fn read_f64_npy(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}: not a .npy file", path.display());
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
    };
    let header = std::str::from_utf8(&bytes[start..start + len]).unwrap();
    assert!(
        header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"),
        "{}: {header}",
        path.display()
    );
    bytes[start + len..].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn wasserstein_agrees_with_an_independent_exact_solver_on_the_fixtures() {
    for name in FIXTURES {
        let file = |part: &str| data_dir().join(format!("wasserstein_{name}_{part}.npy"));
        let (x, [n, dim]) = runner::sweep::read_npy(&file("x")).unwrap();
        let (y, [m, dim_y]) = runner::sweep::read_npy(&file("y")).unwrap();
        assert_eq!((n, dim), (m, dim_y), "{name}: the two sets differ in shape");
        let reference = read_f64_npy(&file("values"));
        assert_eq!(reference.len(), 2, "{name}: expected W2 and W1");
        for (order, expected) in [(Order::W2, reference[0]), (Order::W1, reference[1])] {
            let name_of = if order == Order::W2 { "w2" } else { "w1" };
            let mut ours = vec![("metric", metric(name_of).evaluate(&x, &y, dim).unwrap())];
            if dim == 1 {
                // Sorting above; the assignment solver too, on the same 1-D sets.
                ours.push(("assignment", by_assignment(&x, &y, dim, order).unwrap()));
            }
            for (how, value) in ours {
                let relative = (value - expected).abs() / expected;
                eprintln!(
                    "{name:>10} {name_of} by {how:>10}: {value:.12} vs SciPy {expected:.12}, relative {relative:.1e}"
                );
                assert!(relative <= 1e-6, "{name}, {name_of} by {how}: {value} vs SciPy's {expected}");
            }
        }
    }
}

fn sliced(given: &[(&str, i64)]) -> Box<dyn Metric> {
    let given = given.iter().map(|(k, v)| (k.to_string(), ParamValue::Int(*v))).collect();
    crate::common::build::<dyn runner::sdk::Metric>("sliced-w2", &given).unwrap()
}

#[test]
fn sliced_w2_is_w2_in_one_dimension_and_at_most_w2_in_more() {
    let mut rng = StdRng::seed_from_u64(10);
    let (sw, w2) = (metric("sliced-w2"), metric("w2"));
    assert_eq!(sw.max_points(2), None);
    let a = normal_points(&mut rng, 500, 1);
    let b: Vec<f32> = normal_points(&mut rng, 500, 1).iter().map(|z| z * z).collect();
    let (s, w) = (sw.evaluate(&a, &b, 1).unwrap(), w2.evaluate(&a, &b, 1).unwrap());
    assert!((s - w).abs() <= 1e-12 * w, "1-D: sliced {s} vs w2 {w}");
    for (dim, a, b) in [
        (2, dataset("moons").sample(400, 1), dataset("8gaussians").sample(400, 2)),
        (3, normal_points(&mut rng, 300, 3), normal_points(&mut rng, 300, 3)),
    ] {
        let (s, w) = (sw.evaluate(&a, &b, dim).unwrap(), w2.evaluate(&a, &b, dim).unwrap());
        assert!(s > 0.0 && s <= w * (1.0 + 1e-12), "{dim}-D: sliced {s} above w2 {w}");
        assert_eq!(sw.evaluate(&b, &a, dim).unwrap(), s, "{dim}-D: not symmetric");
        assert_eq!(sw.evaluate(&a, &a, dim).unwrap(), 0.0);
    }
}

#[test]
fn sliced_w2_between_gaussians_matches_the_closed_form() {
    // N(0, I) against N(μ, I) in 4-D: along θ the 1-D W2² is (θ·μ)², whose mean over the
    // sphere is ‖μ‖²/4; with ‖μ‖ = 2, SW2 = 1. Sampling noise at 5,000 points per side is about
    // 0.01; the directions' own Monte Carlo error (500 of them) about 0.025.
    let (dim, n) = (4usize, 5000usize);
    let mu = [1.0f64, -1.0, 1.0, 1.0];
    let mut rng = StdRng::seed_from_u64(11);
    let x = normal_points(&mut rng, n, dim);
    let y: Vec<f32> = normal_points(&mut rng, n, dim)
        .chunks_exact(dim)
        .flat_map(|p| p.iter().zip(&mu).map(|(z, m)| z + *m as f32))
        .collect();
    let got = metric("sliced-w2").evaluate(&x, &y, dim).unwrap();
    assert!((got - 1.0).abs() < 0.1, "SW2 {got}, closed form 1");
    // Against the directions actually drawn, only the sampling noise remains.
    let theta = directions(500, dim, 0);
    let given =
        (theta.chunks_exact(dim).map(|t| t.iter().zip(&mu).map(|(a, b)| a * b).sum::<f64>().powi(2)).sum::<f64>()
            / 500.0)
            .sqrt();
    assert!((got - given).abs() < 0.04, "SW2 {got}, closed form for these directions {given}");
    assert_eq!(sliced_w2(&x, &y, dim, &theta).unwrap(), got);
    // N(0, I) against N(0, 4I): every direction sees N(0, 1) against N(0, 4), W2 = 1.
    let wide: Vec<f32> = normal_points(&mut rng, n, dim).iter().map(|z| 2.0 * z).collect();
    let got = metric("sliced-w2").evaluate(&x, &wide, dim).unwrap();
    assert!((got - 1.0).abs() < 0.05, "SW2 {got}, closed form 1");
}

#[test]
fn sliced_w2_of_a_shift_is_the_rms_projected_shift_and_its_directions_are_seeded() {
    let dim = 3;
    let c = [0.75f64, -1.25, 0.5];
    // Dyadic coordinates make x + c exact in f32.
    let mut rng = StdRng::seed_from_u64(13);
    let x: Vec<f32> = (0..1000 * dim).map(|_| rng.random_range(-1024..1024i32) as f32 / 256.0).collect();
    let y: Vec<f32> = x.chunks_exact(dim).flat_map(|p| p.iter().zip(&c).map(|(a, b)| a + *b as f32)).collect();
    let theta = directions(200, dim, 7);
    for t in theta.chunks_exact(dim) {
        assert!((t.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12, "not a unit vector: {t:?}");
    }
    let expected =
        (theta.chunks_exact(dim).map(|t| t.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>().powi(2)).sum::<f64>()
            / 200.0)
            .sqrt();
    let got = sliced(&[("directions", 200), ("seed", 7)]).evaluate(&x, &y, dim).unwrap();
    assert!((got - expected).abs() < 1e-6 * expected, "{got} vs {expected}");
    // The same seed gives the same value; another seed other directions.
    assert_eq!(sliced(&[("directions", 200), ("seed", 7)]).evaluate(&x, &y, dim).unwrap(), got);
    assert_ne!(sliced(&[("directions", 200), ("seed", 8)]).evaluate(&x, &y, dim).unwrap(), got);
    let err = crate::common::build::<dyn runner::sdk::Metric>(
        "sliced-w2",
        &BTreeMap::from([("directions".to_string(), ParamValue::Int(0))]),
    )
    .err()
    .expect("0 directions accepted")
    .to_string();
    assert!(err.contains("directions") && err.contains("sliced-w2"), "{err}");
    let err = metric("sliced-w2").evaluate(&x[..30], &y[..27], dim).unwrap_err().to_string();
    assert!(err.contains("sliced-w2") && err.contains("10 samples") && err.contains("9 target"), "{err}");
}

#[test]
fn energy_distance_matches_its_definition_on_small_sets() {
    let energy = metric("energy");
    // X = {0}, Y = {(3, 4)}: 2·5 − 0 − 0.
    assert!((energy.evaluate(&[0.0, 0.0], &[3.0, 4.0], 2).unwrap() - 10.0).abs() < 1e-12);
    // X = {0, 2}, Y = {1} in 1-D: E|X − Y| = 1, E|X − X'| = (0 + 2 + 2 + 0)/4 = 1, E|Y − Y'| = 0.
    assert!((energy.evaluate(&[0.0, 2.0], &[1.0], 1).unwrap() - 1.0).abs() < 1e-12);
    assert!((energy.evaluate(&[1.0], &[0.0, 2.0], 1).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn energy_distance_between_uniforms_matches_the_closed_form() {
    // X ~ U(0, 1), Y ~ U(a, a + 1): Y − X = a + S with S triangular on (−1, 1), and
    // E|a + S| = a + (1 − a)³/3 for 0 ≤ a ≤ 1, = a beyond; E|X − X'| = E|S| = 1/3. So
    // D² = 2·E|a + S| − 2/3. The V-statistic adds (1/3)(1/n + 1/m); sampling noise at 4,000
    // points per side is below 0.01.
    let n = 4000;
    let mut rng = StdRng::seed_from_u64(12);
    let x: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
    for a in [0.25f64, 0.5, 1.5] {
        let y: Vec<f32> = (0..n).map(|_| a as f32 + rng.random::<f32>()).collect();
        let mean_gap = if a <= 1.0 { a + (1.0 - a).powi(3) / 3.0 } else { a };
        let expected = 2.0 * mean_gap - 2.0 / 3.0;
        let got = energy_distance(&x, &y, 1, None).unwrap();
        assert!((got - expected).abs() < 0.03, "a = {a}: {got} vs closed form {expected}");
    }
}

#[test]
fn energy_distance_is_zero_on_identical_sets_symmetric_and_positive_for_shifted_sets() {
    let energy = metric("energy");
    assert_eq!(energy.max_points(2), Some(10_000));
    let x = dataset("moons").sample(500, 1);
    let scale = energy_distance(&x, &[0.0, 0.0], 2, None).unwrap();
    assert!(energy.evaluate(&x, &x, 2).unwrap() <= 1e-12 * scale);
    // The same points in another order are the same empirical distribution.
    let reversed: Vec<f32> = x.chunks_exact(2).rev().flatten().copied().collect();
    assert!(energy.evaluate(&x, &reversed, 2).unwrap() <= 1e-12 * scale);
    let y = dataset("moons").sample(400, 2);
    let (xy, yx) = (energy.evaluate(&x, &y, 2).unwrap(), energy.evaluate(&y, &x, 2).unwrap());
    // D² is a difference of means of distances of order `scale`: rounding is relative to those.
    assert!((xy - yx).abs() <= 1e-12 * scale, "{xy} vs {yx}");
    // Two draws of one distribution sit at the V-statistic's floor; shifted draws well above it,
    // growing with the shift.
    let mut last = xy;
    for shift in [0.25f32, 0.5, 1.0, 2.0] {
        let shifted: Vec<f32> = y.chunks_exact(2).flat_map(|p| [p[0] + shift, p[1]]).collect();
        let v = energy.evaluate(&x, &shifted, 2).unwrap();
        assert!(v > 2.0 * last, "shift {shift}: {v} after {last}");
        last = v;
    }
    let err = energy.evaluate(&vec![0.0; 2 * 10_001], &[0.0; 2], 2).unwrap_err().to_string();
    assert!(err.contains("10001") && err.contains("energy"), "{err}");
}

/// Registry conformance: every point-set metric (the flow metrics have their own tests,
/// tests/it/flow.rs) builds from empty parameters (which is how the host builds them), is a
/// discrepancy on a pair of 2-D sets — positive, symmetric, zero on
/// identical sets, smaller between two draws of one dataset than between two datasets — and
/// refuses non-finite points and a `max_points` below 1, naming itself.
#[test]
fn every_metric_is_a_symmetric_discrepancy_with_usable_defaults() {
    let (x, x2, y) =
        (dataset("moons").sample(300, 1), dataset("moons").sample(300, 2), dataset("8gaussians").sample(300, 3));
    for entry in crate::common::entries::<dyn runner::sdk::Metric>() {
        let name = entry.info.name.as_ref();
        let m = metric(name);
        if m.input() != runner::sdk::MetricInput::Points {
            continue;
        }
        for dim in 1..=5 {
            // At least the benchmark's 1,000 points per side (BENCHMARKS.md §1) by default.
            assert!(m.max_points(dim).is_none_or(|cap| cap >= 1000), "{name}: cap {:?} in {dim}-D", m.max_points(dim));
        }
        let (xy, yx) = (m.evaluate(&x, &y, 2).unwrap(), m.evaluate(&y, &x, 2).unwrap());
        assert!(xy.is_finite() && xy > 0.0, "{name}: {xy}");
        assert!((xy - yx).abs() <= 1e-9 * xy, "{name}: {xy} vs {yx}");
        let xx = m.evaluate(&x, &x, 2).unwrap();
        assert!((0.0..=1e-9 * xy).contains(&xx), "{name}: {xx} on identical sets");
        let same = m.evaluate(&x, &x2, 2).unwrap();
        assert!(same < xy, "{name}: {same} between two draws of moons, {xy} between moons and 8gaussians");
        let mut bad = x.clone();
        bad[7] = f32::NAN;
        let err = m.evaluate(&bad, &y, 2).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains("non-finite"), "{name}: {err}");
        if entry.info.params.iter().any(|p| p.name == "max_points") {
            let given = BTreeMap::from([("max_points".to_string(), ParamValue::Int(0))]);
            let err = crate::common::build::<dyn runner::sdk::Metric>(name, &given)
                .err()
                .expect("max_points 0 accepted")
                .to_string();
            assert!(err.contains(name) && err.contains("max_points"), "{name}: {err}");
        }
    }
}

/// Exact W2 and W1 at 10,000 points per side, the `w2`/`w1` cap: wall time, the solver's work
/// and the optimality certificate (asserted), between two independent draws of each dataset
/// and between the standard normal and 8gaussians. A measurement (timings go in reports, not
/// assertions): `cargo test --release --test it -- --ignored --nocapture wasserstein_at_10000`.
/// Environment: `RUNNER_OT_N` (points per side, default 10000); `RUNNER_OT_START` (`auction`,
/// the default, or `reduction`: Jonker–Volgenant's own start, the solver before the auction);
/// `RUNNER_OT_COSTS` (`points`, the default: costs recomputed from the points; `dense`: the
/// stored n × n matrix, 800 MB at 10,000); `RUNNER_OT_CASES` (comma-separated case names).
#[test]
#[ignore]
fn wasserstein_at_10000_points() {
    use std::time::Instant;
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
    let n: usize = var("RUNNER_OT_N", "10000").parse().unwrap();
    let start = match var("RUNNER_OT_START", "auction").as_str() {
        "auction" => Start::Auction,
        "reduction" => Start::Reduction,
        other => panic!("RUNNER_OT_START: `{other}` is neither auction nor reduction"),
    };
    let dense = var("RUNNER_OT_COSTS", "points") == "dense";
    let wanted = var("RUNNER_OT_CASES", "8gaussians,moons,normal2,normal5,normal-8gaussians,w1-moons,w1-normal5");
    let gaussian = |dim: i64| {
        crate::common::build::<dyn runner::sdk::Dataset>(
            "gaussian",
            &BTreeMap::from([("dim".to_string(), ParamValue::Int(dim))]),
        )
        .unwrap()
    };
    type Case = (&'static str, Order, Box<dyn Dataset>, Box<dyn Dataset>);
    let cases: Vec<Case> = vec![
        ("8gaussians", Order::W2, dataset("8gaussians"), dataset("8gaussians")),
        ("moons", Order::W2, dataset("moons"), dataset("moons")),
        ("normal2", Order::W2, gaussian(2), gaussian(2)),
        ("normal5", Order::W2, gaussian(5), gaussian(5)),
        ("normal-8gaussians", Order::W2, gaussian(2), dataset("8gaussians")),
        ("w1-moons", Order::W1, dataset("moons"), dataset("moons")),
        ("w1-normal5", Order::W1, gaussian(5), gaussian(5)),
    ];
    for (name, order, p, q) in cases {
        if !wanted.split(',').any(|w| w == name) {
            continue;
        }
        let dim = p.dim();
        let (a, b) = (p.sample(n, 1), q.sample(n, 2));
        let points = PointCosts::new(&a, &b, dim, order);
        let began = Instant::now();
        let mut scratch = vec![0.0; n];
        for i in 0..n {
            std::hint::black_box(points.row(i, &mut scratch));
        }
        let sweep = began.elapsed().as_secs_f64();
        let began = Instant::now();
        let (solved, build_s) = if dense {
            let matrix = cost_matrix(&a, &b, dim, order);
            let build_s = began.elapsed().as_secs_f64();
            (solve_costs(&DenseCosts::new(&matrix, n).unwrap(), start), build_s)
        } else {
            (solve_costs(&points, start), 0.0)
        };
        let secs = began.elapsed().as_secs_f64();
        let found = &solved.assignment;
        let scale = found.col_potentials.iter().chain(&found.row_potentials).fold(1.0f64, |m, v| m.max(v.abs()));
        let worst = assert_certified_costs(found, &points, 1e-10 * scale);
        let e = solved.effort;
        println!(
            "{name:>17} {order:?} n {n} {dim}-D {start:?}{}: {secs:.2} s (building the matrix {build_s:.2} s of it; \
             computing all rows once {sweep:.3} s) W {:.6}; auction {} phases, {} bids, {} scans; {} rows augmented, \
             {} columns settled; certificate holds to {worst:.1e} (potentials up to {scale:.1})",
            if dense { " dense" } else { "" },
            order.from_mean_cost(found.cost / n as f64),
            e.auction_phases,
            e.auction_bids,
            e.auction_scans,
            e.augmented_rows,
            e.settled_columns,
        );
    }
}
