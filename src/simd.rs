//! Run-time choice of the widest vector instructions for a hot loop.
//!
//! Builds target baseline x86-64 (SSE2: two f64 or four f32 lanes) so that the binary runs
//! anywhere. Loops written as independent lanes of plain selects (the host SiLU, the
//! assignment's row sweeps) gain up to 2× from AVX2's wider registers; [`vectorised`] compiles
//! such a loop a second time with AVX2 enabled and picks that copy where the CPU has it.

/// Runs `f` compiled for AVX2 where the CPU has it (checked at run time), else for the
/// baseline. AVX2 only widens the lanes (no fused multiply-add is enabled), so both copies give
/// bit-identical results.
#[inline(always)]
pub fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { with_avx2(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
