//! Files a crash must never leave half-written: every file but an append-only log is written
//! whole to a temporary name beside it, flushed to disk and renamed over the old one, so a
//! reader sees the old file or the new one, never a prefix. Log lines are appended with one
//! write each, so a killed writer leaves whole lines.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The suffix of temporary files: a rerun removes any it finds (a writer killed between the
/// write and the rename leaves one behind).
pub const TEMPORARY: &str = ".partial";

/// A fault-injection point for the crash tests: with `RUNNER_CRASH_IN_WRITE=N`, the process
/// aborts halfway through writing the temporary file of its N-th atomic write, as a kill in the
/// middle of a write would leave it.
pub const CRASH_IN_WRITE: &str = "RUNNER_CRASH_IN_WRITE";

fn crash_point() -> Option<usize> {
    static POINT: OnceLock<Option<usize>> = OnceLock::new();
    *POINT.get_or_init(|| std::env::var(CRASH_IN_WRITE).ok().and_then(|v| v.parse().ok()))
}

/// Replace `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let tmp = temporary(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        if crash_point().is_some_and(|n| WRITES.fetch_add(1, Ordering::SeqCst) + 1 == n) {
            f.write_all(&bytes[..bytes.len() / 2])?;
            f.sync_all()?;
            std::process::abort();
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Where [`write_atomic`] writes before the rename: the same directory (a rename is atomic
/// only within one file system), a name no reader looks for.
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}{TEMPORARY}", std::process::id()));
    path.with_file_name(name)
}

/// Replace `path` with `value` as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> io::Result<()> {
    write_atomic(path, &serde_json::to_vec_pretty(value).expect("the value serializes"))
}

/// Read a JSON file; a file that does not parse is an `InvalidData` error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<T> {
    serde_json::from_str(&fs::read_to_string(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Append `line` and a newline to `path` in a single write.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    OpenOptions::new().create(true).append(true).open(path)?.write_all(&bytes)
}

/// Remove the temporary files a killed writer left in `dir` (not recursive).
pub fn remove_temporaries(dir: &Path) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(TEMPORARY)) {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}
