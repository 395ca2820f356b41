//! One writer per trial directory: a `lock` file created exclusively, naming its holder. A lock
//! whose holder is gone (a killed worker, a pre-empted Slurm task) is taken over: on the same
//! host when its process no longer exists (or its pid now belongs to a younger process), and
//! anywhere when the new holder is the same Slurm array task run again (a requeue).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::TrialError;

const LOCK: &str = "lock";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat`), which tells a
    /// reused pid apart.
    pub started: Option<u64>,
    /// `<array job>_<task>` when the holder is a Slurm array task.
    pub slurm_task: Option<String>,
}

impl Holder {
    pub fn current() -> Holder {
        let pid = std::process::id();
        Holder { host: host_name(), pid, started: start_time(pid), slurm_task: slurm_task() }
    }

    /// Whether the holder may still be writing.
    pub fn is_alive(&self) -> bool {
        let me = Holder::current();
        if self.slurm_task.is_some() && self.slurm_task == me.slurm_task && self.pid != me.pid {
            return false;
        }
        if self.host != me.host {
            return true;
        }
        match start_time(self.pid) {
            None => false,
            Some(started) => self.started.is_none_or(|s| s == started),
        }
    }
}

/// The held lock of a trial directory; released when dropped.
pub struct TrialLock {
    path: PathBuf,
}

impl TrialLock {
    /// Take the lock of `dir`, or fail naming the live process that holds it.
    pub fn acquire(dir: &Path) -> Result<TrialLock, TrialError> {
        let path = dir.join(LOCK);
        let me = Holder::current();
        let text = serde_json::to_string(&me).expect("JSON");
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(text.as_bytes()).map_err(|e| TrialError::io(&path, e))?;
                    return Ok(TrialLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read_holder(dir) {
                    Some(holder) if holder.is_alive() => {
                        return Err(TrialError::Locked { dir: dir.to_path_buf(), host: holder.host, pid: holder.pid })
                    }
                    // Dead, or a lock file whose writer died before writing its name.
                    _ => {
                        tracing::warn!(dir = %dir.display(), "taking over the lock of a process that is gone");
                        fs::remove_file(&path).map_err(|e| TrialError::io(&path, e))?;
                    }
                },
                Err(e) => return Err(TrialError::io(&path, e)),
            }
        }
        Err(TrialError::io(&path, std::io::Error::other("another process took the lock at the same time")))
    }
}

impl Drop for TrialLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The holder named in `dir`'s lock, if it has one.
pub fn read_holder(dir: &Path) -> Option<Holder> {
    serde_json::from_str(&fs::read_to_string(dir.join(LOCK)).ok()?).ok()
}

/// Whether a live process holds `dir`'s lock.
pub fn is_locked(dir: &Path) -> bool {
    read_holder(dir).is_some_and(|h| h.is_alive())
}

/// The start time of a live process; none for one that does not exist, or that has exited and
/// waits to be reaped (a zombie: a killed worker whose parent died too lingers as one).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
    if matches!(fields.next(), Some("Z" | "X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

fn slurm_task() -> Option<String> {
    let job = std::env::var("SLURM_ARRAY_JOB_ID").ok()?;
    let task = std::env::var("SLURM_ARRAY_TASK_ID").ok()?;
    Some(format!("{job}_{task}"))
}

pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
        .unwrap_or_default()
}
