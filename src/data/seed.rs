//! Seeding: one seeded generator per (dataset, seed).
//!
//! The host may draw the source and the target of a trial with the same seed. If both datasets
//! seeded their generator with the bare seed, `gaussian` and, say, `gmm1d` would consume the
//! same random stream and the "independent" coupling would pair correlated points. Mixing the
//! dataset's name into the seed gives every dataset its own stream while keeping each one a
//! pure function of the seed.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// The generator for `dataset` drawn with `seed`.
pub(crate) fn rng(dataset: &str, seed: u64) -> StdRng {
    StdRng::seed_from_u64(splitmix64(fnv1a(dataset) ^ splitmix64(seed)))
}

/// FNV-1a: a fixed, portable hash of the name (std's hasher is not stable across releases).
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SplitMix64's finaliser: a bijection that spreads nearby seeds (0, 1, 2, …) apart.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
