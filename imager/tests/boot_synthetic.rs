//! The acceptance test of the PXE path: kernel, initramfs and cmdline built
//! by our builder from the synthetic Talos release served by a real
//! `docker-registry`, booted in qemu. The synthetic `/init` mounts the root
//! and every extension layer like Talos's early init and prints one line
//! naming the version, the schematic ID and the extensions, so a wrong
//! initramfs layout fails here, not just in a file listing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;

use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::build;
use factory_imager::catalog;
use factory_test_support::{BuildEnv, profile, run};

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
    let env = BuildEnv::start();
    let (puller, work, ctx) = (&env.puller, &env.work, env.context());
    let four = Schematic::parse(
        b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ice-firmware\n      - siderolabs/gasket\n      - siderolabs/qemu-guest-agent\n",
    )
    .unwrap();
    let empty = Schematic::parse(b"{}").unwrap();

    // zstd (≥1.8, usr-merged) and xz-CRC32 (<1.8) initramfs layouts.
    for version in ["v1.12.4", "v1.7.7"] {
        let version: TalosVersion = version.parse().unwrap();
        let release = catalog::release(puller, &version).await.unwrap();
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
    let env = BuildEnv::start();
    let (puller, work, ctx) = (&env.puller, &env.work, env.context());
    let schematic =
        Schematic::parse(b"customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n")
            .unwrap();
    let version: TalosVersion = "v1.9.6".parse().unwrap();
    let release = catalog::release(puller, &version).await.unwrap();
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
