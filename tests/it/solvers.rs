//! Tests of the solvers and the integration loop. Every test that can runs over the whole
//! solver registry, so a new solver is covered without new test code.

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use runner::registry::build;
use runner::schedules::discrete_beta::linear_betas;
use runner::sdk::{
    Coefficients, Dynamics, Handle, ParamValue, PluginError, PluginKind, Schedule, Solver, SolverKind, Target,
};
use runner::solvers::{integrate, steps_for_nfe, SolveError, VectorDynamics, REGISTRY};
use runner::{grids, schedules};

fn solver(name: &str, params: &[(&str, ParamValue)]) -> Box<dyn Solver> {
    let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    build(REGISTRY, PluginKind::Solver, name, &given).unwrap()
}

fn every_solver() -> Vec<(&'static str, Box<dyn Solver>)> {
    REGISTRY.iter().map(|e| (e.info.name, solver(e.info.name, &[]))).collect()
}

fn schedule(name: &str) -> Arc<dyn Schedule> {
    Arc::from(build(schedules::REGISTRY, PluginKind::Schedule, name, &BTreeMap::new()).unwrap())
}

fn uniform(steps: usize, t_start: f64, t_end: f64, s: &dyn Schedule) -> Vec<f64> {
    let grid = build(grids::REGISTRY, PluginKind::Grid, "uniform", &BTreeMap::new()).unwrap();
    grid.times(steps, t_start, t_end, s).unwrap()
}

/// The exact data predictor E[x1 | x_t] for data N(m, s²) on an affine path:
/// x_t ~ N(α·m, α²s² + σ²) and E[x1 | x_t] = m + α·s²·(x_t − α·m)/(α²s² + σ²).
fn gaussian_data_model(schedule: Arc<dyn Schedule>, m: f64, s: f64) -> impl FnMut(&[f64], f64) -> Vec<f64> {
    move |x, t| {
        let c = schedule.coefficients(t);
        let var = c.alpha * c.alpha * s * s + c.sigma * c.sigma;
        x.iter().map(|&xt| m + c.alpha * s * s * (xt - c.alpha * m) / var).collect()
    }
}

