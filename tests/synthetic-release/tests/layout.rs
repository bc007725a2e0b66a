//! The generated layout checked with real tools (skopeo, xz, zstd, cpio,
//! unsquashfs, depmod, readelf, sh), on stand-in Debian inputs. Each tool
//! must be installed: a missing one fails the test naming its package.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{LayoutReader, RELEASE, run, tool};
use synthetic_release::{Config, Summary, generate};

const OLD: &str = "v1.7.7";
const NEW: &str = "v1.12.4";

/// One layout for the whole test binary (two versions across the quirk
/// boundaries: xz, /lib and the two-layer installer vs zstd, /usr/lib and
/// installer-base).
fn layout() -> &'static (tempfile::TempDir, LayoutReader, Summary) {
    static LAYOUT: OnceLock<(tempfile::TempDir, LayoutReader, Summary)> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        common::stand_in_inputs(&dir.path().join("debian"));
        let out = dir.path().join("layout");
        let outcome = generate(&Config {
            inputs: dir.path().join("debian"),
            out: out.clone(),
            versions: vec![OLD.to_owned(), NEW.to_owned()],
            force: false,
        })
        .unwrap();
        (dir, LayoutReader { dir: out }, outcome.summary)
    })
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn skopeo_reads_every_tag_with_the_summary_digest() {
    let skopeo = tool("skopeo", "skopeo");
    let (_, reader, summary) = layout();
    let dir = reader.dir.to_str().unwrap();
    for image in &summary.images {
        let raw = Command::new(&skopeo)
            .args([
                "inspect",
                "--raw",
                &format!("oci:{dir}:{}", image.reference),
            ])
            .output()
            .unwrap();
        assert!(
            raw.status.success(),
            "{}",
            String::from_utf8_lossy(&raw.stderr)
        );
        let digest = factory_core::registry::Digest::sha256_of(&raw.stdout);
        assert_eq!(digest, image.digest, "{}", image.reference);
        if image.reference.ends_with(".sig") {
            continue;
        }
        let index: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
        let platforms: Vec<_> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"]["architecture"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(platforms, ["amd64", "arm64"], "{}", image.reference);
    }
    // A full copy verifies every blob against its digest.
    let copy = scratch();
    let target = format!("oci:{}:copy", copy.path().join("c").display());
    run(Command::new(&skopeo).args([
        "copy",
        "-q",
        "--all",
        &format!("oci:{dir}:siderolabs/imager:{NEW}"),
        &target,
    ]));
    let inspect = run(Command::new(&skopeo).args([
        "inspect",
        "--override-arch",
        "arm64",
        &format!("oci:{dir}:siderolabs/installer-base:{NEW}"),
    ]));
    let config: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(config["Architecture"], "arm64");
    assert_eq!(config["Labels"]["alpha.talos.dev/version"], NEW);
}

/// Unpacks `imager:<version>` and returns the directory.
fn imager(version: &str) -> tempfile::TempDir {
    let (_, reader, _) = layout();
    let dir = scratch();
    reader.unpack(&format!("siderolabs/imager:{version}"), "amd64", dir.path());
    dir
}

fn cpio_list(initramfs: &Path, decompress: &[&str]) -> String {
    let script = format!(
        "{} {} | {} -itv --quiet",
        decompress.join(" "),
        initramfs.display(),
        tool("cpio", "cpio").display()
    );
    run(Command::new("sh").args(["-c", &script]))
}

fn extract_from_cpio(initramfs: &Path, decompress: &[&str], into: &Path) {
    let script = format!(
        "{} {} | (cd {} && {} -id --quiet)",
        decompress.join(" "),
        initramfs.display(),
        into.display(),
        tool("cpio", "cpio").display()
    );
    run(Command::new("sh").args(["-c", &script]));
}

#[test]
fn imager_has_both_architectures_under_usr_install() {
    let dir = imager(NEW);
    for arch in ["amd64", "arm64"] {
        for file in [
            "vmlinuz",
            "initramfs.xz",
            "systemd-stub.efi",
            "systemd-boot.efi",
            "talos.spdx.json",
        ] {
            let path = dir.path().join(format!("usr/install/{arch}/{file}"));
            assert!(path.is_file(), "{}", path.display());
        }
    }
    let old = imager(OLD);
    assert!(
        !old.path()
            .join("usr/install/amd64/talos.spdx.json")
            .exists()
    );
    let stub = fs::read(dir.path().join("usr/install/arm64/systemd-stub.efi")).unwrap();
    assert!(stub.starts_with(b"MZ"));
    assert!(String::from_utf8_lossy(&stub).contains("SYNTHETIC arm64 systemd-stub stand-in"));
}

