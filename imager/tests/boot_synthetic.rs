//! The acceptance test of the PXE path: kernel, initramfs and cmdline built
//! by our builder from the synthetic Talos release served by a real
//! `docker-registry`, booted in qemu. The synthetic `/init` mounts the root
//! and every extension layer like Talos's early init and prints one line
//! naming the version, the schematic ID and the extensions, so a wrong
//! initramfs layout fails here, not just in a file listing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use factory_core::catalog::ReleaseCatalog;
use factory_core::image_path;
use factory_core::profile::{BuildProfile, ProfileContext, build_profile};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{BuildContext, build};
use factory_imager::catalog;
use factory_imager::pull::{Puller, PullerConfig};

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

/// The synthetic release in a registry of its own, stopped on drop.
struct Upstream {
    addr: String,
    state: tempfile::TempDir,
}

impl Upstream {
    fn start() -> Upstream {
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
        Upstream {
            addr: addr.trim().to_owned(),
            state,
        }
    }
}

impl Upstream {
    /// A puller of this registry caching under `cache`.
    fn puller(&self, cache: &Path) -> Puller {
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
        let _ = Command::new(workspace().join("tests/scripts/registry.sh"))
            .arg("stop")
            .env("SYNTHETIC_REGISTRY_STATE", self.state.path())
            .output();
    }
}

fn profile(
    path: &str,
    schematic: &Schematic,
    version: &TalosVersion,
    release: &ReleaseCatalog,
) -> BuildProfile {
    let context = ProfileContext {
        version,
        catalog: release,
        secureboot_enabled: false,
    };
    build_profile(
        image_path::parse(path).unwrap(),
        schematic,
        schematic.id().as_str(),
        &context,
    )
    .unwrap()
}

/// Boots in qemu (TCG) and returns the synthetic init's line.
fn boot(kernel: &Path, initrd: &Path, cmdline: &str) -> String {
    let out = Command::new("timeout")
        .args(["300", "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-m", "1024", "-nographic", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(cmdline)
        .output()
        .expect("qemu-system-x86_64 is missing: install the Debian packages qemu-system-x86 and qemu-utils");
    let console = String::from_utf8_lossy(&out.stdout);
    // The line may follow firmware or kernel output on the same console line.
    console
        .lines()
        .find_map(|l| {
            l.find("SYNTHETIC-TALOS-BOOT")
                .map(|at| l[at..].trim_end_matches('\r').to_owned())
        })
        .unwrap_or_else(|| panic!("no boot line; console:\n{console}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_kernel_and_initramfs_boot_with_and_without_extensions() {
    let upstream = Upstream::start();
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let puller = upstream.puller(cache.path());
    let ctx = BuildContext {
        puller: &puller,
        external_url: "http://127.0.0.1:8080/",
        work_root: work.path(),
    };
    let four = Schematic::parse(
        b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ice-firmware\n      - siderolabs/gasket\n      - siderolabs/qemu-guest-agent\n",
    )
    .unwrap();
    let empty = Schematic::parse(b"{}").unwrap();

    // zstd (≥1.8, usr-merged) and xz-CRC32 (<1.8) initramfs layouts.
    for version in ["v1.12.4", "v1.7.7"] {
        let version: TalosVersion = version.parse().unwrap();
        let release = catalog::release(&puller, &version).await.unwrap();
        for (schematic, extensions) in [
            (
                &four,
                "amd-ucode,intel-ice-firmware,gasket-driver,qemu-guest-agent,schematic,modules.dep",
            ),
            (&empty, "schematic"),
        ] {
            let dir = work.path().join(format!("{version}-{}", schematic.id()));
            std::fs::create_dir_all(&dir).unwrap();
            let kernel = build(
                &ctx,
                &profile("kernel-amd64", schematic, &version, &release),
                schematic,
                &dir.join("kernel"),
            )
            .await
            .unwrap();
            let initramfs = build(
                &ctx,
                &profile("initramfs-amd64.xz", schematic, &version, &release),
                schematic,
                &dir.join("initramfs.xz"),
            )
            .await
            .unwrap();
            let cmdline =
                profile("cmdline-metal-amd64", schematic, &version, &release).kernel_cmdline(&[]);
            let line = boot(&kernel.path, &initramfs.path, &cmdline);
            assert_eq!(
                line,
                format!(
                    "SYNTHETIC-TALOS-BOOT version={version} schematic={} extensions={extensions}",
                    schematic.id()
                ),
                "cmdline: {cmdline}"
            );
        }
    }
}

/// The `installer-amd64.tar` download for a pre-1.10 release: the base
/// installer without its old artifacts layer, plus our kernel and initramfs,
/// readable by skopeo as a docker archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_unified_installer_tarball_carries_our_artifacts() {
    let upstream = Upstream::start();
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let puller = upstream.puller(cache.path());
    let ctx = BuildContext {
        puller: &puller,
        external_url: "http://127.0.0.1:8080/",
        work_root: work.path(),
    };
    let schematic =
        Schematic::parse(b"customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n")
            .unwrap();
    let version: TalosVersion = "v1.9.6".parse().unwrap();
    let release = catalog::release(&puller, &version).await.unwrap();
    let tarball = work.path().join("installer-amd64.tar");
    let built = build(
        &ctx,
        &profile("installer-amd64.tar", &schematic, &version, &release),
        &schematic,
        &tarball,
    )
    .await
    .unwrap();
    assert_eq!(built.size, std::fs::metadata(&tarball).unwrap().len());

    let inspect = run(Command::new("skopeo")
        .arg("inspect")
        .arg(format!("docker-archive:{}", tarball.display())));
    let inspect: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(inspect["Architecture"], "amd64");
    let layers = inspect["Layers"].as_array().unwrap();
    assert_eq!(
        layers.len(),
        2,
        "base installer layer + our artifacts layer (the old artifacts layer is dropped)"
    );

    // The last layer holds exactly our two artifacts.
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unpacked.join("manifest.json")).unwrap()).unwrap();
    let last = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let listing = run(Command::new("tar").arg("-tzf").arg(unpacked.join(last)));
    let files: Vec<&str> = listing.lines().collect();
    assert_eq!(
        files,
        [
            "usr/install/amd64/initramfs.xz",
            "usr/install/amd64/vmlinuz"
        ]
    );
}
