//! A [`StepContext`] over plain vectors: the step memory of runner's integration loop and of
//! the testkit's, so that a plugin's conformance tests see the memory its solver gets in runner.

use runner_sdk::{Handle, Remembered, StepContext, Target};

/// The grid, the step's index and what earlier steps remembered. Handles it is told to drop
/// (forgotten evaluations, replaced error estimates) wait in [`VecContext::take_released`] for
/// the loop to release them, since the dynamics are borrowed by the step meanwhile.
#[derive(Debug, Clone, Default)]
pub struct VecContext {
    grid: Vec<f64>,
    index: usize,
    history: Vec<Remembered>,
    error_estimate: Option<Handle>,
    released: Vec<Handle>,
}

impl VecContext {
    pub fn new(grid: Vec<f64>) -> VecContext {
        VecContext { grid, ..VecContext::default() }
    }

    pub fn set_index(&mut self, index: usize) {
        self.index = index;
    }

    /// The handles the context owned and dropped since the last call: the loop releases them.
    pub fn take_released(&mut self) -> Vec<Handle> {
        std::mem::take(&mut self.released)
    }

    /// The last step's error estimate, if the solver set one (the caller owns it now).
    pub fn take_error_estimate(&mut self) -> Option<Handle> {
        self.error_estimate.take()
    }

    /// Everything the context still owns, emptying it: the loop releases these when it ends.
    pub fn drain(&mut self) -> Vec<Handle> {
        let mut all = self.take_released();
        all.extend(self.history.drain(..).map(|r| r.value));
        all.extend(self.error_estimate.take());
        all
    }
}

impl StepContext for VecContext {
    fn grid(&self) -> &[f64] {
        &self.grid
    }

    fn index(&self) -> usize {
        self.index
    }

    fn history(&self) -> &[Remembered] {
        &self.history
    }

    fn remember(&mut self, t: f64, target: Target, value: Handle) {
        self.history.push(Remembered { t, target, value });
    }

    fn forget(&mut self, value: Handle) {
        if let Some(i) = self.history.iter().position(|r| r.value == value) {
            self.history.remove(i);
            self.released.push(value);
        }
    }

    fn set_error_estimate(&mut self, error: Handle) {
        if let Some(old) = self.error_estimate.replace(error) {
            self.released.push(old);
        }
    }
}
