//! Debian's `docker-registry` on a free loopback port, through
//! `tests/scripts/registry.sh`: with the synthetic release pushed (an
//! upstream) or empty (a mirror target). The script records the PID in a
//! state directory of this registry's own, and stops exactly that process;
//! Drop stops it too, also when a test fails halfway.

use std::path::{Path, PathBuf};
use std::process::Command;

use factory_imager::pull::{Puller, PullerConfig};

use crate::command::{run, tool, workspace};
use crate::release::synthetic_layout;

/// A registry of its own, stopped by PID on drop (and by
/// [`SyntheticRegistry::stop`]).
#[derive(Debug)]
pub struct SyntheticRegistry {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The OCI layout that was pushed (ground truth for expectations);
    /// empty for an empty registry.
    pub layout: PathBuf,
    state: tempfile::TempDir,
}

impl SyntheticRegistry {
    /// Generates (cached) the synthetic release and pushes it into a fresh
    /// registry. Needs the Debian packages docker-registry, skopeo, curl
    /// and jq.
    pub fn start() -> SyntheticRegistry {
        tool("skopeo", "skopeo");
        tool("jq", "jq");
        let layout = synthetic_layout();
        let mut registry = SyntheticRegistry::start_empty();
        registry.addr = registry.script("push", Some(&layout));
        registry.layout = layout;
        registry
    }

    /// An empty registry (a mirror target). Needs the Debian packages
    /// docker-registry and curl.
    pub fn start_empty() -> SyntheticRegistry {
        tool("docker-registry", "docker-registry");
        tool("curl", "curl");
        // Own the state directory before the process exists, so that a
        // failure after the start still stops it (Drop runs on unwinding).
        let mut registry = SyntheticRegistry {
            addr: String::new(),
            layout: PathBuf::new(),
            state: tempfile::tempdir().unwrap(),
        };
        registry.addr = registry.script("start", None);
        registry
    }

    /// Runs `registry.sh <command> [layout]` on this state; returns the
    /// address it prints.
    fn script(&self, command: &str, layout: Option<&Path>) -> String {
        let mut cmd = Command::new(workspace().join("tests/scripts/registry.sh"));
        cmd.arg(command)
            .args(layout)
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path());
        run(&mut cmd).trim().to_owned()
    }

    /// Stops the registry (idempotent): its clients' connections fail from
    /// now on.
    pub fn stop(&self) {
        self.script("stop", None);
    }

    /// The registry's storage directory (`docker/registry/v2/...` below it).
    pub fn storage(&self) -> PathBuf {
        self.state.path().join("storage")
    }

    /// A puller of this registry caching under `cache`.
    pub fn puller(&self, cache: &Path) -> Puller {
        registry_puller(&self.addr, "", cache)
    }
}

impl Drop for SyntheticRegistry {
    fn drop(&mut self) {
        // registry.sh stops exactly the PID it recorded in this state dir.
        let _ = Command::new(workspace().join("tests/scripts/registry.sh"))
            .arg("stop")
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path())
            .output();
    }
}

/// A plain-HTTP puller of the registry at `addr` under `namespace`,
/// caching under `cache`.
pub fn registry_puller(addr: &str, namespace: &str, cache: &Path) -> Puller {
    Puller::new(PullerConfig {
        registry: addr.to_owned(),
        namespace: namespace.to_owned(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}
