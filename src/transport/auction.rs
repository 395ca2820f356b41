//! Bertsekas's forward auction with ε-scaling, as the start of the exact assignment solver on
//! large problems: it finds column prices within ε of optimal in far fewer operations than the
//! O(n³) Hungarian method, and the solver then finishes exactly from those prices
//! ([`super::assignment`]).
//!
//! Prices here follow the solver's sign convention: a row's reduced cost for column j is
//! `c[i][j] − v[j]`, and a row wants its cheapest column. A free row *bids* for its cheapest
//! column j1 by lowering `v[j1]` until that column is ε dearer than its second cheapest, takes
//! it, and frees the row that held it. Every assigned row stays within ε of its cheapest column
//! (ε-complementary slackness), every bid lowers a price by at least ε, and so a phase ends with
//! every row assigned. Phases run with ε shrinking by [`EPSILON_SHRINK`], keeping the prices, so
//! each phase only corrects what the previous coarser one got almost right.
//!
//! Prices only ever fall, so reduced costs only ever rise. That makes a cheap candidate list
//! exact: a full scan of row i keeps its [`CANDIDATES`] cheapest columns and the next-cheapest
//! reduced cost as a *bound* below which no other column can ever come. A bid reads only the
//! candidates; while the cheapest of them is at or below the bound it is the row's true
//! cheapest column, and `min(second candidate, bound)` is a valid (never too high) second best.
//! Only when the candidates have all risen past the bound is the row scanned again. On geometric
//! costs most bids then cost O([`CANDIDATES`]) instead of O(n).
//!
//! Below [`SWEEP_BELOW`] rows (minibatch couplings) the lists do not pay: in the coarse first
//! phases every bid moves a price by far more than the gaps between a row's candidates, so
//! nearly every bid exhausts a list and rescans the row anyway. There each bid sweeps its whole
//! row instead, in a branch-free pass that the compiler vectorises ([`sweep`]).

use std::collections::VecDeque;

use super::costs::Costs;

/// Columns remembered per row between full scans.
pub const CANDIDATES: usize = 16;

/// Below this many rows a bid sweeps its whole row rather than keep candidate lists. Measured on
/// stored cost matrices between 2-D normal, 8gaussians and moons-like draws (mean of 20 solves):
/// at 512 rows lists take 18–25 ms a solve and sweeps 11–14 ms, at 1,024 rows 72–78 ms against
/// 52–57 ms, at 2,048 both about 300 ms, at 4,096 lists 1.0 s and sweeps 1.5 s.
pub const SWEEP_BELOW: usize = 2048;

/// Independent lanes of the row sweep (so that the compiler can use SIMD).
const LANES: usize = 4;

/// ε is divided by this from one phase to the next.
pub const EPSILON_SHRINK: f64 = 8.0;

/// The first phase's ε, as a fraction of the range of the costs.
const FIRST_EPSILON: f64 = 1.0 / 16.0;

/// The last phase's ε, as a fraction of the largest cost magnitude. Small enough that a row's
/// ε-window rarely holds a second column, so that the exact finish rarely searches far; large
/// enough to stay far above the f64 rounding of reduced costs of the order of the costs (else
/// a bid could leave them unchanged and bidding wars would crawl).
const LAST_EPSILON: f64 = 1e-9;

/// No row or column.
const NONE: u32 = u32::MAX;

/// Prices and an assignment from the auction.
#[derive(Debug, Clone)]
pub struct Auctioned {
    /// Column prices v.
    pub prices: Vec<f64>,
    /// The column of each row: a complete assignment within n·ε of the optimal cost.
    pub col_of_row: Vec<usize>,
    /// For each row, a lower bound on its cheapest reduced cost `min_j c[i][j] − v[j]` under the
    /// final prices: a row whose assigned column reaches it is exactly at its cheapest.
    pub cheapest_bound: Vec<f64>,
    /// Bids made, over all phases.
    pub bids: usize,
    /// Full row scans made: candidate-list refreshes (the first one of each row included), or
    /// one per bid where bids sweep their rows.
    pub scans: usize,
    /// Phases run.
    pub phases: usize,
}

/// How a bid finds its row's two cheapest columns.
enum Lookup {
    /// Candidate lists, rescanned when exhausted (large problems).
    Candidates(Candidates),
    /// A sweep of the whole row at every bid (small problems).
    Sweep,
}

