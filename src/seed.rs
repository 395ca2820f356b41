//! Seeds for every random stream of a trial, derived from the trial's one seed and a label, so
//! that streams are independent of each other and of how many draws any other stream made.

/// A seed for the stream `label` (and `index`, e.g. the training step) of trial seed `seed`.
pub fn derive(seed: u64, label: &str, index: u64) -> u64 {
    // FNV-1a over the label, then splitmix64 finalisation over the mix: cheap, well spread.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed ^ h.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn streams_differ_by_label_index_and_seed() {
        let a = super::derive(0, "train", 0);
        assert_ne!(a, super::derive(0, "train", 1));
        assert_ne!(a, super::derive(0, "eval", 0));
        assert_ne!(a, super::derive(1, "train", 0));
        assert_eq!(a, super::derive(0, "train", 0));
    }
}
