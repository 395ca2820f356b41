//! The trampolines driven as the host drives them: through the descriptor and the vtables, with
//! a small host of plain vectors on this side.

use std::ffi::c_void;

use crate::export::convert::{param_to_abi, target_from_abi};
use crate::{abi, Coefficients, Dynamics, Handle, Metric, ParamSpec, ParamValue, Params, PluginError, PluginInfo};
use crate::{Dataset, PluginKind, Schedule, Solver, SolverKind, StepContext, Target};

mod library {
    use super::*;

    pub struct Linear {
        pub scale: f64,
    }
    impl Schedule for Linear {
        fn coefficients(&self, t: f64) -> Coefficients {
            Coefficients {
                alpha: self.scale * t,
                sigma: 1.0 - t,
                gamma: 0.0,
                d_alpha: self.scale,
                d_sigma: -1.0,
                d_gamma: 0.0,
            }
        }
    }
    pub const LINEAR: &[ParamSpec] = &[ParamSpec::float("scale", 1.0, "the slope of α")];
    fn make_linear(p: &Params) -> Result<Linear, PluginError> {
        let scale = p.float("scale")?;
        if scale <= 0.0 {
            return Err(p.invalid("scale", "must be > 0"));
        }
        Ok(Linear { scale })
    }

    /// Euler that remembers its evaluation and forgets the previous one, so that a step
    /// exercises the whole step context.
    pub struct Euler {
        pub panic: bool,
    }
    impl Solver for Euler {
        fn kind(&self) -> SolverKind {
            SolverKind::Ode { order: 1 }
        }
        fn evals_per_step(&self) -> usize {
            1
        }
        fn step(
            &self,
            f: &mut dyn Dynamics,
            ctx: &mut dyn StepContext,
            x: Handle,
            t: f64,
            t_next: f64,
        ) -> Result<Handle, PluginError> {
            if self.panic {
                panic!("deliberate panic in step");
            }
            let v = f.predict(x, t, Target::Velocity)?;
            let next = f.lincomb(&[(1.0, x), (t_next - t, v)])?;
            ctx.retain(&|_| false);
            ctx.remember(t, Target::Velocity, v);
            assert_eq!(ctx.history().len(), 1, "the history is refreshed after remember");
            Ok(next)
        }
    }

    pub struct Line;
    impl Dataset for Line {
        fn dim(&self) -> usize {
            2
        }
        fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
            (0..n).flat_map(|i| [i as f32, seed as f32]).collect()
        }
        fn mixture(&self) -> Option<crate::Mixture> {
            Some(crate::Mixture {
                dim: 2,
                components: vec![crate::Component { weight: 1.0, mean: vec![3.0, 4.0], std: 0.5 }],
            })
        }
    }

    pub struct LongError;
    impl Metric for LongError {
        fn evaluate(&self, samples: &[f32], _target: &[f32], _dim: usize) -> Result<f64, PluginError> {
            if samples.is_empty() {
                return Err(PluginError::Invalid { plugin: "long".into(), message: "é".repeat(3000) });
            }
            Ok(samples.iter().map(|&v| f64::from(v)).sum())
        }
    }

    crate::export_plugin! {
        library: "sdk-test",
        version: "1.2.3",
        plugins: [
            crate::export::schedule(PluginInfo::new(PluginKind::Schedule, "linear", "α = scale·t", LINEAR), make_linear),
            crate::export::schedule(
                PluginInfo::new(PluginKind::Schedule, "exploding", "its factory panics", &[]),
                |_: &Params| -> Result<Linear, PluginError> { panic!("factory exploded at {}", 42) },
            ),
            crate::export::solver(PluginInfo::new(PluginKind::Solver, "euler", "Euler", &[]), |_: &Params| Ok(Euler { panic: false })),
            crate::export::solver(PluginInfo::new(PluginKind::Solver, "panicking", "panics", &[]), |_: &Params| Ok(Euler { panic: true })),
            crate::export::dataset(PluginInfo::new(PluginKind::Dataset, "line", "a line", &[]), |_: &Params| Ok(Line)),
            crate::export::metric(PluginInfo::new(PluginKind::Metric, "long", "long errors", &[]), |_: &Params| Ok(LongError)),
        ],
    }
}

fn plugin(name: &str) -> &'static abi::Plugin {
    let lib = unsafe { &*library::runner_plugin_library() };
    let plugins = unsafe { std::slice::from_raw_parts(lib.plugins, lib.n_plugins) };
    plugins.iter().find(|p| unsafe { p.name.bytes() } == name.as_bytes()).expect("the plugin is in the descriptor")
}

