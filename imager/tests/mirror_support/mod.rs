//! Shared by the offline and mirror tests: the synthetic release as an OCI
//! layout and served by its own `docker-registry` (through
//! `tests/scripts/registry.sh`, as the boot tests do), and builds of kernel
//! and initramfs with extensions to compare across upstreams.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use factory_core::image_path;
use factory_core::profile::{ProfileContext, build_profile};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{BuildContext, build};
use factory_imager::catalog;
use factory_imager::pull::{Puller, PullerConfig};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn run(cmd: &mut Command) -> String {
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

/// The synthetic release's OCI layout, generated if needed.
pub fn synthetic_layout() -> PathBuf {
    let cache = std::env::var_os("SYNTHETIC_RELEASE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
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
    layout
}

/// The synthetic release in a registry of its own, stopped on drop.
pub struct Upstream {
    pub addr: String,
    pub layout: PathBuf,
    state: tempfile::TempDir,
}

impl Upstream {
    pub fn start() -> Upstream {
        let layout = synthetic_layout();
        let state = tempfile::tempdir().unwrap();
        let script = workspace().join("tests/scripts/registry.sh");
        run(Command::new(&script)
            .arg("start")
            .env("SYNTHETIC_REGISTRY_STATE", state.path()));
        let addr = run(Command::new(&script)
            .arg("push")
            .arg(&layout)
            .env("SYNTHETIC_REGISTRY_STATE", state.path()));
        Upstream {
            addr: addr.trim().to_owned(),
            layout,
            state,
        }
    }

    /// A puller of this registry caching under `cache`.
    pub fn puller(&self, cache: &Path) -> Puller {
        registry_puller(&self.addr, "", cache)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = Command::new(workspace().join("tests/scripts/registry.sh"))
            .arg("stop")
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path())
            .output();
    }
}

/// A plain-HTTP registry puller.
pub fn registry_puller(addr: &str, namespace: &str, cache: &Path) -> Puller {
    Puller::new(PullerConfig {
        registry: addr.to_owned(),
        namespace: namespace.to_owned(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}

/// Four official extensions (microcode, firmware, kernel modules, a
/// service), so the initramfs exercises every extension path.
pub const FOUR_EXTENSIONS: &[u8] = b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ice-firmware\n      - siderolabs/gasket\n      - siderolabs/qemu-guest-agent\n";

/// Builds `kernel-amd64` and `initramfs-amd64.xz` of `version` with
/// [`FOUR_EXTENSIONS`] from `puller`; returns the two files' bytes.
pub async fn build_boot_assets(
    puller: &Puller,
    version: &str,
    work: &Path,
) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(work).unwrap();
    let schematic = Schematic::parse(FOUR_EXTENSIONS).unwrap();
    let version: TalosVersion = version.parse().unwrap();
    let release = catalog::release(puller, &version).await.unwrap();
    let ctx = BuildContext {
        puller,
        external_url: "http://127.0.0.1:8080/",
        work_root: work,
    };
    let mut out = Vec::new();
    for path in ["kernel-amd64", "initramfs-amd64.xz"] {
        let context = ProfileContext {
            version: &version,
            catalog: &release,
            secureboot_enabled: false,
        };
        let profile = build_profile(
            image_path::parse(path).unwrap(),
            &schematic,
            schematic.id().as_str(),
            &context,
        )
        .unwrap();
        let dest = work.join(format!("{version}-{path}"));
        let built = build(&ctx, &profile, &schematic, &dest).await.unwrap();
        out.push((path.to_owned(), std::fs::read(&built.path).unwrap()));
    }
    out
}
