//! Shared setup of the platform tests: the synthetic Talos release in a real
//! `docker-registry` on loopback (as `imager/tests/boot_synthetic.rs` does),
//! and a `StandalonePlatform` on a fresh data directory pointed at it.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use factory_core::asset_key::{AssetKey, asset_key};
use factory_core::frontend::Platform;
use factory_core::image_path;
use factory_core::profile::{BuildProfile, ProfileContext, build_profile};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use image_factory::metrics::{BuildLabels, Metrics};
use image_factory::platform::StandalonePlatform;
use image_factory::settings::{Settings, Upstream};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The synthetic release in a registry of its own, stopped on drop (and by
/// [`SyntheticRegistry::stop`]).
pub struct SyntheticRegistry {
    pub addr: String,
    state: tempfile::TempDir,
}

impl SyntheticRegistry {
    /// Generates (cached) the synthetic release and pushes it into a fresh
    /// `docker-registry`. Needs the Debian packages docker-registry, skopeo,
    /// curl and jq (the scripts name a missing one).
    pub fn start() -> SyntheticRegistry {
        let cache = std::env::var_os("SYNTHETIC_RELEASE_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache")
                    });
                base.join("image-factory")
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
        let state = tempfile::tempdir().unwrap();
        let script = workspace().join("tests/scripts/registry.sh");
        run(Command::new(&script)
            .arg("start")
            .env("SYNTHETIC_REGISTRY_STATE", state.path()));
        let addr = run(Command::new(&script)
            .arg("push")
            .arg(&layout)
            .env("SYNTHETIC_REGISTRY_STATE", state.path()));
        SyntheticRegistry {
            addr: addr.trim().to_owned(),
            state,
        }
    }

    /// Stops the registry (idempotent).
    pub fn stop(&self) {
        let _ = Command::new(workspace().join("tests/scripts/registry.sh"))
            .arg("stop")
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path())
            .output();
    }

    /// Settings of a factory on `data_dir` using this registry.
    pub fn settings(&self, data_dir: &Path) -> Settings {
        let mut settings = Settings::new(data_dir.to_owned());
        settings.upstream = Upstream::Registry {
            host: self.addr.clone(),
            namespace: String::new(),
            insecure: true,
        };
        settings
    }
}

impl Drop for SyntheticRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Opens a platform with fresh metrics.
pub async fn open(settings: &Settings) -> (StandalonePlatform, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let platform = StandalonePlatform::open(settings, Arc::clone(&metrics))
        .await
        .unwrap();
    (platform, metrics)
}

/// The build profile and asset key of `path` for `schematic` and `version`,
/// resolved against the platform's catalog (as the frontend does).
pub async fn profile(
    platform: &StandalonePlatform,
    path: &str,
    schematic: &Schematic,
    version: &str,
) -> (AssetKey, BuildProfile) {
    let version: TalosVersion = version.parse().unwrap();
    let release = platform.release(&version).await.unwrap();
    let context = ProfileContext {
        version: &version,
        catalog: &release,
        secureboot_enabled: false,
    };
    let profile = build_profile(
        image_path::parse(path).unwrap(),
        schematic,
        schematic.id().as_str(),
        &context,
    )
    .unwrap();
    (asset_key(&profile), profile)
}

/// The schematic with one extension and a kernel argument, stored.
pub async fn stored_schematic(platform: &StandalonePlatform) -> Schematic {
    let schematic = Schematic::parse(
        b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n",
    )
    .unwrap();
    platform
        .put_schematic(&schematic.id(), &schematic.canonical_yaml())
        .await
        .unwrap();
    schematic
}

/// Builds counted by kind and outcome.
pub fn builds(metrics: &Metrics, kind: &str, outcome: &str) -> u64 {
    metrics
        .builds
        .get_or_create(&BuildLabels {
            kind: kind.to_owned(),
            outcome: outcome.to_owned(),
        })
        .get()
}

/// Reads a whole delivered slice.
pub fn read_slice(slice: &image_factory::object::FileSlice) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = slice.file.try_clone().unwrap();
    file.seek(SeekFrom::Start(slice.offset)).unwrap();
    let mut out = vec![0u8; slice.len as usize];
    file.read_exact(&mut out).unwrap();
    out
}

/// Waits for a condition, polling.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
