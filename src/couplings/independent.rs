//! `independent`: the trivial coupling, source row i with target row i.
//!
//! The host draws the source and target batches independently, so pairing them in order already
//! samples the product coupling p0 ⊗ p1 (I-CFM, rectified flow, DDPM training); no shuffling is
//! needed.

use runner_sdk::{Coupling, Params, PluginError, PluginInfo, PluginKind};

use crate::registry::Entry;

pub const ENTRY: Entry<dyn Coupling> = Entry {
    info: PluginInfo::new(
        PluginKind::Coupling,
        "independent",
        "independent pairing: source row i with target row i",
        &[],
    ),
    make,
};

/// The product coupling p0 ⊗ p1: source row i with target row i.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Independent;

fn make(_: &Params) -> Result<Box<dyn Coupling>, PluginError> {
    Ok(Box::new(Independent))
}

impl Coupling for Independent {
    fn pair(&self, source: &[f32], target: &[f32], dim: usize, _seed: u64) -> Result<Vec<usize>, PluginError> {
        let n = super::batch_size("independent", source, target, dim)?;
        Ok((0..n).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_row_i_with_row_i() {
        let source: Vec<f32> = (0..30).map(|v| v as f32).collect();
        let target: Vec<f32> = (0..30).map(|v| -(v as f32)).collect();
        let p = Independent.pair(&source, &target, 3, 0).unwrap();
        assert_eq!(p.len(), 10);
        let mut seen = [false; 10];
        for &j in &p {
            assert!(!seen[j], "{j} appears twice in {p:?}");
            seen[j] = true;
        }
        assert_eq!(p, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn refuses_batches_of_different_sizes() {
        let err = Independent.pair(&[0.0; 6], &[0.0; 4], 2, 0).unwrap_err().to_string();
        assert!(err.contains("3") && err.contains("2"), "{err}");
    }
}
