//! Tests of the schedules: every entry of the registry, built with its defaults.

use std::collections::BTreeMap;

use runner::schedules::discrete_beta::linear_betas;
use runner::sdk::{Coefficients, Schedule};

fn schedule(name: &str) -> Box<dyn Schedule> {
    crate::common::build::<dyn runner::sdk::Schedule>(name, &BTreeMap::new()).unwrap()
}

fn every_schedule() -> impl Iterator<Item = (&'static str, Box<dyn Schedule>)> {
    crate::common::entries::<dyn runner::sdk::Schedule>()
        .iter()
        .map(|e| (e.info.name.as_ref(), schedule(e.info.name.as_ref())))
}

/// What a boundary coefficient must be.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Equal within 1e-9.
    Exactly(f64),
    /// Within `tol` of the value.
    Near(f64, f64),
    /// Positive but below the bound (VP schedules that never reach pure noise).
    SmallPositive(f64),
}

impl Expect {
    fn check(self, got: f64) -> bool {
        match self {
            Expect::Exactly(v) => (got - v).abs() <= 1e-9,
            Expect::Near(v, tol) => (got - v).abs() <= tol,
            Expect::SmallPositive(bound) => got > 0.0 && got < bound,
        }
    }
}

/// α(0), σ(0), α(1), σ(1).
type Boundary = [Expect; 4];

const CONVENTION: Boundary = [Expect::Exactly(0.0), Expect::Exactly(1.0), Expect::Exactly(1.0), Expect::Exactly(0.0)];

/// VP schedules from the diffusion literature stop at a finite noise level at t = 0.
const VP_NOISE_END: Boundary =
    [Expect::SmallPositive(0.01), Expect::Near(1.0, 1e-4), Expect::Exactly(1.0), Expect::Exactly(0.0)];

/// The documented exceptions to the boundary convention; every other schedule must follow it.
const EXCEPTIONS: &[(&str, Boundary)] = &[
    ("lipman", [Expect::Exactly(0.0), Expect::Exactly(1.0), Expect::Exactly(1.0), Expect::Exactly(1e-4)]),
    ("vp", VP_NOISE_END),
    ("ddpm-linear", VP_NOISE_END),
    ("ddpm-cosine", VP_NOISE_END),
];

#[test]
fn registry_is_not_empty_and_names_are_unique() {
    let mut names: Vec<&str> =
        crate::common::entries::<dyn runner::sdk::Schedule>().iter().map(|e| e.info.name.as_ref()).collect();
    assert!(names.len() >= 7);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), crate::common::entries::<dyn runner::sdk::Schedule>().len());
    for (name, _) in EXCEPTIONS {
        assert!(
            crate::common::entries::<dyn runner::sdk::Schedule>().iter().any(|e| e.info.name.as_ref() == *name),
            "exception for unknown schedule {name}"
        );
    }
}

#[test]
fn boundary_values_follow_the_convention_or_a_documented_exception() {
    for (name, s) in every_schedule() {
        let expect = EXCEPTIONS.iter().find(|(n, _)| *n == name).map_or(CONVENTION, |(_, b)| *b);
        let (c0, c1) = (s.coefficients(0.0), s.coefficients(1.0));
        let got = [c0.alpha, c0.sigma, c1.alpha, c1.sigma];
        let labels = ["α(0)", "σ(0)", "α(1)", "σ(1)"];
        for ((e, g), label) in expect.iter().zip(got).zip(labels) {
            assert!(e.check(g), "{name}: {label} = {g}, expected {e:?}");
        }
        assert_eq!(
            (c0.gamma, c1.gamma),
            (0.0, 0.0),
            "{name}: with their defaults, built-ins have no noise at the ends"
        );
    }
}

/// Interior times in the middle between DDPM grid points t = 1 − i/1000, so that the
/// finite differences of the discrete schedules stay within one linear segment of log ᾱ.
fn interior_times() -> Vec<f64> {
    [2, 5, 13, 50, 137, 250, 400, 500, 617, 750, 900, 990, 994, 997]
        .iter()
        .map(|&i| 1.0 - (i as f64 + 0.5) / 1000.0)
        .collect()
}

