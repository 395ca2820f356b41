//! The linear assignment problem: pair each of n rows with a distinct column at least total cost.
//!
//! Exact W1/W2 between two equal-size, uniformly weighted point sets is an assignment problem
//! (the optimal transport plan between two uniform empirical measures of the same size can be
//! taken to be a permutation, Birkhoff–von Neumann), and so is minibatch exact-OT coupling.
//!
//! The solver is Jonker & Volgenant's (1987) shortest-augmenting-path method. It keeps column
//! prices `v` such that every assigned row's column minimises its reduced cost `c[i][j] − v[j]`
//! (dual feasibility with the row potential `u[i] = c[i][j(i)] − v[j(i)]`), and grows the
//! assignment while preserving that invariant. What makes the result exact is the last phase,
//! *augmentation*: for each row still free, a Dijkstra search over reduced costs finds the
//! shortest alternating path to a free column; the path is flipped and the prices of the
//! columns the search settled are lowered so that the invariant holds again. On its own from
//! zero prices that is the O(n³) Hungarian method. Everything before it only chooses starting
//! prices and a partial assignment that respects the invariant ([`Start`]):
//!
//! - [`Start::Reduction`], JV's own start: column reduction (`v[j] = min_i c[i][j]`, each row
//!   takes a column it minimises), reduction transfer (an assigned row's column price drops to
//!   the row's second-best reduced cost) and two passes of augmenting row reduction (a free row
//!   takes its best column, pushing the column's price down to its second best, and the row it
//!   displaces continues the same way; capped at a few n moves per pass, because with
//!   floating-point costs the decrements can become tiny). Fast on small problems (minibatch
//!   couplings); on 10,000 geometric points it leaves about a thousand rows whose Dijkstra
//!   searches settle hundreds of columns each (one row sweep per column).
//! - [`Start::Auction`]: an ε-scaling auction ([`super::auction`]) down to ε = 10⁻⁹ of the cost
//!   range. Its prices are within n·ε of optimal and its assignment is ε-optimal row by row; the
//!   rows whose column is *exactly* their cheapest keep it (the invariant), the others are freed
//!   and augmented. With near-optimal prices each of those searches settles only the few columns
//!   within ε of the row's cheapest, so the exact finish costs a handful of row sweeps per row.
//!
//! Either way the returned potentials certify optimality: `row_potentials[i] + col_potentials[j]
//! ≤ c[i][j]` for every pair, with equality on the assignment, so their sum equals the cost and
//! no assignment is cheaper (LP duality); in floating point both hold to rounding of the prices.
//! Tests check this certificate.
//!
//! Costs are read a row at a time through [`Costs`], so a large geometric problem need not be
//! stored ([`super::costs::PointCosts`]); [`solve`] takes a stored matrix.

use thiserror::Error;

use super::auction;
use super::costs::{Costs, DenseCosts};

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

/// Why a cost matrix cannot be solved.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AssignmentError {
    #[error("the cost matrix has {len} entries, not {n}×{n}")]
    Shape { len: usize, n: usize },
    #[error("the cost of row {row}, column {col} is not finite")]
    NonFinite { row: usize, col: usize },
}

/// How the solver finds its starting prices before the exact augmentations (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Jonker–Volgenant's column reduction and augmenting row reduction.
    Reduction,
    /// The ε-scaling auction.
    Auction,
}

/// From this many rows on, [`Start::for_size`] picks the auction. Measured on W2 between point
/// sets: at 1,000 per side both starts take under 0.1 s on draws of one distribution, and the
/// auction is 9× faster between different ones (normal → 8gaussians); at 2,000 the auction is
/// 0.5–1.6× the time of JV's start on draws of one distribution and 15× faster between
/// different ones; at 10,000 JV's start takes 9–33 s on draws of one distribution and over
/// 150 s from normal to 8gaussians, the auction 6–12 s.
pub const AUCTION_FROM: usize = 1000;

impl Start {
    /// The faster start for an `n × n` problem, as measured on geometric costs.
    pub fn for_size(n: usize) -> Start {
        if n >= AUCTION_FROM {
            Start::Auction
        } else {
            Start::Reduction
        }
    }
}

/// An optimal assignment and what it took to find it.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    /// The assignment and its certificate.
    pub assignment: Assignment,
    /// How much work each phase did.
    pub effort: Effort,
}

/// Work counts of one solve, to explain its time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effort {
    /// Auction phases (0 for [`Start::Reduction`]).
    pub auction_phases: usize,
    /// Auction bids over all phases.
    pub auction_bids: usize,
    /// Full row scans the auction made.
    pub auction_scans: usize,
    /// Rows left free by the start and assigned by a Dijkstra search.
    pub augmented_rows: usize,
    /// Columns those searches settled in all (each costs one row sweep).
    pub settled_columns: usize,
}

/// No row (column) assigned to this column (row).
const FREE: usize = usize::MAX;

/// Width of the unrolled inner loops (independent lanes let the compiler use SIMD).
const LANES: usize = 4;

/// How many augmenting-row-reduction moves a pass may make, per row.
const REDUCTION_MOVES_PER_ROW: usize = 8;

/// The assignment of least total cost for the row-major `n × n` matrix `cost` (minimisation),
/// started as [`Start::for_size`] says.
pub fn solve(cost: &[f64], n: usize) -> Result<Assignment, AssignmentError> {
    solve_from(cost, n, Start::for_size(n))
}

