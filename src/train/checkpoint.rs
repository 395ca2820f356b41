//! A training's resumable state, saved every `train.checkpoint_every` steps, and the trained
//! network, saved once training ends.
//!
//! Batches are pure functions of (seed, step), so the state that a resumed training needs is
//! what the steps so far changed: the weights, the optimizer's moments and step count, the EMA
//! weights, the best validated weights, the loss curve and the running loss sum of the current
//! log window, and a reflow round's pairs. All of it is stored at full precision, so a resumed
//! training ends with the same weights as one that was never stopped, bit for bit.
//!
//! A checkpoint is a directory `step-<round>-<step>/` under the trial's `checkpoint/`, written
//! completely before the file `latest` (replaced atomically) names it; an older or
//! half-written directory is never read and is removed at the next save.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{LossPoint, Pairs, TrainError};
use crate::config::RunnerConfig;
use crate::files::{read_json, write_atomic, write_json};
use crate::models::Mlp;
use crate::seed;
use crate::sweep::{read_npy, write_npy};

/// The file in the checkpoint directory that names the newest complete checkpoint.
const LATEST: &str = "latest";

/// Where a training keeps its state, and how often.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    pub dir: PathBuf,
    /// Save after every this many steps of a round (0: never).
    pub every: usize,
}

/// The state after `step` steps of round `round`, as the training loop holds it.
pub struct Snapshot {
    pub round: usize,
    pub step: usize,
    /// The network in training, on the autodiff device.
    pub model: Mlp,
    pub optimizer: ModuleOptimizer,
    pub ema: Option<Mlp>,
    /// The lowest validation loss so far, its step and its weights.
    pub best: Option<(f64, usize, Mlp)>,
    /// The sum of the losses since the last log point (none right after one).
    pub window: Option<Tensor<1>>,
    pub losses: Vec<LossPoint>,
    pub validation: Vec<LossPoint>,
    /// A reflow round's training and validation pairs (x0, x1).
    pub pairs: Option<Pairs>,
    pub val_pairs: Option<Pairs>,
    /// Training seconds before this point, over every process that worked on it.
    pub seconds: f64,
}

/// What `state.json` holds beside the weight files.
#[derive(Serialize, Deserialize)]
struct Meta {
    round: usize,
    step: usize,
    window: Option<f32>,
    losses: Vec<LossPoint>,
    validation: Vec<LossPoint>,
    best: Option<(f64, usize)>,
    seconds: f64,
    pairs: bool,
    val_pairs: bool,
}

fn failed(path: &Path, why: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint { path: path.to_path_buf(), message: why.to_string() }
}

fn save_module(module: Mlp, path: &Path) -> Result<(), TrainError> {
    let bytes = module.into_record().into_bytes().map_err(|e| failed(path, format!("{e:?}")))?;
    write_atomic(path, &bytes).map_err(|e| failed(path, e))
}

/// A network of `config`'s shape on `device` with the weights (and parameter ids) of `path`.
fn load_module(config: &RunnerConfig, dim: usize, path: &Path, device: &Device) -> Result<Mlp, TrainError> {
    let bytes = fs::read(path).map_err(|e| failed(path, e))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| failed(path, format!("{e:?}")))?;
    let shape = Mlp::new(&config.model, dim, seed::derive(config.seed, "model-init", 0), device)?;
    shape.try_load_record(record).map_err(|e| failed(path, format!("{e:?}")))
}

fn save_pairs(dir: &Path, name: &str, pairs: &Option<Pairs>, dim: usize) -> Result<bool, TrainError> {
    let Some((x0, x1)) = pairs else { return Ok(false) };
    for (side, points) in [("x0", x0), ("x1", x1)] {
        let path = dir.join(format!("{name}-{side}.npy"));
        write_npy(&path, points, dim).map_err(|e| failed(&path, e))?;
    }
    Ok(true)
}

fn load_pairs(dir: &Path, name: &str, present: bool) -> Result<Option<Pairs>, TrainError> {
    if !present {
        return Ok(None);
    }
    let read = |side: &str| {
        let path = dir.join(format!("{name}-{side}.npy"));
        read_npy(&path).map(|(points, _)| points).map_err(|e| failed(&path, e))
    };
    Ok(Some((read("x0")?, read("x1")?)))
}

