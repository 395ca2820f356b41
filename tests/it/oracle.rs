//! The oracle: the exact posterior mean of a Gaussian-mixture target. Its formulas are checked
//! against exact properties (the ends of the path, the defining orthogonality of a conditional
//! mean, estimated by Monte Carlo), then used as a model: exact solvers on it reach the
//! finite-sample floor, and the `solver_error` column measures the solvers against a converged
//! reference solve.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use runner::config::Layers;
use runner::models::Oracle;
use runner::sdk::{Component, Mixture, Schedule};
use runner::sweep::{self, Evaluation, Trial, SOLVER_ERROR};

fn schedule(name: &str) -> Arc<dyn Schedule> {
    Arc::from(crate::common::build::<dyn runner::sdk::Schedule>(name, &BTreeMap::new()).unwrap())
}

fn standard_normal(dim: usize) -> Option<Mixture> {
    Some(Mixture { dim, components: vec![Component { weight: 1.0, mean: vec![0.0; dim], std: 1.0 }] })
}

/// An asymmetric 1-D mixture, so that its mean (0.3·(−1) + 0.7·2 = 1.1) is not a symmetry point.
fn lopsided() -> Mixture {
    Mixture {
        dim: 1,
        components: vec![
            Component { weight: 0.3, mean: vec![-1.0], std: 0.4 },
            Component { weight: 0.7, mean: vec![2.0], std: 0.7 },
        ],
    }
}

fn oracle_of(mixture: Mixture, schedule_name: &str) -> Oracle {
    let dim = mixture.dim;
    Oracle::new("test", Some(mixture), ("gaussian", standard_normal(dim)), schedule(schedule_name)).unwrap()
}

fn dataset_mixture(name: &str) -> Mixture {
    crate::common::build::<dyn runner::sdk::Dataset>(name, &BTreeMap::new()).unwrap().mixture().unwrap()
}

#[test]
fn mixture_datasets_expose_their_components() {
    let gmm = dataset_mixture("gmm1d");
    assert_eq!((gmm.dim, gmm.components.len()), (1, 2));
    assert_eq!(gmm.components[1].mean, vec![1.5]);
    let eight = dataset_mixture("8gaussians");
    assert_eq!((eight.dim, eight.components.len()), (2, 8));
    assert!(eight.mean().iter().all(|m| m.abs() < 1e-12), "{:?}", eight.mean());
    assert!(eight.components.iter().all(|c| (c.mean[0].hypot(c.mean[1]) - 5.0).abs() < 1e-12));
    assert!(dataset_mixture("gaussian").is_standard_normal());
    let moons = crate::common::build::<dyn runner::sdk::Dataset>("moons", &BTreeMap::new()).unwrap();
    assert!(moons.mixture().is_none());
}

#[test]
fn at_the_noise_end_the_posterior_mean_is_the_mixture_mean() {
    // α(0) = 0 on cond-ot: x_0 carries no information about x1.
    let oracle = oracle_of(lopsided(), "cond-ot");
    let x = [-3.0, 0.0, 0.5, 4.0];
    for v in oracle.posterior_means(&x, 0.0).data {
        assert!((v - 1.1).abs() < 1e-12, "{v}");
    }
}

#[test]
fn at_the_data_end_the_posterior_mean_is_the_state() {
    for name in ["cond-ot", "vp", "ddpm-linear"] {
        let oracle = oracle_of(lopsided(), name);
        let x = [-3.0, -1.0, 0.5, 2.0, 4.0];
        let t = 1.0 - 1e-7;
        let a = schedule(name).coefficients(t).alpha;
        let means = oracle.posterior_means(&x, t);
        for (xi, v) in x.iter().zip(&means.data) {
            // x_t = α·x1 + σ·x0 with σ → 0: the posterior of x1 collapses onto x_t/α.
            assert!((v - xi / a).abs() < 1e-4, "{name}: E[x1 | x_t = {xi}] = {v}");
        }
        // And in any case x_t = α·E[x1 | x_t] + σ·E[x0 | x_t] holds exactly, at every t.
        for t in [0.1, 0.5, 0.9] {
            let c = schedule(name).coefficients(t);
            let m = oracle.posterior_means(&x, t);
            for (i, xi) in x.iter().enumerate() {
                assert!((c.alpha * m.data[i] + c.sigma * m.noise[i] - xi).abs() < 1e-12, "{name}, t = {t}");
            }
        }
    }
}

