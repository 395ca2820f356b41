//! Datasets: seeded generators of points, row-major `n × dim` f32 buffers.

pub trait Dataset: Send + Sync {
    fn dim(&self) -> usize;
    /// `n` points drawn with the given seed: the same seed gives the same points, different
    /// seeds give independent draws.
    fn sample(&self, n: usize, seed: u64) -> Vec<f32>;
    /// The distribution as an isotropic Gaussian mixture, where it is one. Exact models (the
    /// host's oracle) need the density in closed form; datasets that are not mixtures say so
    /// with `None`.
    fn mixture(&self) -> Option<Mixture> {
        None
    }
}

/// An isotropic Gaussian mixture Σ_k w_k·N(μ_k, s_k²·I) in `dim` dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    pub dim: usize,
    pub components: Vec<Component>,
}

/// One component: weight w_k (the weights of a mixture sum to 1), mean μ_k (`dim` entries)
/// and the standard deviation s_k of every coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub weight: f64,
    pub mean: Vec<f64>,
    pub std: f64,
}

impl Mixture {
    /// The mean Σ_k w_k·μ_k.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.dim];
        for c in &self.components {
            for (mi, &ci) in m.iter_mut().zip(&c.mean) {
                *mi += c.weight * ci;
            }
        }
        m
    }

    /// Whether this is N(0, I), the standard normal source.
    pub fn is_standard_normal(&self) -> bool {
        match self.components.as_slice() {
            [c] => c.weight == 1.0 && c.std == 1.0 && c.mean.iter().all(|&m| m == 0.0),
            _ => false,
        }
    }
}