#[test]
fn initramfs_is_compressed_newc_with_a_mountable_rootfs() {
    let xz = tool("xz", "xz-utils");
    let zstd = tool("zstd", "zstd");
    let unsquashfs = tool("unsquashfs", "squashfs-tools");
    for (version, modules, decompress, squashfs_comp) in [
        (OLD, "lib/modules", vec![xz.to_str().unwrap(), "-dc"], "xz"),
        (
            NEW,
            "usr/lib/modules",
            vec![zstd.to_str().unwrap(), "-dc"],
            "zstd",
        ),
    ] {
        let dir = imager(version);
        let initramfs = dir.path().join("usr/install/amd64/initramfs.xz");
        run(Command::new(decompress[0]).arg("-t").arg(&initramfs));
        if version == OLD {
            // The kernel's xz decoder needs CRC32 (or no) checks.
            let list = run(Command::new(&xz)
                .args(["--robot", "--list"])
                .arg(&initramfs));
            assert!(
                list.lines()
                    .any(|l| l.starts_with("totals") && l.contains("CRC32")),
                "{list}"
            );
        }
        let listing = cpio_list(&initramfs, &decompress);
        for entry in [
            " init\n",
            " bin/busybox\n",
            " rootfs.sqsh\n",
            " usr/share/synthetic-release/extensions.awk\n",
        ] {
            assert!(listing.contains(entry), "{version}: no{entry}in\n{listing}");
        }
        assert!(listing.contains(&format!(
            " {modules}/{RELEASE}/kernel/fs/overlayfs/overlay.ko\n"
        )));
        // exportfs is pulled in through overlay's depends=.
        assert!(listing.contains(&format!(
            " {modules}/{RELEASE}/kernel/fs/exportfs/exportfs.ko\n"
        )));
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("crw") && l.ends_with(" dev/console"))
        );

        let unpacked = scratch();
        extract_from_cpio(&initramfs, &decompress, unpacked.path());
        let init = fs::read_to_string(unpacked.path().join("init")).unwrap();
        let exportfs = init.find("exportfs.ko").unwrap();
        assert!(
            exportfs < init.find("overlay.ko").unwrap(),
            "dependency loaded first"
        );
        let rootfs = unpacked.path().join("rootfs.sqsh");
        let superblock = run(Command::new(&unsquashfs).arg("-s").arg(&rootfs));
        assert!(
            superblock.contains(&format!("Compression {squashfs_comp}")),
            "{superblock}"
        );
        let files = run(Command::new(&unsquashfs).arg("-lls").arg(&rootfs));
        assert!(files.contains(&format!("squashfs-root/{modules}/{RELEASE}/modules.order")));
        let os_release = run(Command::new(&unsquashfs)
            .arg("-cat")
            .arg(&rootfs)
            .arg("usr/lib/os-release"));
        assert!(
            os_release.contains(&format!("\nVERSION_ID={version}\n")),
            "{os_release}"
        );

        // arm64: same shape, a marked stand-in init.
        let arm = dir.path().join("usr/install/arm64/initramfs.xz");
        let arm_unpacked = scratch();
        extract_from_cpio(&arm, &decompress, arm_unpacked.path());
        let arm_init = fs::read_to_string(arm_unpacked.path().join("init")).unwrap();
        assert!(arm_init.contains("SYNTHETIC arm64 init stand-in"));
        let arm_files = run(Command::new(&unsquashfs)
            .arg("-lls")
            .arg(arm_unpacked.path().join("rootfs.sqsh")));
        assert!(arm_files.contains(&format!(
            "squashfs-root/{modules}/6.1.0-99-arm64/modules.order"
        )));
    }
}

