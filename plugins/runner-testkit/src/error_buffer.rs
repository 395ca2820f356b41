//! The host's side of an error message, for tests that call a plugin's tables directly.

use runner_sdk::abi;

/// A host-owned buffer a plugin writes its error message into.
pub struct ErrorBuffer {
    bytes: Vec<u8>,
    pub buf: abi::ErrorBuf,
}

impl ErrorBuffer {
    /// A buffer of `cap` bytes. Boxed, so that `buf.ptr` stays valid where the box moves.
    pub fn new(cap: usize) -> Box<ErrorBuffer> {
        let mut e = Box::new(ErrorBuffer {
            bytes: vec![0; cap],
            buf: abi::ErrorBuf { ptr: std::ptr::null_mut(), cap, len: 0 },
        });
        e.buf.ptr = e.bytes.as_mut_ptr();
        e
    }

    /// What the plugin wrote.
    pub fn message(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.buf.len]).expect("plugins write UTF-8")
    }
}
