//! The resolved configuration of a trial: every key, its type and its default.
//! `deny_unknown_fields` everywhere, so that a misspelt key is an error that names its source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Free-form plugin parameters (`[path.schedule_params]` …), checked against the plugin's
/// declared parameters when the plugin is built.
pub type PluginParams = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunnerConfig {
    /// `flex` (pure Rust CPU, default), `ndarray`, `libtorch`, `libtorch:cuda:N` — each only
    /// where the build includes its backend.
    pub device: String,
    pub seed: u64,
    /// A label for summary rows (e.g. `fm`, `ddpm`).
    pub method: String,
    /// Where sweeps write their run directories.
    pub out: String,
    pub data: DataConfig,
    pub path: PathConfig,
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub eval: EvalConfig,
    /// Left out of the written config when empty, so that configs without plugins hash (and name
    /// their trials) as they always did.
    #[serde(skip_serializing_if = "PluginsConfig::is_empty")]
    pub plugins: PluginsConfig,
    /// How a sweep's trials are run: where, and how many at once. Left out of the written
    /// config when it is the default; it never changes what a trial computes.
    #[serde(skip_serializing_if = "LauncherConfig::is_default")]
    pub launcher: LauncherConfig,
}

/// `launcher.*`: the same sweep runs in the script's process, on local worker processes or as
/// a Slurm job array; only these keys say which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LauncherConfig {
    /// `local` (worker processes on this machine), `inline` (in the script's own process) or
    /// `slurm` (one `sbatch` job array).
    pub kind: String,
    /// Local worker processes; 0: one per core, at most one per pending trial.
    pub workers: usize,
    /// Compute threads of each local worker (the pure-Rust pool and libtorch's); 0: the
    /// machine's cores shared evenly among the workers.
    pub threads: usize,
    /// Wait for the trials to finish (`false`: return once they are submitted; Slurm only).
    pub wait: bool,
    /// The `runner` executable the workers run; empty: this process's own executable.
    pub program: String,
    pub slurm: SlurmConfig,
}

/// `launcher.slurm.*`: the `#SBATCH` lines of the job array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmConfig {
    /// `--partition`; empty: the cluster's default.
    pub partition: String,
    /// `--account`; empty: the user's default.
    pub account: String,
    /// `--time` of each task (Slurm's formats, e.g. `02:00:00`).
    pub time: String,
    /// `--cpus-per-task`; also each task's compute threads.
    pub cpus_per_task: usize,
    /// `--mem` of each task (e.g. `4G`); empty: the partition's default.
    pub mem: String,
    /// At most this many tasks of the array at once (`--array=0-N%K`); 0: no limit.
    pub parallel: usize,
    /// Largest array to submit; larger sweeps are split into several arrays. 0: the cluster's
    /// `MaxArraySize`, read with `scontrol show config`.
    pub max_array_size: usize,
    /// More `#SBATCH` lines, each without the prefix (e.g. `--qos=long`).
    pub extra: Vec<String>,
    /// How often the launcher polls `squeue` while it waits, in seconds.
    pub poll_seconds: f64,
}

impl LauncherConfig {
    pub fn is_default(&self) -> bool {
        *self == LauncherConfig::default()
    }
}

impl Default for LauncherConfig {
    fn default() -> Self {
        LauncherConfig {
            kind: "local".into(),
            workers: 0,
            threads: 0,
            wait: true,
            program: String::new(),
            slurm: SlurmConfig::default(),
        }
    }
}

