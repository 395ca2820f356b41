//! `inline`: the trials run one after another in the script's own process, on every core.

use super::{Launch, LaunchError, Launched, Launcher};
use crate::progress::TrialProgress;
use crate::sweep::run_trial;

pub struct Inline;

impl Launcher for Inline {
    fn launch(&self, launch: &Launch<'_>) -> Result<Launched, LaunchError> {
        let mut progress = TrialProgress::new(launch.terminal, launch.trials.len());
        for id in launch.trials {
            // A failed trial says why in its directory and its log; the others still run.
            if let Err(e) = run_trial(&launch.sweep_dir.join(id), launch.registry.clone(), &mut progress) {
                tracing::warn!(trial = %id, "{e}");
            }
            progress.trial_done();
        }
        progress.finish();
        Ok(Launched::Finished)
    }
}