/// Each row's candidate columns and the bound below which no other column can come.
struct Candidates {
    /// Per row, `width` candidate columns.
    cols: Vec<u32>,
    /// Their costs (costs never change, so they are read once).
    costs: Vec<f64>,
    /// Per row, the reduced cost of the first column left out at the last scan (+∞ if none).
    bound: Vec<f64>,
    width: usize,
}

/// The cheapest and second-cheapest reduced cost a row sees, and where the cheapest is.
struct Best {
    col: usize,
    cost: f64,
    first: f64,
    second: f64,
}

/// Runs the ε-scaling auction on the `n × n` costs (n ≥ 2).
pub fn auction<C: Costs>(costs: &C) -> Auctioned {
    let n = costs.size();
    assert!(n >= 2, "the auction needs at least two rows");
    let mut lookup = if n < SWEEP_BELOW {
        Lookup::Sweep
    } else {
        let width = CANDIDATES.min(n);
        Lookup::Candidates(Candidates {
            cols: vec![0; n * width],
            costs: vec![0.0; n * width],
            bound: vec![f64::INFINITY; n],
            width,
        })
    };
    let mut v = vec![0.0; n];
    let mut scratch = vec![0.0; n];
    let mut scans = 0;
    // First scans of every row, with all prices 0, also give the range of the costs.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        let row = costs.row(i, &mut scratch);
        for &c in row.iter() {
            lo = lo.min(c);
            hi = hi.max(c);
        }
        if let Lookup::Candidates(cand) = &mut lookup {
            cand.rescan(i, row, &v);
            scans += 1;
        }
    }
    let range = hi - lo;
    let mut col_of_row = vec![NONE; n];
    let mut row_of_col = vec![NONE; n];
    let mut bids = 0;
    let mut phases = 0;
    if range > 0.0 {
        let last = lo.abs().max(hi.abs()) * LAST_EPSILON;
        let mut epsilon = (range * FIRST_EPSILON).max(last);
        let mut free = VecDeque::with_capacity(n);
        loop {
            phases += 1;
            // Rows whose column is still within the new ε of their cheapest keep it.
            for (i, j) in col_of_row.iter_mut().enumerate() {
                if *j != NONE {
                    let cheapest = lookup.cheapest(i, costs, &v, &mut scratch);
                    if costs.cost(i, *j as usize) - v[*j as usize] > cheapest + epsilon {
                        row_of_col[*j as usize] = NONE;
                        *j = NONE;
                    }
                }
                if *j == NONE {
                    free.push_back(i);
                }
            }
            while let Some(i) = free.pop_front() {
                let best = lookup.best(i, costs, &v, &mut scratch, &mut scans);
                let second = best.second;
                v[best.col] = best.cost - second - epsilon;
                bids += 1;
                let displaced = row_of_col[best.col];
                if displaced != NONE {
                    col_of_row[displaced as usize] = NONE;
                    free.push_back(displaced as usize);
                }
                row_of_col[best.col] = i as u32;
                col_of_row[i] = best.col as u32;
            }
            if epsilon <= last {
                break;
            }
            epsilon = (epsilon / EPSILON_SHRINK).max(last);
        }
    } else {
        // Every cost is the same: every assignment is optimal.
        for (i, j) in col_of_row.iter_mut().enumerate() {
            *j = i as u32;
        }
    }
    let cheapest_bound = (0..n).map(|i| lookup.cheapest(i, costs, &v, &mut scratch)).collect();
    Auctioned {
        prices: v,
        col_of_row: col_of_row.into_iter().map(|j| j as usize).collect(),
        cheapest_bound,
        bids,
        scans,
        phases,
    }
}

impl Lookup {
    /// Row `i`'s cheapest column under prices `v`, and a second-cheapest reduced cost that is
    /// never too high (what a bid needs); counts the full row scans it makes.
    fn best<C: Costs>(&mut self, i: usize, costs: &C, v: &[f64], scratch: &mut [f64], scans: &mut usize) -> Best {
        match self {
            Lookup::Sweep => {
                *scans += 1;
                sweep(costs.row(i, scratch), v)
            }
            Lookup::Candidates(cand) => {
                let mut best = cand.best(i, v);
                if best.first > cand.bound[i] {
                    cand.rescan(i, costs.row(i, scratch), v);
                    *scans += 1;
                    best = cand.best(i, v);
                }
                best.second = best.second.min(cand.bound[i]);
                best
            }
        }
    }