fn standard_normal(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.sample(StandardNormal)).collect()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Least-squares slope of log(err) against log(h).
fn log_log_slope(h: &[f64], err: &[f64]) -> f64 {
    let xs: Vec<f64> = h.iter().map(|v| v.ln()).collect();
    let ys: Vec<f64> = err.iter().map(|v| v.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

// ---------------------------------------------------------------------------------------------
// Order of convergence

/// A logistic equation with a time-varying rate, nonlinear in x and in t:
/// x' = r(t)·x·(1 − x), r(t) = 1 + π·cos(πt), so x(t) = 1 / (1 + (1/x0 − 1)·exp(−t − sin πt)).
fn logistic_velocity(x: &[f64], t: f64) -> Vec<f64> {
    let r = 1.0 + PI * (PI * t).cos();
    x.iter().map(|&v| r * v * (1.0 - v)).collect()
}

fn logistic_solution(x0: f64, t: f64) -> f64 {
    1.0 / (1.0 + (1.0 / x0 - 1.0) * (-t - (PI * t).sin()).exp())
}

#[test]
fn ode_solvers_converge_at_their_declared_order() {
    let starts = [0.1, 0.4, 0.7, 0.95];
    let step_counts = [8, 16, 32, 64, 128];
    let mut checked = 0;
    for (name, s) in every_solver() {
        let SolverKind::Ode { order } = s.kind() else { continue };
        let (mut hs, mut errs) = (Vec::new(), Vec::new());
        for &steps in &step_counts {
            let mut f = VectorDynamics::ode(logistic_velocity, 0);
            let x0 = f.insert(starts.to_vec());
            let times: Vec<f64> = (0..=steps).map(|i| i as f64 / steps as f64).collect();
            let out = integrate(s.as_ref(), &mut f, x0, &times, false).unwrap();
            let x = f.get(out.x).unwrap();
            let err = starts.iter().zip(x).map(|(&a, b)| (b - logistic_solution(a, 1.0)).abs()).fold(0.0, f64::max);
            // Far above f64 round-off (≈1e-16 per step), so the fit sees truncation error only.
            assert!(err > 1e-12, "{name}: error {err:e} at {steps} steps is too close to round-off to fit");
            hs.push(1.0 / steps as f64);
            errs.push(err);
        }
        let slope = log_log_slope(&hs, &errs);
        eprintln!("{name}: declared order {order}, fitted slope {slope:.3}, errors {errs:?}");
        assert!((slope - order as f64).abs() <= 0.3, "{name}: fitted order {slope:.3}, declared {order}");
        checked += 1;
    }
    assert!(checked >= 5, "the registry should hold at least five ODE solvers, found {checked}");
}

// ---------------------------------------------------------------------------------------------
// The integration loop: NFE, handles, trajectories, errors

#[test]
fn nfe_is_steps_times_evals_per_step_and_every_call_reaches_the_model() {
    let path = schedule("cond-ot");
    for (name, s) in every_solver() {
        for steps in [1, 2, 5, 17] {
            let mut f = VectorDynamics::new(path.clone(), Target::Data, gaussian_data_model(path.clone(), 3.0, 0.5), 1);
            let start = standard_normal(16, 2);
            let x0 = f.insert(start.clone());
            // Ends before t = 1, where a data model says nothing about the velocity (σ = 0).
            let times = uniform(steps, 0.0, 0.99, path.as_ref());
            let out = integrate(s.as_ref(), &mut f, x0, &times, false).unwrap();
            assert_eq!(out.steps, steps, "{name}");
            assert_eq!(out.nfe, steps * s.evals_per_step(), "{name} at {steps} steps");
            assert_eq!(f.model_calls(), out.nfe, "{name}: NFE must be model calls, not declared");
            assert!(out.trajectory.is_empty());
            // Nothing leaked, nothing released twice, the caller's start untouched.
            assert_eq!(f.live_handles(), 2, "{name}: only x0 and the result may remain");
            assert_eq!(f.stale_releases(), 0, "{name}");
            assert_eq!(f.get(x0).unwrap(), start.as_slice(), "{name} must not touch x0");
        }
    }
}

#[test]
fn recorded_trajectories_hold_every_grid_time_from_the_start() {
    let path = schedule("cond-ot");
    for (name, s) in every_solver() {
        let mut f = VectorDynamics::new(path.clone(), Target::Data, gaussian_data_model(path.clone(), 3.0, 0.5), 1);
        let x0 = f.insert(standard_normal(8, 3));
        let times = uniform(6, 0.0, 0.9, path.as_ref());
        let out = integrate(s.as_ref(), &mut f, x0, &times, true).unwrap();
        let recorded: Vec<f64> = out.trajectory.iter().map(|&(t, _)| t).collect();
        assert_eq!(recorded, times, "{name}");
        assert_eq!(out.trajectory[0].1, x0, "{name}: the start is the caller's handle");
        assert_eq!(out.trajectory.last().unwrap().1, out.x, "{name}");
        assert_eq!(f.live_handles(), times.len(), "{name}: exactly the recorded states remain");
        for &(_, h) in &out.trajectory {
            assert!(f.get(h).is_ok(), "{name}: a recorded state was released");
        }
    }
}

#[test]
fn a_non_finite_state_stops_the_loop_with_its_time_and_step() {
    // A velocity that blows up from t = 0.5 on.
    let blow_up = |x: &[f64], t: f64| x.iter().map(|_| if t >= 0.5 { f64::INFINITY } else { 1.0 }).collect();
    for (name, s) in every_solver() {
        let SolverKind::Ode { .. } = s.kind() else { continue };
        let mut f = VectorDynamics::ode(blow_up, 0);
        let x0 = f.insert(vec![0.0; 3]);
        let times: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
        let err = integrate(s.as_ref(), &mut f, x0, &times, true).unwrap_err();
        let SolveError::NonFinite { t, step } = err else { panic!("{name}: {err}") };
        // Euler first sees t = 0.5 at step 5 (landing at 0.6); methods with a c = 1 stage at step 4.
        assert!((4..=5).contains(&step) && (t - times[step + 1]).abs() < 1e-15, "{name}: step {step}, t {t}");
        assert!(err.to_string().contains("non-finite"), "{err}");
        assert_eq!(f.live_handles(), 1, "{name}: everything but x0 is released after the error");
        assert_eq!(f.stale_releases(), 0, "{name}");
    }
}

#[test]
fn bad_grids_are_refused_before_any_evaluation() {
    let s = solver("euler", &[]);
    let mut f = VectorDynamics::ode(logistic_velocity, 0);
    let x0 = f.insert(vec![0.5]);
    assert!(matches!(integrate(s.as_ref(), &mut f, x0, &[0.0], false), Err(SolveError::TooFewTimes(1))));
    let err = integrate(s.as_ref(), &mut f, x0, &[0.0, 0.5, 0.5, 1.0], false).unwrap_err();
    assert!(matches!(err, SolveError::NotIncreasing { index: 1, .. }), "{err}");
    assert!(integrate(s.as_ref(), &mut f, x0, &[0.0, f64::NAN, 1.0], false).is_err());
    assert_eq!(f.model_calls(), 0);
}

#[test]
fn model_failures_surface_as_step_errors_with_their_cause() {
    // ODE mode has no path, so the diffusion samplers cannot get their coefficients and a data
    // prediction is refused; both must come back as errors naming the step.
    for (name, s) in every_solver() {
        if let SolverKind::Ode { .. } = s.kind() {
            continue;
        }
        let mut f = VectorDynamics::ode(logistic_velocity, 0);
        let x0 = f.insert(vec![0.5]);
        let err = integrate(s.as_ref(), &mut f, x0, &[0.0, 0.5, 1.0], false).unwrap_err();
        assert!(matches!(err, SolveError::Step { step: 0, .. }), "{name}: {err}");
        assert_eq!(f.live_handles(), 1, "{name}");
    }
    let mut f = VectorDynamics::ode(logistic_velocity, 0);
    let x = f.insert(vec![0.5]);
    let err = f.predict(x, 0.5, Target::Data).unwrap_err();
    assert!(matches!(err, PluginError::Dynamics(_)) && err.to_string().contains("velocity"), "{err}");
}

#[test]
fn steps_for_nfe_refuses_non_multiples_naming_the_solver() {
    for (name, s) in every_solver() {
        let per = s.evals_per_step();
        assert_eq!(steps_for_nfe(name, s.as_ref(), 3 * per).unwrap(), 3);
        let mut bad = vec![0];
        if per > 1 {
            bad.push(per + 1);
        }
        for nfe in bad {
            let err = steps_for_nfe(name, s.as_ref(), nfe).unwrap_err().to_string();
            assert!(
                err.contains(&format!("`{name}`")) && err.contains(&nfe.to_string()) && err.contains(&per.to_string()),
                "{err}"
            );
        }
    }
    let err = steps_for_nfe("rk4", solver("rk4", &[]).as_ref(), 10).unwrap_err().to_string();
    assert!(err.contains("rk4") && err.contains("10") && err.contains('4'), "{err}");
}

#[test]
fn solver_parameters_are_validated() {
    for (name, param, value) in
        [("ddim", "eta", ParamValue::Float(1.5)), ("ddpm", "variance", ParamValue::Str("medium".into()))]
    {
        let given = BTreeMap::from([(param.to_string(), value)]);
        let err = build(REGISTRY, PluginKind::Solver, name, &given).err().expect("must be refused").to_string();
        assert!(err.contains(name) && err.contains(param), "{err}");
    }
    assert_eq!(solver("ddim", &[]).kind(), SolverKind::Deterministic);
    assert_eq!(solver("ddim", &[("eta", ParamValue::Float(0.5))]).kind(), SolverKind::Stochastic);
}
