//! The `runner` command line: run an experiment script, list plugins, show the config, measure
//! speed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use runner::bench;
use runner::config::Layers;
use runner::plugins::{self, Origin, Registry, PLUGIN_PATH_VAR};
use runner::progress::{self, LogFormat, Terminal, TrialProgress};
use runner::report;
use runner::script::{self, Session};
use runner::sdk::PluginKind;
use runner::solvers;
use runner::sweep::{self, Manifest, TrialSpec};

/// Tensors of a few hundred kilobytes are allocated and freed at every operation. glibc's
/// malloc serves blocks that size with fresh `mmap`s, so every operation paid page faults and
/// page zeroing (a sixth of a sampling profile); mimalloc keeps freed memory for reuse, which
/// made sampling the small model 1.8× faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "runner",
    version,
    about = "Experiments that compare diffusion models against flow matching",
    after_help = "A script declares a sweep's trials; `sweep.run()` hands the unfinished ones to the launcher that \
`launcher.kind` names: `local` (default: worker processes, one per core, each `runner worker`), `inline` \
(in the script's process) or `slurm` (one sbatch job array; launcher.slurm.* sets its #SBATCH lines). \
Launcher keys: launcher.kind, launcher.workers, launcher.threads, launcher.wait, launcher.program, \
launcher.slurm.{partition, account, time, cpus_per_task, mem, parallel, max_array_size, extra, poll_seconds}. \
A rerun skips what is finished; `runner status SWEEP_DIR` tells where each trial stands."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The experiment script to run (rhai).
    script: Option<PathBuf>,
    #[command(flatten)]
    overrides: Overrides,
    /// Rerun every trial of the script's sweeps, finished or not (their directories are kept).
    #[arg(long)]
    force: bool,
    /// Log lines as text or as JSON objects (RUNNER_LOG filters them either way).
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    /// Load a plugin: a dynamic library built against the plugin SDK, or a rhai schedule
    /// (repeatable; with `plugins.load` and the directories in RUNNER_PLUGIN_PATH).
    #[arg(long = "plugin", value_name = "PATH", global = true)]
    plugins: Vec<PathBuf>,
}

