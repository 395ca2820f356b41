//! Square cost matrices as the assignment solver reads them: one row at a time.
//!
//! The solver only ever asks for a whole row (its scans are row sweeps) or a single entry, so a
//! cost matrix need not be stored. Exact W_p at 10,000 points per side would be an 800 MB f64
//! matrix; [`PointCosts`] instead recomputes a row of ground costs from the points when asked
//! (2·n·dim flops, cheaper than streaming the row from memory in low dimension), and
//! [`DenseCosts`] lends rows of a stored matrix (minibatch couplings, tests).
//!
//! Exactness needs one thing of an implementation: the same entry is the same f64 every time it
//! is read, whether through [`Costs::row`] or [`Costs::cost`]. [`PointCosts`] guarantees it by
//! summing the squared coordinate differences in the same order on both paths (Rust never fuses
//! a multiply and an add on its own).

/// Which Wasserstein distance: the exponent p of the ground cost ‖x − y‖^p.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    W1,
    W2,
}

impl Order {
    /// The ground cost for a pair at Euclidean distance `d`.
    pub fn cost(self, d: f64) -> f64 {
        match self {
            Order::W1 => d,
            Order::W2 => d * d,
        }
    }

    /// W_p from the mean ground cost of the optimal pairing, (mean)^(1/p).
    pub fn from_mean_cost(self, mean: f64) -> f64 {
        match self {
            Order::W1 => mean,
            Order::W2 => mean.max(0.0).sqrt(),
        }
    }
}

/// A square matrix of finite costs, read by rows.
pub trait Costs: Sync {
    /// The number of rows (and of columns).
    fn size(&self) -> usize;

    /// Row `i`: borrowed from storage, or computed into `scratch` (which has `size()` entries).
    fn row<'a>(&'a self, i: usize, scratch: &'a mut [f64]) -> &'a [f64];

    /// The entry at row `i`, column `j`; bit-for-bit the value [`Costs::row`] gives there.
    fn cost(&self, i: usize, j: usize) -> f64;
}

/// A stored row-major `n × n` matrix.
#[derive(Debug, Clone, Copy)]
pub struct DenseCosts<'a> {
    c: &'a [f64],
    n: usize,
}

impl<'a> DenseCosts<'a> {
    /// The matrix `c` of `n` rows; `None` unless it has n² entries.
    pub fn new(c: &'a [f64], n: usize) -> Option<Self> {
        (c.len() == n * n).then_some(DenseCosts { c, n })
    }
}

impl Costs for DenseCosts<'_> {
    fn size(&self) -> usize {
        self.n
    }

    fn row<'a>(&'a self, i: usize, _scratch: &'a mut [f64]) -> &'a [f64] {
        &self.c[i * self.n..(i + 1) * self.n]
    }

    fn cost(&self, i: usize, j: usize) -> f64 {
        self.c[i * self.n + j]
    }
}

/// Ground costs ‖x_i − y_j‖^p between two equal-size point sets, computed on demand.
///
/// The target points are kept one coordinate at a time (all first coordinates, then all second
/// ones, …) so that computing a row is a few contiguous sweeps the compiler vectorises.
#[derive(Debug, Clone)]
pub struct PointCosts {
    /// The row points, row-major, in f64.
    rows: Vec<f64>,
    /// The column points, coordinate-major: `cols[d * n + j]` is coordinate d of point j.
    cols: Vec<f64>,
    n: usize,
    dim: usize,
    order: Order,
}

impl PointCosts {
    /// Costs between the rows of `a` (the matrix rows) and of `b` (its columns), both row-major
    /// with `dim` columns and the same number of finite points.
    pub fn new(a: &[f32], b: &[f32], dim: usize, order: Order) -> Self {
        assert!(dim > 0 && a.len() == b.len() && a.len().is_multiple_of(dim), "PointCosts needs two equal-size sets");
        let n = a.len() / dim;
        let rows = a.iter().map(|&x| f64::from(x)).collect();
        let mut cols = vec![0.0; n * dim];
        for (j, p) in b.chunks_exact(dim).enumerate() {
            for (d, &x) in p.iter().enumerate() {
                cols[d * n + j] = f64::from(x);
            }
        }
        PointCosts { rows, cols, n, dim, order }
    }

    /// The ground cost these costs are made of.
    pub fn order(&self) -> Order {
        self.order
    }
}

impl Costs for PointCosts {
    fn size(&self) -> usize {
        self.n
    }

    fn row<'a>(&'a self, i: usize, scratch: &'a mut [f64]) -> &'a [f64] {
        let n = self.n;
        let out = &mut scratch[..n];
        let x = &self.rows[i * self.dim..(i + 1) * self.dim];
        for (d, &xd) in x.iter().enumerate() {
            let col = &self.cols[d * n..(d + 1) * n];
            if d == 0 {
                for (o, &y) in out.iter_mut().zip(col) {
                    *o = (xd - y) * (xd - y);
                }
            } else {
                for (o, &y) in out.iter_mut().zip(col) {
                    *o += (xd - y) * (xd - y);
                }
            }
        }
        if self.order == Order::W1 {
            for o in out.iter_mut() {
                *o = o.sqrt();
            }
        }
        out
    }

    fn cost(&self, i: usize, j: usize) -> f64 {
        let x = &self.rows[i * self.dim..(i + 1) * self.dim];
        let mut d2 = (x[0] - self.cols[j]) * (x[0] - self.cols[j]);
        for (d, &xd) in x.iter().enumerate().skip(1) {
            let y = self.cols[d * self.n + j];
            d2 += (xd - y) * (xd - y);
        }
        match self.order {
            Order::W1 => d2.sqrt(),
            Order::W2 => d2,
        }
    }
}

/// The row-major `n × n` matrix of squared Euclidean distances ‖x0_i − x1_j‖², in f64 so that
/// the assignment and Sinkhorn solvers see the f32 points' exact differences. The coordinate
/// terms are summed in order (0 + d₀² + d₁² + …), one coordinate at a time over a whole row of
/// targets, which the compiler vectorises.
pub fn squared_distances(source: &[f32], target: &[f32], dim: usize) -> Vec<f64> {
    let m = target.len() / dim;
    // Target coordinates one coordinate at a time: `columns[k * m + j]` is coordinate k of j.
    let mut columns = vec![0.0f64; m * dim];
    for (j, b) in target.chunks_exact(dim).enumerate() {
        for (k, &y) in b.iter().enumerate() {
            columns[k * m + j] = f64::from(y);
        }
    }
    let mut cost = vec![0.0f64; (source.len() / dim) * m];
    for (row, a) in cost.chunks_exact_mut(m.max(1)).zip(source.chunks_exact(dim)) {
        for (k, &x) in a.iter().enumerate() {
            let x = f64::from(x);
            for (c, &y) in row.iter_mut().zip(&columns[k * m..(k + 1) * m]) {
                *c += (x - y) * (x - y);
            }
        }
    }
    cost
}