#[test]
fn derivatives_match_central_finite_differences() {
    // h far below the half-segment width 5e-4; truncation (h²·f''') and round-off (ε/h) both stay
    // under 1e-7 relative even at t = 0.9975, where the VP σ''' is largest.
    let h = 1e-6;
    for (name, s) in every_schedule() {
        for t in interior_times() {
            let (lo, hi, c) = (s.coefficients(t - h), s.coefficients(t + h), s.coefficients(t));
            let pairs = [
                ("α'", c.d_alpha, (hi.alpha - lo.alpha) / (2.0 * h)),
                ("σ'", c.d_sigma, (hi.sigma - lo.sigma) / (2.0 * h)),
                ("γ'", c.d_gamma, (hi.gamma - lo.gamma) / (2.0 * h)),
            ];
            for (label, exact, fd) in pairs {
                assert!(
                    (exact - fd).abs() <= 1e-6 * exact.abs().max(1.0),
                    "{name} at t = {t}: {label} = {exact}, finite difference {fd}"
                );
            }
        }
    }
}

#[test]
fn signal_to_noise_ratio_increases_towards_the_data() {
    // The diffusion samplers need σ/α to fall along the grid (σ²_ts ≥ 0).
    for (name, s) in every_schedule() {
        let ratio = |c: Coefficients| c.sigma / c.alpha;
        let mut prev = ratio(s.coefficients(1e-3));
        for k in 2..=999 {
            let next = ratio(s.coefficients(k as f64 * 1e-3));
            assert!(next < prev, "{name}: σ/α does not fall at t = {}", k as f64 * 1e-3);
            prev = next;
        }
    }
}

#[test]
fn variance_preserving_schedules_keep_alpha2_plus_sigma2_at_one() {
    for name in ["cosine", "linear-vp", "vp", "ddpm-linear", "ddpm-cosine"] {
        let s = schedule(name);
        for t in interior_times().into_iter().chain([0.0, 1.0]) {
            let c = s.coefficients(t);
            assert!((c.alpha * c.alpha + c.sigma * c.sigma - 1.0).abs() < 1e-12, "{name} at t = {t}");
        }
    }
}

#[test]
fn velocity_of_vp_schedules_diverges_at_the_data_end() {
    // Documented: σ' → −∞ as σ → 0; the coefficients at t = 1 are what the formula gives.
    for name in ["linear-vp", "vp", "ddpm-linear", "ddpm-cosine"] {
        let s = schedule(name);
        assert!(s.coefficients(1.0 - 1e-8).d_sigma < -100.0, "{name}");
        assert_eq!(s.coefficients(1.0).d_sigma, f64::NEG_INFINITY, "{name}");
    }
}

#[test]
fn ddpm_linear_reproduces_the_cumulative_product_at_grid_points() {
    let s = schedule("ddpm-linear");
    // β_j from the definition, ᾱ_i by the plain product (not through logarithms).
    let betas = linear_betas(1e-4, 0.02, 1000);
    let mut alpha_bar = vec![1.0];
    for b in &betas {
        alpha_bar.push(alpha_bar.last().unwrap() * (1.0 - b));
    }
    for i in [0, 1, 2, 10, 100, 500, 999, 1000] {
        let c = s.coefficients(1.0 - i as f64 / 1000.0);
        let want = alpha_bar[i];
        assert!((c.alpha * c.alpha - want).abs() <= 1e-10 * want, "ᾱ_{i}: {} vs {want}", c.alpha * c.alpha);
        assert!((c.sigma * c.sigma - (1.0 - want)).abs() <= 1e-12, "1 − ᾱ_{i}");
    }
    // Ho et al.'s values: β_1 = 1e-4 and ᾱ_1000 ≈ 4.04e-5.
    assert!((alpha_bar[1] - (1.0 - 1e-4)).abs() < 1e-15);
    assert!((alpha_bar[1000] - 4.04e-5).abs() < 0.01e-5, "ᾱ_T = {}", alpha_bar[1000]);
}

