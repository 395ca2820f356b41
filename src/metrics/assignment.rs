//! The linear assignment problem: pair each of n rows with a distinct column at least total cost.
//!
//! Exact W1/W2 between two equal-size, uniformly weighted point sets is an assignment problem
//! (the optimal transport plan between two uniform empirical measures of the same size can be
//! taken to be a permutation, Birkhoff–von Neumann), and so is minibatch exact-OT coupling.
//!
//! The solver is Jonker & Volgenant's (1987) shortest-augmenting-path method. It keeps column
//! prices `v` such that every assigned row's column minimises its reduced cost `c[i][j] − v[j]`
//! (dual feasibility with the row potential `u[i] = c[i][j(i)] − v[j(i)]`), and grows the
//! assignment while preserving that invariant:
//!
//! 1. column reduction: `v[j] = min_i c[i][j]`, each row takes one of the columns it minimises;
//! 2. reduction transfer: an assigned row's column price drops to the row's second-best reduced
//!    cost, so free rows are less attracted to it;
//! 3. augmenting row reduction (two passes): a free row takes its best column, pushing the
//!    column's price down to its second-best, and the row it displaces continues the same way;
//!    this cheap auction-like step assigns most rows in practice;
//! 4. augmentation: for each row still free, a Dijkstra search over reduced costs finds the
//!    shortest alternating path to a free column; the path is flipped and prices updated.
//!
//! Phase 4 alone is the O(n³) Hungarian method and is what makes the result exact; phases 1–3
//! only choose a good starting point. Step 3 is capped at a few n moves per pass, because with
//! floating-point costs the price decrements can become tiny and its move count is not bounded
//! by n; rows it leaves free go to phase 4.
//!
//! The returned potentials certify optimality: `row_potentials[i] + col_potentials[j] ≤ c[i][j]`
//! for every pair, with equality on the assignment, so their sum equals the cost and no
//! assignment is cheaper (LP duality). Tests check this certificate.

use thiserror::Error;

/// An optimal assignment and its certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Row `i` is assigned to column `rows_to_cols[i]` (a permutation of 0..n).
    pub rows_to_cols: Vec<usize>,
    /// Σ_i cost[i][rows_to_cols[i]], summed from the given costs.
    pub cost: f64,
    /// Dual row potentials u (see the module documentation).
    pub row_potentials: Vec<f64>,
    /// Dual column potentials v.
    pub col_potentials: Vec<f64>,
}

#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AssignmentError {
    #[error("the cost matrix has {len} entries, not {n}×{n}")]
    Shape { len: usize, n: usize },
    #[error("the cost of row {row}, column {col} is not finite")]
    NonFinite { row: usize, col: usize },
}

/// No row (column) assigned to this column (row).
const FREE: usize = usize::MAX;

/// Width of the unrolled inner loops (independent lanes let the compiler use SIMD).
const LANES: usize = 4;

/// How many augmenting-row-reduction moves a pass may make, per row.
const REDUCTION_MOVES_PER_ROW: usize = 8;

/// The assignment of least total cost for the row-major `n × n` matrix `cost` (minimisation).
pub fn solve(cost: &[f64], n: usize) -> Result<Assignment, AssignmentError> {
    if cost.len() != n * n {
        return Err(AssignmentError::Shape { len: cost.len(), n });
    }
    if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
        return Err(AssignmentError::NonFinite { row: k / n, col: k % n });
    }
    let mut s = Solver::new(cost, n);
    if n > 0 {
        let free = s.reduce_columns();
        let free = s.augmenting_row_reduction(free);
        let free = s.augmenting_row_reduction(free);
        let mut search = Search::new(n);
        for row in free {
            s.augment(row, &mut search);
        }
    }
    Ok(s.finish())
}

struct Solver<'a> {
    c: &'a [f64],
    n: usize,
    /// Column prices (the dual column potentials).
    v: Vec<f64>,
    col_of_row: Vec<usize>,
    row_of_col: Vec<usize>,
}

/// Scratch space of the shortest-path search, reused across rows.
struct Search {
    /// Shortest known reduced distance from the free row to each column; +∞ once settled.
    dist: Vec<f64>,
    /// The row through which each column was reached.
    pred: Vec<usize>,
    /// Column prices during the search: −∞ marks a settled column.
    price: Vec<f64>,
    /// The settled columns with their distances, in settling order.
    settled: Vec<(usize, f64)>,
}

