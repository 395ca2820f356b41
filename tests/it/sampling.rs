//! Sampling a burn network through the host dynamics: for every registered solver the NFE that
//! `integrate` reports equals the calls counted at the network, and seeded noise reproduces.

use burn::tensor::Device;
use runner::config::ModelConfig;
use runner::models::Mlp;
use runner::sampling::NetworkDynamics;
use runner::sdk::Target;
use runner::solvers::{integrate, steps_for_nfe, Options};

fn network_dynamics_for_every_solver(mut check: impl FnMut(&str, &mut NetworkDynamics<'_>)) {
    let device = Device::flex();
    let model = Mlp::new(&ModelConfig::default(), 2, 7, &device).unwrap();
    let schedule = crate::common::build::<dyn runner::sdk::Schedule>("cond-ot", &Default::default()).unwrap();
    for entry in crate::common::entries::<dyn runner::sdk::Solver>() {
        // A velocity network on cond-ot converts to every target at every t < 1.
        let mut f = NetworkDynamics::new(&model, schedule.as_ref(), Target::Velocity, device.clone(), 11);
        check(entry.info.name.as_ref(), &mut f);
    }
}

#[test]
fn reported_nfe_equals_calls_counted_at_the_network() {
    network_dynamics_for_every_solver(|name, f| {
        let solver = crate::common::build::<dyn runner::sdk::Solver>(name, &Default::default()).unwrap();
        // The smallest NFE the solver accepts with a few steps (multistep and Heun-with-Euler-
        // last-step samplers count NFE differently from steps × evaluations).
        // Adaptive solvers take one grid interval and choose their own steps.
        let steps = if solver.kind().is_adaptive() {
            steps_for_nfe(name, solver.as_ref(), 1).unwrap()
        } else {
            (1..=64)
                .find_map(|nfe| steps_for_nfe(name, solver.as_ref(), nfe).ok().filter(|&steps| steps >= 3))
                .unwrap_or_else(|| panic!("{name} accepts no NFE up to 64"))
        };
        // End short of t = 1, where some samplers need σ > 0 or α > 0 on both sides of a step.
        let times: Vec<f64> = (0..=steps).map(|i| 0.05 + 0.9 * i as f64 / steps as f64).collect();
        let x0 = f.upload((0..64).map(|i| (i as f32 * 0.37).sin()).collect(), 2);
        let out =
            integrate(solver.as_ref(), f, x0, &times, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.nfe, f.model_calls(), "{name}: reported NFE against calls at the network");
        assert!(out.nfe > 0, "{name}");
    });
}

#[test]
fn the_same_noise_seed_gives_the_same_samples() {
    let device = Device::flex();
    let model = Mlp::new(&ModelConfig::default(), 1, 3, &device).unwrap();
    let schedule = crate::common::build::<dyn runner::sdk::Schedule>("ddpm-linear", &Default::default()).unwrap();
    let solver = crate::common::build::<dyn runner::sdk::Solver>("ddpm", &Default::default()).unwrap();
    let times: Vec<f64> = (0..=50).map(|i| i as f64 / 50.0).collect();
    let run = |seed: u64| {
        let mut f = NetworkDynamics::new(&model, schedule.as_ref(), Target::Epsilon, device.clone(), seed);
        let x0 = f.upload(vec![0.5; 32], 1);
        let out = integrate(solver.as_ref(), &mut f, x0, &times, &Options::default()).unwrap();
        f.download(out.x).unwrap()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

/// What a sampling run evaluates (the fixed-weight network of the device, through
/// `sampling::dynamics`) against burn's forward pass of the same network, at every activation
/// and both time features, in the native target and converted. Summation order differs (the
/// time features fold into the first bias), so the two agree to float rounding, not bit for bit.
fn fixed_weight_network_matches_burn(device: Device) {
    use runner::sdk::Dynamics;
    let schedule = crate::common::build::<dyn runner::sdk::Schedule>("cond-ot", &Default::default()).unwrap();
    let x: Vec<f32> = (0..2 * 700).map(|i| 2.5 * (i as f32 * 0.37).sin()).collect();
    for activation in runner::models::Activation::NAMES {
        for time_features in ["raw", "fourier"] {
            let config = ModelConfig {
                activation: activation.into(),
                time_features: time_features.into(),
                width: 48,
                depth: 3,
                ..ModelConfig::default()
            };
            let mlp = Mlp::new(&config, 2, 5, &device).unwrap();
            let mut burn = NetworkDynamics::new(&mlp, schedule.as_ref(), Target::Velocity, device.clone(), 0);
            let model = runner::models::Model::Mlp(mlp.clone());
            let network =
                runner::sampling::Network { model: &model, schedule: schedule.as_ref(), target: Target::Velocity };
            let mut fixed = runner::sampling::dynamics(&network, &device, 0);
            let (xb, xf) = (burn.upload(x.clone(), 2), fixed.upload(x.clone(), 2));
            for (t, target) in
                [(0.0, Target::Velocity), (0.37, Target::Velocity), (0.8, Target::Data), (0.5, Target::Epsilon)]
            {
                let (yb, yf) = (burn.predict(xb, t, target).unwrap(), fixed.predict(xf, t, target).unwrap());
                let (expected, got) = (burn.download(yb).unwrap(), fixed.download(yf).unwrap());
                let worst = expected.iter().zip(&got).map(|(e, g)| (e - g).abs() / (1.0 + e.abs())).fold(0.0, f32::max);
                assert!(worst < 2e-5, "{activation}, {time_features}, t = {t}, {target:?}: off by {worst}");
            }
        }
    }
}

#[test]
fn the_flex_sampling_network_matches_burn() {
    fixed_weight_network_matches_burn(Device::flex());
}

// burn 0.22 marks its libtorch backend deprecated; the `tch` feature is that backend, on purpose.
#[cfg(feature = "tch")]
#[allow(deprecated)]
#[test]
fn the_libtorch_sampling_network_matches_burn() {
    fixed_weight_network_matches_burn(Device::libtorch());
}
