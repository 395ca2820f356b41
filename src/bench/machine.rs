//! What a bench ran on: the CPU, and the matrix kernel each side multiplied with. Ratios and
//! peaks from one machine do not carry over to another (a CPU with AVX-512 runs a kernel built
//! for it at twice the rate of one limited to AVX2), so the report says both.

use serde::{Deserialize, Serialize};

/// The CPU and the vector instructions it offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `model name` of /proc/cpuinfo, else the architecture.
    pub cpu: String,
    /// The widest x86-64 level the CPU supports: `x86-64-v4` (AVX-512), `x86-64-v3` (AVX2, FMA),
    /// or the baseline; on other architectures, the architecture.
    pub isa: String,
}

impl Machine {
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines().find_map(|l| {
                    l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string())
                })
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Machine { cpu, isa: isa_level().to_string() }
    }
}

/// The x86-64 micro-architecture level of this CPU, by the features gemm's kernels require.
fn isa_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let v3 = has!("avx2") && has!("fma") && has!("bmi2") && has!("f16c");
        let v4 = v3 && has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl");
        if v4 {
            "x86-64-v4 (AVX-512)"
        } else if v3 {
            "x86-64-v3 (AVX2, FMA)"
        } else {
            "x86-64 (SSE2)"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}

/// The matrix kernel behind a device's matmul, and the instructions it runs with here.
pub fn kernel(device_name: &str) -> String {
    if device_name.starts_with("flex") {
        // gemm picks its kernel at run time from what the CPU has; this build compiles its
        // AVX-512 kernels (the `x86-v4` feature), so the CPU's level is the kernel's.
        return format!("gemm 0.19, {} kernels", isa_level());
    }
    #[cfg(feature = "tch")]
    if device_name.starts_with("libtorch") {
        let blas = if tch::utils::has_mkl() { "MKL" } else { "its own BLAS" };
        // ATen does not tell Rust which instructions it dispatches to; scripts/setup-libtorch.sh
        // links the reference's own install, whose capability the reference line reports.
        return format!("libtorch with {blas}, ATen's CPU capability as the reference's when both are one install");
    }
    if device_name.starts_with("ndarray") {
        return "matrixmultiply".into();
    }
    "unknown".into()
}