impl Search {
    fn new(n: usize) -> Self {
        Search { dist: vec![0.0; n], pred: vec![0; n], price: vec![0.0; n], settled: Vec::with_capacity(n) }
    }
}

impl<'a> Solver<'a> {
    fn new(c: &'a [f64], n: usize) -> Self {
        Solver { c, n, v: vec![0.0; n], col_of_row: vec![FREE; n], row_of_col: vec![FREE; n] }
    }

    fn row(&self, i: usize) -> &'a [f64] {
        &self.c[i * self.n..(i + 1) * self.n]
    }

    fn assign(&mut self, i: usize, j: usize) {
        self.col_of_row[i] = j;
        self.row_of_col[j] = i;
    }

    /// Phases 1 and 2; returns the rows left free.
    fn reduce_columns(&mut self) -> Vec<usize> {
        let n = self.n;
        // Column minima, scanning rows so the matrix is read contiguously.
        let mut argmin = vec![0usize; n];
        let first = self.row(0);
        self.v.copy_from_slice(first);
        for i in 1..n {
            for (j, &c) in self.row(i).iter().enumerate() {
                if c < self.v[j] {
                    self.v[j] = c;
                    argmin[j] = i;
                }
            }
        }
        let mut minimised = vec![0usize; n];
        for j in (0..n).rev() {
            let i = argmin[j];
            minimised[i] += 1;
            if self.col_of_row[i] == FREE {
                self.assign(i, j);
            }
        }
        let mut free = Vec::new();
        for (i, &count) in minimised.iter().enumerate() {
            if count == 0 {
                free.push(i);
            } else if count == 1 && n > 1 {
                // The row's only tight column gets the row's second-best reduced cost as its
                // reduced cost; rows that minimise several columns have a second best of 0.
                let j1 = self.col_of_row[i];
                let row = self.row(i);
                let second = (0..n).filter(|&j| j != j1).map(|j| row[j] - self.v[j]).fold(f64::INFINITY, f64::min);
                self.v[j1] = row[j1] - second;
            }
        }
        free
    }

    /// Phase 3, one pass over `free`; returns the rows still free.
    fn augmenting_row_reduction(&mut self, mut free: Vec<usize>) -> Vec<usize> {
        let n = self.n;
        if n == 1 {
            if let Some(&i) = free.first() {
                self.assign(i, 0);
            }
            return Vec::new();
        }
        let mut still_free = Vec::new();
        let mut moves_left = REDUCTION_MOVES_PER_ROW * n;
        let mut k = 0;
        while k < free.len() {
            let i = free[k];
            k += 1;
            let row = self.row(i);
            let (mut best, mut best_j, mut second, mut second_j) = (f64::INFINITY, 0, f64::INFINITY, 0);
            for (j, (&c, &v)) in row.iter().zip(&self.v).enumerate() {
                let h = c - v;
                if h < second {
                    if h >= best {
                        second = h;
                        second_j = j;
                    } else {
                        second = best;
                        second_j = best_j;
                        best = h;
                        best_j = j;
                    }
                }
            }
            let strict = best < second;
            let mut j = best_j;
            if strict {
                // Lower the price of the best column until it ties with the second best: row i
                // still minimises there, and the row it displaces sees a dearer column.
                self.v[j] = row[j] - second;
            } else if self.row_of_col[j] != FREE {
                // A tie: take the second column instead, which may be free.
                j = second_j;
            }
            let displaced = self.row_of_col[j];
            self.assign(i, j);
            if displaced != FREE {
                self.col_of_row[displaced] = FREE;
                if strict && moves_left > 0 {
                    // Continue right away with the displaced row, in row i's slot.
                    moves_left -= 1;
                    k -= 1;
                    free[k] = displaced;
                } else {
                    still_free.push(displaced);
                }
            }
        }
        still_free
    }

    /// Phase 4 for one free row: Dijkstra over reduced costs to the nearest free column, then
    /// flip the alternating path and update the prices of the settled columns.
    ///
    /// This search is where the solver spends its time on geometric costs, so it sweeps the
    /// columns in index order (contiguous, prefetchable reads of the cost row) and hides the
    /// settled columns behind sentinels instead of testing a flag: a settled column's working
    /// price is −∞, so no path relaxes it, and its working distance is +∞, so it is never the
    /// nearest again. Relaxing through a row and finding the next nearest column are then one
    /// branch-free sweep ([`relax`]).
    fn augment(&mut self, free_row: usize, s: &mut Search) {
        s.price.copy_from_slice(&self.v);
        s.settled.clear();
        let row = self.row(free_row);
        s.dist.fill(f64::INFINITY);
        let (mut nearest, mut nearest_j) = relax(row, &s.price, 0.0, free_row, &mut s.dist, &mut s.pred);
        let end = loop {
            // Settle the nearest column; a free one ends the search (one exists: as many
            // columns as rows are free).
            let j1 = nearest_j;
            let i = self.row_of_col[j1];
            if i == FREE {
                break j1;
            }
            s.settled.push((j1, nearest));
            s.dist[j1] = f64::INFINITY;
            s.price[j1] = f64::NEG_INFINITY;
            // Extend the tree through row i, the row assigned to j1.
            let row = self.row(i);
            let offset = row[j1] - self.v[j1] - nearest;
            (nearest, nearest_j) = relax(row, &s.price, offset, i, &mut s.dist, &mut s.pred);
        };
        // Settled columns are nearer than the free column reached; lowering the reduced cost of
        // each by the difference keeps every reduced cost ≥ 0 and makes the new path tight.
        let reached = s.dist[end];
        for &(j, d) in &s.settled {
            self.v[j] += d - reached;
        }
        let mut j = end;
        loop {
            let i = s.pred[j];
            let next = self.col_of_row[i];
            self.assign(i, j);
            if i == free_row {
                break;
            }
            j = next;
        }
    }

    fn finish(self) -> Assignment {
        let rows_to_cols = self.col_of_row;
        let mut cost = 0.0;
        let mut row_potentials = Vec::with_capacity(self.n);
        for (i, &j) in rows_to_cols.iter().enumerate() {
            let c = self.c[i * self.n + j];
            cost += c;
            row_potentials.push(c - self.v[j]);
        }
        Assignment { rows_to_cols, cost, row_potentials, col_potentials: self.v }
    }
}

