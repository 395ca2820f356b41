//! A library's solver. Its step runs inside the library and reaches the host's tensors through
//! two tables the host builds for each step: the dynamics (model evaluations and linear
//! combinations on opaque handles) and the step context (the grid and what earlier steps kept).
//! A failing step leaves no handle behind: whatever it created and still holds is released
//! here, so the loop can report the error and go on.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use runner_abi as abi;
use runner_sdk::{Coefficients, Dynamics, Handle, PluginError, Solver, SolverKind, StepContext};

use runner_sdk::export::convert;

use super::{call, Instance};

type StepFn = unsafe extern "C" fn(
    *const c_void,
    *const abi::Dynamics,
    *const abi::StepContext,
    u64,
    f64,
    f64,
    *mut u64,
    *mut abi::ErrorBuf,
) -> abi::Status;

pub struct ForeignSolver {
    pub instance: Instance,
    pub vtable: &'static abi::SolverVtable,
    pub step: StepFn,
    pub kind: SolverKind,
    pub evals_per_step: usize,
}

impl Solver for ForeignSolver {
    fn kind(&self) -> SolverKind {
        self.kind
    }

    fn evals_per_step(&self) -> usize {
        self.evals_per_step
    }

    fn nfe(&self, steps: usize) -> usize {
        let ptr = self.instance.ptr();
        let asked = self.vtable.nfe.and_then(|f| self.ask("nfe", |out, err| unsafe { f(ptr, steps, out, err) }));
        asked.unwrap_or(steps * self.evals_per_step)
    }

    fn default_nfe(&self) -> usize {
        let ptr = self.instance.ptr();
        let asked =
            self.vtable.default_nfe.and_then(|f| self.ask("default_nfe", |out, err| unsafe { f(ptr, out, err) }));
        asked.unwrap_or_else(|| runner_sdk::solver::default_nfe(self.kind, |s| self.nfe(s)))
    }

