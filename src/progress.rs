//! Progress and logs. On a terminal, progress bars: the sweep's trials and each running
//! trial's training steps or evaluations, with log lines printed above them. Elsewhere (batch
//! logs, Slurm task logs, files) no bars and no colour codes, and instead of a line per step a
//! plain progress line every few seconds. Logs are text or JSON (`--log-format json`),
//! filtered by `RUNNER_LOG`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

use crate::sweep::{trial_state, Event, Observer};

/// How often a plain progress line is printed where there are no bars.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);
/// How often a parent reads its workers' trial directories for their progress.
const READ_INTERVAL: Duration = Duration::from_millis(500);

/// Where progress goes: bars on an interactive terminal, plain lines otherwise.
#[derive(Clone)]
pub struct Terminal {
    bars: Option<MultiProgress>,
}

impl Terminal {
    /// Bars when stderr is a terminal.
    pub fn detect() -> Terminal {
        match std::io::stderr().is_terminal() {
            true => Terminal { bars: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())) },
            false => Terminal::plain(),
        }
    }

    /// Plain lines only.
    pub fn plain() -> Terminal {
        Terminal { bars: None }
    }

    pub fn is_interactive(&self) -> bool {
        self.bars.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Install the global log subscriber: `RUNNER_LOG` filters (else `default_filter`), colours
/// only on a terminal, lines printed above the progress bars.
pub fn init_logging(format: LogFormat, default_filter: &str, terminal: &Terminal) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUNNER_LOG").unwrap_or_else(|_| default_filter.into());
    let writer = BarWriter { bars: terminal.bars.clone() };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(terminal.is_interactive()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Writes each log event to stderr whole, with the bars hidden while it does.
#[derive(Clone)]
struct BarWriter {
    bars: Option<MultiProgress>,
}

struct Line {
    bars: Option<MultiProgress>,
    buf: Vec<u8>,
}

impl<'a> MakeWriter<'a> for BarWriter {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { bars: self.bars.clone(), buf: Vec::new() }
    }
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let write = || {
            let _ = std::io::stderr().write_all(&self.buf);
        };
        match &self.bars {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}

/// What a running trial is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Starting,
    Training { step: usize, steps: usize },
    Evaluating { done: usize, total: usize },
}

impl Phase {
    fn describe(&self) -> String {
        match self {
            Phase::Starting => "starting".into(),
            Phase::Training { step, steps } => format!("training {step}/{steps}"),
            Phase::Evaluating { done, total } => format!("evaluating {done}/{total}"),
        }
    }
}

/// The bars (or plain lines) of a sweep: trials done of total, and a row per running trial.
struct Board {
    bars: Option<MultiProgress>,
    sweep_bar: Option<ProgressBar>,
    rows: BTreeMap<String, ProgressBar>,
    phases: BTreeMap<String, Phase>,
    total: usize,
    done: usize,
    last_line: Instant,
}

impl Board {
    fn new(terminal: &Terminal, total: usize) -> Board {
        let sweep_bar = terminal.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new(total as u64));
            bar.set_style(style("{prefix:>12} [{bar:30}] {pos}/{len} trials, {elapsed_precise}"));
            bar.set_prefix("sweep");
            bar
        });
        Board {
            bars: terminal.bars.clone(),
            sweep_bar,
            rows: BTreeMap::new(),
            phases: BTreeMap::new(),
            total,
            done: 0,
            last_line: Instant::now(),
        }
    }

    fn set_done(&mut self, done: usize) {
        self.done = done.min(self.total);
        if let Some(bar) = &self.sweep_bar {
            bar.set_position(self.done as u64);
        }
    }

    fn update(&mut self, id: &str, phase: Phase) {
        self.phases.insert(id.to_string(), phase);
        if let Some(bars) = &self.bars {
            let bar = self.rows.entry(id.to_string()).or_insert_with(|| {
                let bar = bars.add(ProgressBar::new(1));
                bar.set_style(style("{prefix:>12} [{bar:30}] {msg}"));
                bar.set_prefix(short(id));
                bar
            });
            let (pos, len) = match phase {
                Phase::Starting => (0, 1),
                Phase::Training { step, steps } => (step, steps.max(1)),
                Phase::Evaluating { done, total } => (done, total.max(1)),
            };
            bar.set_length(len as u64);
            bar.set_position(pos as u64);
            bar.set_message(phase.describe());
        }
        self.plain_line(false);
    }

    /// Forget the trials that are no longer running.
    fn retain(&mut self, running: &[&str]) {
        self.phases.retain(|id, _| running.contains(&id.as_str()));
        self.rows.retain(|id, bar| {
            let keep = running.contains(&id.as_str());
            if !keep {
                bar.finish_and_clear();
            }
            keep
        });
    }

    /// Without bars, a line saying where the sweep is, at most every few seconds (`force`:
    /// now).
    fn plain_line(&mut self, force: bool) {
        if self.bars.is_some() || (!force && self.last_line.elapsed() < PLAIN_INTERVAL) {
            return;
        }
        self.last_line = Instant::now();
        let running: Vec<String> = self.phases.iter().map(|(id, p)| format!("{id} {}", p.describe())).collect();
        let running = if running.is_empty() { String::new() } else { format!("; {}", running.join("; ")) };
        tracing::info!("progress: {}/{} trials done{running}", self.done, self.total);
    }

    fn finish(&mut self) {
        self.retain(&[]);
        if let Some(bar) = &self.sweep_bar {
            bar.finish_and_clear();
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("a valid template").progress_chars("=> ")
}

/// `<method>-<dataset>-<hash>` shortened to fit the bars' prefix column.
fn short(id: &str) -> String {
    match id.len() > 24 {
        true => format!("{}…", &id[..23]),
        false => id.to_string(),
    }
}

/// The progress of trials run in this process, one after another: an [`Observer`].
pub struct TrialProgress {
    board: Board,
    current: Option<String>,
    evaluations: (usize, usize),
}

impl TrialProgress {
    pub fn new(terminal: &Terminal, trials: usize) -> TrialProgress {
        TrialProgress { board: Board::new(terminal, trials), current: None, evaluations: (0, 0) }
    }

    pub fn trial_done(&mut self) {
        let done = self.board.done + 1;
        self.board.set_done(done);
        self.board.retain(&[]);
        self.current = None;
    }

    pub fn finish(&mut self) {
        self.board.plain_line(true);
        self.board.finish();
    }
}

impl Observer for TrialProgress {
    fn event(&mut self, trial: &str, event: &Event) {
        let phase = match event {
            Event::Started { evaluations, pending, .. } => {
                self.current = Some(trial.to_string());
                self.evaluations = (evaluations - pending, *evaluations);
                Phase::Starting
            }
            Event::Trained { .. } | Event::Loaded { .. } | Event::Oracle => {
                Phase::Evaluating { done: self.evaluations.0, total: self.evaluations.1 }
            }
            Event::Sample(_) | Event::EvaluationFailed { .. } => {
                self.evaluations.0 += 1;
                Phase::Evaluating { done: self.evaluations.0, total: self.evaluations.1 }
            }
            _ => return,
        };
        self.board.update(trial, phase);
    }

    fn step(&mut self, trial: &str, _round: usize, step: usize, steps: usize) {
        self.board.update(trial, Phase::Training { step, steps });
    }
}

/// The progress of trials that other processes run, read from their directories.
pub struct SweepProgress {
    board: Board,
    sweep_dir: PathBuf,
    last_read: Option<Instant>,
}

impl SweepProgress {
    pub fn new(terminal: &Terminal, sweep_dir: &Path, trials: usize) -> SweepProgress {
        SweepProgress { board: Board::new(terminal, trials), sweep_dir: sweep_dir.to_path_buf(), last_read: None }
    }

    pub fn trial_done(&mut self) {
        let done = self.board.done + 1;
        self.board.set_done(done);
    }

    pub fn set_done(&mut self, done: usize) {
        self.board.set_done(done);
    }

    /// Show the trials now running (read from their event logs, at most twice a second).
    pub fn show<'a>(&mut self, running: impl Iterator<Item = &'a str>) {
        let running: Vec<&str> = running.collect();
        self.board.retain(&running);
        if self.last_read.is_some_and(|t| t.elapsed() < READ_INTERVAL) {
            return;
        }
        self.last_read = Some(Instant::now());
        for id in &running {
            let Ok(state) = trial_state(&self.sweep_dir.join(id)) else { continue };
            let phase = match state.training {
                Some((step, steps)) => Phase::Training { step, steps },
                None if state.trained || state.evaluated > 0 => {
                    Phase::Evaluating { done: state.evaluated, total: state.evaluations }
                }
                None => Phase::Starting,
            };
            self.board.update(id, phase);
        }
    }

    pub fn finish(&mut self) {
        self.board.plain_line(true);
        self.board.finish();
    }
}
