//! `sinkhorn`: entropic optimal transport on the minibatch, each source row's partner drawn from
//! the plan (SB-CFM, Tong et al. 2024: a Schrödinger bridge with noise σ is the entropic OT plan
//! with regularisation 2σ²).
//!
//! The plan minimises ⟨π, C⟩ − ε·H(π) over plans with uniform marginals a = b = 1/n, where
//! C_ij = ‖x0_i − x1_j‖² is the raw squared Euclidean cost and ε = `reg`. This is exactly what
//! POT's `ot.sinkhorn(a, b, M, reg)` solves, which torchcfm's `OTPlanSampler` calls with
//! `reg = 2σ²` and, by default (`normalize_cost = False`), the unnormalised M: `reg` here is in
//! the same units, so SB-CFM's σ = 1 is `reg = 2`. (Dividing M by its maximum, torchcfm's
//! opt-in, would make ε relative to the batch's largest cost and so change with every batch.)
//!
//! The solution has the form π_ij = exp(F_i + G_j − C_ij/ε) with potentials F, G (in units of
//! ε). We run Sinkhorn's scaling iteration in the stabilised form of Schmitzer (2019):
//! π = diag(u)·K̃·diag(v) with K̃_ij = exp(F_i + G_j − C_ij/ε), alternating u ← a/(K̃v) and
//! v ← b/(K̃ᵀu) (two matrix–vector products per iteration, no exponentials). Whenever u or v
//! leaves [e⁻³⁰, e³⁰] they are absorbed into the potentials (F += ln u, G += ln v, u = v = 1)
//! and K̃ is recomputed, so K̃ stays near the plan's own scale and neither overflows nor
//! underflows for any ε > 0 (POT's plain kernel iteration turns into 0/0 once C/ε exceeds ~700).
//! The iteration starts from F_i = −min_j C_ij/ε, G = 0 (each row of K̃ peaks at 1: one pass
//! of exponentials) and falls back to an exact log-domain sweep, F_i = log a_i −
//! logsumexp_j(G_j − C_ij/ε) and then G likewise, if a scaling ever becomes 0 or infinite. After each v update the columns of the plan are exact; the row sums u_i·(K̃v)_i
//! give the stopping error Σ_i |r_i − a_i| (plan mass, L1) at the next iteration, which stops
//! once it is ≤ `tol`.
//!
//! Defaults: `tol = 1e-4` because the plan only serves to draw pairs — a plan-mass error of 1e-4
//! changes each row's draw probabilities far less than the minibatch's own sampling noise
//! (1/√n ≈ 0.04 at n = 512) — and `max_iter = 10_000`. Sinkhorn's rate is linear with a ratio
//! that approaches 1 as the costs grow relative to ε: at ε = 2 on the 8gaussians→moons scale
//! (squared distances in the hundreds) 1,000 iterations only reach ~1e-5. Running out of
//! iterations is an error that names both knobs, never a silently unconverged plan.
//!
//! Pairing: for each source row i we draw its target from the conditional π[i, ·]/Σ_j π[i, j]
//! ∝ K̃_ij·v_j (u_i cancels; the iteration's own kernel, so no exponentials), with the host's
//! seeded generator. Every source row is used
//! once and the pair (i, j) has probability π_ij, the same per-pair law as torchcfm, which draws
//! n pairs from the flattened plan with replacement; fixing i to each row in turn only removes
//! the variance of drawing the source rows. Target rows may repeat or be skipped.
//! As ε → 0 the plan tends to the exact OT plan (`exact-ot`); as ε → ∞ to the product a ⊗ b
//! (`independent`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runner_sdk::{Coupling, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use super::batch_size;
use crate::registry::Entry;
use crate::transport::squared_distances;

const NAME: &str = "sinkhorn";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("reg", 2.0, "entropic regularisation ε in squared-distance units (SB-CFM: 2σ², 2 for σ = 1)"),
    ParamSpec::float("tol", 1e-4, "stop when the row marginals are within this L1 (plan mass) error"),
    ParamSpec::int("max_iter", 10_000, "Sinkhorn iterations before giving up with an error"),
];

pub const ENTRY: Entry<dyn Coupling> = Entry {
    info: PluginInfo::new(
        PluginKind::Coupling,
        NAME,
        "entropic minibatch OT (stabilised Sinkhorn), partner of each source row drawn from the plan (SB-CFM)",
        PARAMS,
    ),
    make,
};

/// The entropic-OT coupling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sinkhorn {
    reg: f64,
    tol: f64,
    max_iter: usize,
}

