//! Compiles `include/runner_plugin.h` into a small C program that prints the size of every
//! struct, the offset of every field and the value of every constant, and compares each number
//! with the Rust side. One list below drives both the C program and the Rust values, so a field
//! added on one side only fails here by name.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use runner_abi::*;

/// One number both sides must agree on: the C expression that computes it and the Rust value.
struct Check {
    what: String,
    c_expr: String,
    rust: u64,
}

/// `struct C_NAME = RustType { c_field = rust_field, … }`: the struct's size and every field's
/// offset.
macro_rules! layouts {
    ($($c_struct:ident = $r_struct:ty { $($c_field:ident = $r_field:ident),* $(,)? })*) => {{
        let mut checks = Vec::new();
        $(
            checks.push(Check {
                what: format!("sizeof({})", stringify!($c_struct)),
                c_expr: format!("sizeof({})", stringify!($c_struct)),
                rust: core::mem::size_of::<$r_struct>() as u64,
            });
            $(
                checks.push(Check {
                    what: format!("{}.{} (Rust {}.{})", stringify!($c_struct), stringify!($c_field), stringify!($r_struct), stringify!($r_field)),
                    c_expr: format!("offsetof({}, {})", stringify!($c_struct), stringify!($c_field)),
                    rust: core::mem::offset_of!($r_struct, $r_field) as u64,
                });
            )*
        )*
        checks
    }};
}

/// `C_MACRO = RUST_CONST`: constants with the same value on both sides.
macro_rules! constants {
    ($($c_name:ident = $r_name:ident),* $(,)?) => {
        vec![$(Check {
            what: format!("{} (Rust {})", stringify!($c_name), stringify!($r_name)),
            c_expr: stringify!($c_name).to_string(),
            rust: $r_name as u64,
        }),*]
    };
}

