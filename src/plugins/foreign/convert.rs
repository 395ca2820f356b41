//! The ABI's fixed `u32` values of the enumerations plugins see, to and from the SDK's.
//! Unknown values are errors: a newer library may send what this host does not know.

use runner_abi as abi;
use runner_sdk::{MetricInput, SolverKind, Target};

pub fn target_to_abi(t: Target) -> u32 {
    match t {
        Target::Velocity => abi::TARGET_VELOCITY,
        Target::Epsilon => abi::TARGET_EPSILON,
        Target::Data => abi::TARGET_DATA,
        Target::Score => abi::TARGET_SCORE,
        _ => 0,
    }
}

pub fn target_from_abi(v: u32) -> Option<Target> {
    Some(match v {
        abi::TARGET_VELOCITY => Target::Velocity,
        abi::TARGET_EPSILON => Target::Epsilon,
        abi::TARGET_DATA => Target::Data,
        abi::TARGET_SCORE => Target::Score,
        _ => return None,
    })
}

pub fn solver_kind_from_abi(info: &abi::SolverInfo) -> Option<SolverKind> {
    Some(match info.kind {
        abi::SOLVER_ODE => SolverKind::Ode { order: info.order },
        abi::SOLVER_ADAPTIVE => SolverKind::Adaptive { order: info.order, error_order: info.error_order },
        abi::SOLVER_STOCHASTIC => SolverKind::Stochastic,
        abi::SOLVER_DETERMINISTIC => SolverKind::Deterministic,
        _ => return None,
    })
}

pub fn metric_input_from_abi(v: u32) -> Option<MetricInput> {
    Some(match v {
        abi::METRIC_POINTS => MetricInput::Points,
        abi::METRIC_PATH => MetricInput::Path,
        abi::METRIC_LIKELIHOOD => MetricInput::Likelihood,
        _ => return None,
    })
}

pub fn coefficients_from_abi(c: &abi::Coefficients) -> runner_sdk::Coefficients {
    runner_sdk::Coefficients {
        alpha: c.alpha,
        sigma: c.sigma,
        gamma: c.gamma,
        d_alpha: c.d_alpha,
        d_sigma: c.d_sigma,
        d_gamma: c.d_gamma,
    }
}

pub fn coefficients_to_abi(c: &runner_sdk::Coefficients) -> abi::Coefficients {
    abi::Coefficients {
        alpha: c.alpha,
        sigma: c.sigma,
        gamma: c.gamma,
        d_alpha: c.d_alpha,
        d_sigma: c.d_sigma,
        d_gamma: c.d_gamma,
    }
}
