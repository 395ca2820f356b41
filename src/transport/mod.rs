//! Optimal transport between point sets, shared by the couplings (minibatch OT pairs points)
//! and the metrics (W1/W2 are transport costs): pairwise costs, and the exact assignment with
//! its auction start.

pub mod assignment;
pub mod auction;
pub mod costs;

pub use costs::squared_distances;