impl Default for SlurmConfig {
    fn default() -> Self {
        SlurmConfig {
            partition: String::new(),
            account: String::new(),
            time: "01:00:00".into(),
            cpus_per_task: 1,
            mem: String::new(),
            parallel: 0,
            max_array_size: 0,
            extra: Vec::new(),
            poll_seconds: 2.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Plugin files to load before anything is resolved: dynamic libraries (`.so`, `.dylib`,
    /// `.dll`) built against the plugin SDK, and rhai files of script schedules. Paths relative
    /// to the working directory.
    pub load: Vec<String>,
}

impl PluginsConfig {
    pub fn is_empty(&self) -> bool {
        self.load.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// The data distribution p1 (t = 1).
    pub target: String,
    pub target_params: PluginParams,
    /// The source distribution p0 (t = 0); `gaussian` takes the target's dimension.
    pub source: String,
    pub source_params: PluginParams,
    /// Size of a fixed training set; 0 draws fresh points for every batch.
    pub train_size: usize,
    /// The seed of the data sets: the fixed training set, the held-out validation points, the
    /// evaluation's source and target points, the likelihood's points and the floor's second
    /// draw. Unset, the trial's `seed`. Set, the data stay the same across training seeds, so
    /// that the spread over seeds is the training's alone (the reference code of the 2-D table
    /// draws its data with `seed=42` whatever the run's seed). Training's own draws (batches,
    /// noise, couplings, initial weights) always follow `seed`.
    pub seed: Option<u64>,
}

impl RunnerConfig {
    /// The seed every data set of the trial is drawn with (`data.seed`, else `seed`).
    pub fn data_seed(&self) -> u64 {
        self.data.seed.unwrap_or(self.seed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathConfig {
    pub schedule: String,
    pub schedule_params: PluginParams,
    /// What the network predicts: velocity, epsilon, data or score.
    pub target: String,
    pub coupling: String,
    pub coupling_params: PluginParams,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// `mlp` (a network, trained) or `oracle` (the exact posterior of a Gaussian-mixture target
    /// from the standard normal source on an affine path: trains nothing, isolates the solver).
    pub kind: String,
    /// Hidden layer width.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    /// silu, relu, gelu, tanh, selu.
    pub activation: String,
    /// `raw` (t concatenated) or `fourier` (sin/cos of t at geometric frequencies).
    pub time_features: String,
    /// Number of frequencies of the `fourier` features (2 features each).
    pub fourier_features: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub steps: usize,
    pub batch_size: usize,
    /// adam or adamw.
    pub optimizer: String,
    pub lr: f64,
    pub weight_decay: f64,
    /// Exponential moving average of the weights used for sampling; 0 disables it.
    pub ema_decay: f64,
    /// Log the mean training loss every this many steps.
    pub log_every: usize,
    /// Reflows (rectified flow, Liu et al. 2023): after training, the model's ODE carries
    /// `reflow_pairs` fresh source points x0 to x̂1, and training continues from the same weights
    /// (fresh optimizer state, `steps` more steps) on those pairs in place of coupled data draws;
    /// repeated this many times. 0 trains once. The pairs are the coupling, so `path.coupling`
    /// must be `independent`.
    pub reflow: usize,
    pub reflow_pairs: usize,
    /// The ODE solver and NFE that generate the pairs (velocity-form ODE methods).
    pub reflow_solver: String,
    pub reflow_nfe: usize,
    /// Best-checkpoint selection: `val_size` held-out points (0: off) whose loss is measured
    /// every `val_every` steps and at the end; the weights with the lowest validation loss are
    /// the ones sampled, as a checkpoint callback on the validation loss keeps them.
    pub val_size: usize,
    pub val_every: usize,
    /// Save the training state (weights, EMA, optimizer, loss curve) every this many steps, so
    /// that a killed training resumes from the last one with the same result; 0: only the
    /// trained network is saved. Left out of the written config at its default (it never
    /// changes the result).
    #[serde(skip_serializing_if = "is_default_checkpoint_every")]
    pub checkpoint_every: usize,
}

pub const DEFAULT_CHECKPOINT_EVERY: usize = 1000;

fn is_default_checkpoint_every(every: &usize) -> bool {
    *every == DEFAULT_CHECKPOINT_EVERY
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Points generated and held-out target points per evaluation.
    pub size: usize,
    pub metrics: Vec<String>,
    pub grid: String,
    /// The solver of the converged reference solve that deterministic samples are compared with
    /// (the `solver_error` column), and its NFE.
    pub reference_solver: String,
    pub reference_nfe: usize,
    /// How many of the evaluation's source points the reference is solved for: solver_error
    /// is the RMS over those.
    pub reference_points: usize,
    /// The span of the path the samplers integrate over, 0 ≤ t_start < t_end ≤ 1. Short of 1,
    /// the samples finish with one deterministic jump to the data (one more evaluation); past 0,
    /// the source points start scaled by σ(t_start). For solvers that evaluate where a path is
    /// singular: the velocity at t = 1 on VP paths, EDM's σ/α at t = 0 on `cond-ot`.
    pub t_start: f64,
    pub t_end: f64,
    /// How many held-out target points `nll`/`bpd` evaluate the log density at (an independent
    /// draw of the target, not the `size` points of the other metrics).
    pub nll_points: usize,
    /// The ODE solver and NFE of the likelihood where a row's own solver cannot integrate it
    /// (diffusion and stochastic samplers): a velocity-form ODE method. Rows of an ODE solver
    /// use that solver at their own NFE; the row's `sample` event says which solver computed `nll`.
    pub nll_solver: String,
    pub nll_nfe: usize,
    /// The divergence in the likelihood: `auto` (exact up to 8 dimensions, Hutchinson's
    /// estimate above), `exact` or `hutchinson` (one seeded Rademacher probe per point).
    pub nll_divergence: String,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            device: "flex".into(),
            seed: 0,
            method: "fm".into(),
            out: "runs".into(),
            data: DataConfig::default(),
            path: PathConfig::default(),
            model: ModelConfig::default(),
            train: TrainConfig::default(),
            eval: EvalConfig::default(),
            plugins: PluginsConfig::default(),
            launcher: LauncherConfig::default(),
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            target: "gmm1d".into(),
            target_params: PluginParams::new(),
            source: "gaussian".into(),
            source_params: PluginParams::new(),
            train_size: 0,
            seed: None,
        }
    }
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig {
            schedule: "cond-ot".into(),
            schedule_params: PluginParams::new(),
            target: "velocity".into(),
            coupling: "independent".into(),
            coupling_params: PluginParams::new(),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: "mlp".into(),
            width: 64,
            depth: 3,
            activation: "silu".into(),
            time_features: "fourier".into(),
            fourier_features: 8,
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 2000,
            batch_size: 256,
            optimizer: "adam".into(),
            lr: 1e-3,
            weight_decay: 0.0,
            ema_decay: 0.0,
            log_every: 100,
            reflow: 0,
            reflow_pairs: 10_000,
            reflow_solver: "rk4".into(),
            reflow_nfe: 100,
            val_size: 0,
            val_every: 200,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
        }
    }
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            size: 2000,
            metrics: vec!["w2".into(), "mmd".into()],
            grid: "uniform".into(),
            reference_solver: "rk4".into(),
            reference_nfe: 4000,
            reference_points: 2000,
            t_start: 0.0,
            t_end: 1.0,
            nll_points: 2000,
            nll_solver: "dopri5".into(),
            nll_nfe: 100,
            nll_divergence: "auto".into(),
        }
    }
}
