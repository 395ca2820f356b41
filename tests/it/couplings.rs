//! Tests of the couplings: every entry pairs valid indices; `exact-ot` is the optimal
//! permutation; `sinkhorn`'s plan has the right marginals and spans exact OT (small reg) to
//! independent pairing (large reg).

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use runner::couplings::sinkhorn::Sinkhorn;
use runner::sdk::{Coupling, ParamValue};
use runner::transport::squared_distances;

fn coupling(name: &str, params: &[(&str, ParamValue)]) -> Box<dyn Coupling> {
    let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    crate::common::build::<dyn runner::sdk::Coupling>(name, &given).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `n` standard normal 2-D points and `n` points of 8 Gaussians at radius 5 (std 0.5): the
/// N→8gaussians shape, where OT pairing and independent pairing differ by a factor of ~3 in cost.
fn batch(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let source: Vec<f32> = (0..2 * n).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    let mut target = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let angle = f64::from(rng.random_range(0..8u8)) * std::f64::consts::FRAC_PI_4;
        let (s, c) = angle.sin_cos();
        target.push((5.0 * c + 0.5 * rng.sample::<f64, _>(StandardNormal)) as f32);
        target.push((5.0 * s + 0.5 * rng.sample::<f64, _>(StandardNormal)) as f32);
    }
    (source, target)
}

/// Mean cost Σ_i C[i, p(i)] / n of a pairing.
fn pairing_cost(cost: &[f64], pairing: &[usize]) -> f64 {
    let n = pairing.len();
    pairing.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum::<f64>() / n as f64
}

fn is_permutation(p: &[usize]) -> bool {
    let mut seen = vec![false; p.len()];
    p.iter().all(|&j| j < p.len() && !std::mem::replace(&mut seen[j], true))
}

/// The least mean cost over all permutations of 0..n, by enumeration (Heap's algorithm).
fn brute_force_optimum(cost: &[f64], n: usize) -> f64 {
    let mut p: Vec<usize> = (0..n).collect();
    let mut c = vec![0; n];
    let mut best = pairing_cost(cost, &p);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                p.swap(0, i)
            } else {
                p.swap(c[i], i)
            }
            best = best.min(pairing_cost(cost, &p));
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    best
}

#[test]
fn the_registry_holds_the_three_couplings_and_each_pairs_valid_indices() {
    let names: Vec<&str> =
        crate::common::entries::<dyn runner::sdk::Coupling>().iter().map(|e| e.info.name.as_ref()).collect();
    assert_eq!(names, ["independent", "exact-ot", "sinkhorn"]);
    let (source, target) = batch(50, 1);
    for entry in crate::common::entries::<dyn runner::sdk::Coupling>() {
        let c = coupling(entry.info.name.as_ref(), &[]);
        let p = c.pair(&source, &target, 2, 9).unwrap();
        assert_eq!(p.len(), 50, "{}", entry.info.name.as_ref());
        assert!(p.iter().all(|&j| j < 50), "{}: {p:?}", entry.info.name.as_ref());
        assert_eq!(
            p,
            c.pair(&source, &target, 2, 9).unwrap(),
            "{}: same seed, different pairs",
            entry.info.name.as_ref()
        );
        let err = c.pair(&source[..20], &target, 2, 9).unwrap_err().to_string();
        assert!(
            err.contains("10 source rows") && err.contains("50 target rows"),
            "{}: {err}",
            entry.info.name.as_ref()
        );
        assert!(c.pair(&[], &[], 2, 9).unwrap().is_empty(), "{}: an empty batch", entry.info.name.as_ref());
    }
}

#[test]
fn exact_ot_is_the_cheapest_permutation() {
    let exact = coupling("exact-ot", &[]);
    for seed in 0..20 {
        let (source, target) = batch(7, seed);
        let cost = squared_distances(&source, &target, 2);
        let p = exact.pair(&source, &target, 2, seed).unwrap();
        assert!(is_permutation(&p), "seed {seed}: {p:?}");
        let best = brute_force_optimum(&cost, 7);
        let got = pairing_cost(&cost, &p);
        assert!(
            (got - best).abs() <= 1e-9 * best,
            "seed {seed}: cost {got}, optimum over all 5040 permutations {best}"
        );
    }
}

#[test]
fn exact_ot_pairs_a_batch_at_a_fraction_of_the_independent_cost() {
    let (source, target) = batch(512, 3);
    let cost = squared_distances(&source, &target, 2);
    let ot = pairing_cost(&cost, &coupling("exact-ot", &[]).pair(&source, &target, 2, 0).unwrap());
    let independent = pairing_cost(&cost, &coupling("independent", &[]).pair(&source, &target, 2, 0).unwrap());
    // Independent pairs cost about E‖x0‖² + radius² + 2·0.25 ≈ 27.5; OT pairs move each point to
    // its nearest Gaussian, about (5 − 1.25)² + … ≈ 15.
    assert!(ot < 0.7 * independent, "OT mean cost {ot}, independent {independent}");
}

