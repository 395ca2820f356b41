//! Run-time choice of the widest vector instructions for a hot loop.
//!
//! Builds target baseline x86-64 (SSE2: two f64 or four f32 lanes) so that the binary runs
//! anywhere. Loops written as independent lanes of plain selects (the host activations, the
//! assignment's row sweeps, Sinkhorn's products) gain up to 2× from AVX2's wider registers and
//! 4× from AVX-512's; [`vectorised`] (for a small closure) and [`avx2_twin!`] (for a function
//! whose body is too large for the closure to be inlined) compile such a loop a second time with
//! wider vectors enabled and pick that copy where the CPU has them.

/// Runs `f` compiled for AVX-512 or AVX2, the widest the CPU has (checked at run time), else for
/// the baseline. The wider copies only widen the lanes: Rust never contracts a product and a sum
/// into a fused multiply-add, so every copy gives bit-identical results.
#[inline(always)]
pub fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { with_avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Defines the function `fn name(args) -> R { body }` so that its body runs compiled for AVX2
/// where the CPU has it (checked at run time), else for the baseline; as with [`vectorised`],
/// both copies give bit-identical results. Use it where a [`vectorised`] closure would be too
/// large to be inlined into the AVX2 copy (which then silently runs the baseline code).
macro_rules! avx2_twin {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn lanes($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) -> $ret {
                lanes($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { avx2($($arg),*) };
            }
            lanes($($arg),*)
        }
    };
}
pub(crate) use avx2_twin;