    /// A lower bound on row `i`'s cheapest reduced cost under prices `v` (exact for sweeps).
    fn cheapest<C: Costs>(&self, i: usize, costs: &C, v: &[f64], scratch: &mut [f64]) -> f64 {
        match self {
            Lookup::Sweep => sweep(costs.row(i, scratch), v).first,
            Lookup::Candidates(cand) => cand.best(i, v).first.min(cand.bound[i]),
        }
    }
}

crate::simd::avx2_twin! {
/// The two cheapest reduced costs `row[j] − v[j]` of a whole row and where the cheapest is: a
/// running first and second minimum per lane, then the lanes merged. Written as plain
/// comparisons and selects on f64 only (not `f64::min`, whose NaN rule blocks SIMD, costs being
/// finite; the column of each lane's minimum kept as an f64, exact far beyond any n) so that the
/// loop compiles to packed vector instructions.
fn sweep(row: &[f64], v: &[f64]) -> Best {
    let lesser = |a: f64, b: f64| if a < b { a } else { b };
    let greater = |a: f64, b: f64| if a < b { b } else { a };
    let mut first = [f64::INFINITY; LANES];
    let mut second = [f64::INFINITY; LANES];
    let mut at = [0.0; LANES];
    let mut column: [f64; LANES] = std::array::from_fn(|l| l as f64);
    let body = row.len() - row.len() % LANES;
    for (c, p) in row[..body].chunks_exact(LANES).zip(v[..body].chunks_exact(LANES)) {
        for l in 0..LANES {
            let r = c[l] - p[l];
            second[l] = lesser(second[l], greater(first[l], r));
            at[l] = if r < first[l] { column[l] } else { at[l] };
            first[l] = lesser(first[l], r);
            column[l] += LANES as f64;
        }
    }
    let mut best = Best { col: 0, cost: 0.0, first: f64::INFINITY, second: f64::INFINITY };
    for l in 0..LANES {
        best.offer(first[l], at[l] as usize);
        best.second = lesser(best.second, second[l]);
    }
    for j in body..row.len() {
        best.offer(row[j] - v[j], j);
    }
    best.cost = row[best.col];
    best
}
}

impl Best {
    /// Takes column `j` at reduced cost `r` into the two cheapest.
    fn offer(&mut self, r: f64, j: usize) {
        if r < self.first {
            self.second = self.first;
            self.first = r;
            self.col = j;
        } else if r < self.second {
            self.second = r;
        }
    }
}

impl Candidates {
    /// Refreshes row `i`'s candidates from its full cost row under prices `v`: the `width`
    /// cheapest reduced costs, sorted, and the next one as the bound.
    fn rescan(&mut self, i: usize, row: &[f64], v: &[f64]) {
        let w = self.width;
        // Insertion into a sorted list of the w + 1 cheapest: after the first few hundred
        // columns the test below almost never passes, so the sweep is a predictable branch.
        let mut h = [f64::INFINITY; CANDIDATES + 1];
        let mut at = [0u32; CANDIDATES + 1];
        let keep = (w + 1).min(row.len());
        let mut filled = 0;
        for (j, (&c, &p)) in row.iter().zip(v).enumerate() {
            let r = c - p;
            if filled < keep || r < h[keep - 1] {
                let mut k = filled.min(keep - 1);
                while k > 0 && h[k - 1] > r {
                    h[k] = h[k - 1];
                    at[k] = at[k - 1];
                    k -= 1;
                }
                h[k] = r;
                at[k] = j as u32;
                filled = (filled + 1).min(keep);
            }
        }
        for (k, &j) in at[..w].iter().enumerate() {
            self.cols[i * w + k] = j;
            self.costs[i * w + k] = row[j as usize];
        }
        self.bound[i] = if keep > w { h[w] } else { f64::INFINITY };
    }

    /// The two cheapest candidates of row `i` under prices `v`.
    fn best(&self, i: usize, v: &[f64]) -> Best {
        let w = self.width;
        let cols = &self.cols[i * w..(i + 1) * w];
        let costs = &self.costs[i * w..(i + 1) * w];
        let mut best = Best { col: 0, cost: 0.0, first: f64::INFINITY, second: f64::INFINITY };
        for (&j, &c) in cols.iter().zip(costs) {
            let r = c - v[j as usize];
            if r < best.first {
                best.second = best.first;
                best.first = r;
                best.col = j as usize;
                best.cost = c;
            } else if r < best.second {
                best.second = r;
            }
        }
        best
    }
}
