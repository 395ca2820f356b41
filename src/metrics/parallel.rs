//! One value per index, computed on every core, combined in index order.
//!
//! The O(n²) and per-direction metrics are sums of independent per-row (per-direction) terms.
//! Each term is computed on some thread into its own slot and the caller sums the slots in
//! index order, so a metric's value does not depend on how many threads the machine has.

use std::num::NonZeroUsize;
use std::thread;

/// Below this many indices the work is not worth starting threads for.
const SERIAL_BELOW: usize = 64;

/// `f(k, scratch)` for every k in 0..count, with one `scratch` per thread from `scratch`.
/// Indices are dealt round-robin, so work that shrinks or grows with k (triangular sums) is
/// spread evenly.
pub fn map_indices<S, F>(count: usize, scratch: impl Fn() -> S + Sync, f: F) -> Vec<f64>
where
    F: Fn(usize, &mut S) -> f64 + Sync,
{
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get).min(count / SERIAL_BELOW).max(1);
    if threads == 1 {
        let mut s = scratch();
        return (0..count).map(|k| f(k, &mut s)).collect();
    }
    let mut out = vec![0.0; count];
    let parts: Vec<Vec<f64>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (f, scratch) = (&f, &scratch);
                scope.spawn(move || {
                    let mut s = scratch();
                    (t..count).step_by(threads).map(|k| f(k, &mut s)).collect::<Vec<f64>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    for (t, part) in parts.into_iter().enumerate() {
        for (k, value) in (t..count).step_by(threads).zip(part) {
            out[k] = value;
        }
    }
    out
}