impl Checkpoints {
    /// Write `snapshot` as the newest checkpoint and drop the older ones.
    pub fn save(&self, snapshot: &Snapshot, dim: usize) -> Result<(), TrainError> {
        let name = format!("step-{}-{}", snapshot.round, snapshot.step);
        let dir = self.dir.join(&name);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| failed(&dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| failed(&dir, e))?;
        save_module(snapshot.model.clone(), &dir.join("model.bpk"))?;
        let path = dir.join("optimizer.bpk");
        let bytes = snapshot.optimizer.into_bytes().map_err(|e| failed(&path, format!("{e:?}")))?;
        write_atomic(&path, &bytes).map_err(|e| failed(&path, e))?;
        if let Some(ema) = &snapshot.ema {
            save_module(ema.clone(), &dir.join("ema.bpk"))?;
        }
        if let Some((_, _, best)) = &snapshot.best {
            save_module(best.clone(), &dir.join("best.bpk"))?;
        }
        let meta = Meta {
            round: snapshot.round,
            step: snapshot.step,
            // Reading the sum waits for the device: once per checkpoint, not per step.
            window: snapshot.window.clone().map(|w| w.into_scalar::<f32>()),
            losses: snapshot.losses.clone(),
            validation: snapshot.validation.clone(),
            best: snapshot.best.as_ref().map(|(loss, step, _)| (*loss, *step)),
            seconds: snapshot.seconds,
            pairs: save_pairs(&dir, "pairs", &snapshot.pairs, dim)?,
            val_pairs: save_pairs(&dir, "val-pairs", &snapshot.val_pairs, dim)?,
        };
        let path = dir.join("state.json");
        write_json(&path, &meta).map_err(|e| failed(&path, e))?;
        let latest = self.dir.join(LATEST);
        write_atomic(&latest, name.as_bytes()).map_err(|e| failed(&latest, e))?;
        self.remove_others(Some(&name))
    }

    /// The newest complete checkpoint, restored onto `device` (its autodiff form for the
    /// network in training); `None` when there is none.
    pub fn load(
        &self,
        config: &RunnerConfig,
        dim: usize,
        optimizer: ModuleOptimizer,
        device: &Device,
    ) -> Result<Option<Snapshot>, TrainError> {
        let latest = self.dir.join(LATEST);
        let Ok(name) = fs::read_to_string(&latest) else { return Ok(None) };
        let dir = self.dir.join(name.trim());
        let path = dir.join("state.json");
        let meta: Meta = read_json(&path).map_err(|e| failed(&path, e))?;
        let ad = device.clone().autodiff();
        let model = load_module(config, dim, &dir.join("model.bpk"), &ad)?;
        let path = dir.join("optimizer.bpk");
        let bytes = fs::read(&path).map_err(|e| failed(&path, e))?;
        let optimizer =
            optimizer.from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| failed(&path, format!("{e:?}")))?;
        let ema = match config.train.ema_decay > 0.0 {
            true => Some(load_module(config, dim, &dir.join("ema.bpk"), device)?),
            false => None,
        };
        let best = match meta.best {
            Some((loss, step)) => Some((loss, step, load_module(config, dim, &dir.join("best.bpk"), device)?)),
            None => None,
        };
        Ok(Some(Snapshot {
            round: meta.round,
            step: meta.step,
            model,
            optimizer,
            ema,
            best,
            window: meta.window.map(|w| Tensor::from_data(TensorData::new(vec![w], [1]), &ad)),
            losses: meta.losses,
            validation: meta.validation,
            pairs: load_pairs(&dir, "pairs", meta.pairs)?,
            val_pairs: load_pairs(&dir, "val-pairs", meta.val_pairs)?,
            seconds: meta.seconds,
        }))
    }

    /// Remove every checkpoint directory but `keep` (all of them with `None`).
    pub fn remove_others(&self, keep: Option<&str>) -> Result<(), TrainError> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Ok(()) };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() && Some(name.as_str()) != keep {
                fs::remove_dir_all(&path).map_err(|e| failed(&path, e))?;
            }
        }
        Ok(())
    }
}

/// Save a trained network (`model.bpk` in a trial's directory).
pub fn save_network(model: &Mlp, path: &Path) -> Result<(), TrainError> {
    save_module(model.clone(), path)
}

/// Load a network saved by [`save_network`] for `config` onto `device`.
pub fn load_network(config: &RunnerConfig, dim: usize, path: &Path, device: &Device) -> Result<Mlp, TrainError> {
    load_module(config, dim, path, device)
}