#[test]
fn the_posterior_mean_is_the_conditional_mean_by_monte_carlo() {
    // A conditional mean is characterized by E[(x1 − E[x1 | x_t])·1{x_t ∈ B}] = 0 for every set
    // B: the residual averages to zero on every bin of x_t, with no binning bias at all.
    let mixture = lopsided();
    let sched = schedule("cond-ot");
    let oracle = oracle_of(mixture.clone(), "cond-ot");
    let mut rng = StdRng::seed_from_u64(7);
    let n = 200_000;
    for t in [0.3, 0.6, 0.9] {
        let c = sched.coefficients(t);
        let mut x1 = Vec::with_capacity(n);
        let mut xt = Vec::with_capacity(n);
        for _ in 0..n {
            let comp = if rng.random_bool(0.3) { &mixture.components[0] } else { &mixture.components[1] };
            let z: f64 = rng.sample(StandardNormal);
            let e: f64 = rng.sample(StandardNormal);
            let v = comp.mean[0] + comp.std * z;
            x1.push(v);
            xt.push(c.alpha * v + c.sigma * e);
        }
        let pred = oracle.posterior_means(&xt, t).data;
        for (lo, hi) in [(-2.0, -0.5), (-0.5, 0.5), (0.5, 1.5), (1.5, 3.0)] {
            let residuals: Vec<f64> = (0..n).filter(|&i| xt[i] >= lo && xt[i] < hi).map(|i| x1[i] - pred[i]).collect();
            let m = residuals.len() as f64;
            assert!(m > 1000.0, "t = {t}: bin [{lo}, {hi}) has {m} points");
            let mean = residuals.iter().sum::<f64>() / m;
            let sd = (residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / m).sqrt();
            // 5 standard errors: a wrong responsibility or shrinkage shifts the residual's mean
            // by a good fraction of a unit in these bins, far more.
            assert!(
                mean.abs() < 5.0 * sd / m.sqrt(),
                "t = {t}, bin [{lo}, {hi}): residual mean {mean}, sd {sd}, n {m}"
            );
        }
    }
}

