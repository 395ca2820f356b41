//! Exact W_p between two equal-size point sets on the real line, by sorting.
//!
//! In one dimension the monotone coupling (i-th smallest with i-th smallest) is optimal for every
//! convex cost |x − y|^p, p ≥ 1, so W_p^p is the mean of |x_(i) − y_(i)|^p over the order
//! statistics: O(n log n) where an assignment solver would need O(n³).

use crate::transport::costs::Order;

/// W_p between the 1-D sets `a` and `b` (same length ≥ 1, finite values).
pub fn wasserstein_1d(a: &[f32], b: &[f32], order: Order) -> f64 {
    assert_eq!(a.len(), b.len(), "wasserstein_1d needs sets of equal size");
    let sorted = |s: &[f32]| {
        let mut v: Vec<f64> = s.iter().map(|&x| f64::from(x)).collect();
        v.sort_unstable_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    let costs = a.iter().zip(&b).map(|(x, y)| order.cost((x - y).abs()));
    order.from_mean_cost(costs.sum::<f64>() / a.len() as f64)
}