fn checks() -> Vec<Check> {
    let mut checks = layouts! {
        runner_abi_version = AbiVersion { magic = magic, major = major, minor = minor }
        runner_str = Str { ptr = ptr, len = len }
        runner_error = ErrorBuf { ptr = ptr, cap = cap, len = len }
        runner_param = Param {
            name = name, help = help, kind = kind, boolean = boolean, float_value = float, int_value = int, string = string,
        }
        runner_plugin = Plugin {
            size = size, kind = kind, name = name, summary = summary, params = params, n_params = n_params, vtable = vtable,
        }
        runner_library = Library { size = size, name = name, version = version, plugins = plugins, n_plugins = n_plugins }
        runner_coefficients = Coefficients {
            alpha = alpha, sigma = sigma, gamma = gamma, d_alpha = d_alpha, d_sigma = d_sigma, d_gamma = d_gamma,
        }
        runner_schedule_vtable = ScheduleVtable { size = size, create = create, destroy = destroy, coefficients = coefficients }
        runner_coupling_vtable = CouplingVtable { size = size, create = create, destroy = destroy, pair = pair }
        runner_schedule_ref = ScheduleRef { size = size, host = host, coefficients = coefficients }
        runner_grid_vtable = GridVtable { size = size, create = create, destroy = destroy, times = times }
        runner_dataset_vtable = DatasetVtable {
            size = size, create = create, destroy = destroy, dim = dim, sample = sample,
            mixture_components = mixture_components, mixture = mixture,
        }
        runner_path_integrals = PathIntegrals {
            dim = dim, n = n, source = source, end = end, energy = energy, n_target = n_target, target = target,
        }
        runner_likelihood = Likelihood { dim = dim, n = n, log_density = log_density }
        runner_metric_vtable = MetricVtable {
            size = size, create = create, destroy = destroy, input = input, max_points = max_points, evaluate = evaluate,
            evaluate_path = evaluate_path, evaluate_likelihood = evaluate_likelihood,
        }
        runner_term = Term { coef = coef, handle = handle }
        runner_dynamics = Dynamics {
            size = size, host = host, predict = predict, lincomb = lincomb, noise_like = noise_like,
            error_norm = error_norm, is_finite = is_finite, coefficients = coefficients, release = release,
        }
        runner_remembered = Remembered { t = t, target = target, reserved = reserved, value = value }
        runner_step_context = StepContext {
            size = size, host = host, grid = grid, grid_len = grid_len, index = index, history = history,
            remember = remember, forget = forget, set_error_estimate = set_error_estimate,
        }
        runner_solver_info = SolverInfo {
            kind = kind, order = order, error_order = error_order, reserved = reserved, evals_per_step = evals_per_step,
        }
        runner_solver_vtable = SolverVtable {
            size = size, create = create, destroy = destroy, info = info, nfe = nfe, default_nfe = default_nfe, step = step,
        }
    };
    checks.extend(constants! {
        RUNNER_MAGIC = MAGIC,
        RUNNER_ABI_MAJOR = ABI_MAJOR,
        RUNNER_ABI_MINOR = ABI_MINOR,
        RUNNER_STATUS_OK = STATUS_OK,
        RUNNER_STATUS_ERROR = STATUS_ERROR,
        RUNNER_STATUS_PANIC = STATUS_PANIC,
        RUNNER_KIND_SCHEDULE = KIND_SCHEDULE,
        RUNNER_KIND_COUPLING = KIND_COUPLING,
        RUNNER_KIND_SOLVER = KIND_SOLVER,
        RUNNER_KIND_GRID = KIND_GRID,
        RUNNER_KIND_DATASET = KIND_DATASET,
        RUNNER_KIND_METRIC = KIND_METRIC,
        RUNNER_PARAM_FLOAT = PARAM_FLOAT,
        RUNNER_PARAM_INT = PARAM_INT,
        RUNNER_PARAM_BOOL = PARAM_BOOL,
        RUNNER_PARAM_STR = PARAM_STR,
        RUNNER_TARGET_VELOCITY = TARGET_VELOCITY,
        RUNNER_TARGET_EPSILON = TARGET_EPSILON,
        RUNNER_TARGET_DATA = TARGET_DATA,
        RUNNER_TARGET_SCORE = TARGET_SCORE,
        RUNNER_SOLVER_ODE = SOLVER_ODE,
        RUNNER_SOLVER_ADAPTIVE = SOLVER_ADAPTIVE,
        RUNNER_SOLVER_STOCHASTIC = SOLVER_STOCHASTIC,
        RUNNER_SOLVER_DETERMINISTIC = SOLVER_DETERMINISTIC,
        RUNNER_METRIC_POINTS = METRIC_POINTS,
        RUNNER_METRIC_PATH = METRIC_PATH,
        RUNNER_METRIC_LIKELIHOOD = METRIC_LIKELIHOOD,
    });
    // The status type itself, which no struct holds.
    checks.push(Check {
        what: "sizeof(runner_status) (Rust Status)".into(),
        c_expr: "sizeof(runner_status)".into(),
        rust: core::mem::size_of::<Status>() as u64,
    });
    checks
}

fn c_program(checks: &[Check]) -> String {
    let mut c =
        String::from("#include <stdio.h>\n#include <stddef.h>\n#include \"runner_plugin.h\"\n\nint main(void) {\n");
    for check in checks {
        writeln!(c, "    printf(\"%llu\\n\", (unsigned long long)({}));", check.c_expr).unwrap();
    }
    c.push_str("    return 0;\n}\n");
    c
}

#[test]
fn the_header_matches_the_rust_types() {
    let checks = checks();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runner-abi-header");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("layout.c");
    let binary = dir.join("layout");
    std::fs::write(&source, c_program(&checks)).unwrap();
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Werror", "-I"])
        .arg(&include)
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("could not run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "the C compiler failed on {}", source.display());
    let output = Command::new(&binary).output().expect("run the layout program");
    assert!(output.status.success());
    let printed: Vec<u64> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| l.parse().expect("a number per line")).collect();
    assert_eq!(printed.len(), checks.len());
    let mismatches: Vec<String> = checks
        .iter()
        .zip(&printed)
        .filter(|(check, &c)| check.rust != c)
        .map(|(check, c)| format!("{}: C {}, Rust {}", check.what, c, check.rust))
        .collect();
    assert!(mismatches.is_empty(), "the header and the Rust ABI disagree:\n{}", mismatches.join("\n"));
}
