//! What the report recomputes from a trial's files: the held-out target points (a seeded draw)
//! and the trajectories of its deterministic samplers from a few source points (its saved
//! network). Both are cheap next to the evaluations: a few dozen points through one solve.

use std::sync::Arc;

use runner_sdk::{Mixture, SolverKind};

use super::results::{Evaluated, TrialResults};
use super::ReportError;
use crate::models::Model;
use crate::plugins::Registry;
use crate::sampling::{self, Network, SampleSpec, Trajectory};
use crate::seed;
use crate::setup::Setup;
use crate::sweep::{test_target, NETWORK};

/// A trial's data and its model, rebuilt from its spec and `model.bpk`.
pub struct Rebuilt {
    pub setup: Setup,
    pub target: Vec<f32>,
    pub mixture: Option<Mixture>,
    model: Option<Model>,
}

impl Rebuilt {
    pub fn new(trial: &TrialResults, registry: &Arc<Registry>) -> Result<Rebuilt, ReportError> {
        let resolved = trial.spec.resolved();
        let setup = Setup::new(&resolved, registry.clone())?;
        let target = test_target(&setup, &resolved.config);
        let mixture = setup.data.mixture();
        Ok(Rebuilt { setup, target, mixture, model: None })
    }

    /// Whether `e` is a deterministic sampler's row: a solve that trajectories can show.
    pub fn is_deterministic(&self, e: &Evaluated) -> bool {
        crate::solvers::build(&self.setup.registry, &e.evaluation.solver, &e.evaluation.params)
            .is_ok_and(|(solver, _)| !matches!(solver.kind(), SolverKind::Stochastic))
    }

    /// The states of `e`'s solve from the first `count` of its source points, at every grid time.
    pub fn trajectory(&mut self, trial: &TrialResults, e: &Evaluated, count: usize) -> Result<Trajectory, ReportError> {
        let c = &trial.spec.config;
        // Weights load on the CPU backend whatever device trained them: a report runs anywhere.
        let device = crate::device::parse("flex").or_else(|_| crate::device::parse(&c.device))?;
        if self.model.is_none() {
            self.model = Some(match &self.setup.oracle {
                Some(oracle) => Model::Oracle(oracle.clone()),
                None => Model::Mlp(crate::train::load_network(c, self.setup.dim, &trial.dir.join(NETWORK), &device)?),
            });
        }
        let model = self.model.as_ref().expect("just set");
        let dim = self.setup.dim;
        // The evaluation's own source points, as it drew them: the first `count` of them.
        let mut x0 = self.setup.source.sample(c.eval.size, seed::derive(c.data_seed(), "eval-source", 0));
        x0.truncate(count * dim);
        let spec = SampleSpec {
            registry: &self.setup.registry,
            solver: &e.evaluation.solver,
            solver_params: &e.evaluation.params,
            nfe: e.evaluation.nfe,
            grid: &c.eval.grid,
            span: self.setup.span,
        };
        let network = Network { model, schedule: self.setup.schedule.as_ref(), target: self.setup.target };
        let noise_seed = seed::derive(c.seed, "sample-noise", 0);
        Ok(sampling::solve(&network, &device, x0, dim, &spec, noise_seed, true)?.1)
    }
}