fn make(p: &Params) -> Result<Box<dyn Coupling>, PluginError> {
    let max_iter = p.int("max_iter")?;
    if max_iter < 1 {
        return Err(p.invalid("max_iter", format!("must be at least 1, got {max_iter}")));
    }
    Ok(Box::new(Sinkhorn::new(p.float("reg")?, p.float("tol")?, max_iter as usize)?))
}

/// The converged scaled potentials of a Sinkhorn solve and the scaled cost −C/ε.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Rows (and columns) of the plan: the batch size.
    pub n: usize,
    /// F = f/ε, one per source row, with the scaling u absorbed: the rows are within `tol`.
    pub f: Vec<f64>,
    /// G = g/ε, one per target row, with v absorbed: the columns are exact (to round-off).
    pub g: Vec<f64>,
    /// −C_ij/ε, row-major.
    pub log_kernel: Vec<f64>,
    /// Sinkhorn iterations taken (one F and one G update each).
    pub iterations: usize,
    /// The L1 error of the row marginals at the stop.
    pub error: f64,
    /// Row i of the plan divided by its row factor e^{F_i}, row-major: what the partner draws
    /// read, kept from the iteration so that they need no exponentials.
    pub row_weights: Vec<f64>,
}

impl Plan {
    /// The plan π_ij = exp(F_i + G_j − C_ij/ε), row-major; its entries sum to 1.
    pub fn matrix(&self) -> Vec<f64> {
        let n = self.n;
        (0..n * n).map(|k| (self.f[k / n] + self.g[k % n] + self.log_kernel[k]).exp()).collect()
    }
}

impl Sinkhorn {
    /// `reg` must be positive and finite, `tol` positive.
    pub fn new(reg: f64, tol: f64, max_iter: usize) -> Result<Sinkhorn, PluginError> {
        let invalid = |param: &str, message: String| PluginError::ParamValue {
            plugin: NAME.to_string(),
            param: param.to_string(),
            message,
        };
        if !(reg > 0.0 && reg.is_finite()) {
            return Err(invalid("reg", format!("must be positive and finite, got {reg}")));
        }
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(invalid("tol", format!("must be positive and finite, got {tol}")));
        }
        Ok(Sinkhorn { reg, tol, max_iter })
    }

    /// Solve the entropic problem between the two batches (equal sizes, uniform weights).
    pub fn plan(&self, source: &[f32], target: &[f32], dim: usize) -> Result<Plan, PluginError> {
        let n = batch_size(NAME, source, target, dim)?;
        let invalid = |message: String| PluginError::Invalid { plugin: NAME.to_string(), message };
        let mut log_kernel = squared_distances(source, target, dim);
        if log_kernel.iter().any(|c| !c.is_finite()) {
            return Err(invalid(
                "the minibatch cost matrix is not finite (a source or target point is not finite)".into(),
            ));
        }
        log_kernel.iter_mut().for_each(|c| *c = -*c / self.reg);
        let mut s = Scaling::new(log_kernel, n);
        if n == 0 {
            return Ok(s.into_plan(0, 0.0));
        }
        s.start();
        let error = match iterate(&mut s, self.tol, self.max_iter) {
            Outcome::Converged { iterations, error } => return Ok(s.into_plan(iterations, error)),
            Outcome::Diverged { iteration } => {
                return Err(invalid(format!("the iteration diverged at step {iteration} (reg = {})", self.reg)))
            }
            Outcome::Exhausted { error } => error,
        };
        Err(invalid(format!(
            "no convergence in max_iter = {} iterations at reg = {}: the row marginals are still {error:.3e} \
             (L1) from uniform, above tol = {}; raise max_iter or reg (small reg relative to the squared \
             distances of the batch converges slowly)",
            self.max_iter, self.reg, self.tol
        )))
    }
}

/// How the scaling iteration ended.
enum Outcome {
    Converged { iterations: usize, error: f64 },
    Diverged { iteration: usize },
    Exhausted { error: f64 },
}

crate::simd::avx2_twin! {
/// Sinkhorn's iteration until the row marginals are within `tol`, compiled for AVX2 where the
/// CPU has it: the matrix–vector products are most of a solve.
fn iterate(s: &mut Scaling, tol: f64, max_iter: usize) -> Outcome {
    let mut error = f64::INFINITY;
    for iteration in 1..=max_iter {
        error = s.row_error();
        if !error.is_finite() {
            return Outcome::Diverged { iteration };
        }
        if error <= tol {
            return Outcome::Converged { iterations: iteration - 1, error };
        }
        s.scale();
    }
    Outcome::Exhausted { error }
}
}