/// A host error buffer of `cap` bytes.
struct Error {
    bytes: Vec<u8>,
    buf: abi::ErrorBuf,
}

impl Error {
    fn new(cap: usize) -> Box<Error> {
        let mut e =
            Box::new(Error { bytes: vec![0; cap], buf: abi::ErrorBuf { ptr: std::ptr::null_mut(), cap, len: 0 } });
        e.buf.ptr = e.bytes.as_mut_ptr();
        e
    }
    fn message(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.buf.len]).expect("the plugin writes UTF-8")
    }
}

/// Create plugin `name` with the given values (every declared one, in declaration order).
fn create(name: &str, params: &[(&str, ParamValue)]) -> Result<*mut c_void, (abi::Status, String)> {
    let p = plugin(name);
    let params: Vec<abi::Param> = params.iter().map(|(n, v)| param_to_abi(n, v)).collect();
    // Every table starts with size, create, destroy.
    let vtable = unsafe { &*(p.vtable as *const abi::ScheduleVtable) };
    let mut err = Error::new(256);
    let mut out = std::ptr::null_mut();
    let status = unsafe { vtable.create.unwrap()(params.as_ptr(), params.len(), &mut out, &mut err.buf) };
    if status == abi::STATUS_OK {
        Ok(out)
    } else {
        Err((status, err.message().to_string()))
    }
}

#[test]
fn the_descriptor_lists_every_plugin_with_its_params() {
    let v = library::runner_plugin_abi();
    assert_eq!((v.magic, v.major, v.minor), (abi::MAGIC, abi::ABI_MAJOR, abi::ABI_MINOR));
    let lib = unsafe { &*library::runner_plugin_library() };
    assert_eq!(lib.size, std::mem::size_of::<abi::Library>());
    assert_eq!(unsafe { (lib.name.bytes(), lib.version.bytes()) }, (&b"sdk-test"[..], &b"1.2.3"[..]));
    assert_eq!(lib.n_plugins, 6);
    assert!(std::ptr::eq(lib, library::runner_plugin_library()), "built once");
    let linear = plugin("linear");
    assert_eq!((linear.kind, linear.n_params), (abi::KIND_SCHEDULE, 1));
    let param = unsafe { &*linear.params };
    assert_eq!(unsafe { (param.name.bytes(), param.help.bytes()) }, (&b"scale"[..], &b"the slope of \xce\xb1"[..]));
    assert_eq!((param.kind, param.float), (abi::PARAM_FLOAT, 1.0));
    assert_eq!(plugin("euler").kind, abi::KIND_SOLVER);
    assert_eq!(plugin("exploding").n_params, 0);
    assert!(!plugin("exploding").params.is_null(), "an empty array is still a valid pointer");
}

#[test]
fn a_schedule_runs_through_its_table() {
    let vtable = unsafe { &*(plugin("linear").vtable as *const abi::ScheduleVtable) };
    assert_eq!(vtable.size, std::mem::size_of::<abi::ScheduleVtable>());
    let instance = create("linear", &[("scale", ParamValue::Float(2.0))]).unwrap();
    let t = [0.0, 0.25, 1.0];
    let mut out = [abi::Coefficients::default(); 3];
    let mut err = Error::new(64);
    let status = unsafe { vtable.coefficients.unwrap()(instance, t.as_ptr(), 3, out.as_mut_ptr(), &mut err.buf) };
    assert_eq!(status, abi::STATUS_OK);
    assert_eq!((out[1].alpha, out[1].sigma, out[1].d_alpha, out[1].d_sigma), (0.5, 0.75, 2.0, -1.0));
    assert_eq!(out[2].alpha, 2.0);
    // An integer widens to the declared float, as in the host's own resolution.
    let widened = create("linear", &[("scale", ParamValue::Int(3))]).unwrap();
    unsafe { vtable.destroy.unwrap()(widened) };
    unsafe { vtable.destroy.unwrap()(instance) };
}

