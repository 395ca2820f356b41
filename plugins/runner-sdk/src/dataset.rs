//! Datasets: seeded generators of points, row-major `n × dim` f32 buffers.

pub trait Dataset: Send + Sync {
    fn dim(&self) -> usize;
    /// `n` points drawn with the given seed: the same seed gives the same points, different
    /// seeds give independent draws.
    fn sample(&self, n: usize, seed: u64) -> Vec<f32>;
}
