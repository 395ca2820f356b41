//! Tests of the time grids: every entry of the registry on several schedules, and the defining
//! property of each grid.

use std::collections::BTreeMap;

use runner::grids::logsnr_uniform::log_snr;
use runner::sdk::{ParamValue, Schedule, TimeGrid};

fn grid(name: &str, params: &[(&str, ParamValue)]) -> Box<dyn TimeGrid> {
    let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    crate::common::build::<dyn runner::sdk::TimeGrid>(name, &given).unwrap()
}

fn schedule(name: &str) -> Box<dyn Schedule> {
    crate::common::build::<dyn runner::sdk::Schedule>(name, &BTreeMap::new()).unwrap()
}

/// `explicit` needs its list; every other grid is built with its defaults.
fn grid_for(name: &str, steps: usize, t_start: f64, t_end: f64) -> Box<dyn TimeGrid> {
    if name == "explicit" {
        // Quadratic spacing, so the list is not the uniform grid by accident.
        let list: Vec<String> = (0..=steps)
            .map(|i| {
                let w = (i as f64 / steps as f64).powi(2);
                if i == 0 {
                    t_start.to_string()
                } else if i == steps {
                    t_end.to_string()
                } else {
                    (t_start + (t_end - t_start) * w).to_string()
                }
            })
            .collect();
        grid(name, &[("times", ParamValue::Str(list.join(",")))])
    } else {
        grid(name, &[])
    }
}

const SCHEDULES: [&str; 4] = ["cond-ot", "vp", "ddpm-linear", "cosine"];