#[test]
fn the_oracle_refuses_what_it_cannot_be_exact_for() {
    let mixture = Some(lopsided());
    // A stochastic interpolant: the cond-ot path plus γ = √(t(1−t))·ε.
    struct Interpolant;
    impl Schedule for Interpolant {
        fn coefficients(&self, t: f64) -> runner::sdk::Coefficients {
            let gamma = (t * (1.0 - t)).sqrt();
            runner::sdk::Coefficients {
                alpha: t,
                sigma: 1.0 - t,
                gamma,
                d_alpha: 1.0,
                d_sigma: -1.0,
                d_gamma: (1.0 - 2.0 * t) / (2.0 * gamma),
            }
        }
    }
    let sb = Oracle::new("x", mixture.clone(), ("gaussian", standard_normal(1)), Arc::new(Interpolant));
    assert!(sb.err().unwrap().to_string().contains("γ"));
    let wide = Some(Mixture { dim: 1, components: vec![Component { weight: 1.0, mean: vec![0.0], std: 2.0 }] });
    let source = Oracle::new("x", mixture, ("gaussian", wide), schedule("cond-ot"));
    assert!(source.err().unwrap().to_string().contains("standard normal"));

    let dir = tempfile::tempdir().unwrap();
    let err = Trial::create(
        dir.path(),
        resolve(&["model.kind=\"oracle\"", "data.target=\"moons\""]),
        crate::common::registry(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("model.kind") && err.contains("moons") && err.contains("mixture"), "{err}");
    let err = Trial::create(dir.path(), resolve(&["model.kind=\"tree\""]), crate::common::registry())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("model.kind") && err.contains("oracle"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The oracle as a trial's model

fn resolve(sets: &[&str]) -> runner::config::Resolved {
    let mut layers = Layers::new();
    layers.set_args(&sets.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    layers.resolve(&[]).unwrap()
}

fn oracle_trial(dir: &std::path::Path, sets: &[&str]) -> Trial {
    let mut all = vec!["model.kind=\"oracle\"", "data.target=\"gmm1d\"", "eval.metrics=[\"w2\"]"];
    all.extend_from_slice(sets);
    let mut trial = Trial::create(dir, resolve(&all), crate::common::registry()).unwrap();
    let fit = trial.train().unwrap();
    assert_eq!((fit.seconds, fit.final_loss), (0.0, None));
    trial
}

fn evaluate(trial: &mut Trial, solver: &str, nfe: usize) -> runner::sweep::Row {
    trial.evaluate(&Evaluation { solver: solver.into(), params: Default::default(), nfe }).unwrap()
}

#[test]
fn exact_samplers_on_the_oracle_reach_the_finite_sample_floor() {
    // 20,000 points of gmm1d: the floor (two independent draws of the target) is W2 ≈ 0.01. An
    // exact sampler differs from a third independent draw only by its solver error, here far
    // below the floor; a wrong oracle (a mode weight off by 5%, a width off by 10%) moves W2 by
    // 0.05 or more.
    let dir = tempfile::tempdir().unwrap();
    for (schedule, solver, nfe) in
        [("cond-ot", "rk4", 400), ("ddpm-linear", "ddpm", 1000), ("ddpm-linear", "ddim", 1000)]
    {
        let mut trial = oracle_trial(
            dir.path(),
            &["eval.size=20000", "eval.reference_nfe=400", &format!("path.schedule=\"{schedule}\"")],
        );
        let floor = sweep::reference(&trial.resolved, crate::common::registry()).unwrap().metric("w2").unwrap();
        let w2 = evaluate(&mut trial, solver, nfe).metric("w2").unwrap();
        eprintln!("{schedule} {solver} {nfe}: W2 {w2:.5}, floor {floor:.5}");
        assert!(w2 < 2.0 * floor + 0.01, "{schedule} {solver}: W2 {w2} against the floor {floor}");
    }
}

#[test]
fn the_oracle_of_a_user_given_mixture_reaches_the_floor() {
    // A 2-D mixture of three components with unequal weights and widths, given in the config: the
    // oracle's RK4 samples are as close to the target as a second draw of it is.
    let dir = tempfile::tempdir().unwrap();
    let mut trial = oracle_trial(
        dir.path(),
        &[
            "data.target=\"gmm\"",
            "data.target_params.means=\"-3,0; 3,0; 0,4\"",
            "data.target_params.stds=\"0.4, 0.8, 0.3\"",
            "data.target_params.weights=\"1, 2, 1\"",
            "eval.size=2000",
            "eval.reference_nfe=1000",
        ],
    );
    let floor = sweep::reference(&trial.resolved, crate::common::registry()).unwrap().metric("w2").unwrap();
    let row = evaluate(&mut trial, "rk4", 100);
    let (w2, err) = (row.metric("w2").unwrap(), row.metric(SOLVER_ERROR).unwrap());
    eprintln!("user gmm: rk4 W2 {w2:.4} (floor {floor:.4}), solver_error {err:.2e}");
    assert!(err > 0.0 && err < 1e-3, "rk4 at 100 NFE on the oracle is {err} from the reference");
    assert!(w2 < 1.5 * floor, "W2 {w2} against the floor {floor}");
    // A mixture the oracle cannot take is refused when the trial is made.
    let err = Trial::create(
        dir.path(),
        resolve(&["model.kind=\"oracle\"", "data.target=\"gmm\"", "data.target_params.stds=\"0\""]),
        crate::common::registry(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("std"), "{err}");
}

#[test]
fn solver_error_measures_the_distance_to_the_converged_solve() {
    let dir = tempfile::tempdir().unwrap();
    let mut trial = oracle_trial(dir.path(), &["eval.size=2000"]);
    let log = std::fs::read_to_string(trial.dir.join("events.jsonl")).unwrap();
    assert!(log.contains("\"oracle\""), "{log}");
    let err = |t: &mut Trial, s: &str, n: usize| evaluate(t, s, n).metric(SOLVER_ERROR).unwrap();
    let (e10, e100) = (err(&mut trial, "euler", 10), err(&mut trial, "euler", 100));
    let rk4 = err(&mut trial, "rk4", 400);
    eprintln!("cond-ot solver_error: euler 10 {e10:.2e}, euler 100 {e100:.2e}, rk4 400 {rk4:.2e}");
    // Euler is first order: ten times the steps, a tenth of the error (within a factor 2).
    assert!((5.0..20.0).contains(&(e10 / e100)), "euler {e10} → {e100}");
    assert!(rk4 < 1e-5, "rk4 at 400 NFE is {rk4} from the reference");
    assert!(evaluate(&mut trial, "ddpm", 100).metric(SOLVER_ERROR).is_none(), "stochastic rows have no solver error");
    let lines = std::fs::read_to_string(trial.dir.join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().filter(|l| l.contains(SOLVER_ERROR)).count(), 3, "{lines}");

    // On a VP path the reference stops short of the singular data end and finishes with an
    // exact step: DDIM converges to it at first order, and the reference itself has converged.
    let mut vp = oracle_trial(dir.path(), &["eval.size=2000", "path.schedule=\"ddpm-linear\""]);
    let (d20, d200) = (err(&mut vp, "ddim", 20), err(&mut vp, "ddim", 200));
    eprintln!("ddpm-linear solver_error: ddim 20 {d20:.2e}, ddim 200 {d200:.2e}");
    assert!((4.0..25.0).contains(&(d20 / d200)), "ddim {d20} → {d200}");
    assert!(d200 < 1e-2, "ddim at 200 steps is {d200} from the reference");
}

#[test]
fn the_reference_solve_has_converged() {
    use runner::models::Model;
    use runner::sampling::{reference, Network, ReferenceSpec};
    // Tolerances: RK4 converges at fourth order on smooth paths (cond-ot, and vp once the
    // reference's √(1 − t) grid has smoothed its data end), but `ddpm-linear` interpolates log ᾱ
    // piecewise linearly between its T = 1000 steps, and every kink of the coefficients a step
    // crosses costs RK4 an O(h²) local error: there it converges at second order, and the
    // 4000-NFE reference is within about a third of the 2000-vs-4000 difference of the exact
    // solve, still 1/20 of the experiments' 1e-2 threshold or better.
    for (name, tol) in [("cond-ot", 1e-5), ("vp", 1e-5), ("ddpm-linear", 1.5e-3)] {
        let sched = schedule(name);
        let model = Model::Oracle(oracle_of(dataset_mixture("8gaussians"), name));
        let network = Network { model: &model, schedule: sched.as_ref(), target: runner::sdk::Target::Velocity };
        let mut rng = StdRng::seed_from_u64(3);
        let x0: Vec<f32> = (0..2 * 500).map(|_| rng.sample::<f64, _>(StandardNormal) as f32).collect();
        let device = runner::device::parse("flex").unwrap();
        let solve = |nfe| {
            reference(
                &network,
                &device,
                x0.clone(),
                2,
                (0.0, 1.0),
                &ReferenceSpec { registry: crate::common::registry_ref(), solver: "rk4", nfe },
            )
            .unwrap()
        };
        let (a, b) = (solve(2000), solve(4000));
        let rms = (a.iter().zip(&b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        eprintln!("{name}: reference at 2000 vs 4000 NFE differs by {rms:.2e}");
        // f32 storage of the samples limits agreement to ~1e-6 relative on values of size ~5.
        assert!(rms < tol, "{name}: reference not converged, {rms}");
    }
}

// ---------------------------------------------------------------------------------------------
// Spans short of the path's singular ends

#[test]
fn the_jump_to_the_data_is_accurate_to_second_order_in_sigma() {
    use runner::models::Model;
    use runner::sampling::{reference, Network, ReferenceSpec};
    // On `vp` the converged solve to t = 1 (through the reference's own singular end) and the
    // converged solve to t_end followed by one jump must agree to O(σ(t_end)²).
    let sched = schedule("vp");
    let model = Model::Oracle(oracle_of(dataset_mixture("8gaussians"), "vp"));
    let network = Network { model: &model, schedule: sched.as_ref(), target: runner::sdk::Target::Velocity };
    let mut rng = StdRng::seed_from_u64(4);
    let x0: Vec<f32> = (0..2 * 500).map(|_| rng.sample::<f64, _>(StandardNormal) as f32).collect();
    let device = runner::device::parse("flex").unwrap();
    let solve = |t_end| {
        reference(
            &network,
            &device,
            x0.clone(),
            2,
            (0.0, t_end),
            &ReferenceSpec { registry: crate::common::registry_ref(), solver: "rk4", nfe: 4000 },
        )
        .unwrap()
    };
    let full = solve(1.0);
    let mut last = f64::INFINITY;
    for t_end in [0.99, 0.999, 0.9999] {
        let sigma = sched.coefficients(t_end).sigma;
        let jumped = solve(t_end);
        let rms =
            (full.iter().zip(&jumped).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>() / full.len() as f64).sqrt();
        eprintln!("vp: t_end {t_end} (σ = {sigma:.3e}): jump differs from the full solve by {rms:.2e}");
        assert!(rms < 10.0 * sigma * sigma + 1e-5 && rms < last, "t_end {t_end}: {rms}");
        last = rms;
    }
}

#[test]
fn every_solver_runs_on_both_paths_over_a_span_short_of_their_singular_ends() {
    // Without the span some solvers fail (their errors say which key to set); with it every
    // registered solver samples both paths, and the jump's evaluation is counted.
    let dir = tempfile::tempdir().unwrap();
    let mut vp = oracle_trial(
        dir.path(),
        &["eval.size=500", "path.schedule=\"ddpm-linear\"", "eval.t_end=0.999", "eval.reference_nfe=400"],
    );
    let mut ot = oracle_trial(dir.path(), &["eval.size=500", "eval.t_start=0.001", "eval.reference_nfe=400"]);
    for entry in crate::common::entries::<dyn runner::sdk::Solver>() {
        let solver =
            crate::common::build::<dyn runner::sdk::Solver>(entry.info.name.as_ref(), &BTreeMap::new()).unwrap();
        let nfe = solver.nfe(64);
        for (trial, extra) in [(&mut vp, 1), (&mut ot, 0)] {
            let row = evaluate(trial, entry.info.name.as_ref(), nfe);
            let w2 = row.metric("w2").unwrap();
            assert!(w2.is_finite() && w2 < 0.5, "{} on {}: W2 {w2}", entry.info.name.as_ref(), row.schedule);
            if !solver.kind().is_adaptive() {
                assert_eq!(row.nfe, nfe + extra, "{} on {}", entry.info.name.as_ref(), row.schedule);
            }
        }
    }
    let mut bare = oracle_trial(dir.path(), &["eval.size=500", "path.schedule=\"ddpm-linear\""]);
    let err = bare
        .evaluate(&Evaluation { solver: "rk4".into(), params: Default::default(), nfe: 40 })
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("eval.t_end") && err.contains("infinite"), "{err}");
    let mut bare = oracle_trial(dir.path(), &["eval.size=500"]);
    let err = bare
        .evaluate(&Evaluation { solver: "edm-heun".into(), params: Default::default(), nfe: 39 })
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("eval.t_start"), "{err}");
}

#[test]
fn a_span_outside_the_path_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (sets, key) in [
        (vec!["eval.t_start=1.0"], "eval.t_start"),
        (vec!["eval.t_start=-0.1"], "eval.t_start"),
        (vec!["eval.t_start=0.5", "eval.t_end=0.4"], "eval.t_end"),
        (vec!["eval.t_end=1.5"], "eval.t_end"),
    ] {
        let mut all = vec!["model.kind=\"oracle\""];
        all.extend(sets.iter().copied());
        let err =
            Trial::create(dir.path(), resolve(&all), crate::common::registry()).err().expect("refused").to_string();
        assert!(err.contains(key), "{sets:?}: {err}");
    }
}
