//! The bytes that `arbitrary` decodes into a given value, for seed corpora of real configs and
//! descriptors. It mirrors how `arbitrary` (1.x) reads its input: fixed-size values and
//! collection items from the front, string lengths from the back, the last field of the
//! outermost value from whatever is left. [`encode`] decodes what it wrote and compares, so a
//! change in `arbitrary`'s format fails loudly instead of writing seeds that mean nothing.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};

use crate::{AbiArray, AbiStr, ConfigInput, DescriptorInput, ParamInput, PluginInput, TableInput};

/// What decoding reads, in order.
enum Op {
    /// Bytes read from the front.
    Front(Vec<u8>),
    /// A length read from the back.
    Len(usize),
}

/// Collects the reads of one value.
#[derive(Default)]
pub struct Encoder {
    ops: Vec<Op>,
}

impl Encoder {
    fn front(&mut self, bytes: &[u8]) {
        self.ops.push(Op::Front(bytes.to_vec()));
    }

    /// A string read with a length: the length from the back, the bytes from the front.
    fn sized(&mut self, bytes: &[u8]) {
        self.ops.push(Op::Len(bytes.len()));
        self.front(bytes);
    }

    /// The bytes: the front reads in order, then the back reads, the first one last.
    fn finish(self) -> Vec<u8> {
        let front_len: usize = self.ops.iter().map(|op| if let Op::Front(b) = op { b.len() } else { 0 }).sum();
        let lens = self.ops.iter().filter(|op| matches!(op, Op::Len(_))).count();
        // A length takes 1, 2 or 4 bytes, depending on how many bytes are left when it is read;
        // those depend on the widths themselves: iterate to the fixed point.
        let mut widths = vec![1usize; lens];
        for round in 0.. {
            assert!(round < 16, "the lengths' widths do not settle");
            let total = front_len + widths.iter().sum::<usize>();
            let mut left = total;
            let mut next = Vec::with_capacity(lens);
            for op in &self.ops {
                match op {
                    Op::Front(b) => left = left.saturating_sub(b.len()),
                    Op::Len(_) => {
                        next.push(width(left));
                        left = left.saturating_sub(widths[next.len() - 1]);
                    }
                }
            }
            if next == widths {
                break;
            }
            widths = next;
        }
        let mut out = Vec::new();
        let mut back = Vec::new();
        let mut left = front_len + widths.iter().sum::<usize>();
        let mut w = widths.iter();
        for op in self.ops {
            match op {
                Op::Front(b) => {
                    left -= b.len();
                    out.extend(b);
                }
                Op::Len(n) => {
                    let w = *w.next().unwrap();
                    let max = (left - w) as u64;
                    left -= w;
                    // `arbitrary` combines only as many of the `w` bytes, big-endian, as the
                    // largest possible length needs.
                    let used = (1..=w).find(|&k| k == w || max >> (8 * k) == 0).unwrap_or(0);
                    let mut bytes = (n as u64).to_be_bytes()[8 - used..].to_vec();
                    bytes.resize(w, 0);
                    back.push(bytes);
                }
            }
        }
        for b in back.into_iter().rev() {
            out.extend(b);
        }
        out
    }
}

/// How many bytes a length takes when `left` bytes are left.
fn width(left: usize) -> usize {
    match left {
        0 => 0,
        1..=256 => 1,
        257..=65537 => 2,
        _ => 4,
    }
}

/// A value as `arbitrary` reads it inside a larger one, or as its outermost value.
pub trait Encode {
    fn encode(&self, e: &mut Encoder);
    /// As the last field of the outermost value: the rest of the input.
    fn encode_last(&self, e: &mut Encoder) {
        self.encode(e);
    }
}

/// The bytes that decode to `value`; panics if they do not.
pub fn encode<T: Encode + Debug + for<'a> Arbitrary<'a>>(value: &T) -> Vec<u8> {
    let mut e = Encoder::default();
    value.encode_last(&mut e);
    let bytes = e.finish();
    let decoded = T::arbitrary_take_rest(Unstructured::new(&bytes)).expect("the seed decodes");
    assert_eq!(format!("{decoded:?}"), format!("{value:?}"), "the seed decodes to another value");
    bytes
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, e: &mut Encoder) {
                e.front(&self.to_le_bytes());
            }
        }
    )*};
}
int!(u8, u16, u32, u64, i32, i64);

impl Encode for f64 {
    fn encode(&self, e: &mut Encoder) {
        self.to_bits().encode(e);
    }
}

impl Encode for bool {
    fn encode(&self, e: &mut Encoder) {
        e.front(&[u8::from(*self)]);
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, e: &mut Encoder) {
        self.is_some().encode(e);
        if let Some(v) = self {
            v.encode(e);
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, e: &mut Encoder) {
        for item in self {
            true.encode(e);
            item.encode(e);
        }
        false.encode(e);
    }
}

impl Encode for String {
    fn encode(&self, e: &mut Encoder) {
        e.sized(self.as_bytes());
    }
    fn encode_last(&self, e: &mut Encoder) {
        e.front(self.as_bytes());
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, e: &mut Encoder) {
        self.0.encode(e);
        self.1.encode(e);
    }
}

/// A struct's fields in declaration order, the last one as the rest of the input when the
/// struct is the outermost value.
macro_rules! fields {
    ($t:ty { $($f:ident),* ; $last:ident }) => {
        impl Encode for $t {
            fn encode(&self, e: &mut Encoder) {
                $(self.$f.encode(e);)*
                self.$last.encode(e);
            }
            fn encode_last(&self, e: &mut Encoder) {
                $(self.$f.encode(e);)*
                self.$last.encode_last(e);
            }
        }
    };
}

fields!(ConfigInput { env, sets, runner_toml; loaded_toml });
fields!(DescriptorInput { null, size, name, version, create_status, create_message_len; plugins });
fields!(AbiStr { bytes, null; len });
fields!(PluginInput { size, kind, name, summary, params; table });
fields!(ParamInput { name, help, kind, boolean, float, int; string });
fields!(TableInput { size; functions });

impl<T: Encode> Encode for AbiArray<T> {
    fn encode(&self, e: &mut Encoder) {
        self.items.encode(e);
        self.null.encode(e);
        self.count.encode(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let long = "x".repeat(70_000);
        let config = ConfigInput {
            env: vec![("TRAIN__LR".into(), "3e-4".into()), (String::new(), long.clone())],
            sets: vec!["train.lr=3e-4".into(), "a".repeat(300)],
            runner_toml: Some("seed = 1\n".into()),
            loaded_toml: "[train]\nsteps = 10\n".into(),
        };
        encode(&config);
        encode(&ConfigInput { env: vec![], sets: vec![], runner_toml: None, loaded_toml: String::new() });
        encode(&ConfigInput { env: vec![], sets: vec![long], runner_toml: None, loaded_toml: "x".into() });
    }

    #[test]
    fn every_width_of_a_length_round_trips() {
        let sizes = (0..600).chain(65_500..65_600).chain([70_000, 1 << 24, (1 << 24) + 3]);
        for n in sizes {
            for tail in ["", "t"] {
                let runner_toml = Some("y".repeat(n));
                encode(&ConfigInput { env: vec![], sets: vec![], runner_toml, loaded_toml: tail.into() });
            }
        }
    }
}