#[test]
fn installer_bases_have_upstream_layer_shapes() {
    let (_, reader, _) = layout();
    let old = reader.manifest(&format!("siderolabs/installer:{OLD}"), "amd64");
    assert_eq!(old["layers"].as_array().unwrap().len(), 2);
    let dir = scratch();
    reader.unpack(&format!("siderolabs/installer:{OLD}"), "amd64", dir.path());
    assert!(dir.path().join("bin/installer").is_file());
    let dropped = fs::read_to_string(dir.path().join("usr/install/amd64/vmlinuz")).unwrap();
    assert!(dropped.starts_with("SYNTHETIC-DROPPED-ARTIFACTS-LAYER"));

    let new = reader.manifest(&format!("siderolabs/installer-base:{NEW}"), "arm64");
    assert_eq!(new["layers"].as_array().unwrap().len(), 1);
    let config = reader.json(new["config"]["digest"].as_str().unwrap());
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(config["config"]["Entrypoint"][0], "/bin/installer");
    assert!(
        config["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("TARGETARCH=arm64"))
    );
    let dir = scratch();
    reader.unpack(
        &format!("siderolabs/installer-base:{NEW}"),
        "arm64",
        dir.path(),
    );
    let installer = fs::read_to_string(dir.path().join("usr/bin/installer")).unwrap();
    assert!(installer.contains(&format!("Talos {NEW}, arm64")));
    assert!(
        fs::symlink_metadata(dir.path().join("bin"))
            .unwrap()
            .is_symlink()
    );
    // Pre-1.10 has no installer-base and vice versa.
    assert!(reader.dir.join("index.json").is_file());
    let index = fs::read_to_string(reader.dir.join("index.json")).unwrap();
    assert!(!index.contains(&format!("siderolabs/installer-base:{OLD}\"")));
    assert!(!index.contains(&format!("siderolabs/installer:{NEW}\"")));
}

#[test]
fn catalogs_point_at_tagged_images() {
    let (_, reader, summary) = layout();
    for version in [OLD, NEW] {
        let dir = scratch();
        reader.unpack(
            &format!("siderolabs/extensions:{version}"),
            "amd64",
            dir.path(),
        );
        let digests = fs::read_to_string(dir.path().join("image-digests")).unwrap();
        let descriptions = fs::read_to_string(dir.path().join("descriptions.yaml")).unwrap();
        let lines: Vec<&str> = digests.lines().collect();
        assert_eq!(lines.len(), 4);
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        for line in lines {
            let (reference, digest) = line.split_once('@').unwrap();
            let reference = reference.strip_prefix("ghcr.io/").unwrap();
            assert_eq!(
                summary
                    .digest_of(reference)
                    .map(ToString::to_string)
                    .as_deref(),
                Some(digest),
                "{line}"
            );
            assert!(
                descriptions.contains(&format!("{line}:\n  author: ")),
                "{line}"
            );
        }
        assert!(digests.contains(&format!("siderolabs/gasket-driver:5815ee3-{version}@")));

        let dir = scratch();
        reader.unpack(
            &format!("siderolabs/overlays:{version}"),
            "amd64",
            dir.path(),
        );
        let overlays = fs::read_to_string(dir.path().join("overlays.yaml")).unwrap();
        let overlay = summary
            .digest_of("siderolabs/sbc-raspberrypi:v0.1.4")
            .unwrap();
        assert!(
            overlays.contains(&format!("    digest: {overlay}\n")),
            "{overlays}"
        );
    }
}

#[test]
fn extensions_have_manifest_and_rootfs_only() {
    let (_, reader, summary) = layout();
    let extensions = summary.images.iter().filter(|i| {
        !i.reference.ends_with(".sig")
            && [
                "amd-ucode",
                "gasket-driver",
                "intel-ice-firmware",
                "qemu-guest-agent",
            ]
            .iter()
            .any(|name| i.reference.starts_with(&format!("siderolabs/{name}:")))
    });
    let mut seen = 0;
    for image in extensions {
        seen += 1;
        for arch in ["amd64", "arm64"] {
            let dir = scratch();
            reader.unpack(&image.reference, arch, dir.path());
            let mut top: Vec<_> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            top.sort();
            assert_eq!(top, ["manifest.yaml", "rootfs"], "{}", image.reference);
            let manifest = fs::read_to_string(dir.path().join("manifest.yaml")).unwrap();
            assert!(manifest.starts_with("version: v1alpha1\nmetadata:\n"));
            assert!(manifest.contains("    talos:\n      version: \">= v1."));
        }
    }
    // amd-ucode and intel-ice-firmware in two eras, gasket-driver per
    // version, qemu-guest-agent once.
    assert_eq!(seen, 7);

    let dir = scratch();
    reader.unpack("siderolabs/amd-ucode:20240312", "amd64", dir.path());
    assert!(
        dir.path()
            .join("rootfs/lib/firmware/amd-ucode/microcode_amd_fam17h.bin")
            .is_file()
    );
    let dir = scratch();
    reader.unpack(
        "siderolabs/intel-ice-firmware:20250311",
        "amd64",
        dir.path(),
    );
    let link = dir
        .path()
        .join("rootfs/usr/lib/firmware/intel/ice/ddp/ice.pkg");
    assert_eq!(
        fs::read_link(link).unwrap(),
        PathBuf::from("ice-1.3.36.0.pkg")
    );
    let dir = scratch();
    reader.unpack("siderolabs/qemu-guest-agent:9.2.0", "arm64", dir.path());
    assert!(
        dir.path()
            .join("rootfs/usr/local/etc/containers/qemu-guest-agent.yaml")
            .is_file()
    );
}

#[test]
fn kernel_module_extension_feeds_depmod() {
    let depmod = tool("depmod", "kmod");
    let readelf = tool("readelf", "binutils");
    let (_, reader, _) = layout();
    for (arch, release, machine) in [
        ("amd64", RELEASE.to_owned(), "X86-64"),
        ("arm64", "6.1.0-99-arm64".to_owned(), "AArch64"),
    ] {
        let dir = scratch();
        reader.unpack(
            &format!("siderolabs/gasket-driver:5815ee3-{NEW}"),
            arch,
            dir.path(),
        );
        let extras = dir
            .path()
            .join(format!("rootfs/usr/lib/modules/{release}/extras"));
        let header = run(Command::new(&readelf).arg("-h").arg(extras.join("apex.ko")));
        assert!(header.contains("REL (Relocatable file)"), "{header}");
        assert!(header.contains(machine), "{header}");
        run(Command::new(&readelf)
            .arg("-sW")
            .arg(extras.join("gasket.ko")));

        // What the imager does: depmod over a tree holding the modules.
        let base = scratch();
        let target = base.path().join(format!("lib/modules/{release}/extras"));
        fs::create_dir_all(&target).unwrap();
        for module in ["gasket.ko", "apex.ko"] {
            fs::copy(extras.join(module), target.join(module)).unwrap();
        }
        run(Command::new(&depmod)
            .arg("-b")
            .arg(base.path())
            .arg(&release));
        let dep = fs::read_to_string(
            base.path()
                .join(format!("lib/modules/{release}/modules.dep")),
        )
        .unwrap();
        assert!(
            dep.contains("extras/apex.ko: extras/gasket.ko\n"),
            "{arch}: {dep}"
        );
        assert!(dep.contains("extras/gasket.ko:\n"), "{arch}: {dep}");
    }
    let old = scratch();
    reader.unpack(
        &format!("siderolabs/gasket-driver:5815ee3-{OLD}"),
        "amd64",
        old.path(),
    );
    assert!(
        old.path()
            .join(format!("rootfs/lib/modules/{RELEASE}/extras/gasket.ko"))
            .is_file()
    );
}

#[test]
fn overlay_installer_speaks_the_protocol() {
    let (_, reader, _) = layout();
    let dir = scratch();
    reader.unpack("siderolabs/sbc-raspberrypi:v0.1.4", "amd64", dir.path());
    for file in [
        "installers/default",
        "installers/rpi_generic",
        "profiles/rpi_generic.yaml",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let installer = dir.path().join("installers/rpi_generic");
    let mut child = Command::new(&installer)
        .arg("get-options")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{}\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let options = String::from_utf8(out.stdout).unwrap();
    assert!(
        options.starts_with("name: rpi_generic\nkernelArgs:\n"),
        "{options}"
    );

    let target = scratch();
    let request = format!(
        "installDisk: /dev/null\nmountPrefix: {}\nartifactsPath: {}\nextraOptions: {{}}\n",
        target.path().display(),
        dir.path().join("artifacts").display()
    );
    let mut child = Command::new(&installer)
        .arg("install")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "config.txt",
        "u-boot.bin",
        "start4.elf",
        "overlays/vc4-kms-v3d.dtbo",
    ] {
        assert!(
            target.path().join("boot/EFI").join(file).is_file(),
            "{file}"
        );
    }
}

#[test]
fn every_image_has_a_cosign_signature_openssl_verifies() {
    let openssl = tool("openssl", "openssl");
    let (_, reader, summary) = layout();
    let public_key = reader.dir.join(synthetic_release::PUBLIC_KEY_FILE);
    assert_eq!(
        fs::read_to_string(&public_key).unwrap(),
        synthetic_release::public_key_pem().unwrap()
    );
    let signed: Vec<_> = summary
        .images
        .iter()
        .filter(|i| !i.reference.ends_with(".sig"))
        .collect();
    // 7 extension images, the overlay, and 4 images per version.
    assert_eq!(signed.len(), 16);
    let work = scratch();
    for image in signed {
        let (repository, _) = image.reference.rsplit_once(':').unwrap();
        let tag = format!("{repository}:sha256-{}.sig", image.digest.hex());
        let manifest = reader.json(&summary.digest_of(&tag).unwrap().to_string());
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        let layer = &manifest["layers"][0];
        assert_eq!(
            layer["mediaType"],
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        let payload = reader.blob(layer["digest"].as_str().unwrap());
        let payload_json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            payload_json["critical"]["image"]["docker-manifest-digest"],
            image.digest.to_string()
        );
        assert_eq!(
            payload_json["critical"]["identity"]["docker-reference"],
            format!("ghcr.io/{repository}")
        );
        let signature = layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap();
        fs::write(work.path().join("payload"), &payload).unwrap();
        fs::write(work.path().join("sig.der"), der).unwrap();
        let verified = run(Command::new(&openssl)
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public_key)
            .arg("-signature")
            .arg(work.path().join("sig.der"))
            .arg(work.path().join("payload")));
        assert_eq!(verified.trim(), "Verified OK", "{tag}");
    }
}
