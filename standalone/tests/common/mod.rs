//! Shared setup of the platform tests: the synthetic Talos release in a real
//! `docker-registry` on loopback (`factory_test_support`'s), and a
//! `StandalonePlatform` on a fresh data directory pointed at it.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use factory_core::asset_key::{AssetKey, asset_key};
use factory_core::frontend::Platform;
use factory_core::profile::BuildProfile;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use image_factory::metrics::{BuildLabels, Metrics};
use image_factory::platform::StandalonePlatform;
use image_factory::settings::{Settings, Upstream};

pub use factory_test_support::SyntheticRegistry;

/// Settings of a factory on `data_dir` using `registry` as its upstream.
pub fn settings(registry: &SyntheticRegistry, data_dir: &Path) -> Settings {
    let mut settings = Settings::new(data_dir.to_owned());
    settings.upstream = Upstream::Registry {
        host: registry.addr.clone(),
        namespace: String::new(),
        insecure: true,
    };
    settings
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
    let profile = factory_test_support::profile(path, schematic, &version, &release);
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
