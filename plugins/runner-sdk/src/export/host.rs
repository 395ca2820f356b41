//! The host's tables seen as SDK traits inside a plugin: a [`Solver::step`](crate::Solver::step)
//! or a [`TimeGrid`](crate::TimeGrid) written against the traits runs unchanged against the
//! host's tensors, step memory and schedule. Each adapter borrows the host's table for one call.

use super::abi_error;
use super::convert::{coefficients_from_abi, target_from_abi, target_to_abi};
use crate::abi;
use crate::{Coefficients, Dynamics, Handle, PluginError, Remembered, Schedule, StepContext, Target};

/// The host's size of a table must cover every field this SDK reads: all of them, in ABI 1.0.
fn check_size(size: usize, want: usize, what: &str) -> Result<(), PluginError> {
    if size < want {
        return Err(abi_error(format!("the host's {what} table has {size} bytes, fewer than the {want} of ABI 1.0")));
    }
    Ok(())
}

/// [`Dynamics`] over the host's [`abi::Dynamics`]. The host keeps the reason of a failure
/// itself, so a failed operation only says which one it was.
pub struct HostDynamics<'a> {
    table: &'a abi::Dynamics,
}

impl<'a> HostDynamics<'a> {
    /// # Safety
    /// `table` must be null or a valid table whose functions may be called while `'a` lasts.
    pub unsafe fn new(table: *const abi::Dynamics) -> Result<HostDynamics<'a>, PluginError> {
        let table = table.as_ref().ok_or_else(|| abi_error("the host passed null dynamics"))?;
        check_size(table.size, std::mem::size_of::<abi::Dynamics>(), "dynamics")?;
        Ok(HostDynamics { table })
    }

    fn status(status: abi::Status, op: &str) -> Result<(), PluginError> {
        if status == abi::STATUS_OK {
            Ok(())
        } else {
            Err(PluginError::Dynamics(format!("the host's {op} failed")))
        }
    }
}

impl Dynamics for HostDynamics<'_> {
    fn predict(&mut self, x: Handle, t: f64, target: Target) -> Result<Handle, PluginError> {
        let mut out = 0;
        let s = unsafe { (self.table.predict)(self.table.host, x.0, t, target_to_abi(target), &mut out) };
        Self::status(s, "predict").map(|()| Handle(out))
    }

    fn lincomb(&mut self, terms: &[(f64, Handle)]) -> Result<Handle, PluginError> {
        let terms: Vec<abi::Term> = terms.iter().map(|&(coef, h)| abi::Term { coef, handle: h.0 }).collect();
        let mut out = 0;
        let s = unsafe { (self.table.lincomb)(self.table.host, terms.as_ptr(), terms.len(), &mut out) };
        Self::status(s, "lincomb").map(|()| Handle(out))
    }

    fn noise_like(&mut self, x: Handle) -> Result<Handle, PluginError> {
        let mut out = 0;
        let s = unsafe { (self.table.noise_like)(self.table.host, x.0, &mut out) };
        Self::status(s, "noise_like").map(|()| Handle(out))
    }

    fn error_norm(&mut self, a: Handle, b: Handle) -> Result<f64, PluginError> {
        let mut out = 0.0;
        let s = unsafe { (self.table.error_norm)(self.table.host, a.0, b.0, &mut out) };
        Self::status(s, "error_norm").map(|()| out)
    }

    fn is_finite(&mut self, x: Handle) -> Result<bool, PluginError> {
        let mut out = 0;
        let s = unsafe { (self.table.is_finite)(self.table.host, x.0, &mut out) };
        Self::status(s, "is_finite").map(|()| out != 0)
    }

    fn coefficients(&self, t: f64) -> Coefficients {
        let mut out = abi::Coefficients::default();
        unsafe { (self.table.coefficients)(self.table.host, t, &mut out) };
        coefficients_from_abi(out)
    }

    fn release(&mut self, x: Handle) {
        unsafe { (self.table.release)(self.table.host, x.0) }
    }
}

