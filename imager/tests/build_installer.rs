//! The registry frontend's installer, built by `build::build_installer_index`
//! from the synthetic Talos release served by a real `docker-registry`, for
//! every fixture version (and SBC overlay installers before and from 1.10),
//! checked with real tools: the OCI layout with `skopeo inspect` (both
//! architectures) and `skopeo copy` to a directory, the layers with GNU
//! `tar`, the UKI inside ≥1.10 installers with `objdump -h` and `objcopy`,
//! and the cosign signature with `openssl dgst -sha256 -verify`.
//!
//! Debian packages: docker-registry, skopeo, curl, jq, tar, gzip, binutils,
//! openssl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use factory_core::arch::Arch;
use factory_core::image_path;
use factory_core::profile::{BuildProfile, ProfileContext, build_profile};
use factory_core::quirks::Quirks;
use factory_core::registry::Digest;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{
    BuildError, InstallerBuild, ManifestRole, build, build_installer_index,
};
use factory_imager::catalog;
use factory_imager::signing::SigningKey;
use factory_test_support::{
    BuildEnv, objcopy_section, objdump_sections, profile as make_profile, run, tool,
};
use sha2::Digest as _;

fn sha256_file(path: &Path) -> Digest {
    let mut hasher = sha2::Sha256::new();
    let mut file = std::fs::File::open(path).unwrap();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("sha256:{}", hex::encode(hasher.finalize()))
        .parse()
        .unwrap()
}

fn skopeo_json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run(Command::new(tool("skopeo", "skopeo")).args(args))).unwrap()
}

/// The overlay kernel args the synthetic `rpi_generic` installer answers.
const OVERLAY_ARGS: [&str; 4] = [
    "console=tty0",
    "console=ttyAMA0,115200",
    "sysctl.kernel.kexec_load_disabled=1",
    "talos.dashboard.disabled=1",
];

/// The publishing API: every manifest and blob accounted for, digests true.
fn check_publish_lists(build: &InstallerBuild) {
    let manifests = build.manifests();
    let roles: Vec<ManifestRole> = manifests.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            ManifestRole::Image(Arch::Amd64),
            ManifestRole::Image(Arch::Arm64),
            ManifestRole::Index,
            ManifestRole::Signature
        ]
    );
    for m in &manifests {
        assert_eq!(*m.digest, Digest::sha256_of(m.bytes), "{:?}", m.role);
    }
    assert_eq!(manifests[2].digest, build.index_digest());
    assert_eq!(
        manifests[2].media_type,
        "application/vnd.oci.image.index.v1+json"
    );
    let blobs = build.blobs();
    for blob in blobs {
        let meta = std::fs::metadata(&blob.path).unwrap();
        assert_eq!(meta.len(), blob.descriptor.size, "{}", blob.path.display());
        assert_eq!(sha256_file(&blob.path), blob.descriptor.digest);
    }
    // Every blob a manifest references is listed, and nothing else.
    let mut referenced = Vec::new();
    for m in manifests.iter().filter(|m| m.role != ManifestRole::Index) {
        let json: serde_json::Value = serde_json::from_slice(m.bytes).unwrap();
        referenced.push(json["config"]["digest"].as_str().unwrap().to_owned());
        for layer in json["layers"].as_array().unwrap() {
            referenced.push(layer["digest"].as_str().unwrap().to_owned());
        }
    }
    referenced.sort();
    referenced.dedup();
    let mut listed: Vec<String> = blobs
        .iter()
        .map(|b| b.descriptor.digest.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, referenced);
    // The index lists the two images, amd64 first.
    let index: serde_json::Value = serde_json::from_slice(manifests[2].bytes).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for (entry, (m, arch)) in entries.iter().zip(manifests.iter().zip(["amd64", "arm64"])) {
        assert_eq!(entry["digest"], m.digest.to_string());
        assert_eq!(entry["platform"]["os"], "linux");
        assert_eq!(entry["platform"]["architecture"], arch);
    }
    assert_eq!(
        build.signature_tag(),
        format!("sha256-{}.sig", build.index_digest().hex())
    );
}

/// The cosign signature verifies with openssl over its payload, which names
/// the repository and the index.
fn check_signature(build: &InstallerBuild, key: &SigningKey, dir: &Path) {
    let sig = build.signature();
    std::fs::write(dir.join("pub.pem"), key.public_key().to_pem()).unwrap();
    std::fs::write(dir.join("payload.json"), sig.payload().bytes()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(sig.signature_base64())
        .unwrap();
    std::fs::write(dir.join("sig.der"), der).unwrap();
    let out = run(Command::new(tool("openssl", "openssl"))
        .args([
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "sig.der",
        ])
        .arg("payload.json")
        .current_dir(dir));
    assert_eq!(out.trim(), "Verified OK");
    let payload: serde_json::Value = serde_json::from_slice(sig.payload().bytes()).unwrap();
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        build.repository()
    );
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        build.index_digest().to_string()
    );
}