/// Σ_k a_k·b_k over independent lanes (a float sum in one chain cannot use SIMD).
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 4;
    let mut acc = [0.0; LANES];
    let body = a.len() - a.len() % LANES;
    for (x, y) in a[..body].chunks_exact(LANES).zip(b[..body].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = a[body..].iter().zip(&b[body..]).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Scalings u, v of K̃ beyond e^±ABSORB are moved into the potentials.
const ABSORB: f64 = 30.0;

/// The state of the stabilised iteration: π = diag(u)·K̃·diag(v), K̃ = exp(F_i + G_j − C_ij/ε).
struct Scaling {
    n: usize,
    /// ln(1/n), the log of every marginal weight.
    log_mass: f64,
    log_kernel: Vec<f64>,
    f: Vec<f64>,
    g: Vec<f64>,
    kernel: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    /// K̃v, kept from the error check for the u update.
    kv: Vec<f64>,
}

impl Scaling {
    fn new(log_kernel: Vec<f64>, n: usize) -> Scaling {
        Scaling {
            n,
            log_mass: -(n as f64).ln(),
            log_kernel,
            f: vec![0.0; n],
            g: vec![0.0; n],
            kernel: vec![0.0; n * n],
            u: vec![1.0; n],
            v: vec![1.0; n],
            kv: vec![0.0; n],
        }
    }

    /// The first K̃: F_i = −max_j(−C_ij/ε), G = 0, so that each row's largest entry is 1 and
    /// none underflows where it matters. One pass of exponentials; the iteration falls back to
    /// [`Scaling::log_sweep`] if a scaling still leaves the floating-point range.
    fn start(&mut self) {
        let n = self.n;
        for (f, row) in self.f.iter_mut().zip(self.log_kernel.chunks_exact(n)) {
            *f = -row.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        }
        self.g.iter_mut().for_each(|g| *g = 0.0);
        self.refresh();
    }

    /// One exact log-domain update of F then G from the absorbed potentials (u, v dropped),
    /// then K̃ afresh: the columns are exact afterwards whatever the scale of the costs.
    fn log_sweep(&mut self) {
        let n = self.n;
        for (i, f) in self.f.iter_mut().enumerate() {
            *f = self.log_mass - log_sum_exp(&self.g, &self.log_kernel[i * n..(i + 1) * n]);
        }
        let column = |j: usize| self.log_kernel.iter().skip(j).step_by(n);
        let log_mass = self.log_mass;
        let f = &self.f;
        for (j, g) in self.g.iter_mut().enumerate() {
            let max = f.iter().zip(column(j)).map(|(f, m)| f + m).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = f.iter().zip(column(j)).map(|(f, m)| (f + m - max).exp()).sum();
            *g = log_mass - (max + sum.ln());
        }
        self.refresh();
    }

    /// K̃ from the potentials, with u = v = 1.
    fn refresh(&mut self) {
        let n = self.n;
        for (k, entry) in self.kernel.iter_mut().enumerate() {
            *entry = (self.f[k / n] + self.g[k % n] + self.log_kernel[k]).exp();
        }
        self.u.iter_mut().for_each(|x| *x = 1.0);
        self.v.iter_mut().for_each(|x| *x = 1.0);
    }

    /// Σ_i |u_i·(K̃v)_i − 1/n|: the L1 error of the row marginals (the columns are exact after
    /// every [`Scaling::scale`]); also keeps K̃v for the next u update.
    #[inline(always)]
    fn row_error(&mut self) -> f64 {
        let n = self.n;
        for (kv, row) in self.kv.iter_mut().zip(self.kernel.chunks_exact(n)) {
            *kv = dot(row, &self.v);
        }
        let mass = 1.0 / n as f64;
        self.u.iter().zip(&self.kv).map(|(u, kv)| (u * kv - mass).abs()).sum()
    }

    /// u ← a/(K̃v), v ← b/(K̃ᵀu); absorb large scalings, or redo the step in the log domain
    /// where a scaling under- or overflowed.
    #[inline(always)]
    fn scale(&mut self) {
        let n = self.n;
        let mass = 1.0 / n as f64;
        for (u, kv) in self.u.iter_mut().zip(&self.kv) {
            *u = mass / kv;
        }
        let mut ktu = vec![0.0; n];
        for (row, u) in self.kernel.chunks_exact(n).zip(&self.u) {
            for (acc, k) in ktu.iter_mut().zip(row) {
                *acc += k * u;
            }
        }
        for (v, s) in self.v.iter_mut().zip(&ktu) {
            *v = mass / s;
        }
        let usable = |x: &f64| x.is_finite() && *x > 0.0;
        if !(self.u.iter().all(usable) && self.v.iter().all(usable)) {
            self.log_sweep();
            return;
        }
        let large = |x: &f64| x.ln().abs() > ABSORB;
        if self.u.iter().any(large) || self.v.iter().any(large) {
            for (f, u) in self.f.iter_mut().zip(&self.u) {
                *f += u.ln();
            }
            for (g, v) in self.g.iter_mut().zip(&self.v) {
                *g += v.ln();
            }
            self.refresh();
        }
    }

    /// The plan with u and v absorbed into the potentials.
    fn into_plan(mut self, iterations: usize, error: f64) -> Plan {
        let f = self.f.iter().zip(&self.u).map(|(f, u)| f + u.ln()).collect();
        let g = self.g.iter().zip(&self.v).map(|(g, v)| g + v.ln()).collect();
        // π_ij = u_i·K̃_ij·v_j: dropping u_i leaves row i of the plan up to its factor.
        let n = self.n;
        for row in self.kernel.chunks_exact_mut(n.max(1)) {
            for (k, v) in row.iter_mut().zip(&self.v) {
                *k *= v;
            }
        }
        Plan { n, f, g, log_kernel: self.log_kernel, iterations, error, row_weights: self.kernel }
    }
}

/// log Σ_k exp(a_k + b_k), shifted by the maximum so that no term overflows.
fn log_sum_exp(a: &[f64], b: &[f64]) -> f64 {
    let max = a.iter().zip(b).map(|(x, y)| x + y).fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    let sum: f64 = a.iter().zip(b).map(|(x, y)| (x + y - max).exp()).sum();
    max + sum.ln()
}

impl Coupling for Sinkhorn {
    fn pair(&self, source: &[f32], target: &[f32], dim: usize, seed: u64) -> Result<Vec<usize>, PluginError> {
        let plan = self.plan(source, target, dim)?;
        let n = plan.n;
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cumulative = vec![0.0; n];
        let mut pairs = Vec::with_capacity(n);
        for (row, log_row) in plan.row_weights.chunks_exact(n).zip(plan.log_kernel.chunks_exact(n)) {
            let mut total = 0.0;
            for (c, w) in cumulative.iter_mut().zip(row) {
                total += w;
                *c = total;
            }
            if !(total > 0.0 && total.is_finite()) {
                // The row's weights left the floating-point range: its conditional from the
                // potentials, shifted so that the largest term is exp(0) = 1 (total ≥ 1).
                let max = plan.g.iter().zip(log_row).map(|(g, c)| g + c).fold(f64::NEG_INFINITY, f64::max);
                total = 0.0;
                for ((c, g), l) in cumulative.iter_mut().zip(&plan.g).zip(log_row) {
                    total += (g + l - max).exp();
                    *c = total;
                }
            }
            // Inverse CDF: the first j whose cumulative weight exceeds u·total.
            let u = rng.random::<f64>() * total;
            pairs.push(cumulative.partition_point(|&w| w <= u).min(n - 1));
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_positive_reg_and_tol_by_name() {
        let err = Sinkhorn::new(0.0, 1e-6, 10).unwrap_err().to_string();
        assert!(err.contains("reg") && err.contains("sinkhorn"), "{err}");
        let err = Sinkhorn::new(1.0, -1.0, 10).unwrap_err().to_string();
        assert!(err.contains("tol"), "{err}");
    }

    #[test]
    fn the_draws_read_the_rows_of_the_plan() {
        // The weights the partner draws read (kept from the iteration, no exponentials) are the
        // rows of the plan from its potentials, each up to its own factor.
        let source: Vec<f32> = (0..40).map(|k| ((k * 7919) % 97) as f32 / 9.7).collect();
        let target: Vec<f32> = (0..40).map(|k| ((k * 104_729) % 89) as f32 / 8.9 + 1.0).collect();
        let plan = Sinkhorn::new(0.5, 1e-9, 10_000).unwrap().plan(&source, &target, 2).unwrap();
        let (n, pi) = (plan.n, plan.matrix());
        for (weights, row) in plan.row_weights.chunks_exact(n).zip(pi.chunks_exact(n)) {
            let (sw, sr) = (weights.iter().sum::<f64>(), row.iter().sum::<f64>());
            for (w, p) in weights.iter().zip(row) {
                assert!((w / sw - p / sr).abs() <= 1e-12, "{} vs {}", w / sw, p / sr);
            }
        }
    }

    #[test]
    fn non_convergence_is_an_error_that_names_max_iter_and_reg() {
        let source = [0.0, 1.0, 2.0, 3.0];
        let target = [3.5, 0.5, 2.5, 1.5];
        let err = Sinkhorn::new(1e-3, 1e-12, 2).unwrap().pair(&source, &target, 1, 0).unwrap_err().to_string();
        assert!(err.contains("max_iter = 2") && err.contains("reg = 0.001"), "{err}");
    }
}
