//! What `runner bench` measures: the workloads of its rows and how long each is timed. The plan
//! is also handed, as JSON, to the PyTorch reference script, so both sides run exactly the same
//! sizes with the same timing rules.

use serde::{Deserialize, Serialize};

/// Flow-matching training at one size: steps per second of [`crate::train::train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainCase {
    pub name: String,
    pub batch: usize,
    pub width: usize,
}

/// Euler sampling at one size: samples per second of [`crate::sampling::sample`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleCase {
    pub name: String,
    pub width: usize,
    pub points: usize,
    pub nfe: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Hidden layers of every MLP (`model.depth`); the network is
    /// Linear(dim + 1, width), SiLU, (Linear(width, width), SiLU) × (depth − 1), Linear(width, dim).
    pub depth: usize,
    /// Dimension of the data (`8gaussians`: 2).
    pub dim: usize,
    pub lr: f64,
    pub train: Vec<TrainCase>,
    pub sample: Vec<SampleCase>,
    /// Training steps of the warm-up run before each timed training run.
    pub warmup_steps: usize,
    /// NFE of the warm-up sampling run before each timed sampling measurement.
    pub warmup_nfe: usize,
    /// Each timed measurement runs for about this long (its length is chosen from the warm-up's
    /// rate) ...
    pub seconds: f64,
    /// ... but for at least this many training steps (a sampling measurement is at least one run).
    pub min_steps: usize,
    /// Timed measurements per row; the fastest counts. On a shared machine a measurement is
    /// only ever slowed down by others, so the best of a few is the steadiest estimate of the
    /// code's own speed, on both sides alike.
    pub rounds: usize,
    /// Size n of the n × n single-precision matmul whose rate is the peak of a device.
    pub peak_size: usize,
    /// Timed matmuls after one warm-up; the fastest counts.
    pub peak_reps: usize,
}

impl Plan {
    /// The benchmark of README "Speed" (BENCHMARKS.md §4): three training sizes, sampling
    /// bound by per-operation overhead (small model, 1,000 points) and by arithmetic (medium
    /// model, 100,000 points), 100 Euler steps each.
    pub fn standard() -> Plan {
        let train = |name: &str, batch, width| TrainCase { name: name.into(), batch, width };
        let sample = |name: &str, width, points| SampleCase { name: name.into(), width, points, nfe: 100 };
        Plan {
            depth: 3,
            dim: 2,
            lr: 1e-3,
            train: vec![train("small", 256, 64), train("medium", 256, 256), train("large", 4096, 512)],
            sample: vec![sample("small", 64, 1_000), sample("medium", 256, 100_000)],
            warmup_steps: 20,
            warmup_nfe: 5,
            seconds: 2.0,
            min_steps: 5,
            rounds: 3,
            peak_size: 2048,
            peak_reps: 5,
        }
    }

    /// The same workloads with short timed runs: rougher figures, for a quick look.
    pub fn quick() -> Plan {
        Plan {
            warmup_steps: 5,
            warmup_nfe: 2,
            seconds: 0.25,
            min_steps: 2,
            rounds: 1,
            peak_reps: 1,
            ..Plan::standard()
        }
    }

    /// Only the rows named in `rows` ("train small", "sample medium", ...; all when empty).
    pub fn select(mut self, rows: &[String]) -> Result<Plan, String> {
        if rows.is_empty() {
            return Ok(self);
        }
        let known: Vec<String> = self
            .train
            .iter()
            .map(|c| format!("train {}", c.name))
            .chain(self.sample.iter().map(|c| format!("sample {}", c.name)))
            .collect();
        if let Some(unknown) = rows.iter().find(|r| !known.contains(r)) {
            return Err(format!("no row `{unknown}`; the rows are: {}", known.join(", ")));
        }
        self.train.retain(|c| rows.contains(&format!("train {}", c.name)));
        self.sample.retain(|c| rows.contains(&format!("sample {}", c.name)));
        Ok(self)
    }

    /// Multiply-adds of one forward pass per point: Σ fan_in · fan_out over the linear layers
    /// (the input is the point and the raw time).
    pub fn macs_per_point(&self, width: usize) -> usize {
        let mut sizes = vec![self.dim + 1];
        sizes.extend(std::iter::repeat_n(width, self.depth));
        sizes.push(self.dim);
        sizes.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// Matmul FLOPs of one training step: forward 2 · batch · MACs, and the backward pass
    /// about twice that (gradients of the inputs and of the weights).
    pub fn train_flops(&self, case: &TrainCase) -> f64 {
        3.0 * 2.0 * (case.batch * self.macs_per_point(case.width)) as f64
    }

    /// Matmul FLOPs of one sample: one forward pass per evaluation.
    pub fn sample_flops(&self, case: &SampleCase) -> f64 {
        2.0 * (case.nfe * self.macs_per_point(case.width)) as f64
    }

    /// How many repetitions of `per_rep` units of work fill `self.seconds`, given a warm-up that
    /// did `units` of them in `seconds`; at least `min`.
    pub fn repetitions(&self, units: usize, seconds: f64, per_rep: usize, min: usize) -> usize {
        let per_second = units as f64 / seconds.max(1e-9);
        ((self.seconds * per_second / per_rep as f64).ceil() as usize).max(min)
    }
}
