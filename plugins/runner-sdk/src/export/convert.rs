//! The fixed `u32` values of the ABI and the SDK types they stand for, both ways. The host and
//! the plugin side share these, so that one mapping decides what crosses the boundary. Values
//! the ABI does not define are errors, never panics: they come from another library.

use std::borrow::Cow;

use super::abi_error;
use crate::abi;
use crate::{
    Coefficients, MetricInput, ParamDefault, ParamSpec, ParamValue, PluginError, PluginKind, SolverKind, Target,
};

pub fn target_to_abi(target: Target) -> u32 {
    match target {
        Target::Velocity => abi::TARGET_VELOCITY,
        Target::Epsilon => abi::TARGET_EPSILON,
        Target::Data => abi::TARGET_DATA,
        Target::Score => abi::TARGET_SCORE,
    }
}

pub fn target_from_abi(value: u32) -> Result<Target, PluginError> {
    match value {
        abi::TARGET_VELOCITY => Ok(Target::Velocity),
        abi::TARGET_EPSILON => Ok(Target::Epsilon),
        abi::TARGET_DATA => Ok(Target::Data),
        abi::TARGET_SCORE => Ok(Target::Score),
        other => Err(abi_error(format!("unknown target value {other}"))),
    }
}

/// The ABI's kind of a plugin; `None` for the kinds no library can export (targets are the
/// host's closed-form conversions).
pub fn kind_to_abi(kind: PluginKind) -> Option<u32> {
    match kind {
        PluginKind::Schedule => Some(abi::KIND_SCHEDULE),
        PluginKind::Coupling => Some(abi::KIND_COUPLING),
        PluginKind::Solver => Some(abi::KIND_SOLVER),
        PluginKind::Grid => Some(abi::KIND_GRID),
        PluginKind::Dataset => Some(abi::KIND_DATASET),
        PluginKind::Metric => Some(abi::KIND_METRIC),
        PluginKind::Target => None,
    }
}

pub fn kind_from_abi(value: u32) -> Result<PluginKind, PluginError> {
    match value {
        abi::KIND_SCHEDULE => Ok(PluginKind::Schedule),
        abi::KIND_COUPLING => Ok(PluginKind::Coupling),
        abi::KIND_SOLVER => Ok(PluginKind::Solver),
        abi::KIND_GRID => Ok(PluginKind::Grid),
        abi::KIND_DATASET => Ok(PluginKind::Dataset),
        abi::KIND_METRIC => Ok(PluginKind::Metric),
        other => Err(abi_error(format!("unknown plugin kind {other}"))),
    }
}

pub fn metric_input_to_abi(input: MetricInput) -> u32 {
    match input {
        MetricInput::Points => abi::METRIC_POINTS,
        MetricInput::Path => abi::METRIC_PATH,
        MetricInput::Likelihood => abi::METRIC_LIKELIHOOD,
    }
}

pub fn metric_input_from_abi(value: u32) -> Result<MetricInput, PluginError> {
    match value {
        abi::METRIC_POINTS => Ok(MetricInput::Points),
        abi::METRIC_PATH => Ok(MetricInput::Path),
        abi::METRIC_LIKELIHOOD => Ok(MetricInput::Likelihood),
        other => Err(abi_error(format!("unknown metric input {other}"))),
    }
}

/// A solver's kind and its evaluations per step as the ABI's [`abi::SolverInfo`].
pub fn solver_info_to_abi(kind: SolverKind, evals_per_step: usize) -> abi::SolverInfo {
    let (kind, order, error_order) = match kind {
        SolverKind::Ode { order } => (abi::SOLVER_ODE, order, 0),
        SolverKind::Adaptive { order, error_order } => (abi::SOLVER_ADAPTIVE, order, error_order),
        SolverKind::Stochastic => (abi::SOLVER_STOCHASTIC, 0, 0),
        SolverKind::Deterministic => (abi::SOLVER_DETERMINISTIC, 0, 0),
    };
    abi::SolverInfo { kind, order, error_order, reserved: 0, evals_per_step }
}

/// The solver kind an [`abi::SolverInfo`] declares.
pub fn solver_kind_from_abi(info: &abi::SolverInfo) -> Result<SolverKind, PluginError> {
    match info.kind {
        abi::SOLVER_ODE => Ok(SolverKind::Ode { order: info.order }),
        abi::SOLVER_ADAPTIVE => Ok(SolverKind::Adaptive { order: info.order, error_order: info.error_order }),
        abi::SOLVER_STOCHASTIC => Ok(SolverKind::Stochastic),
        abi::SOLVER_DETERMINISTIC => Ok(SolverKind::Deterministic),
        other => Err(abi_error(format!("unknown solver kind {other}"))),
    }
}

pub fn coefficients_to_abi(c: Coefficients) -> abi::Coefficients {
    abi::Coefficients {
        alpha: c.alpha,
        sigma: c.sigma,
        gamma: c.gamma,
        d_alpha: c.d_alpha,
        d_sigma: c.d_sigma,
        d_gamma: c.d_gamma,
    }
}

pub fn coefficients_from_abi(c: abi::Coefficients) -> Coefficients {
    Coefficients {
        alpha: c.alpha,
        sigma: c.sigma,
        gamma: c.gamma,
        d_alpha: c.d_alpha,
        d_sigma: c.d_sigma,
        d_gamma: c.d_gamma,
    }
}

