//! One registry serving the synthetic release, shared by every test of the
//! matrix binary.
//!
//! Each per-version test holds an `Arc` of it; the last holder to finish
//! drops it, which stops `docker-registry` by its recorded PID. Statics are
//! never dropped, so the slot keeps only a `Weak`: with the harness's usual
//! parallelism one registry serves the whole run, and under
//! `--test-threads=1` a fresh one is started per test (slower, never
//! leaked).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

use factory_imager::pull::{Puller, PullerConfig};

use super::tools::run;

/// The synthetic release in a registry of its own, stopped on drop.
pub struct Upstream {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The OCI layout that was pushed (ground truth for expectations).
    pub layout: PathBuf,
    /// What the layout holds (kernel release, digests).
    pub summary: synthetic_release::Summary,
    state: tempfile::TempDir,
}

static SHARED: Mutex<Weak<Upstream>> = Mutex::new(Weak::new());

/// The registry of this test binary, started on first use.
pub fn shared() -> Arc<Upstream> {
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(upstream) = slot.upgrade() {
        return upstream;
    }
    let upstream = Arc::new(Upstream::start());
    *slot = Arc::downgrade(&upstream);
    upstream
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn text(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd)).unwrap().trim().to_owned()
}

impl Upstream {
    fn start() -> Upstream {
        let cache = std::env::var_os("SYNTHETIC_RELEASE_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache")
                    })
                    .join("image-factory")
            });
        let inputs = cache.join("debian");
        let layout = cache.join("synthetic-layout");
        run(Command::new(workspace().join("tests/scripts/fetch-debian-inputs.sh")).arg(&inputs));
        synthetic_release::generate(&synthetic_release::Config {
            inputs,
            out: layout.clone(),
            versions: Vec::new(),
            force: false,
        })
        .unwrap();
        let summary = synthetic_release::Summary::load(&layout).unwrap();
        let state = tempfile::tempdir().unwrap();
        let script = workspace().join("tests/scripts/registry.sh");
        // Own the state directory before the process exists, so that a
        // failed push still stops it (Drop runs on unwinding).
        let mut upstream = Upstream {
            addr: String::new(),
            layout: layout.clone(),
            summary,
            state,
        };
        text(
            Command::new(&script)
                .arg("start")
                .env("SYNTHETIC_REGISTRY_STATE", upstream.state.path()),
        );
        upstream.addr = text(
            Command::new(&script)
                .arg("push")
                .arg(&layout)
                .env("SYNTHETIC_REGISTRY_STATE", upstream.state.path()),
        );
        upstream
    }

    /// A puller of this registry caching under `cache`.
    pub fn puller(&self, cache: &Path) -> Puller {
        Puller::new(PullerConfig {
            registry: self.addr.clone(),
            namespace: String::new(),
            insecure: true,
            cache_dir: cache.to_owned(),
        })
        .unwrap()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // registry.sh stops exactly the PID it recorded in this state dir.
        let _ = Command::new(workspace().join("tests/scripts/registry.sh"))
            .arg("stop")
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path())
            .output();
    }
}