#[test]
fn factory_errors_and_bad_params_are_status_error_with_the_message() {
    let (status, message) = create("linear", &[("scale", ParamValue::Float(-1.0))]).unwrap_err();
    assert_eq!(status, abi::STATUS_ERROR);
    assert_eq!(message, "parameter `scale` of linear: must be > 0");
    let (status, message) = create("linear", &[("slope", ParamValue::Float(1.0))]).unwrap_err();
    assert_eq!(status, abi::STATUS_ERROR);
    assert!(message.contains("unknown parameter `slope`") && message.contains("scale"), "{message}");
    let (status, message) = create("linear", &[("scale", ParamValue::Str("steep".into()))]).unwrap_err();
    assert_eq!(status, abi::STATUS_ERROR);
    assert!(message.contains("expected a number"), "{message}");
}

#[test]
fn a_panicking_factory_is_status_panic_with_the_message() {
    let (status, message) = create("exploding", &[]).unwrap_err();
    assert_eq!(status, abi::STATUS_PANIC);
    assert_eq!(message, "factory exploded at 42");
}

/// The host of a solve: states in a `Vec<Vec<f64>>`, a handle is an index, released slots are
/// `None`. The model is dx/dt = x.
#[derive(Default)]
struct Host {
    states: Vec<Option<Vec<f64>>>,
    predicts: usize,
    double_releases: usize,
    fail_predict: bool,
    history: Vec<abi::Remembered>,
    forgotten: Vec<u64>,
}

impl Host {
    fn insert(&mut self, state: Vec<f64>) -> u64 {
        self.states.push(Some(state));
        (self.states.len() - 1) as u64
    }
    fn get(&self, h: u64) -> Option<&Vec<f64>> {
        self.states.get(h as usize)?.as_ref()
    }
    fn live(&self) -> usize {
        self.states.iter().filter(|s| s.is_some()).count()
    }
}

unsafe fn host<'a>(h: *mut c_void) -> &'a mut Host {
    &mut *(h as *mut Host)
}

unsafe extern "C" fn predict(h: *mut c_void, x: u64, _t: f64, target: u32, out: *mut u64) -> abi::Status {
    let h = host(h);
    if h.fail_predict || target_from_abi(target) != Ok(Target::Velocity) {
        return abi::STATUS_ERROR;
    }
    let Some(v) = h.get(x).cloned() else { return abi::STATUS_ERROR };
    h.predicts += 1;
    *out = h.insert(v);
    abi::STATUS_OK
}

unsafe extern "C" fn lincomb(h: *mut c_void, terms: *const abi::Term, n: usize, out: *mut u64) -> abi::Status {
    let h = host(h);
    let terms = std::slice::from_raw_parts(terms, n);
    let mut sum: Option<Vec<f64>> = None;
    for term in terms {
        let Some(s) = h.get(term.handle) else { return abi::STATUS_ERROR };
        let sum = sum.get_or_insert_with(|| vec![0.0; s.len()]);
        for (o, v) in sum.iter_mut().zip(s) {
            *o += term.coef * v;
        }
    }
    *out = h.insert(sum.unwrap_or_default());
    abi::STATUS_OK
}

unsafe extern "C" fn noise_like(h: *mut c_void, x: u64, out: *mut u64) -> abi::Status {
    let h = host(h);
    let n = h.get(x).map_or(0, Vec::len);
    *out = h.insert(vec![0.0; n]);
    abi::STATUS_OK
}

unsafe extern "C" fn error_norm(_h: *mut c_void, _a: u64, _b: u64, out: *mut f64) -> abi::Status {
    *out = 0.0;
    abi::STATUS_OK
}

unsafe extern "C" fn is_finite(_h: *mut c_void, _x: u64, out: *mut u32) -> abi::Status {
    *out = 1;
    abi::STATUS_OK
}

unsafe extern "C" fn coefficients(_h: *mut c_void, t: f64, out: *mut abi::Coefficients) {
    *out = abi::Coefficients { alpha: t, sigma: 1.0 - t, gamma: 0.0, d_alpha: 1.0, d_sigma: -1.0, d_gamma: 0.0 };
}

unsafe extern "C" fn release(h: *mut c_void, x: u64) {
    let h = host(h);
    match h.states.get_mut(x as usize) {
        Some(slot @ Some(_)) => *slot = None,
        _ => h.double_releases += 1,
    }
}

unsafe extern "C" fn history(h: *mut c_void, out: *mut *const abi::Remembered, len: *mut usize) {
    let h = host(h);
    *out = h.history.as_ptr();
    *len = h.history.len();
}

unsafe extern "C" fn remember(h: *mut c_void, t: f64, target: u32, value: u64) {
    host(h).history.push(abi::Remembered { t, target, reserved: 0, value });
}

