//! The `device` key: a libtorch device in a build without the `tch` feature is an error that
//! names the feature; with the feature, a libtorch trial's network really lives on libtorch, and
//! a GPU that is not there is an error that names it.

use runner::config::Layers;
use runner::sweep::Trial;

fn create(dir: &std::path::Path, device: &str) -> Result<Trial, runner::sweep::TrialError> {
    let mut layers = Layers::new();
    let sets =
        [format!("device={device:?}"), "train.steps=20".into(), "train.log_every=10".into(), "eval.size=100".into()];
    layers.set_args(&sets).unwrap();
    Trial::create(dir, layers.resolve(&[]).unwrap(), crate::common::registry())
}

#[cfg(not(feature = "tch"))]
#[test]
fn libtorch_without_the_tch_feature_names_the_feature() {
    for device in ["libtorch", "libtorch:cuda:0"] {
        let dir = tempfile::tempdir().unwrap();
        let err = create(dir.path(), device).err().expect("a libtorch device must fail without `tch`").to_string();
        assert!(
            err.contains(&format!("`{device}`")) && err.contains("feature `tch`") && err.contains("--set device"),
            "{err}"
        );
    }
}

#[cfg(feature = "tch")]
#[test]
fn a_libtorch_trial_trains_on_libtorch() {
    let dir = tempfile::tempdir().unwrap();
    let mut trial = create(dir.path(), "libtorch").unwrap();
    trial.train().unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(trial.dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["device"], "libtorch");
    let network = run["network_device"].as_str().unwrap_or_default();
    assert!(network.contains("LibTorch(Cpu)"), "the network lives on {network}, not on libtorch's CPU");
}

#[cfg(feature = "tch")]
#[test]
fn a_gpu_that_is_not_there_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let err = create(dir.path(), "libtorch:cuda:1000").err().expect("no machine has 1001 GPUs").to_string();
    assert!(
        err.contains("`libtorch:cuda:1000`") && err.contains("CUDA device") && err.contains("--set device"),
        "{err}"
    );
}