#[test]
fn every_grid_gives_steps_plus_one_strictly_increasing_times_with_exact_ends() {
    assert!(crate::common::entries::<dyn runner::sdk::TimeGrid>().len() >= 5);
    for entry in crate::common::entries::<dyn runner::sdk::TimeGrid>() {
        let name = entry.info.name.as_ref();
        for path in SCHEDULES {
            let s = schedule(path);
            for (t_start, t_end) in [(0.0, 1.0), (0.0, 0.999), (1e-3, 1.0)] {
                for steps in [1, 2, 7, 50] {
                    let times = grid_for(name, steps, t_start, t_end).times(steps, t_start, t_end, s.as_ref());
                    let times = times.unwrap_or_else(|e| panic!("{name} on {path}, {steps} steps: {e}"));
                    assert_eq!(times.len(), steps + 1, "{name} on {path}");
                    assert_eq!((times[0], times[steps]), (t_start, t_end), "{name} on {path}: ends must be exact");
                    for w in times.windows(2) {
                        assert!(w[1] > w[0], "{name} on {path}, {steps} steps: {times:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_grid_refuses_empty_and_backwards_spans() {
    let s = schedule("cond-ot");
    for entry in crate::common::entries::<dyn runner::sdk::TimeGrid>() {
        let name = entry.info.name.as_ref();
        let g = grid_for(name, 4, 0.0, 1.0);
        assert!(g.times(0, 0.0, 1.0, s.as_ref()).is_err(), "{name}");
        assert!(g.times(4, 0.9, 0.1, s.as_ref()).is_err(), "{name}");
        assert!(g.times(4, 0.0, 1.5, s.as_ref()).is_err(), "{name}");
    }
}

#[test]
fn karras_interior_times_have_the_edm_noise_levels() {
    let (rho, smin, smax) = (7.0f64, 0.002f64, 80.0f64);
    let n = 20;
    for path in ["cond-ot", "vp", "ddpm-linear"] {
        let s = schedule(path);
        let times = grid("karras", &[]).times(n, 0.0, 1.0, s.as_ref()).unwrap();
        for (i, &t) in times.iter().enumerate().take(n).skip(1) {
            let want =
                (smax.powf(1.0 / rho) + i as f64 / n as f64 * (smin.powf(1.0 / rho) - smax.powf(1.0 / rho))).powf(rho);
            let c = s.coefficients(t);
            let got = c.sigma / c.alpha;
            assert!((got / want - 1.0).abs() < 1e-9, "{path}, i = {i}: σ/α = {got}, EDM σ_i = {want}");
        }
    }
}

#[test]
fn logsnr_uniform_has_equal_interior_logsnr_gaps() {
    let n = 16;
    for path in ["cond-ot", "vp", "ddpm-linear", "cosine"] {
        let s = schedule(path);
        let times = grid("logsnr-uniform", &[]).times(n, 0.0, 1.0, s.as_ref()).unwrap();
        let lam: Vec<f64> = times.iter().map(|&t| log_snr(s.as_ref(), t)).collect();
        let gaps: Vec<f64> = lam.windows(2).map(|w| w[1] - w[0]).collect();
        // The interior points span the clamped range [lo, hi] in n equal parts.
        let lo = log_snr(s.as_ref(), 0.0).max(-10.0);
        let hi = log_snr(s.as_ref(), 1.0).min(10.0);
        let want = (hi - lo) / n as f64;
        for (i, g) in gaps.iter().enumerate().take(n - 1).skip(1) {
            assert!((g - want).abs() < 1e-7 * want.abs().max(1.0), "{path}: gap {i} is {g}, want {want}");
        }
        assert!(gaps[n - 1] > want, "{path}: the last gap reaches σ = 0 (λ = ∞)");
    }
    // The clamp is a parameter: a narrower range moves the interior points.
    let s = schedule("cond-ot");
    let narrow =
        grid("logsnr-uniform", &[("logsnr_min", ParamValue::Float(-2.0)), ("logsnr_max", ParamValue::Float(2.0))]);
    let times = narrow.times(4, 0.0, 1.0, s.as_ref()).unwrap();
    // cond-ot: λ = 2·log(t/(1 − t)), so λ = 0 at t = 0.5 and the middle point is there.
    assert!((times[2] - 0.5).abs() < 1e-12, "{times:?}");
}

#[test]
fn shifted_with_shift_one_is_uniform_and_larger_shifts_crowd_the_noise_end() {
    let s = schedule("cond-ot");
    let uniform = grid("uniform", &[]).times(10, 0.0, 1.0, s.as_ref()).unwrap();
    let one = grid("shifted", &[("shift", ParamValue::Float(1.0))]).times(10, 0.0, 1.0, s.as_ref()).unwrap();
    for (a, b) in uniform.iter().zip(&one) {
        assert!((a - b).abs() < 1e-15, "{uniform:?} vs {one:?}");
    }
    let three = grid("shifted", &[]).times(10, 0.0, 1.0, s.as_ref()).unwrap();
    // SD3 with shift 3: s' = 3s/(1 + 2s); at u = 0.5, s' = 0.75, t = 0.25.
    assert!((three[5] - 0.25).abs() < 1e-15, "{three:?}");
    assert!(three[1] - three[0] < uniform[1] - uniform[0]);
}

#[test]
fn explicit_grids_check_their_list_against_the_request() {
    let s = schedule("cond-ot");
    let g = grid("explicit", &[("times", ParamValue::Str("0, 0.2, 0.7,1".into()))]);
    assert_eq!(g.times(3, 0.0, 1.0, s.as_ref()).unwrap(), vec![0.0, 0.2, 0.7, 1.0]);
    let err = g.times(5, 0.0, 1.0, s.as_ref()).unwrap_err().to_string();
    assert!(err.contains("4 times") && err.contains("5 steps"), "{err}");
    let err = g.times(3, 0.0, 0.9, s.as_ref()).unwrap_err().to_string();
    assert!(err.contains("0.9"), "{err}");
    for bad in ["", "0, 0.5, 0.5, 1", "0, x, 1", "-0.5, 1"] {
        let given = BTreeMap::from([("times".to_string(), ParamValue::Str(bad.into()))]);
        let err = crate::common::build::<dyn runner::sdk::TimeGrid>("explicit", &given).err().expect(bad).to_string();
        assert!(err.contains("times"), "{bad}: {err}");
    }
}

#[test]
fn karras_clamps_its_levels_to_the_span() {
    // On [0.4, 0.41] cond-ot's σ/α only runs from 1.5 down to 1.44: the levels are spread over
    // that range (with the EDM spacing) instead of piling up on the ends.
    let s = schedule("cond-ot");
    let n = 200;
    let times = grid("karras", &[]).times(n, 0.4, 0.41, s.as_ref()).unwrap();
    let nsr = |t: f64| (1.0 - t) / t;
    let (lo, hi) = (nsr(0.41).powf(1.0 / 7.0), nsr(0.4).powf(1.0 / 7.0));
    for (i, &t) in times.iter().enumerate().take(n).skip(1) {
        let want = (hi + i as f64 / n as f64 * (lo - hi)).powf(7.0);
        assert!((nsr(t) / want - 1.0).abs() < 1e-9, "i = {i}: σ/α = {}, want {want}", nsr(t));
    }
    let err = grid("karras", &[("sigma_max", ParamValue::Float(0.5))]).times(4, 0.0, 0.5, s.as_ref()).unwrap_err();
    assert!(err.to_string().contains("does not meet"), "{err}");
}