    fn step(
        &self,
        f: &mut dyn Dynamics,
        ctx: &mut dyn StepContext,
        x: Handle,
        t: f64,
        t_next: f64,
    ) -> Result<Handle, PluginError> {
        let mut host = Host { f, created: Vec::new(), error: None };
        let mut memory = Memory { ctx, history: Vec::new() };
        let grid = memory.ctx.grid();
        let (grid_ptr, grid_len, index) = (grid.as_ptr(), grid.len(), memory.ctx.index());
        let dynamics = abi::Dynamics {
            size: size_of::<abi::Dynamics>(),
            host: (&mut host as *mut Host<'_>).cast(),
            predict: host_predict,
            lincomb: host_lincomb,
            noise_like: host_noise_like,
            error_norm: host_error_norm,
            is_finite: host_is_finite,
            coefficients: host_coefficients,
            release: host_release,
        };
        let context = abi::StepContext {
            size: size_of::<abi::StepContext>(),
            host: (&mut memory as *mut Memory<'_>).cast(),
            grid: grid_ptr,
            grid_len,
            index,
            history: ctx_history,
            remember: ctx_remember,
            forget: ctx_forget,
            set_error_estimate: ctx_set_error_estimate,
        };
        let mut out = u64::MAX;
        let result = call(&self.instance.name, |err| unsafe {
            (self.step)(self.instance.ptr(), &dynamics, &context, x.0, t, t_next, &mut out, err)
        });
        // The tables point into `host` and `memory`; they are not used past this point.
        let kept: Vec<u64> = memory.ctx.history().iter().map(|r| r.value.0).collect();
        match result {
            Ok(()) if host.created.contains(&out) || out == x.0 => Ok(Handle(out)),
            Ok(()) => {
                host.release_created(&kept);
                Err(super::invalid(
                    &self.instance.name,
                    format!("its step returned handle {out}, which it never created"),
                ))
            }
            Err(e) => {
                host.release_created(&kept);
                // The host's own failure (a model evaluation) is the reason, not the plugin's echo.
                Err(host.error.take().unwrap_or(e))
            }
        }
    }
}

impl ForeignSolver {
    /// An optional entry's answer, or `None` where it failed (logged): the host's rule applies
    /// then, as where the library has no such entry.
    fn ask(&self, what: &str, f: impl FnOnce(*mut usize, *mut abi::ErrorBuf) -> abi::Status) -> Option<usize> {
        let mut out = 0;
        match call(&self.instance.name, |err| f(&mut out, err)) {
            Ok(()) => Some(out),
            Err(e) => {
                tracing::error!("solver {what}: {e}");
                None
            }
        }
    }
}

/// The host's dynamics during one step, and the handles the step created and holds.
struct Host<'a> {
    f: &'a mut dyn Dynamics,
    created: Vec<u64>,
    error: Option<PluginError>,
}

impl Host<'_> {
    fn made(&mut self, result: Result<Handle, PluginError>, out: *mut u64) -> abi::Status {
        match result {
            Ok(h) => {
                self.created.push(h.0);
                unsafe { out.write(h.0) };
                abi::STATUS_OK
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&mut self, e: PluginError) -> abi::Status {
        self.error.get_or_insert(e);
        abi::STATUS_ERROR
    }

    /// Release what the failed step created and neither released nor handed to the context.
    fn release_created(&mut self, kept: &[u64]) {
        for h in std::mem::take(&mut self.created) {
            if !kept.contains(&h) {
                self.f.release(Handle(h));
            }
        }
    }
}

/// Run a host callback; a panic must not unwind into the library's frames.
fn guarded(host: *mut c_void, f: impl FnOnce(&mut Host<'_>) -> abi::Status) -> abi::Status {
    let host = unsafe { &mut *(host as *mut Host<'_>) };
    catch_unwind(AssertUnwindSafe(|| f(host))).unwrap_or(abi::STATUS_PANIC)
}

unsafe extern "C" fn host_predict(host: *mut c_void, x: u64, t: f64, target: u32, out: *mut u64) -> abi::Status {
    guarded(host, |h| match convert::target_from_abi(target) {
        Ok(target) => {
            let r = h.f.predict(Handle(x), t, target);
            h.made(r, out)
        }
        Err(e) => h.failed(e),
    })
}

unsafe extern "C" fn host_lincomb(host: *mut c_void, terms: *const abi::Term, n: usize, out: *mut u64) -> abi::Status {
    let terms: Vec<(f64, Handle)> = if n == 0 {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(terms, n) }.iter().map(|t| (t.coef, Handle(t.handle))).collect()
    };
    guarded(host, |h| {
        let r = h.f.lincomb(&terms);
        h.made(r, out)
    })
}

unsafe extern "C" fn host_noise_like(host: *mut c_void, x: u64, out: *mut u64) -> abi::Status {
    guarded(host, |h| {
        let r = h.f.noise_like(Handle(x));
        h.made(r, out)
    })
}

unsafe extern "C" fn host_error_norm(host: *mut c_void, a: u64, b: u64, out: *mut f64) -> abi::Status {
    guarded(host, |h| match h.f.error_norm(Handle(a), Handle(b)) {
        Ok(v) => {
            unsafe { out.write(v) };
            abi::STATUS_OK
        }
        Err(e) => h.failed(e),
    })
}

unsafe extern "C" fn host_is_finite(host: *mut c_void, x: u64, out: *mut u32) -> abi::Status {
    guarded(host, |h| match h.f.is_finite(Handle(x)) {
        Ok(v) => {
            unsafe { out.write(u32::from(v)) };
            abi::STATUS_OK
        }
        Err(e) => h.failed(e),
    })
}

unsafe extern "C" fn host_coefficients(host: *mut c_void, t: f64, out: *mut abi::Coefficients) {
    let c = guarded(host, |h| {
        let c = convert::coefficients_to_abi(h.f.coefficients(t));
        unsafe { out.write(c) };
        abi::STATUS_OK
    });
    if c != abi::STATUS_OK {
        unsafe { out.write(convert::coefficients_to_abi(Coefficients::NAN)) };
    }
}

unsafe extern "C" fn host_release(host: *mut c_void, x: u64) {
    guarded(host, |h| {
        h.created.retain(|&c| c != x);
        h.f.release(Handle(x));
        abi::STATUS_OK
    });
}

/// The loop's step context during one step, and the history as the ABI lays it out.
struct Memory<'a> {
    ctx: &'a mut dyn StepContext,
    history: Vec<abi::Remembered>,
}

fn with_memory(host: *mut c_void, f: impl FnOnce(&mut Memory<'_>)) {
    let memory = unsafe { &mut *(host as *mut Memory<'_>) };
    let _ = catch_unwind(AssertUnwindSafe(|| f(memory)));
}

unsafe extern "C" fn ctx_history(host: *mut c_void, out: *mut *const abi::Remembered, len: *mut usize) {
    with_memory(host, |m| {
        m.history = m
            .ctx
            .history()
            .iter()
            .map(|r| abi::Remembered {
                t: r.t,
                target: convert::target_to_abi(r.target),
                reserved: 0,
                value: r.value.0,
            })
            .collect();
        unsafe {
            out.write(m.history.as_ptr());
            len.write(m.history.len());
        }
    });
}

unsafe extern "C" fn ctx_remember(host: *mut c_void, t: f64, target: u32, value: u64) {
    with_memory(host, |m| {
        if let Ok(target) = convert::target_from_abi(target) {
            m.ctx.remember(t, target, Handle(value));
        }
    });
}

unsafe extern "C" fn ctx_forget(host: *mut c_void, value: u64) {
    with_memory(host, |m| m.ctx.forget(Handle(value)));
}

unsafe extern "C" fn ctx_set_error_estimate(host: *mut c_void, value: u64) {
    with_memory(host, |m| m.ctx.set_error_estimate(Handle(value)));
}
