//! Flow metrics: the likelihood by the probability-flow ODE, path energy, NPE and straightness.
//! Exact models whose flow is known in closed form are the references. The oracle of a Gaussian
//! target N(m, s²) on `cond-ot` (independent coupling) has the marginal path
//! x_t ~ N(t·m, σ_t²), σ_t² = t²s² + (1 − t)², whose flow is the affine map
//! x0 ↦ t·m + σ_t·x0: its log density, energy and straightness are closed form. A mixture's
//! oracle carries N(0, I) exactly to the mixture, whose log density is closed form too, along
//! curved paths.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use runner::config::{Layers, ModelConfig};
use runner::metrics::flow::field::rademacher;
use runner::metrics::flow::likelihood::mixture_log_density;
use runner::metrics::flow::network::NetworkField;
use runner::metrics::flow::oracle::OracleField;
use runner::metrics::flow::{integrate_path, log_density, Divergence, Field, LikelihoodSpec, LogDensities, Path};
use runner::models::{Mlp, Oracle};
use runner::sampling::SampleSpec;
use runner::sdk::{Component, Metric, Mixture, PathIntegrals, Schedule, Target};
use runner::sweep::{self, Evaluation, Trial};

fn schedule(name: &str) -> Arc<dyn Schedule> {
    Arc::from(crate::common::build::<dyn runner::sdk::Schedule>(name, &BTreeMap::new()).unwrap())
}

fn standard_normal(dim: usize) -> Mixture {
    Mixture { dim, components: vec![Component { weight: 1.0, mean: vec![0.0; dim], std: 1.0 }] }
}

fn gaussian(dim: usize, mean: f64, std: f64) -> Mixture {
    Mixture { dim, components: vec![Component { weight: 1.0, mean: vec![mean; dim], std }] }
}

/// Two unequal 2-D components: the oracle's velocity is nonlinear and its Jacobian not diagonal.
fn two_blobs() -> Mixture {
    Mixture {
        dim: 2,
        components: vec![
            Component { weight: 0.35, mean: vec![-1.5, 0.5], std: 0.5 },
            Component { weight: 0.65, mean: vec![1.0, -0.8], std: 0.7 },
        ],
    }
}

fn oracle_field(mixture: &Mixture) -> Box<dyn Field> {
    let s = schedule("cond-ot");
    let oracle =
        Oracle::new("test", Some(mixture.clone()), ("gaussian", Some(standard_normal(mixture.dim))), s.clone())
            .unwrap();
    Box::new(OracleField::new(oracle, s))
}

/// `n` points of `mixture`, seeded.
fn draw(mixture: &Mixture, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let total: f64 = mixture.components.iter().map(|c| c.weight).sum();
    let mut out = Vec::with_capacity(n * mixture.dim);
    for _ in 0..n {
        let mut u = rng.random::<f64>() * total;
        let c = mixture.components.iter().find(|c| {
            u -= c.weight;
            u <= 0.0
        });
        let c = c.unwrap_or(mixture.components.last().unwrap());
        for &m in &c.mean {
            let z: f64 = rng.sample(StandardNormal);
            out.push((m + c.std * z) as f32);
        }
    }
    out
}

fn spec<'a>(solver: &'a str, nfe: usize, no_params: &'a BTreeMap<String, runner::sdk::ParamValue>) -> SampleSpec<'a> {
    SampleSpec {
        registry: crate::common::registry_ref(),
        solver,
        solver_params: no_params,
        nfe,
        grid: "uniform",
        span: (0.0, 1.0),
    }
}

fn densities(mixture: &Mixture, points: &[f32], divergence: Divergence, solver: &str, nfe: usize) -> LogDensities {
    let no_params = BTreeMap::new();
    let spec = LikelihoodSpec { solve: spec(solver, nfe, &no_params), divergence, probe_seed: 7 };
    log_density(oracle_field(mixture), schedule("cond-ot"), &standard_normal(mixture.dim), points, &spec).unwrap()
}

/// log N(x; m·1, s²·I), written out.
fn gaussian_log_density(x: &[f64], mean: f64, std: f64) -> f64 {
    let d = x.len() as f64;
    let sq: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    -0.5 * d * (2.0 * std::f64::consts::PI).ln() - d * std.ln() - 0.5 * sq / (std * std)
}