#[derive(clap::Args, Clone, Default)]
struct Overrides {
    /// Override a config key, above every other layer (repeatable): --set train.lr=3e-4
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Directory for sweep outputs (the config key `out`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// List every registered plugin by kind, with its origin, parameters and defaults.
    Plugins,
    /// Print the resolved config with the source of every key; with a script, the config of
    /// each trial the script would run (nothing is trained or written).
    Config {
        script: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Measure training and sampling speed on every device of this build, beside PyTorch eager
    /// on the same workloads (README "Speed").
    Bench(BenchArgs),
    /// Run one trial of a sweep directory from its spec, with no script: load its network or
    /// train it (resuming from a checkpoint), then run its unfinished evaluations. This is what
    /// the local and Slurm launchers run.
    Worker {
        /// The sweep directory (`<out>/<sweep name>`).
        sweep_dir: PathBuf,
        /// The trial's id (its directory's name).
        #[arg(long, required_unless_present = "index", conflicts_with = "index")]
        trial: Option<String>,
        /// The trial's position in the sweep's declaration order, from 0.
        #[arg(long)]
        index: Option<usize>,
    },
    /// Plots and a self-contained report.html from a sweep directory's files: every metric
    /// against NFE with the floor, work–precision, loss curves, samples and trajectories, and
    /// the summary table.
    Report {
        /// The sweep directory (`<out>/<sweep name>`).
        sweep_dir: PathBuf,
        /// Where to write report.html and plots/ (default: the sweep directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Show the samples and trajectories of these evaluations (e.g. `euler-8`, repeatable);
        /// default: each sampler's fewest- and most-NFE rows.
        #[arg(long = "samples", value_name = "EVALUATION")]
        samples: Vec<String>,
    },
    /// The settings that differ between the trials of one or more sweeps, and every metric's
    /// mean ± std (n) over seeds for each combination of them.
    Compare {
        /// Sweep directories.
        #[arg(required = true)]
        sweep_dirs: Vec<PathBuf>,
        /// Group by these keys (row columns such as `method`, or config keys such as
        /// `path.schedule`; repeatable); default: every setting that differs but `--over`.
        #[arg(long = "by", value_name = "KEY")]
        by: Vec<String>,
        /// The key to aggregate across.
        #[arg(long, value_name = "KEY", default_value = "seed")]
        over: String,
    },
    /// Where each trial of a sweep directory stands (pending, running, unfinished, failed,
    /// done), read from the trial directories, and for Slurm from squeue.
    Status {
        /// The sweep directory (`<out>/<sweep name>`).
        sweep_dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct BenchArgs {
    /// A device to measure (repeatable); default: every CPU device of this build.
    #[arg(long = "device", value_name = "NAME")]
    devices: Vec<String>,
    /// The Python of the PyTorch reference; default: $RUNNER_VENV/bin/python or .venv/bin/python if it exists, else python3.
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Intra-op threads of every backend and of PyTorch; default: all the machine has.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Only this row, e.g. "sample small" (repeatable; for profiling one workload).
    #[arg(long = "row", value_name = "ROW")]
    rows: Vec<String>,
    /// Short timed runs, one per row (rougher figures).
    #[arg(long)]
    quick: bool,
    /// Also write the results to FILE (.json: everything; .csv: the rows).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The bench trains many short runs; their loss lines would bury its table.
    let default_log = if matches!(cli.command, Some(Command::Bench(_))) { "runner=warn" } else { "runner=info" };
    let terminal = Terminal::detect();
    progress::init_logging(cli.log_format, default_log, &terminal);
    match run(cli, terminal) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, terminal: Terminal) -> anyhow::Result<()> {
    let plugins = cli.plugins;
    let program = std::env::current_exe().context("finding this executable (for the workers)")?;
    match (cli.command, cli.script) {
        (Some(Command::Plugins), _) => {
            let layers = layers(&Overrides::default())?;
            let registry = registry(&plugins, &layers)?;
            print!("{}", plugins_listing(&registry));
            Ok(())
        }
        (Some(Command::Config { script, overrides }), _) => {
            let layers = layers(&overrides)?;
            let registry = registry(&plugins, &layers)?;
            match script {
                Some(path) => {
                    script::run(Session { dry_run: true, ..Session::new(path, layers, registry) })?;
                }
                None => print!("{}", layers.resolve(&[])?.describe()),
            }
            Ok(())
        }
        (Some(Command::Bench(args)), _) => bench(args),
        (Some(Command::Worker { sweep_dir, trial, index }), _) => worker(&sweep_dir, trial, index, &plugins, &terminal),
        (Some(Command::Status { sweep_dir }), _) => status(&sweep_dir),
        (Some(Command::Report { sweep_dir, out, samples }), _) => {
            let registry = sweep_registry(&sweep_dir, &plugins)?;
            let samples = (!samples.is_empty()).then_some(samples);
            let written = report::write(&sweep_dir, &registry, &report::Options { out, samples })?;
            println!(
                "report: {} ({} plots under {}, {:.1} s)",
                written.html.display(),
                written.figures.len(),
                written.plots.display(),
                written.seconds
            );
            Ok(())
        }
        (Some(Command::Compare { sweep_dirs, by, over }), _) => {
            let sweeps = sweep_dirs.iter().map(|d| report::SweepResults::read(d)).collect::<Result<Vec<_>, _>>()?;
            let by = (!by.is_empty()).then_some(by);
            let text = report::compare(&sweeps, &report::Aggregation { by, over }).map_err(anyhow::Error::msg)?;
            print!("{text}");
            Ok(())
        }
        (None, Some(path)) => {
            let layers = layers(&cli.overrides)?;
            let registry = registry(&plugins, &layers)?;
            let session = Session { force: cli.force, program, terminal, ..Session::new(path, layers, registry) };
            script::run(session)?;
            Ok(())
        }
        (None, None) => anyhow::bail!("nothing to do: give a script to run, or a command (see --help)"),
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let threads = args.threads.map_or_else(bench::default_threads, usize::from);
    // flex and ndarray run on rayon's global pool, which reads this variable once, when it
    // starts: nothing has run on a device yet, and no other thread exists to race with.
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let options = bench::Options {
        devices: if args.devices.is_empty() { bench::default_devices() } else { args.devices },
        threads,
        python: bench::python(args.python.as_deref(), &cwd),
        plan: if args.quick { bench::Plan::quick() } else { bench::Plan::standard() }
            .select(&args.rows)
            .map_err(|e| anyhow::anyhow!("--row: {e}"))?,
    };
    let report = bench::run(&options, &mut |step| eprintln!("bench: {step}"))?;
    print!("{}", report.table());
    if let Some(path) = &args.out {
        report.write(path)?;
    }
    Ok(())
}

/// `runner worker`: one trial, from its spec alone (its config names the plugins it needs).
fn worker(
    sweep_dir: &std::path::Path,
    trial: Option<String>,
    index: Option<usize>,
    cli_plugins: &[PathBuf],
    terminal: &Terminal,
) -> anyhow::Result<()> {
    let id = match (trial, index) {
        (Some(id), _) => id,
        (None, Some(i)) => {
            let manifest = Manifest::read(sweep_dir)?;
            let n = manifest.trials.len();
            manifest.trials.get(i).cloned().with_context(|| format!("--index {i}: the sweep has {n} trials"))?
        }
        (None, None) => anyhow::bail!("give --trial ID or --index N"),
    };
    let dir = sweep_dir.join(&id);
    let spec = TrialSpec::read(&dir)?;
    let registry = plugin_registry(cli_plugins, &spec.config.plugins.load)?;
    let mut progress = TrialProgress::new(terminal, 1);
    let outcome = sweep::run_trial(&dir, registry, &mut progress)?;
    progress.trial_done();
    progress.finish();
    match outcome.failed.as_slice() {
        [] => Ok(()),
        failed => {
            let list: Vec<String> = failed.iter().map(|(id, e)| format!("{id}: {e}")).collect();
            anyhow::bail!("{} of the trial's evaluations failed:\n  {}", failed.len(), list.join("\n  "))
        }
    }
}

/// `runner status`: a line per trial.
fn status(sweep_dir: &std::path::Path) -> anyhow::Result<()> {
    let states = sweep::trial_states(sweep_dir)?;
    let queued = runner::launch::SlurmJobs::read(sweep_dir).queued();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for s in &states {
        let status = match (s.status, queued.get(&s.id)) {
            (sweep::TrialStatus::Done, _) => s.status.to_string(),
            (_, Some(slurm)) => format!("{} (slurm: {})", s.status, slurm.to_lowercase()),
            _ => s.status.to_string(),
        };
        *counts.entry(s.status.to_string()).or_default() += 1;
        let training = s.training.map(|(step, steps)| format!(", training {step}/{steps}")).unwrap_or_default();
        let error = s.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
        println!("{:<28} {:<28} {}/{} evaluations{training}{error}", s.id, status, s.evaluated, s.evaluations);
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!("{} trials: {}", states.len(), summary.join(", "));
    Ok(())
}

/// The built-ins and every plugin that the sweep's trials name (and `--plugin`'s).
fn sweep_registry(sweep_dir: &std::path::Path, cli_plugins: &[PathBuf]) -> anyhow::Result<Arc<Registry>> {
    let manifest = Manifest::read(sweep_dir)?;
    let mut files: Vec<String> = Vec::new();
    for id in &manifest.trials {
        for file in TrialSpec::read(&sweep_dir.join(id))?.config.plugins.load {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    plugin_registry(cli_plugins, &files)
}

fn layers(overrides: &Overrides) -> anyhow::Result<Layers> {
    let mut sets = overrides.set.clone();
    if let Some(out) = &overrides.out {
        sets.push(format!("out={}", toml_string(&out.display().to_string())));
    }
    let cwd = std::env::current_dir().context("reading the working directory")?;
    Ok(Layers::discover(&cwd, std::env::vars(), &sets)?)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The built-ins and every plugin named by `--plugin`, RUNNER_PLUGIN_PATH and `plugins.load`
/// (in the config layers known before a script runs), loaded before any work.
fn registry(cli_plugins: &[PathBuf], layers: &Layers) -> anyhow::Result<Arc<Registry>> {
    plugin_registry(cli_plugins, &layers.resolve(&[])?.config.plugins.load)
}

/// The built-ins and the plugins of `--plugin`, RUNNER_PLUGIN_PATH and a config's `plugins.load`.
fn plugin_registry(cli_plugins: &[PathBuf], config_files: &[String]) -> anyhow::Result<Arc<Registry>> {
    let mut files = cli_plugins.to_vec();
    if let Ok(dirs) = std::env::var(PLUGIN_PATH_VAR) {
        files.extend(plugins::files_in_plugin_path(&dirs).with_context(|| format!("in {PLUGIN_PATH_VAR}={dirs}"))?);
    }
    files.extend(config_files.iter().map(PathBuf::from));
    Ok(Arc::new(Registry::with_plugins(&files)?))
}

fn plugins_listing(registry: &Registry) -> String {
    let mut out = String::new();
    let plugins = registry.plugins();
    let param = |out: &mut String, spec: &runner::sdk::ParamSpec| {
        let default = spec.default.value().to_string();
        out.push_str(&format!("      {} = {:<10} {}\n", spec.name, default, spec.help));
    };
    for kind in PluginKind::ALL {
        out.push_str(&format!("{}s:\n", kind.name()));
        for (p, origin) in plugins.iter().filter(|(p, _)| p.kind == kind) {
            let from = if **origin == Origin::BuiltIn { String::new() } else { format!("  [{origin}]") };
            out.push_str(&format!("  {:<16} {}{from}\n", p.name, p.summary));
            for spec in p.params.iter() {
                param(&mut out, spec);
            }
        }
        if kind == PluginKind::Solver {
            out.push_str("  (adaptive solvers also take the step-size controller's keys:)\n");
            for spec in solvers::controller::PARAMS {
                param(&mut out, spec);
            }
        }
    }
    out
}