/// The listing (`tar -tzf`) of a gzip layer.
fn listing(layer: &Path) -> Vec<String> {
    run(Command::new(tool("tar", "tar")).arg("-tzf").arg(layer))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Extracts `member` of a gzip layer into `dir`; returns its path.
fn extract(layer: &Path, member: &str, dir: &Path) -> PathBuf {
    run(Command::new(tool("tar", "tar"))
        .arg("-xzf")
        .arg(layer)
        .arg("-C")
        .arg(dir)
        .arg(member));
    dir.join(member)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installer_indexes_for_every_version() {
    let env = BuildEnv::start();
    let (puller, work, ctx) = (&env.puller, &env.work, env.context());
    let key = SigningKey::generate().unwrap();
    let plain = Schematic::parse(
        b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  \
          systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n",
    )
    .unwrap();
    let with_overlay = Schematic::parse(
        b"overlay:\n  name: rpi_generic\n  image: siderolabs/sbc-raspberrypi\n  \
          options: {configTxtAppend: dtoverlay=vc4-kms-v3d}\n",
    )
    .unwrap();
    let mut cases: Vec<(TalosVersion, &Schematic)> = synthetic_release::fixtures::versions()
        .into_iter()
        .map(|v| (v, &plain))
        .collect();
    assert_eq!(cases.len(), synthetic_release::fixtures::VERSIONS.len());
    for overlay_version in ["v1.9.6", "v1.12.4"] {
        cases.push((overlay_version.parse().unwrap(), &with_overlay));
    }

    for (version, schematic) in cases {
        let release = catalog::release(puller, &version).await.unwrap();
        let profiles: Vec<BuildProfile> = ["amd64", "arm64"]
            .iter()
            .map(|arch| {
                make_profile(
                    &format!("installer-{arch}.tar"),
                    schematic,
                    &version,
                    &release,
                )
            })
            .collect();
        let repository = format!("127.0.0.1:8080/installer/{}", schematic.id());
        let started = std::time::Instant::now();
        let build = build_installer_index(&ctx, &profiles, schematic, &key, &repository)
            .await
            .unwrap();
        eprintln!(
            "{version} {}: index {} in {:?}",
            if schematic == &plain {
                "plain"
            } else {
                "overlay"
            },
            build.index_digest(),
            started.elapsed()
        );
        let dir = work
            .path()
            .join(format!("check-{version}-{}", schematic.id()));
        std::fs::create_dir_all(&dir).unwrap();
        check_publish_lists(&build);
        check_signature(&build, &key, &dir);

        // The OCI layout, as skopeo reads it.
        let layout = dir.join("layout");
        let tag = version.tag();
        build.write_oci_layout(&layout, &tag).unwrap();
        let reference = format!("oci:{}:{tag}", layout.display());
        let raw =
            run(Command::new(tool("skopeo", "skopeo")).args(["inspect", "--raw", &reference]));
        assert_eq!(raw.as_bytes(), build.index().bytes());
        let unified = Quirks::new(&version).use_sd_boot_for_uefi();
        let overlay = profiles[0].overlay.is_some();
        for (arch, image) in ["amd64", "arm64"].into_iter().zip(build.images()) {
            let inspect = skopeo_json(&["--override-arch", arch, "inspect", &reference]);
            assert_eq!(inspect["Architecture"], arch);
            assert_eq!(inspect["Os"], "linux");
            let layers = inspect["Layers"].as_array().unwrap();
            assert_eq!(layers.len(), image.layers().len());
            // Base (one layer; the old artifacts layer of a pre-1.10 base is
            // dropped), artifacts, and the overlay layer when there is one.
            assert_eq!(
                layers.len(),
                if overlay { 3 } else { 2 },
                "{version} {arch}"
            );
        }

        // Copied out with skopeo: both images, and their layers as we wrote them.
        let copied = dir.join("copied");
        run(Command::new(tool("skopeo", "skopeo"))
            .args(["copy", "--insecure-policy", "--all", &reference])
            .arg(format!("dir:{}", copied.display())));
        assert_eq!(
            std::fs::read(copied.join("manifest.json")).unwrap(),
            build.index().bytes()
        );
        for (arch, image) in ["amd64", "arm64"].into_iter().zip(build.images()) {
            let blob = |d: &Digest| copied.join(d.hex());
            let artifacts = blob(&image.layers()[1].descriptor.digest);
            let files = listing(&artifacts);
            if unified {
                assert_eq!(
                    files,
                    [
                        format!("usr/install/{arch}/systemd-boot.efi"),
                        format!("usr/install/{arch}/vmlinuz.efi")
                    ]
                );
            } else {
                assert_eq!(
                    files,
                    [
                        format!("usr/install/{arch}/initramfs.xz"),
                        format!("usr/install/{arch}/vmlinuz")
                    ]
                );
            }
            if overlay {
                let layer = blob(&image.layers()[2].descriptor.digest);
                let files = listing(&layer);
                for wanted in [
                    "overlay/artifacts/arm64/firmware/boot/fixup4.dat",
                    "overlay/artifacts/arm64/u-boot/rpi_generic/u-boot.bin",
                    "overlay/extra-options",
                    "overlay/installers/default",
                ] {
                    assert!(files.iter().any(|f| f == wanted), "{wanted}: {files:?}");
                }
                let unpacked = dir.join(format!("overlay-{arch}"));
                std::fs::create_dir_all(&unpacked).unwrap();
                let options = extract(&layer, "overlay/extra-options", &unpacked);
                assert_eq!(
                    std::fs::read_to_string(options).unwrap(),
                    "configTxtAppend: dtoverlay=vc4-kms-v3d\n"
                );
            }
            // The UKI inside a ≥1.10 amd64 installer: single-profile on the
            // synthetic release's systemd-stub 252, the installer's cmdline.
            if unified && arch == "amd64" {
                let unpacked = dir.join("uki");
                std::fs::create_dir_all(&unpacked).unwrap();
                let uki = extract(&artifacts, "usr/install/amd64/vmlinuz.efi", &unpacked);
                let names: Vec<String> =
                    objdump_sections(&uki).into_iter().map(|r| r.name).collect();
                let first = names.iter().position(|n| n == ".osrel").unwrap();
                assert_eq!(
                    names[first..],
                    [
                        ".osrel", ".cmdline", ".uname", ".linux", ".initrd", ".profile"
                    ],
                    "{version}"
                );
                let args: Vec<String> = if overlay {
                    OVERLAY_ARGS.map(String::from).to_vec()
                } else {
                    Vec::new()
                };
                let cmdline = objcopy_section(&uki, ".cmdline", &unpacked);
                assert_eq!(
                    String::from_utf8(cmdline).unwrap(),
                    profiles[0].kernel_cmdline(&args)
                );
                assert_eq!(objcopy_section(&uki, ".profile", &unpacked), b"ID=main");
            }
        }
        drop(build);
    }

    // The `installer-<arch>.tar` download of a ≥1.10 release is the same
    // image, as a docker archive.
    let version: TalosVersion = "v1.11.5".parse().unwrap();
    let release = catalog::release(puller, &version).await.unwrap();
    let tarball = work.path().join("installer-amd64.tar");
    let amd64 = make_profile("installer-amd64.tar", &plain, &version, &release);
    build(&ctx, &amd64, &plain, &tarball).await.unwrap();
    let inspect = skopeo_json(&["inspect", &format!("docker-archive:{}", tarball.display())]);
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2);

    // Refusals come before any building.
    let arm64 = make_profile("installer-arm64.tar", &plain, &version, &release);
    let uki = make_profile("metal-arm64-uki.efi", &plain, &version, &release);
    let older: TalosVersion = "v1.10.7".parse().unwrap();
    let older_release = catalog::release(puller, &older).await.unwrap();
    let older_arm64 = make_profile("installer-arm64.tar", &plain, &older, &older_release);
    for (profiles, wanted) in [
        (vec![amd64.clone()], "exactly one amd64 and one arm64"),
        (
            vec![amd64.clone(), amd64.clone()],
            "exactly one amd64 and one arm64",
        ),
        (
            vec![amd64.clone(), arm64.clone(), arm64.clone()],
            "exactly one amd64 and one arm64",
        ),
        (vec![amd64.clone(), uki], "installer profiles"),
        (vec![amd64.clone(), older_arm64], "same Talos version"),
    ] {
        let err = build_installer_index(&ctx, &profiles, &plain, &key, "127.0.0.1:8080/x")
            .await
            .unwrap_err();
        assert!(
            matches!(err, BuildError::InstallerProfiles(_)) && err.to_string().contains(wanted),
            "{err}"
        );
    }
    let secureboot = ProfileContext {
        version: &version,
        catalog: &release,
        secureboot_enabled: true,
    };
    let sb: Vec<BuildProfile> = ["amd64", "arm64"]
        .iter()
        .map(|arch| {
            build_profile(
                image_path::parse(&format!("installer-{arch}-secureboot.tar")).unwrap(),
                &plain,
                plain.id().as_str(),
                &secureboot,
            )
            .unwrap()
        })
        .collect();
    let err = build_installer_index(&ctx, &sb, &plain, &key, "127.0.0.1:8080/x")
        .await
        .unwrap_err();
    assert!(matches!(err, BuildError::Unsupported(_)), "{err}");
    let err = build(&ctx, &sb[0], &plain, &tarball).await.unwrap_err();
    assert!(matches!(err, BuildError::Unsupported(_)), "{err}");
}