/// One Dijkstra relaxation through row `i` (cost row `row`, entered at reduced distance
/// `offset` below the row's own reduced costs): `dist[j] = min(dist[j], row[j] − price[j] −
/// offset)`, remembering `i` as the predecessor where it improves; returns the nearest column
/// after the update and its distance. Written as selects over independent lanes (no bounds
/// checks, no data-dependent branches) so that it compiles to straight SIMD code.
fn relax(row: &[f64], price: &[f64], offset: f64, i: usize, dist: &mut [f64], pred: &mut [usize]) -> (f64, usize) {
    let mut best = [f64::INFINITY; LANES];
    let mut best_at = [0usize; LANES];
    let body = row.len() - row.len() % LANES;
    let chunks = row[..body]
        .chunks_exact(LANES)
        .zip(price[..body].chunks_exact(LANES))
        .zip(dist[..body].chunks_exact_mut(LANES))
        .zip(pred[..body].chunks_exact_mut(LANES));
    for (k, (((c, p), d), from)) in chunks.enumerate() {
        for l in 0..LANES {
            let through = c[l] - p[l] - offset;
            let better = through < d[l];
            let nd = if better { through } else { d[l] };
            d[l] = nd;
            from[l] = if better { i } else { from[l] };
            let nearer = nd < best[l];
            best[l] = if nearer { nd } else { best[l] };
            best_at[l] = if nearer { k * LANES + l } else { best_at[l] };
        }
    }
    let (mut nearest, mut nearest_j) = (f64::INFINITY, 0);
    for l in 0..LANES {
        if best[l] < nearest || (best[l] == nearest && best_at[l] < nearest_j) {
            (nearest, nearest_j) = (best[l], best_at[l]);
        }
    }
    for j in body..row.len() {
        let through = row[j] - price[j] - offset;
        if through < dist[j] {
            dist[j] = through;
            pred[j] = i;
        }
        if dist[j] < nearest {
            (nearest, nearest_j) = (dist[j], j);
        }
    }
    (nearest, nearest_j)
}
