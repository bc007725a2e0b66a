//! Spawning a server, waiting for it, and stopping exactly it.
//!
//! Each server is the leader of a process group of its own, and stopping it
//! signals that group: `wrangler dev` is a launcher whose node child runs
//! workerd and esbuild, and signalling the launcher's PID alone orphans them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt as _;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A running server process group; SIGTERM, then SIGKILL, to that group
/// (its PID is the group ID) on drop.
#[derive(Debug)]
pub struct Spawned {
    name: String,
    child: Option<Child>,
    /// Its combined stdout/stderr.
    pub log: PathBuf,
}

impl Spawned {
    /// Spawns `cmd` with output to `log`.
    pub fn start(name: &str, mut cmd: Command, log: &Path) -> Spawned {
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({cmd:?}): {e}"));
        Spawned {
            name: name.to_owned(),
            child: Some(child),
            log: log.to_owned(),
        }
    }

    /// The PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `ready` until it holds, failing with the log if the process
    /// exits or `timeout` passes.
    pub fn wait_until(&mut self, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("{} exited with {status}:\n{}", self.name, self.log_text());
            }
            if ready() {
                return;
            }
            if Instant::now() > deadline {
                panic!("{} did not become ready:\n{}", self.name, self.log_text());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the process and everything it started (idempotent).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = Pid::from_raw(child.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever of the group outlived the leader (workerd, esbuild).
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// User+system CPU clock ticks of every `workerd` process descended from
/// `root` (from `/proc/<pid>/stat`).
pub fn workerd_cpu_ticks(root: u32) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((name, rest)) = parse_stat(&stat) else {
            continue;
        };
        if name == "workerd" && descends_from(pid, root) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // After "(comm)": state ppid ... utime is field 14, stime 15 (1-based overall).
            let utime: u64 = fields[11].parse().unwrap();
            let stime: u64 = fields[12].parse().unwrap();
            total += utime + stime;
        }
    }
    total
}

fn parse_stat(stat: &str) -> Option<(&str, &str)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    Some((&stat[open + 1..close], &stat[close + 1..]))
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = parse_stat(&stat)?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn descends_from(mut pid: u32, root: u32) -> bool {
    for _ in 0..64 {
        if pid == root {
            return true;
        }
        match parent(pid) {
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}