unsafe extern "C" fn forget(h: *mut c_void, value: u64) {
    let h = host(h);
    h.history.retain(|r| r.value != value);
    h.forgotten.push(value);
}

unsafe extern "C" fn set_error_estimate(_h: *mut c_void, _value: u64) {}

/// One step of solver `name` from `x` over [0, 0.5] of a two-interval grid.
fn step(name: &str, h: &mut Host, x: u64) -> (abi::Status, u64, String) {
    let vtable = unsafe { &*(plugin(name).vtable as *const abi::SolverVtable) };
    let instance = create(name, &[]).unwrap();
    let grid = [0.0, 0.5, 1.0];
    let hp = h as *mut Host as *mut c_void;
    let dynamics = abi::Dynamics {
        size: std::mem::size_of::<abi::Dynamics>(),
        host: hp,
        predict,
        lincomb,
        noise_like,
        error_norm,
        is_finite,
        coefficients,
        release,
    };
    let context = abi::StepContext {
        size: std::mem::size_of::<abi::StepContext>(),
        host: hp,
        grid: grid.as_ptr(),
        grid_len: grid.len(),
        index: 0,
        history,
        remember,
        forget,
        set_error_estimate,
    };
    let mut err = Error::new(256);
    let mut out = u64::MAX;
    let status = unsafe { vtable.step.unwrap()(instance, &dynamics, &context, x, 0.0, 0.5, &mut out, &mut err.buf) };
    unsafe { vtable.destroy.unwrap()(instance) };
    (status, out, err.message().to_string())
}

#[test]
fn a_solver_steps_against_the_hosts_dynamics_and_memory() {
    let vtable = unsafe { &*(plugin("euler").vtable as *const abi::SolverVtable) };
    let instance = create("euler", &[]).unwrap();
    let (mut info, mut nfe) = (abi::SolverInfo::default(), 0);
    let mut err = Error::new(64);
    unsafe {
        assert_eq!(vtable.info.unwrap()(instance, &mut info, &mut err.buf), abi::STATUS_OK);
        assert_eq!(vtable.nfe.unwrap()(instance, 10, &mut nfe, &mut err.buf), abi::STATUS_OK);
        vtable.destroy.unwrap()(instance);
    }
    assert_eq!((info.kind, info.order, info.evals_per_step, nfe), (abi::SOLVER_ODE, 1, 1, 10));

    let mut h = Host::default();
    let old = h.insert(vec![9.0]);
    h.history.push(abi::Remembered { t: -0.5, target: abi::TARGET_VELOCITY, reserved: 0, value: old });
    let x = h.insert(vec![1.0, -2.0]);
    let (status, out, message) = step("euler", &mut h, x);
    assert_eq!(status, abi::STATUS_OK, "{message}");
    assert_eq!(h.get(out), Some(&vec![1.5, -3.0]));
    assert_eq!(h.predicts, 1);
    assert_eq!(h.forgotten, vec![old]);
    assert_eq!(h.history.len(), 1);
    assert_eq!((h.history[0].t, h.history[0].target), (0.0, abi::TARGET_VELOCITY));
    // The host still holds: the old entry (it releases what is forgotten), x, the remembered
    // velocity and the new state; nothing was released by the plugin.
    assert_eq!((h.live(), h.double_releases), (4, 0));
}

#[test]
fn a_failing_host_operation_is_status_error_naming_it() {
    let mut h = Host { fail_predict: true, ..Host::default() };
    let x = h.insert(vec![1.0]);
    let (status, _, message) = step("euler", &mut h, x);
    assert_eq!(status, abi::STATUS_ERROR);
    assert_eq!(message, "model evaluation failed: the host's predict failed");
}

#[test]
fn a_panicking_step_is_status_panic_with_the_message() {
    let mut h = Host::default();
    let x = h.insert(vec![1.0]);
    let (status, _, message) = step("panicking", &mut h, x);
    assert_eq!(status, abi::STATUS_PANIC);
    assert_eq!(message, "deliberate panic in step");
}

