//! The single-precision matmul rate of a device through burn: the ceiling that the achieved
//! GFLOP/s of the other rows are read against.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

use super::BenchError;

/// GFLOP/s of an n × n by n × n matmul (2n³ FLOPs): one warm-up, then the fastest of `reps`.
pub fn sgemm_gflops(device: &Device, n: usize, reps: usize) -> Result<f64, BenchError> {
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    let time = || -> Result<f64, BenchError> {
        let start = Instant::now();
        let c = a.clone().matmul(b.clone());
        // Backends may run asynchronously (libtorch on a GPU): wait for the product itself.
        device.sync().map_err(|e| BenchError::Sync(format!("{e:?}")))?;
        let seconds = start.elapsed().as_secs_f64();
        drop(c);
        Ok(seconds)
    };
    time()?;
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        best = best.min(time()?);
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}