/// [`solve`] with the given start, for callers that know more about their costs than their size.
pub fn solve_from(cost: &[f64], n: usize, start: Start) -> Result<Assignment, AssignmentError> {
    let costs = DenseCosts::new(cost, n).ok_or(AssignmentError::Shape { len: cost.len(), n })?;
    if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
        return Err(AssignmentError::NonFinite { row: k / n, col: k % n });
    }
    Ok(solve_costs(&costs, start).assignment)
}

/// The assignment of least total cost for `costs`, which must all be finite (the caller's
/// contract: [`solve`] checks a stored matrix; [`super::costs::PointCosts`] from finite points
/// is finite).
pub fn solve_costs<C: Costs>(costs: &C, start: Start) -> Solved {
    let n = costs.size();
    let mut s = Solver::new(costs);
    let mut effort = Effort::default();
    let free = match (n, start) {
        (0, _) => Vec::new(),
        (1, _) => {
            s.assign(0, 0);
            Vec::new()
        }
        (_, Start::Reduction) => {
            let free = s.reduce_columns();
            let free = s.augmenting_row_reduction(free);
            s.augmenting_row_reduction(free)
        }
        (_, Start::Auction) => {
            let a = auction::auction(costs);
            effort.auction_phases = a.phases;
            effort.auction_bids = a.bids;
            effort.auction_scans = a.scans;
            s.start_from(a)
        }
    };
    let mut search = Search::new(n);
    effort.augmented_rows = free.len();
    for row in free {
        effort.settled_columns += s.augment(row, &mut search);
    }
    Solved { assignment: s.finish(), effort }
}

struct Solver<'a, C> {
    costs: &'a C,
    n: usize,
    /// Column prices (the dual column potentials).
    v: Vec<f64>,
    col_of_row: Vec<usize>,
    row_of_col: Vec<usize>,
    /// Room for one computed cost row.
    scratch: Vec<f64>,
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

impl<'a, C: Costs> Solver<'a, C> {
    fn new(costs: &'a C) -> Self {
        let n = costs.size();
        Solver {
            costs,
            n,
            v: vec![0.0; n],
            col_of_row: vec![FREE; n],
            row_of_col: vec![FREE; n],
            scratch: vec![0.0; n],
        }
    }

    fn assign(&mut self, i: usize, j: usize) {
        self.col_of_row[i] = j;
        self.row_of_col[j] = i;
    }

    /// Takes the auction's prices, and of its assignment the pairs where the row's column is
    /// exactly its cheapest (the invariant augmentation needs); returns the other rows.
    fn start_from(&mut self, a: auction::Auctioned) -> Vec<usize> {
        self.v = a.prices;
        let mut free = Vec::new();
        for (i, (&j, &cheapest)) in a.col_of_row.iter().zip(&a.cheapest_bound).enumerate() {
            // The same expression as the searches' reduced costs, so that "cheapest" means the
            // same thing to both.
            if self.costs.cost(i, j) - self.v[j] <= cheapest {
                self.assign(i, j);
            } else {
                free.push(i);
            }
        }
        free
    }

    /// Phases 1 and 2; returns the rows left free.
    fn reduce_columns(&mut self) -> Vec<usize> {
        let n = self.n;
        // Column minima, scanning rows so the matrix is read contiguously.
        let mut argmin = vec![0usize; n];
        let first = self.costs.row(0, &mut self.scratch);
        self.v.copy_from_slice(first);
        for i in 1..n {
            let row = self.costs.row(i, &mut self.scratch);
            for (j, &c) in row.iter().enumerate() {
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
                let row = self.costs.row(i, &mut self.scratch);
                let second = (0..n).filter(|&j| j != j1).map(|j| row[j] - self.v[j]).fold(f64::INFINITY, f64::min);
                self.v[j1] = row[j1] - second;
            }
        }
        free
    }

    /// Phase 3, one pass over `free`; returns the rows still free.
    fn augmenting_row_reduction(&mut self, mut free: Vec<usize>) -> Vec<usize> {
        let n = self.n;
        let mut still_free = Vec::new();
        let mut moves_left = REDUCTION_MOVES_PER_ROW * n;
        let mut k = 0;
        while k < free.len() {
            let i = free[k];
            k += 1;
            let row = self.costs.row(i, &mut self.scratch);
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
    /// flip the alternating path and update the prices of the settled columns. Returns the
    /// number of columns settled.
    ///
    /// This search is where the solver spends its time on geometric costs, so it sweeps the
    /// columns in index order (contiguous, prefetchable reads of the cost row) and hides the
    /// settled columns behind sentinels instead of testing a flag: a settled column's working
    /// price is −∞, so no path relaxes it, and its working distance is +∞, so it is never the
    /// nearest again. Relaxing through a row and finding the next nearest column are then one
    /// branch-free sweep ([`relax`]).
    fn augment(&mut self, free_row: usize, s: &mut Search) -> usize {
        s.price.copy_from_slice(&self.v);
        s.settled.clear();
        let row = self.costs.row(free_row, &mut self.scratch);
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
            let row = self.costs.row(i, &mut self.scratch);
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
        s.settled.len()
    }

    fn finish(self) -> Assignment {
        let rows_to_cols = self.col_of_row;
        let mut cost = 0.0;
        let mut row_potentials = Vec::with_capacity(self.n);
        for (i, &j) in rows_to_cols.iter().enumerate() {
            let c = self.costs.cost(i, j);
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
