//! Tests of the conversions between prediction targets (`runner_sdk::target`), on every
//! schedule of the registry.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use runner::sdk::{Coefficients, Conversion, Schedule, Target};

/// Every affine schedule of the registry (γ = 0 with its defaults): the conversions are defined
/// for x = α·x1 + σ·x0 only; paths with an ε term (`sb`) are checked to refuse them below.
fn every_schedule() -> impl Iterator<Item = (&'static str, Box<dyn Schedule>)> {
    crate::common::entries::<dyn runner::sdk::Schedule>()
        .iter()
        .map(|e| {
            (
                e.info.name.as_ref(),
                crate::common::build::<dyn runner::sdk::Schedule>(e.info.name.as_ref(), &BTreeMap::new()).unwrap(),
            )
        })
        .filter(|(_, s)| runner::schedules::noise_term(s.as_ref()).is_none())
}

#[test]
fn conversions_are_undefined_where_the_path_has_an_epsilon_term() {
    let c = Coefficients { alpha: 0.5, sigma: 0.5, gamma: 0.5, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 };
    for from in Target::ALL {
        for to in Target::ALL {
            let conv = Conversion::between(from, to, &c);
            assert_eq!(conv.is_finite(), from == to, "{from:?} → {to:?} at γ = 0.5: {conv:?}");
        }
    }
}

/// The true value of `target` for data `x1` and noise `x0`.
fn truth(target: Target, c: &Coefficients, x1: f64, x0: f64) -> f64 {
    let (c1, c0) = target.components(c);
    c1 * x1 + c0 * x0
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-5 * want.abs().max(1.0)
}

#[test]
fn every_target_converts_to_every_other_and_back_on_every_schedule() {
    let mut rng = StdRng::seed_from_u64(7);
    for (name, s) in every_schedule() {
        for _ in 0..200 {
            let t = rng.random_range(0.05..0.95);
            let (x1, x0): (f64, f64) = (2.0 * rng.sample::<f64, _>(StandardNormal), rng.sample(StandardNormal));
            let c = s.coefficients(t);
            let x = c.alpha * x1 + c.sigma * x0;
            for from in Target::ALL {
                let given = truth(from, &c, x1, x0);
                for to in Target::ALL {
                    let forward = Conversion::between(from, to, &c);
                    let got = forward.apply(x, given);
                    let want = truth(to, &c, x1, x0);
                    assert!(close(got, want), "{name} t = {t}: {from:?} → {to:?} gave {got}, truth {want}");
                    let back = Conversion::between(to, from, &c).apply(x, got);
                    assert!(close(back, given), "{name} t = {t}: {from:?} → {to:?} → back gave {back}, was {given}");
                }
            }
        }
    }
}

#[test]
fn closed_forms_on_cond_ot() {
    // α = t, σ = 1 − t: v = x1 − x0, score = −x0/σ, x1 = x + (1 − t)·v, x0 = x − t·v.
    let c = |t: f64| Coefficients { alpha: t, sigma: 1.0 - t, d_alpha: 1.0, d_sigma: -1.0, ..Default::default() };
    for t in [0.1, 0.5, 0.8] {
        let c = c(t);
        let is = |conv: Conversion, x_coef: f64, pred_coef: f64| {
            (conv.x_coef - x_coef).abs() < 1e-12 && (conv.pred_coef - pred_coef).abs() < 1e-12
        };
        let sigma = 1.0 - t;
        assert!(is(Conversion::between(Target::Epsilon, Target::Score, &c), 0.0, -1.0 / sigma), "score = −x0/σ");
        assert!(
            is(Conversion::between(Target::Data, Target::Score, &c), -1.0 / (sigma * sigma), t / (sigma * sigma)),
            "score = −(x − α·x1)/σ²"
        );
        assert!(is(Conversion::between(Target::Velocity, Target::Data, &c), 1.0, sigma), "x1 = x + (1 − t)·v");
        assert!(is(Conversion::between(Target::Velocity, Target::Epsilon, &c), 1.0, -t), "x0 = x − t·v");
        assert!(
            is(Conversion::between(Target::Data, Target::Velocity, &c), -1.0 / sigma, 1.0 / sigma),
            "v = (x1 − x)/σ"
        );
        for target in Target::ALL {
            assert!(is(Conversion::between(target, target, &c), 0.0, 1.0), "{target:?} to itself is the identity");
        }
    }
}

#[test]
fn score_equals_the_gaussian_score_of_the_conditional_path() {
    // p(x_t | x1) = N(α·x1, σ²) has score −(x − α·x1)/σ² = −x0/σ.
    let c = Coefficients { alpha: 0.6, sigma: 0.8, d_alpha: 0.9, d_sigma: -0.7, ..Default::default() };
    let (x1, x0) = (1.3, -0.4);
    let x = c.alpha * x1 + c.sigma * x0;
    let score = -(x - c.alpha * x1) / (c.sigma * c.sigma);
    assert!((truth(Target::Score, &c, x1, x0) - score).abs() < 1e-12);
    assert!((truth(Target::Score, &c, x1, x0) - (-x0 / c.sigma)).abs() < 1e-12);
    let from_eps = Conversion::between(Target::Epsilon, Target::Score, &c).apply(x, x0);
    assert!((from_eps - score).abs() < 1e-12);
}

#[test]
fn conversions_are_singular_exactly_where_information_is_missing() {
    let at = |t: f64| Coefficients { alpha: t, sigma: 1.0 - t, d_alpha: 1.0, d_sigma: -1.0, ..Default::default() };
    // ε carries nothing about x1 at α = 0; the score does not exist at σ = 0.
    assert!(!Conversion::between(Target::Epsilon, Target::Data, &at(0.0)).is_finite());
    assert!(!Conversion::between(Target::Data, Target::Score, &at(1.0)).is_finite());
    assert!(!Conversion::between(Target::Data, Target::Velocity, &at(1.0)).is_finite());
    // Velocity determines both components at both ends of cond-ot.
    for t in [0.0, 1.0] {
        assert!(Conversion::between(Target::Velocity, Target::Data, &at(t)).is_finite());
        assert!(Conversion::between(Target::Velocity, Target::Epsilon, &at(t)).is_finite());
    }
}
