//! `exact-ot`: minibatch optimal transport with the squared Euclidean cost, solved exactly
//! (OT-CFM, Tong et al. 2024).
//!
//! Between two uniform empirical measures of the same size n, the optimal transport plan can be
//! taken to be a permutation matrix divided by n: the plans form the Birkhoff polytope of doubly
//! stochastic matrices (scaled by 1/n), a linear objective attains its minimum at a vertex, and
//! the vertices are the permutation matrices (Birkhoff–von Neumann). The exact plan is therefore
//! an assignment, which [`crate::transport::assignment::solve`] finds with a certificate of
//! optimality. Each source row is paired with a distinct target row and every row of the batch
//! is used exactly once.
//!
//! torchcfm's `OTPlanSampler` (method `exact`) instead computes the plan with POT's `emd` and
//! then draws n (source, target) index pairs *from the plan with replacement*: some optimal
//! pairs appear twice and about a third (1/e) are left out of each batch. Both sample pairs
//! from the same plan; the permutation just uses each pair once, which removes that resampling
//! noise from the minibatch (and spends no randomness).
//!
//! Scaling the cost (torchcfm's optional `normalize_cost`, M / max M) does not change which
//! assignment is optimal, so the raw squared distances are used.

use runner_sdk::{Coupling, Params, PluginError, PluginInfo, PluginKind};

use super::batch_size;
use crate::registry::Entry;
use crate::transport::assignment::{self, Start};
use crate::transport::squared_distances;

const NAME: &str = "exact-ot";

pub const ENTRY: Entry<dyn Coupling> = Entry {
    info: PluginInfo::new(
        PluginKind::Coupling,
        NAME,
        "minibatch optimal transport, squared Euclidean cost, exact assignment (OT-CFM)",
        &[],
    ),
    make,
};

/// The exact minibatch optimal-transport coupling: a permutation of least total squared
/// distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExactOt;

fn make(_: &Params) -> Result<Box<dyn Coupling>, PluginError> {
    Ok(Box::new(ExactOt))
}

impl Coupling for ExactOt {
    fn pair(&self, source: &[f32], target: &[f32], dim: usize, _seed: u64) -> Result<Vec<usize>, PluginError> {
        let n = batch_size(NAME, source, target, dim)?;
        let cost = squared_distances(source, target, dim);
        // The auction start, whatever the batch size: source and target batches are draws of
        // different distributions, where it beats JV's reduction start by an order of magnitude
        // (see `assignment::AUCTION_FROM`), and the result is exact either way.
        let solved = assignment::solve_from(&cost, n, Start::Auction).map_err(|e| PluginError::Invalid {
            plugin: NAME.to_string(),
            message: format!("the minibatch cost matrix: {e} (a source or target point is not finite)"),
        })?;
        Ok(solved.rows_to_cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncrosses_two_pairs_on_a_line() {
        // Sources at 0 and 1, targets at 1.1 and 0.1: in order the pairs cross, the optimal
        // pairing is 0 → 0.1 and 1 → 1.1.
        let p = ExactOt.pair(&[0.0, 1.0], &[1.1, 0.1], 1, 0).unwrap();
        assert_eq!(p, vec![1, 0]);
    }

    #[test]
    fn refuses_non_finite_points_by_name() {
        let err = ExactOt.pair(&[0.0, f32::NAN], &[1.0, 2.0], 1, 0).unwrap_err().to_string();
        assert!(err.contains("exact-ot") && err.contains("not finite"), "{err}");
    }
}
