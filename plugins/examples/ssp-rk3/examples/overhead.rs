//! What crossing the C ABI costs a solver: the same trained network sampled with `ssp-rk3`
//! linked into the binary (this crate as an rlib, registered like a built-in) and loaded from
//! the crate's own cdylib, at equal NFE, in interleaved runs. Prints the median of the per-round
//! ratios loaded / linked, and checks that both give the same samples bit for bit.
//!
//!     cargo build --release -p runner-example-ssp-rk3
//!     cargo run --release -p runner-example-ssp-rk3 --example overhead [-- ROUNDS]
//!
//! The cdylib is the package's own, in the same profile's directory (`target/release/`): the
//! first command puts it there (building only the example leaves it among the dependencies).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use runner::config::Layers;
use runner::models::Model;
use runner::plugins::{Origin, Registry};
use runner::sampling::{self, Network, SampleSpec};
use runner::setup::Setup;

/// The sampling workload: the bench's smallest (1,000 points, width 64), where per-step costs
/// weigh the most against the model's own.
const POINTS: usize = 1000;
const NFE: usize = 99;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(21);
    let exe = std::env::current_exe()?;
    let library: PathBuf = exe
        .parent()
        .and_then(|d| d.parent())
        .ok_or("no target directory")?
        .join(format!("librunner_example_ssp_rk3.{}", std::env::consts::DLL_EXTENSION));
    let mut linked = Registry::builtin();
    linked.add_linked(runner_example_ssp_rk3::plugins(), Origin::Linked { library: "example-ssp-rk3".into() })?;
    if !library.is_file() {
        let hint = "build it first: cargo build --release -p runner-example-ssp-rk3";
        return Err(format!("no {}; {hint}", library.display()).into());
    }
    let loaded = Registry::with_plugins(std::slice::from_ref(&library))?;

    let mut layers = Layers::new();
    layers.set_args(&[
        "data.target=\"8gaussians\"".into(),
        "model.width=64".into(),
        "train.steps=300".into(),
        "train.log_every=300".into(),
    ])?;
    let resolved = layers.resolve(&[])?;
    let setup = Setup::new(&resolved, Arc::new(Registry::builtin()))?;
    let device = runner::device::parse(&resolved.config.device)?;
    let trained = runner::train::train(&setup, &resolved.config, &device)?;
    let model = Model::Mlp(trained.model);
    let network = Network { model: &model, schedule: setup.schedule.as_ref(), target: setup.target };
    let x0 = setup.source.sample(POINTS, 7);
    let no_params = BTreeMap::new();
    let run = |registry: &Registry| -> Result<(f64, Vec<f32>), Box<dyn std::error::Error>> {
        let spec = SampleSpec {
            registry,
            solver: "ssp-rk3",
            solver_params: &no_params,
            nfe: NFE,
            grid: "uniform",
            span: setup.span,
        };
        let start = Instant::now();
        let sampled = sampling::sample(&network, &device, x0.clone(), setup.dim, &spec, 0)?;
        Ok((start.elapsed().as_secs_f64(), sampled.points))
    };
    // Warm both paths (allocator, caches, the library's first calls).
    let (_, reference) = run(&linked)?;
    let (_, other) = run(&loaded)?;
    if reference != other {
        return Err("the linked and the loaded solver gave different samples".into());
    }
    let mut ratios = Vec::with_capacity(rounds);
    let (mut t_linked, mut t_loaded) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side runs first, so that drift in the machine's state cancels.
        let (a, b) = if round % 2 == 0 {
            let a = run(&linked)?.0;
            (a, run(&loaded)?.0)
        } else {
            let b = run(&loaded)?.0;
            (run(&linked)?.0, b)
        };
        t_linked.push(a);
        t_loaded.push(b);
        ratios.push(b / a);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("ssp-rk3, {POINTS} points, width 64, NFE {NFE}, {rounds} interleaved rounds");
    println!("linked (rlib):  median {:.3} ms", 1e3 * median(t_linked));
    println!("loaded (cdylib): median {:.3} ms", 1e3 * median(t_loaded));
    println!("median ratio loaded / linked: {:.4}", median(ratios));
    Ok(())
}