#[test]
fn sinkhorn_plan_has_uniform_marginals() {
    for (reg, seed) in [(0.5, 0), (2.0, 1), (20.0, 2)] {
        let (source, target) = batch(6, seed);
        let solver = Sinkhorn::new(reg, 1e-6, 100_000).unwrap();
        let plan = solver.plan(&source, &target, 2).unwrap();
        let pi = plan.matrix();
        let n = 6;
        let rows: Vec<f64> = (0..n).map(|i| pi[i * n..(i + 1) * n].iter().sum()).collect();
        let cols: Vec<f64> = (0..n).map(|j| (0..n).map(|i| pi[i * n + j]).sum()).collect();
        let row_error: f64 = rows.iter().map(|r| (r - 1.0 / n as f64).abs()).sum();
        assert!(row_error <= 1e-6, "reg {reg}: rows {rows:?} (L1 error {row_error})");
        for (j, c) in cols.iter().enumerate() {
            assert!((c - 1.0 / n as f64).abs() <= 1e-12, "reg {reg}: column {j} sums to {c}");
        }
        assert!(plan.error <= 1e-6, "reg {reg}: {} after {} iterations", plan.error, plan.iterations);
    }
}

/// Mean cost of the sampled pairs over `seeds` draws, its standard error, the plan's expected
/// cost ⟨π, C⟩, and the exact-OT and independent (mean of C) costs.
struct Costs {
    sampled: f64,
    se: f64,
    plan: f64,
    exact: f64,
    independent: f64,
}

fn costs(reg: f64, n: usize, seeds: u64) -> Costs {
    let (source, target) = batch(n, 11);
    let cost = squared_distances(&source, &target, 2);
    let solver = Sinkhorn::new(reg, 1e-6, 200_000).unwrap();
    let per_pair: Vec<f64> = (0..seeds)
        .flat_map(|seed| {
            let p = solver.pair(&source, &target, 2, seed).unwrap();
            p.iter().enumerate().map(|(i, &j)| cost[i * n + j]).collect::<Vec<_>>()
        })
        .collect();
    let m = per_pair.len() as f64;
    let sampled = per_pair.iter().sum::<f64>() / m;
    let var = per_pair.iter().map(|c| (c - sampled).powi(2)).sum::<f64>() / (m - 1.0);
    let pi = solver.plan(&source, &target, 2).unwrap().matrix();
    Costs {
        sampled,
        se: (var / m).sqrt(),
        plan: pi.iter().zip(&cost).map(|(p, c)| p * c).sum(),
        exact: pairing_cost(&cost, &coupling("exact-ot", &[]).pair(&source, &target, 2, 0).unwrap()),
        independent: cost.iter().sum::<f64>() / (n * n) as f64,
    }
}

#[test]
fn sinkhorn_with_small_reg_approaches_exact_ot() {
    let n = 64;
    let reg = 0.05;
    let c = costs(reg, n, 40);
    // Entropic OT: OT ≤ ⟨π_ε, C⟩ ≤ OT + ε·log n (the plan's entropy lies in [log n, 2 log n]).
    assert!(c.plan >= c.exact - 1e-6 && c.plan <= c.exact + reg * (n as f64).ln(), "plan {} vs OT {}", c.plan, c.exact);
    // The sampled pairs have the plan's expected cost, within sampling noise.
    assert!((c.sampled - c.plan).abs() < 5.0 * c.se, "sampled {} ± {}, plan {}", c.sampled, c.se, c.plan);
    // And so they close the gap between independent and exact pairing almost entirely.
    let closed = (c.independent - c.sampled) / (c.independent - c.exact);
    assert!(
        closed > 0.95,
        "closes {closed} of the gap: sampled {}, exact {}, independent {}",
        c.sampled,
        c.exact,
        c.independent
    );
}

#[test]
fn sinkhorn_with_large_reg_approaches_independent_pairing() {
    let c = costs(1e5, 64, 40);
    // π → a ⊗ b: every target equally likely for every source row.
    assert!((c.plan - c.independent).abs() <= 1e-3 * c.independent, "plan {} vs independent {}", c.plan, c.independent);
    assert!(
        (c.sampled - c.independent).abs() < 5.0 * c.se,
        "sampled {} ± {}, independent {}",
        c.sampled,
        c.se,
        c.independent
    );
    assert!(c.sampled > c.exact + 10.0 * c.se, "sampled {} should be far above OT {}", c.sampled, c.exact);
}

#[test]
fn sinkhorn_draws_differ_by_seed_and_may_repeat_targets() {
    let (source, target) = batch(64, 5);
    let s = coupling("sinkhorn", &[("reg", ParamValue::Float(50.0))]);
    let (a, b) = (s.pair(&source, &target, 2, 1).unwrap(), s.pair(&source, &target, 2, 2).unwrap());
    assert_ne!(a, b);
    // A diffuse plan: 64 draws from 64 targets all differ with a probability of the order of
    // 64!/64⁶⁴ ≈ 3e-27 (the birthday problem), so some target repeats.
    assert!(!is_permutation(&a), "{a:?}");
}

#[test]
fn out_of_range_parameters_are_refused_by_name() {
    for (param, value) in
        [("reg", ParamValue::Float(0.0)), ("tol", ParamValue::Float(-1.0)), ("max_iter", ParamValue::Int(0))]
    {
        let given = BTreeMap::from([(param.to_string(), value)]);
        let err = crate::common::build::<dyn runner::sdk::Coupling>("sinkhorn", &given)
            .err()
            .expect("must be refused")
            .to_string();
        assert!(err.contains("sinkhorn") && err.contains(param), "{err}");
    }
}