#[test]
fn nll_of_the_oracle_gaussian_matches_its_closed_form() {
    // Exact divergence, RK4 at 400 NFE (100 steps): the velocity is affine along the affine flow,
    // so the solve is exact to rounding; 1e-3 nats per point is the acceptance bound.
    for dim in [1, 2] {
        let (mean, std) = (2.0, 0.5);
        let target = gaussian(dim, mean, std);
        let points = draw(&target, 500, 1);
        let solved = densities(&target, &points, Divergence::Exact, "rk4", 400);
        let mut worst: f64 = 0.0;
        for (x, &got) in points.chunks_exact(dim).zip(&solved.log_density) {
            let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            worst = worst.max((got - gaussian_log_density(&x, mean, std)).abs());
        }
        eprintln!("gaussian {dim}-D: largest |log p1 error| {worst:.3e} nats ({} NFE)", solved.nfe);
        assert!(worst < 1e-3, "{dim}-D: the largest error of log p1 is {worst} nats");
        // And the flow carried each point back to where the affine map says: x0 = (x − m)/s.
        for (x, x0) in points.chunks_exact(dim).zip(solved.source.chunks_exact(dim)) {
            for (&xi, &x0i) in x.iter().zip(x0) {
                assert!((x0i - (f64::from(xi) - mean) / std).abs() < 1e-6, "{xi} went back to {x0i}");
            }
        }
    }
}

#[test]
fn nll_of_a_mixture_oracle_matches_its_closed_form_along_curved_paths() {
    // The mixture's oracle is nonlinear: its divergence has the posterior weights' gradient
    // terms, which an affine field does not exercise. An adaptive solver at tight tolerances.
    let target = two_blobs();
    let points = draw(&target, 400, 2);
    let no_params: BTreeMap<String, runner::sdk::ParamValue> = [
        ("rtol".to_string(), runner::sdk::ParamValue::Float(1e-9)),
        ("atol".to_string(), runner::sdk::ParamValue::Float(1e-9)),
    ]
    .into();
    let spec = LikelihoodSpec { solve: spec("dopri5", 100, &no_params), divergence: Divergence::Exact, probe_seed: 0 };
    let solved = log_density(oracle_field(&target), schedule("cond-ot"), &standard_normal(2), &points, &spec).unwrap();
    let mut worst: f64 = 0.0;
    for (x, &got) in points.chunks_exact(2).zip(&solved.log_density) {
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        worst = worst.max((got - mixture_log_density(&target, &x)).abs());
    }
    eprintln!("two blobs: largest |log p1 error| {worst:.3e} nats ({} NFE)", solved.nfe);
    assert!(worst < 1e-3, "largest error of log p1 {worst} nats ({} NFE)", solved.nfe);
}