/// [`StepContext`] over the host's [`abi::StepContext`]. The host's history is valid only until
/// the next call on its table, so this keeps a copy, refreshed after every call that changes
/// it, and [`StepContext::history`] returns that.
pub struct HostContext<'a> {
    table: &'a abi::StepContext,
    grid: &'a [f64],
    history: Vec<Remembered>,
    /// The first history entry whose target the ABI does not define: the step fails with it.
    garbled: Option<PluginError>,
}

impl<'a> HostContext<'a> {
    /// # Safety
    /// `table` must be null or a valid table (its grid included) for as long as `'a` lasts.
    pub unsafe fn new(table: *const abi::StepContext) -> Result<HostContext<'a>, PluginError> {
        let table = table.as_ref().ok_or_else(|| abi_error("the host passed a null step context"))?;
        check_size(table.size, std::mem::size_of::<abi::StepContext>(), "step context")?;
        let grid = super::input(table.grid, table.grid_len, "grid")?;
        let mut ctx = HostContext { table, grid, history: Vec::new(), garbled: None };
        ctx.refresh();
        ctx.check()?;
        Ok(ctx)
    }

    /// An error if the host's history held a value this SDK cannot read.
    pub fn check(&self) -> Result<(), PluginError> {
        self.garbled.clone().map_or(Ok(()), Err)
    }

    fn refresh(&mut self) {
        let (mut ptr, mut len) = (std::ptr::null(), 0);
        unsafe { (self.table.history)(self.table.host, &mut ptr, &mut len) };
        let entries = match unsafe { super::input(ptr, len, "history") } {
            Ok(entries) => entries,
            Err(e) => {
                self.garbled.get_or_insert(e);
                &[]
            }
        };
        self.history.clear();
        for r in entries {
            match target_from_abi(r.target) {
                Ok(target) => self.history.push(Remembered { t: r.t, target, value: Handle(r.value) }),
                Err(e) => {
                    self.garbled.get_or_insert(e);
                }
            }
        }
    }
}

impl StepContext for HostContext<'_> {
    fn grid(&self) -> &[f64] {
        self.grid
    }

    fn index(&self) -> usize {
        self.table.index
    }

    fn history(&self) -> &[Remembered] {
        &self.history
    }

    fn remember(&mut self, t: f64, target: Target, value: Handle) {
        unsafe { (self.table.remember)(self.table.host, t, target_to_abi(target), value.0) };
        self.refresh();
    }

    fn forget(&mut self, value: Handle) {
        unsafe { (self.table.forget)(self.table.host, value.0) };
        self.refresh();
    }

    fn set_error_estimate(&mut self, error: Handle) {
        unsafe { (self.table.set_error_estimate)(self.table.host, error.0) }
    }
}

/// [`Schedule`] over the host's [`abi::ScheduleRef`], for grids defined in noise level.
pub struct HostSchedule<'a> {
    table: &'a abi::ScheduleRef,
}

// SAFETY: the trait asks for `Send + Sync`, which the table's raw pointer is not; the host's
// schedule is a pure function of t, and this adapter only lives for the call it was handed in.
unsafe impl Send for HostSchedule<'_> {}
unsafe impl Sync for HostSchedule<'_> {}

impl<'a> HostSchedule<'a> {
    /// # Safety
    /// `table` must be null or a valid table whose function may be called while `'a` lasts.
    pub unsafe fn new(table: *const abi::ScheduleRef) -> Result<HostSchedule<'a>, PluginError> {
        let table = table.as_ref().ok_or_else(|| abi_error("the host passed a null schedule"))?;
        check_size(table.size, std::mem::size_of::<abi::ScheduleRef>(), "schedule")?;
        Ok(HostSchedule { table })
    }
}

impl Schedule for HostSchedule<'_> {
    fn coefficients(&self, t: f64) -> Coefficients {
        let mut out = abi::Coefficients::default();
        unsafe { (self.table.coefficients)(self.table.host, t, &mut out) };
        coefficients_from_abi(out)
    }
}