#[test]
fn ddpm_cosine_follows_the_cosine_alpha_bar_away_from_the_clip() {
    let s = schedule("ddpm-cosine");
    let f = |tau: f64| ((tau + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2).cos().powi(2);
    for i in [1, 10, 300, 700, 950] {
        let tau = i as f64 / 1000.0;
        let c = s.coefficients(1.0 - tau);
        let want = f(tau) / f(0.0);
        assert!((c.alpha * c.alpha - want).abs() <= 1e-9 * want, "ᾱ({tau}) = {} vs {want}", c.alpha * c.alpha);
    }
}

#[test]
fn out_of_range_parameters_are_refused_by_name() {
    use runner::sdk::ParamValue;
    let cases: &[(&str, &str, ParamValue)] = &[
        ("lipman", "sigma_min", ParamValue::Float(1.0)),
        ("vp", "beta_max", ParamValue::Float(0.01)),
        ("ddpm-linear", "beta_end", ParamValue::Float(1.5)),
        ("ddpm-linear", "steps", ParamValue::Int(0)),
        ("ddpm-cosine", "max_beta", ParamValue::Float(1.0)),
        ("sb", "sigma", ParamValue::Float(-1.0)),
        ("cond-ot", "sigma", ParamValue::Float(f64::NAN)),
    ];
    for (name, param, value) in cases {
        let given = BTreeMap::from([(param.to_string(), value.clone())]);
        let err =
            crate::common::build::<dyn runner::sdk::Schedule>(name, &given).err().expect("must be refused").to_string();
        assert!(err.contains(name) && err.contains(param), "{err}");
    }
}

fn with_sigma(name: &str, sigma: f64) -> Box<dyn Schedule> {
    let given = BTreeMap::from([("sigma".to_string(), runner::sdk::ParamValue::Float(sigma))]);
    crate::common::build::<dyn runner::sdk::Schedule>(name, &given).unwrap()
}

#[test]
fn sb_is_the_brownian_bridge_of_sb_cfm() {
    for sigma in [0.3, 1.0, 2.0] {
        let s = with_sigma("sb", sigma);
        for t in interior_times().into_iter().chain([0.5, 0.25]) {
            let c = s.coefficients(t);
            assert_eq!((c.alpha, c.sigma, c.d_alpha, c.d_sigma), (t, 1.0 - t, 1.0, -1.0), "sb({sigma}) at t = {t}");
            assert!((c.gamma - sigma * (t * (1.0 - t)).sqrt()).abs() < 1e-15, "γ of sb({sigma}) at t = {t}");
            // γ' by central differences, at the same accuracy as the registry-wide test.
            let h = 1e-6;
            let fd = (s.coefficients(t + h).gamma - s.coefficients(t - h).gamma) / (2.0 * h);
            assert!(
                (c.d_gamma - fd).abs() <= 1e-6 * c.d_gamma.abs().max(1.0),
                "γ' of sb({sigma}) at t = {t}: {} vs {fd}",
                c.d_gamma
            );
        }
        assert_eq!(s.coefficients(0.5).gamma, sigma / 2.0, "the bridge is widest at t = 1/2");
        assert_eq!(s.coefficients(0.5).d_gamma, 0.0);
        // Documented: γ' is +∞ at t = 0 and −∞ at t = 1.
        assert_eq!(s.coefficients(0.0).d_gamma, f64::INFINITY);
        assert_eq!(s.coefficients(1.0).d_gamma, f64::NEG_INFINITY);
    }
    // σ = 0 is the straight path, finite everywhere.
    let s = with_sigma("sb", 0.0);
    for t in [0.0, 0.5, 1.0] {
        let c = s.coefficients(t);
        assert_eq!((c.gamma, c.d_gamma), (0.0, 0.0), "sb(0) at t = {t}");
    }
}

#[test]
fn cond_ot_sigma_is_icfm_constant_noise_and_defaults_to_none() {
    let plain = schedule("cond-ot");
    let icfm = with_sigma("cond-ot", 0.1);
    for t in [0.0, 0.3, 0.5, 0.9, 1.0] {
        let (a, b) = (plain.coefficients(t), icfm.coefficients(t));
        assert_eq!(a, Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 });
        assert_eq!(b, Coefficients { gamma: 0.1, ..a }, "I-CFM at t = {t}");
    }
    assert_eq!(with_sigma("cond-ot", 0.0).coefficients(0.4), plain.coefficients(0.4));
}

#[test]
fn noise_term_finds_exactly_the_paths_with_an_epsilon_term() {
    use runner::schedules::noise_term;
    for (name, s) in every_schedule() {
        let found = noise_term(s.as_ref());
        assert_eq!(found.is_some(), name == "sb", "{name} with its defaults: {found:?}");
    }
    let (t, c) = noise_term(with_sigma("cond-ot", 0.1).as_ref()).unwrap();
    assert_eq!((t, c.gamma), (0.0, 0.1));
    let (t, c) = noise_term(with_sigma("sb", 1.0).as_ref()).unwrap();
    assert!(t > 0.0 && t < 0.05 && c.gamma > 0.0, "first interior probe: t = {t}, γ = {}", c.gamma);
}
