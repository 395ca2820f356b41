//! The states a solver holds handles to, and the buffers of those it released, kept for reuse:
//! a solve then allocates only in its first steps.

use std::collections::HashMap;

use runner_sdk::{Handle, PluginError};

pub(crate) struct States<T> {
    live: HashMap<u64, T>,
    free: Vec<T>,
    next: u64,
}

impl<T> States<T> {
    pub fn new() -> Self {
        States { live: HashMap::new(), free: Vec::new(), next: 0 }
    }

    pub fn get(&self, x: Handle) -> Result<&T, PluginError> {
        self.live.get(&x.0).ok_or_else(|| PluginError::Dynamics(format!("stale or unknown handle {}", x.0)))
    }

    pub fn insert(&mut self, x: T) -> Handle {
        self.next += 1;
        self.live.insert(self.next, x);
        Handle(self.next)
    }

    /// The handle's state is no longer needed: its buffer is kept for [`States::reuse`].
    pub fn release(&mut self, x: Handle) {
        if let Some(v) = self.live.remove(&x.0) {
            self.free.push(v);
        }
    }

    /// The handle's state is no longer needed, nor its buffer.
    pub fn remove(&mut self, x: Handle) {
        self.live.remove(&x.0);
    }

    /// A released buffer that `fits`, if any.
    pub fn reuse(&mut self, fits: impl Fn(&T) -> bool) -> Option<T> {
        let i = self.free.iter().position(fits)?;
        Some(self.free.swap_remove(i))
    }
}