/// A string of the ABI as `&str`.
///
/// # Safety
/// `s` must point to `len` readable bytes that outlive `'a` (or be null with any length).
pub unsafe fn str_from_abi<'a>(s: abi::Str, what: &str) -> Result<&'a str, PluginError> {
    std::str::from_utf8(s.bytes()).map_err(|e| abi_error(format!("{what} is not UTF-8: {e}")))
}

/// A string as the ABI's [`abi::Str`], borrowing `s`: valid while `s` is.
pub fn str_to_abi(s: &str) -> abi::Str {
    abi::Str { ptr: s.as_ptr(), len: s.len() }
}

/// A value as an [`abi::Param`] named `name`, with an empty help text. The strings are
/// borrowed: the result is valid while `name` and `value` are.
pub fn param_to_abi(name: &str, value: &ParamValue) -> abi::Param {
    let mut p = abi::Param {
        name: str_to_abi(name),
        help: abi::Str::EMPTY,
        kind: 0,
        boolean: 0,
        float: 0.0,
        int: 0,
        string: abi::Str::EMPTY,
    };
    match value {
        ParamValue::Float(v) => (p.kind, p.float) = (abi::PARAM_FLOAT, *v),
        ParamValue::Int(v) => (p.kind, p.int) = (abi::PARAM_INT, *v),
        ParamValue::Bool(v) => (p.kind, p.boolean) = (abi::PARAM_BOOL, u32::from(*v)),
        ParamValue::Str(v) => (p.kind, p.string) = (abi::PARAM_STR, str_to_abi(v)),
    }
    p
}

/// A declaration as an [`abi::Param`] holding its default. Borrows `spec`'s strings.
pub fn param_spec_to_abi(spec: &ParamSpec) -> abi::Param {
    let default = spec.default.value();
    let mut p = param_to_abi(&spec.name, &default);
    if let ParamDefault::Str(s) = &spec.default {
        // `default` is a temporary copy: point at the spec's own string instead.
        p.string = str_to_abi(s);
    }
    p.help = str_to_abi(&spec.help);
    p
}

/// An [`abi::Param`]'s name and value, copied out.
///
/// # Safety
/// The param's strings must be readable for the call.
pub unsafe fn param_from_abi(p: &abi::Param) -> Result<(String, ParamValue), PluginError> {
    let name = str_from_abi(p.name, "a parameter name")?.to_string();
    let value = match p.kind {
        abi::PARAM_FLOAT => ParamValue::Float(p.float),
        abi::PARAM_INT => ParamValue::Int(p.int),
        abi::PARAM_BOOL => ParamValue::Bool(p.boolean != 0),
        abi::PARAM_STR => ParamValue::Str(str_from_abi(p.string, "a string parameter")?.to_string()),
        other => return Err(abi_error(format!("parameter `{name}` has unknown kind {other}"))),
    };
    Ok((name, value))
}

/// An [`abi::Param`] of a descriptor as the [`ParamSpec`] it declares, with owned strings.
///
/// # Safety
/// The param's strings must be readable for the call.
pub unsafe fn param_spec_from_abi(p: &abi::Param) -> Result<ParamSpec, PluginError> {
    let (name, value) = param_from_abi(p)?;
    let default = match value {
        ParamValue::Float(v) => ParamDefault::Float(v),
        ParamValue::Int(v) => ParamDefault::Int(v),
        ParamValue::Bool(v) => ParamDefault::Bool(v),
        ParamValue::Str(v) => ParamDefault::Str(Cow::Owned(v)),
    };
    let help = str_from_abi(p.help, "a parameter's help")?.to_string();
    Ok(ParamSpec { name: Cow::Owned(name), default, help: Cow::Owned(help) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_and_unknown_ones_are_errors() {
        for t in Target::ALL {
            assert_eq!(target_from_abi(target_to_abi(t)), Ok(t));
        }
        for k in PluginKind::ALL {
            if let Some(v) = kind_to_abi(k) {
                assert_eq!(kind_from_abi(v), Ok(k));
            }
        }
        for m in [MetricInput::Points, MetricInput::Path, MetricInput::Likelihood] {
            assert_eq!(metric_input_from_abi(metric_input_to_abi(m)), Ok(m));
        }
        for s in [
            SolverKind::Ode { order: 3 },
            SolverKind::Adaptive { order: 5, error_order: 4 },
            SolverKind::Stochastic,
            SolverKind::Deterministic,
        ] {
            assert_eq!(solver_kind_from_abi(&solver_info_to_abi(s, 2)), Ok(s));
        }
        assert!(target_from_abi(0).unwrap_err().to_string().contains("unknown target value 0"));
        assert!(kind_from_abi(99).is_err() && metric_input_from_abi(0).is_err());
        assert!(solver_kind_from_abi(&abi::SolverInfo::default()).is_err());
    }

    #[test]
    fn params_round_trip() {
        let specs = [
            ParamSpec::float("k", 4.0, "steepness"),
            ParamSpec::int("n", -3, "count"),
            ParamSpec::boolean("on", true, "switch"),
            ParamSpec::string("mode", "fast", "how"),
        ];
        for spec in &specs {
            let p = param_spec_to_abi(spec);
            assert_eq!(unsafe { param_spec_from_abi(&p) }.unwrap(), *spec);
        }
        let mut bad = param_spec_to_abi(&specs[0]);
        bad.kind = 7;
        assert!(unsafe { param_from_abi(&bad) }.unwrap_err().to_string().contains("unknown kind 7"));
    }
}
