//! End-to-end harness: the synthetic Talos release in Debian's
//! `docker-registry` on loopback (`factory_test_support`'s), the real
//! `image-factory` binary on free loopback ports, and curl as the client.
//! Every process is stopped by PID on drop.
#![allow(dead_code, unreachable_pub, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The Talos version most tests use.
pub const VERSION: &str = "v1.12.4";

/// A schematic with kernel args and an extension.
pub const SCHEMATIC: &str = "customization:\n  extraKernelArgs:\n    - console=ttyS0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n";

// Part of this harness's API; not every test binary uses both.
#[allow(unused_imports)]
pub use factory_test_support::{Answer, curl, free_port, run, tool};

/// The synthetic release in a registry of its own (`start`), or an empty
/// one (`start_empty`, a mirror target); `addr` and `layout` are public.
pub type Upstream = factory_test_support::SyntheticRegistry;

/// A running `image-factory serve`.
pub struct Factory {
    child: Option<Child>,
    pub base: String,
    pub metrics: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    upstream: Vec<String>,
}

impl Factory {
    /// Starts the binary on free ports over `data_dir`, upstream `registry`.
    pub fn start(registry: &str, data_dir: &Path) -> Factory {
        Self::start_with(registry, data_dir, &[])
    }

    pub fn start_with(registry: &str, data_dir: &Path, extra: &[&str]) -> Factory {
        let upstream = ["--upstream-registry", registry, "--upstream-insecure"];
        Self::spawn(upstream.map(str::to_owned).to_vec(), data_dir, extra)
    }

    /// Starts the binary over an OCI layout upstream (offline mode).
    pub fn start_layout(layout: &Path, data_dir: &Path, extra: &[&str]) -> Factory {
        let upstream = vec!["--upstream-layout".to_owned(), layout.display().to_string()];
        Self::spawn(upstream, data_dir, extra)
    }

    fn spawn(upstream: Vec<String>, data_dir: &Path, extra: &[&str]) -> Factory {
        let port = free_port();
        let metrics_port = free_port();
        let log = data_dir.with_extension(format!("{port}.log"));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_image-factory"));
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics-listen")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(&upstream)
            .args(extra)
            .env("IF_LOG", "info")
            .stdout(Stdio::null())
            .stderr(stderr);
        let child = cmd.spawn().unwrap();
        let mut factory = Factory {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            data_dir: data_dir.to_owned(),
            log,
            upstream,
        };
        factory.wait_healthy();
        factory
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let log = self.log_text();
                let hint = if status.success() && log.is_empty() {
                    " (silently: is the binary another worktree's build sharing CARGO_TARGET_DIR?)"
                } else {
                    ""
                };
                panic!("image-factory exited with {status}{hint}:\n{log}");
            }
            if curl(&[&format!("{}/healthz", self.base)]).status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("image-factory did not become healthy:\n{}", self.log_text());
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().unwrap().id() as i32)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        kill(self.pid(), Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "image-factory did not exit after SIGTERM:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts again on the same data directory (new ports).
    pub fn restart(&mut self) {
        self.kill();
        *self = Factory::spawn(self.upstream.clone(), &self.data_dir.clone(), &[]);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One sample of a metric, by its full name and label text (`name{a="b"}`),
    /// or 0 when absent.
    pub fn metric(&self, series: &str) -> f64 {
        let text = String::from_utf8(curl(&[&self.metrics]).body).unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix(series))
            .filter_map(|rest| rest.strip_prefix(' '))
            .filter_map(|v| v.split_whitespace().next())
            .map(|v| v.parse::<f64>().unwrap())
            .sum()
    }

    /// Sum of every series of a metric family whose line starts with `prefix`.
    pub fn metric_sum(&self, prefix: &str) -> f64 {
        let text = String::from_utf8(curl(&[&self.metrics]).body).unwrap();
        text.lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit(' ').next())
            .map(|v| v.parse::<f64>().unwrap())
            .sum()
    }

    /// Creates a schematic and returns its ID.
    pub fn create_schematic(&self, yaml: &str) -> String {
        let r = curl(&[
            "-X",
            "POST",
            "--data-binary",
            yaml,
            &self.url("/schematics"),
        ]);
        assert_eq!(r.status, 201, "{}", r.text());
        let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        json["id"].as_str().unwrap().to_owned()
    }
}

impl Drop for Factory {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the binary with `args` (not `serve`) and `stdin`.
pub fn cli(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_image-factory"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}