#[test]
fn hutchinson_is_unbiased_within_three_standard_errors() {
    // Per point, the estimate with a fixed Rademacher probe is unbiased for the exact log
    // density; over 2,000 points the mean error must sit within 3 standard errors of 0. The
    // mixture's Jacobian is not diagonal, so the estimate really is noisy (a diagonal Jacobian
    // would make zᵀJz = tr J exactly for ±1 entries).
    let target = two_blobs();
    let points = draw(&target, 2000, 3);
    let solved = densities(&target, &points, Divergence::Hutchinson, "rk4", 200);
    let errors: Vec<f64> = points
        .chunks_exact(2)
        .zip(&solved.log_density)
        .map(|(x, &got)| got - mixture_log_density(&target, &[f64::from(x[0]), f64::from(x[1])]))
        .collect();
    let n = errors.len() as f64;
    let mean = errors.iter().sum::<f64>() / n;
    let sd = (errors.iter().map(|e| (e - mean) * (e - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    eprintln!("hutchinson: mean error {mean:.2e}, standard error {se:.2e}, spread per point {sd:.3}");
    assert!(sd > 1e-3, "the estimate should be noisy here, its spread is {sd}");
    assert!(mean.abs() < 3.0 * se, "mean error {mean} against a standard error of {se}");
}

/// A small random network predicting `native` in `dim` dimensions, on flex.
fn network(dim: usize, native: Target) -> NetworkField {
    let device = runner::device::parse("flex").unwrap();
    let config = ModelConfig { width: 24, depth: 2, activation: "tanh".into(), ..ModelConfig::default() };
    let mlp = Mlp::new(&config, dim, 11, &device).unwrap();
    NetworkField::new(mlp, schedule("cond-ot"), native, device, dim)
}

#[test]
fn a_networks_divergence_equals_finite_differences_of_its_velocity() {
    // Central differences of the f32 network in f64 arithmetic: truncation O(h²) ≈ 1e-4 and
    // rounding ≈ 1e-7/h ≈ 1e-5 relative; the bound is 2e-3 (relative to the Jacobian's size).
    let dim = 3;
    let h = 1e-2;
    for native in [Target::Velocity, Target::Epsilon] {
        let mut f = network(dim, native);
        let mut rng = StdRng::seed_from_u64(5);
        let x: Vec<f64> = (0..4 * dim).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        let t = 0.6;
        let z = rademacher(x.len(), 9);
        let (v, exact) = f.velocity_divergence(&x, t, None).unwrap();
        let (v2, hutch) = f.velocity_divergence(&x, t, Some(&z)).unwrap();
        let plain = f.velocity(&x, t).unwrap();
        for ((a, b), c) in v.iter().zip(&v2).zip(&plain) {
            assert!((a - c).abs() < 1e-5 && (b - c).abs() < 1e-5, "{native:?}: velocities {a}, {b}, {c}");
        }
        for (i, point) in x.chunks_exact(dim).enumerate() {
            // tr J = Σ_k ∂v_k/∂x_k, and zᵀJz = zᵀ(v(x + hz) − v(x − hz))/(2h).
            let mut shifted = |delta: &[f64], sign: f64| -> Vec<f64> {
                let p: Vec<f64> = point.iter().zip(delta).map(|(a, d)| a + sign * h * d).collect();
                network_velocity(&mut f, &p, t)
            };
            let mut trace = 0.0;
            for k in 0..dim {
                let e: Vec<f64> = (0..dim).map(|j| if j == k { 1.0 } else { 0.0 }).collect();
                trace += (shifted(&e, 1.0)[k] - shifted(&e, -1.0)[k]) / (2.0 * h);
            }
            let zi = &z[i * dim..(i + 1) * dim];
            let (up, down) = (shifted(zi, 1.0), shifted(zi, -1.0));
            let quad: f64 = zi.iter().zip(up.iter().zip(&down)).map(|(zk, (u, d))| zk * (u - d) / (2.0 * h)).sum();
            let scale = 1.0 + trace.abs();
            assert!(
                (exact[i] - trace).abs() < 2e-3 * scale,
                "{native:?} point {i}: exact {} against {trace}",
                exact[i]
            );
            assert!(
                (hutch[i] - quad).abs() < 2e-3 * (1.0 + quad.abs()),
                "{native:?} point {i}: zᵀJz {} against {quad}",
                hutch[i]
            );
        }
    }
}

fn network_velocity(f: &mut NetworkField, x: &[f64], t: f64) -> Vec<f64> {
    f.velocity(x, t).unwrap()
}

fn path(mixture: &Mixture, x0: Vec<f32>, solver: &str, nfe: usize) -> Path {
    let no_params = BTreeMap::new();
    integrate_path(oracle_field(mixture), schedule("cond-ot"), x0, &spec(solver, nfe, &no_params)).unwrap()
}

fn metric(name: &str) -> Box<dyn Metric> {
    crate::common::build::<dyn runner::sdk::Metric>(name, &BTreeMap::new()).unwrap()
}

#[test]
fn path_energy_npe_and_straightness_of_the_oracle_gaussian_are_their_closed_forms() {
    // N(0, 1) → N(m, s²) on cond-ot: along x_t = t·m + σ_t·x0 the velocity is m + σ_t'·x0, and
    // with σ_t² = t²s² + (1 − t)², ∫₀¹ σ_t'² dt = 1 + s² − πs/2 (σ_t'² = 1 + s² − s²/σ_t², and
    // ∫ dt/σ_t² = π/(2s)), while ∫ σ_t' dt = s − 1. So per trajectory
    //   energy = m² + 2m(s − 1)·x0 + (1 + s² − πs/2)·x0²,
    //   energy − (x̂1 − x0)² = (2s − πs/2)·x0²   (x̂1 − x0 = m + (s − 1)·x0),
    // exactly on the sampled points; in expectation PE = m² + 1 + s² − πs/2, S = s·(2 − π/2), and
    // with W2²(p0, p1) = m² + (s − 1)² (the monotone map), NPE = s·(2 − π/2)/(m² + (s − 1)²):
    // the independent coupling's marginal flow is not optimal transport, even between Gaussians.
    let (m, s, n) = (2.0, 0.5, 20_000);
    let pi = std::f64::consts::PI;
    let target = gaussian(1, m, s);
    let x0 = draw(&standard_normal(1), n, 4);
    let solved = path(&target, x0.clone(), "rk4", 400);
    let mean_of = |f: &dyn Fn(f64) -> f64| x0.iter().map(|&x| f(f64::from(x))).sum::<f64>() / n as f64;
    let sample_pe = mean_of(&|x| m * m + 2.0 * m * (s - 1.0) * x + (1.0 + s * s - pi * s / 2.0) * x * x);
    let sample_s = mean_of(&|x| (2.0 * s - pi * s / 2.0) * x * x);
    let held_out = draw(&target, n, 5);
    let integrals = solved.integrals(&held_out);
    let pe = metric("path-energy").evaluate_path(&integrals).unwrap();
    assert!((pe - sample_pe).abs() < 1e-7 * sample_pe, "PE {pe} against {sample_pe} on the same points");
    let straightness = metric("straightness").evaluate_path(&integrals).unwrap();
    assert!((straightness - sample_s).abs() < 1e-7, "S {straightness} against {sample_s} on the same points");
    // Sampling noise: standard errors about 0.015 (PE) and 0.002 (S) at 20,000 points.
    let closed_pe = m * m + 1.0 + s * s - pi * s / 2.0;
    assert!((pe - closed_pe).abs() < 0.06, "PE {pe} against {closed_pe}");
    assert!((straightness - s * (2.0 - pi / 2.0)).abs() < 0.01, "S {straightness}");
    // NPE ≈ 0.0505; W2² of 20,000 points a side and PE each carry about 0.004 of noise in it.
    let closed_npe = s * (2.0 - pi / 2.0) / (m * m + (s - 1.0) * (s - 1.0));
    let npe = metric("npe").evaluate_path(&integrals).unwrap();
    eprintln!(
        "gaussian PE {pe:.4} (closed {closed_pe:.4}), S {straightness:.4}, NPE {npe:.4} (closed {closed_npe:.4})"
    );
    assert!((npe - closed_npe).abs() < 0.02, "NPE {npe} against {closed_npe}");
}

#[test]
fn straightness_is_energy_minus_squared_displacement_in_eulers_own_sums() {
    // S = ∫ E‖(x̂1 − x0) − v‖² dt computed the long way, from a hand-written Euler solve, against
    // the metric's E[∫‖v‖²] − E‖x̂1 − x0‖² on the path solve: equal to rounding, and well above
    // 0 for the curved paths of a mixture.
    let target = two_blobs();
    let s = schedule("cond-ot");
    let oracle = Oracle::new("test", Some(target.clone()), ("gaussian", Some(standard_normal(2))), s).unwrap();
    let (n, steps) = (300, 16);
    let x0 = draw(&standard_normal(2), n, 6);
    let start: Vec<f64> = x0.iter().map(|&v| f64::from(v)).collect();
    let h = 1.0 / steps as f64;
    let mut x = start.clone();
    let mut velocities = Vec::new();
    for k in 0..steps {
        let v = oracle.velocity(&x, k as f64 * h);
        x.iter_mut().zip(&v).for_each(|(xi, vi)| *xi += h * vi);
        velocities.push(v);
    }
    let mut direct = 0.0;
    for v in &velocities {
        for i in 0..n * 2 {
            let chord = x[i] - start[i];
            direct += h * (chord - v[i]).powi(2) / n as f64;
        }
    }
    let solved = path(&target, x0, "euler", steps);
    for (a, b) in solved.end.iter().zip(&x) {
        assert!((a - b).abs() < 1e-12, "the path solve's Euler ends at {a}, the hand-written one at {b}");
    }
    let target_points = draw(&target, n, 7);
    let straightness = metric("straightness").evaluate_path(&solved.integrals(&target_points)).unwrap();
    assert!(direct > 0.1, "curved paths: S = {direct}");
    assert!((straightness - direct).abs() < 1e-10 * direct, "identity {straightness} against the direct sum {direct}");
}

#[test]
fn the_registry_holds_the_flow_metrics_with_their_inputs() {
    use runner::sdk::MetricInput;
    for (name, input) in [
        ("nll", MetricInput::Likelihood),
        ("bpd", MetricInput::Likelihood),
        ("path-energy", MetricInput::Path),
        ("npe", MetricInput::Path),
        ("straightness", MetricInput::Path),
        ("w2", MetricInput::Points),
    ] {
        assert_eq!(metric(name).input(), input, "{name}");
    }
}

#[test]
fn flow_metrics_given_point_sets_or_bad_integrals_say_so() {
    let err = metric("path-energy").evaluate(&[0.0], &[0.0], 1).unwrap_err().to_string();
    assert!(err.contains("path-energy") && err.contains("flow"), "{err}");
    let integrals = PathIntegrals { dim: 1, source: &[0.0], end: &[1.0], energy: &[f64::NAN], target: &[1.0] };
    let err = metric("straightness").evaluate_path(&integrals).unwrap_err().to_string();
    assert!(err.contains("straightness") && err.contains("point 0"), "{err}");
}

#[test]
fn diffusion_samplers_cannot_carry_the_augmented_state() {
    let no_params = BTreeMap::new();
    let x0 = draw(&standard_normal(1), 10, 8);
    let err =
        integrate_path(oracle_field(&gaussian(1, 0.0, 2.0)), schedule("cond-ot"), x0, &spec("ddim", 10, &no_params))
            .unwrap_err()
            .to_string();
    assert!(err.contains("`ddim`") && err.contains("ODE"), "{err}");
}

fn trial(dir: &std::path::Path, sets: &[&str]) -> Trial {
    let mut layers = Layers::new();
    layers.set_args(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    Trial::create(dir, layers.resolve(&[]).unwrap(), crate::common::registry()).unwrap()
}

#[test]
fn sweep_rows_carry_the_flow_metrics_next_to_w2() {
    // Tiny trained models on moons. Rows of an ODE solver carry every flow metric; rows of a
    // diffusion sampler (stochastic DDPM, deterministic DDIM) carry the likelihood by
    // eval.nll_solver (which events.jsonl names) but no path metrics; the floor's reference
    // row carries none.
    let dir = tempfile::tempdir().unwrap();
    let common = [
        "data.target=\"moons\"",
        "model.width=16",
        "model.depth=2",
        "train.steps=60",
        "train.log_every=20",
        "eval.size=300",
        "eval.nll_points=200",
        "eval.metrics=[\"w2\", \"nll\", \"bpd\", \"path-energy\", \"npe\", \"straightness\"]",
    ];
    let mut t = trial(dir.path(), &common);
    t.train().unwrap();
    let row = t.evaluate(&Evaluation { solver: "heun".into(), params: Default::default(), nfe: 8 }).unwrap();
    for name in ["w2", "nll", "bpd", "path-energy", "npe", "straightness"] {
        assert!(row.metric(name).is_some_and(f64::is_finite), "heun row lacks {name}: {:?}", row.metrics);
    }
    eprintln!("moons heun 8: {:?}", row.metrics);
    let (nll, bpd) = (row.metric("nll").unwrap(), row.metric("bpd").unwrap());
    assert!((bpd - nll / (2.0 * std::f64::consts::LN_2)).abs() < 1e-12, "nll {nll}, bpd {bpd}");
    assert!(row.metric("path-energy").unwrap() >= row.metric("straightness").unwrap());
    let entries = |t: &Trial| -> Vec<serde_json::Value> {
        let log = std::fs::read_to_string(t.dir.join("events.jsonl")).unwrap();
        log.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["event"] == "sample")
            .collect()
    };
    let fm = entries(&t);
    assert_eq!(fm[0]["notes"]["nll_solver"], "heun");
    assert_eq!(fm[0]["notes"]["nll_points"], 200);
    assert_eq!(fm[0]["notes"]["nll_divergence"], "exact");

    let mut diffusion: Vec<&str> = common.to_vec();
    diffusion.extend(["method=\"ddpm\"", "path.schedule=\"ddpm-linear\"", "path.target=\"epsilon\""]);
    let mut d = trial(dir.path(), &diffusion);
    d.train().unwrap();
    let mut rows = vec![row];
    for (solver, nfe) in [("ddpm", 100), ("ddim", 10)] {
        let r = d.evaluate(&Evaluation { solver: solver.into(), params: Default::default(), nfe }).unwrap();
        assert!(r.metric("nll").is_some_and(f64::is_finite), "{solver}: {:?}", r.metrics);
        for name in ["path-energy", "npe", "straightness"] {
            assert!(r.metric(name).is_none(), "a {solver} row has no {name}: {:?}", r.metrics);
        }
        rows.push(r);
    }
    let logged = entries(&d);
    assert!(logged.iter().all(|e| e["notes"]["nll_solver"] == "dopri5"), "{logged:?}");
    // VP paths: the velocity is infinite at t = 1, so the likelihood starts just before it.
    let end = logged[0]["notes"]["nll_span"][1].as_f64().unwrap();
    assert!(end < 1.0 && end > 0.999, "{end}");
    let header = sweep::to_csv(&rows).lines().next().unwrap().to_string();
    for name in ["w2", "nll", "bpd", "path-energy", "npe", "straightness"] {
        assert!(header.split(',').any(|c| c == name), "summary.csv lacks {name}: {header}");
    }
    let floor = sweep::reference(&t.resolved, crate::common::registry()).unwrap();
    assert!(floor.metric("w2").is_some() && floor.metric("nll").is_none(), "{:?}", floor.metrics);
}

#[test]
fn nll_needs_a_source_density_and_an_ode_fallback_solver() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "model.width=8",
        "model.depth=1",
        "train.steps=5",
        "eval.size=50",
        "eval.nll_points=20",
        "eval.metrics=[\"nll\"]",
    ];
    let mut sets = base.to_vec();
    sets.extend(["data.target=\"gaussian\"", "data.source=\"moons\""]);
    let mut t = trial(dir.path(), &sets);
    t.train().unwrap();
    let err =
        t.evaluate(&Evaluation { solver: "euler".into(), params: Default::default(), nfe: 4 }).unwrap_err().to_string();
    assert!(err.contains("data.source") && err.contains("moons"), "{err}");

    let mut sets = base.to_vec();
    sets.extend(["eval.nll_solver=\"ddim\"", "path.schedule=\"ddpm-linear\"", "path.target=\"epsilon\""]);
    let mut t = trial(dir.path(), &sets);
    t.train().unwrap();
    let err =
        t.evaluate(&Evaluation { solver: "ddpm".into(), params: Default::default(), nfe: 10 }).unwrap_err().to_string();
    assert!(err.contains("eval.nll_solver") && err.contains("`ddim`"), "{err}");
}

/// What the flow metrics cost beside sampling, on a trained-size network (width 64, depth 3,
/// untrained weights: the cost does not depend on them) and 2,000 2-D points. A measurement,
/// not a check: `cargo test --release --test it flow_metric_timings -- --ignored --nocapture`.
#[test]
#[ignore]
fn flow_metric_timings() {
    use std::time::Instant;
    let device = runner::device::parse("flex").unwrap();
    let mlp = Mlp::new(&ModelConfig::default(), 2, 3, &device).unwrap();
    let model = runner::models::Model::Mlp(mlp);
    let s = schedule("cond-ot");
    let no_params = BTreeMap::new();
    let x0 = draw(&standard_normal(2), 2000, 1);
    for (solver, nfe) in [("euler", 100), ("rk4", 100)] {
        let sample_spec = spec(solver, nfe, &no_params);
        let network = runner::sampling::Network { model: &model, schedule: s.as_ref(), target: Target::Velocity };
        let start = Instant::now();
        runner::sampling::sample(&network, &device, x0.clone(), 2, &sample_spec, 0).unwrap();
        let sampling = start.elapsed().as_secs_f64();
        let field = runner::metrics::flow::field(&model, s.clone(), Target::Velocity, &device, 2);
        let path = integrate_path(field, s.clone(), x0.clone(), &sample_spec).unwrap();
        let mut line = format!("{solver} NFE {nfe}: sampling {sampling:.3} s, path integrals {:.3} s", path.seconds);
        for divergence in [Divergence::Exact, Divergence::Hutchinson] {
            let field = runner::metrics::flow::field(&model, s.clone(), Target::Velocity, &device, 2);
            let nll_spec = LikelihoodSpec { solve: spec(solver, nfe, &no_params), divergence, probe_seed: 1 };
            let solved = log_density(field, s.clone(), &standard_normal(2), &x0, &nll_spec).unwrap();
            line += &format!(", nll ({}) {:.3} s", divergence.name(), solved.seconds);
        }
        println!("{line}");
    }
}