#[test]
fn a_dataset_and_a_metric_run_through_their_tables() {
    let vtable = unsafe { &*(plugin("line").vtable as *const abi::DatasetVtable) };
    let d = create("line", &[]).unwrap();
    let mut err = Error::new(64);
    let (mut dim, mut k) = (0, 0);
    let mut points = [0f32; 6];
    let (mut w, mut means, mut stds) = ([0.0; 1], [0.0; 2], [0.0; 1]);
    unsafe {
        assert_eq!(vtable.dim.unwrap()(d, &mut dim, &mut err.buf), abi::STATUS_OK);
        assert_eq!(vtable.sample.unwrap()(d, 3, 7, points.as_mut_ptr(), &mut err.buf), abi::STATUS_OK);
        assert_eq!(vtable.mixture_components.unwrap()(d, &mut k, &mut err.buf), abi::STATUS_OK);
        let s = vtable.mixture.unwrap()(d, w.as_mut_ptr(), means.as_mut_ptr(), stds.as_mut_ptr(), &mut err.buf);
        assert_eq!(s, abi::STATUS_OK);
        vtable.destroy.unwrap()(d);
    }
    assert_eq!((dim, k), (2, 1));
    assert_eq!(points, [0.0, 7.0, 1.0, 7.0, 2.0, 7.0]);
    assert_eq!((w, means, stds), ([1.0], [3.0, 4.0], [0.5]));

    let vtable = unsafe { &*(plugin("long").vtable as *const abi::MetricVtable) };
    let m = create("long", &[]).unwrap();
    let (mut input, mut max, mut value) = (0, 0, 0.0);
    let samples = [1.0f32, 2.0];
    unsafe {
        assert_eq!(vtable.input.unwrap()(m, &mut input, &mut err.buf), abi::STATUS_OK);
        assert_eq!(vtable.max_points.unwrap()(m, 2, &mut max, &mut err.buf), abi::STATUS_OK);
        let s = vtable.evaluate.unwrap()(m, samples.as_ptr(), 1, samples.as_ptr(), 1, 2, &mut value, &mut err.buf);
        assert_eq!(s, abi::STATUS_OK);
        vtable.destroy.unwrap()(m);
    }
    assert_eq!((input, max, value), (abi::METRIC_POINTS, usize::MAX, 3.0));
}

#[test]
fn long_messages_are_cut_at_a_character_boundary() {
    let vtable = unsafe { &*(plugin("long").vtable as *const abi::MetricVtable) };
    let m = create("long", &[]).unwrap();
    let mut value = 0.0;
    // "long: " is 6 bytes, then two-byte characters: 11 bytes hold 6 + 2·2, not a half one.
    let mut err = Error::new(11);
    let status =
        unsafe { vtable.evaluate.unwrap()(m, std::ptr::null(), 0, std::ptr::null(), 0, 2, &mut value, &mut err.buf) };
    assert_eq!(status, abi::STATUS_ERROR);
    assert_eq!(err.message(), "long: éé");
    // A null buffer is the host declining the message, not a crash.
    let status = unsafe {
        vtable.evaluate.unwrap()(m, std::ptr::null(), 0, std::ptr::null(), 0, 2, &mut value, std::ptr::null_mut())
    };
    assert_eq!(status, abi::STATUS_ERROR);
    unsafe { vtable.destroy.unwrap()(m) };
}

#[test]
fn null_pointers_from_the_host_are_errors() {
    let vtable = unsafe { &*(plugin("linear").vtable as *const abi::ScheduleVtable) };
    let mut err = Error::new(128);
    let t = [0.5];
    let status =
        unsafe { vtable.coefficients.unwrap()(std::ptr::null(), t.as_ptr(), 1, std::ptr::null_mut(), &mut err.buf) };
    assert_eq!(status, abi::STATUS_ERROR);
    assert!(err.message().contains("null instance"), "{}", err.message());
    unsafe { vtable.destroy.unwrap()(std::ptr::null_mut()) };
}

#[test]
fn the_same_plugins_are_there_without_the_abi() {
    let plugins = library::plugins();
    let names: Vec<&str> = plugins.iter().map(|p| p.info.name.as_ref()).collect();
    assert_eq!(names, ["linear", "exploding", "euler", "panicking", "line", "long"]);
    let crate::export::Constructor::Schedule(make) = &plugins[0].constructor else { panic!("a schedule") };
    let params = plugins[0].resolve(&Default::default()).unwrap();
    assert_eq!(make(&params).unwrap().coefficients(0.5).alpha, 0.5);
}

#[test]
#[should_panic(expected = "described as a solver but built as a schedule")]
fn a_kind_mismatch_is_refused_where_the_list_is_built() {
    crate::export::schedule(PluginInfo::new(PluginKind::Solver, "x", "", &[]), |_: &Params| {
        Ok(library::Linear { scale: 1.0 })
    });
}
