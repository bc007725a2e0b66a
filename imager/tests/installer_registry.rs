//! Installer images built from base images in Debian's real `docker-registry`,
//! checked with real tools: `skopeo` (inspect and copy of the OCI layout and
//! the docker archive), GNU `tar` (the files, modes and owners of the new
//! layers), `gzip` (diff IDs are the digests of the decompressed layers) and
//! `openssl` (the cosign signature of the index).
//!
//! Debian packages: docker-registry, skopeo, tar, gzip, openssl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use common::Registry;
use factory_core::arch::Arch;
use factory_core::registry::{Digest, media_types};
use factory_core::version::TalosVersion;
use factory_imager::installer::{
    BaseImage, InstallerArtifacts, InstallerInput, OverlayInput, base_repository, build_index,
    build_installer_image, signature_for_index,
};
use factory_imager::oci_write::{
    BuiltImage, BuiltIndex, LayerCompression, write_docker_archive, write_oci_layout,
};
use factory_imager::pull::{Puller, PullerConfig, SignatureKey};
use factory_imager::signing::SigningKey;

const SCHEMATIC: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

// ---------------------------------------------------------------- tools

/// Runs a tool; a missing binary fails the test naming its Debian package.
fn run(tool: &str, package: &str, args: &[&str]) -> Output {
    let output = match Command::new(tool).args(args).env("TZ", "UTC").output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{tool} not found: install the Debian package `{package}` ({e})")
        }
        Err(e) => panic!("running {tool} {args:?}: {e}"),
    };
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    run("skopeo", "skopeo", args).stdout
}

fn skopeo_json(args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&skopeo(args)).unwrap()
}

/// `(mode, owner, size, date time, name)` per entry of `tar -tv`.
fn tar_listing(blob: &Path, gzip: bool) -> Vec<(String, String, u64, String, String)> {
    let flags = if gzip { "-tvzf" } else { "-tvf" };
    let out = run(
        "tar",
        "tar",
        &["--numeric-owner", flags, blob.to_str().unwrap()],
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[2].parse().unwrap(),
                format!("{} {}", f[3], f[4]),
                f[5..].join(" "),
            )
        })
        .collect()
}

/// The digest of a gzip blob's decompressed bytes, decompressed by `gzip`.
fn gunzipped_digest(blob: &Path) -> Digest {
    Digest::sha256_of(&run("gzip", "gzip", &["-dc", blob.to_str().unwrap()]).stdout)
}

// ---------------------------------------------------------------- fixtures

fn puller(registry: &Registry, cache: &Path) -> Puller {
    Puller::new(PullerConfig {
        registry: registry.addr.clone(),
        namespace: String::new(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}

/// Deterministic incompressible-looking bytes.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

enum Entry<'a> {
    Dir(&'a str),
    File(&'a str, u32, &'a [u8]),
    Link(&'a str, &'a str),
}

/// A tar of `entries`, and its gzip.
fn layer(entries: &[Entry<'_>]) -> (Vec<u8>, Vec<u8>) {
    let mut b = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut h = tar::Header::new_ustar();
        match entry {
            Entry::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                h.set_cksum();
                b.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Entry::File(path, mode, data) => {
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append_data(&mut h, path, *data).unwrap();
            }
            Entry::Link(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    let tar = b.into_inner().unwrap();
    let gz = common::gzip(&tar);
    (tar, gz)
}

/// Media types of an OCI or a Docker schema 2 image.
struct Flavour {
    index: &'static str,
    manifest: &'static str,
    config: &'static str,
    layer: &'static str,
}

const OCI: Flavour = Flavour {
    index: media_types::OCI_INDEX,
    manifest: media_types::OCI_MANIFEST,
    config: media_types::OCI_CONFIG,
    layer: media_types::OCI_LAYER_TAR_GZIP,
};

const DOCKER: Flavour = Flavour {
    index: media_types::DOCKER_MANIFEST_LIST,
    manifest: media_types::DOCKER_MANIFEST_V2,
    config: media_types::DOCKER_CONFIG,
    layer: media_types::DOCKER_LAYER_TAR_GZIP,
};

/// Pushes a one-arch image with a real config; returns (manifest digest,
/// size, layer digests).
async fn push_arch_image(
    registry: &Registry,
    repo: &str,
    arch: Arch,
    flavour: &Flavour,
    layers: &[(Vec<u8>, Vec<u8>)],
) -> (Digest, usize, Vec<Digest>) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|(tar, _)| format!("\"{}\"", Digest::sha256_of(tar)))
        .collect();
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","config":{{"Env":["PATH=/usr/bin:/bin","TARGETARCH={arch}"],"Entrypoint":["/usr/bin/installer"],"Labels":{{"alpha.talos.dev/version":"test"}}}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let (config_digest, config_size) = registry.push_blob(repo, config.as_bytes()).await;
    let mut descriptors = Vec::new();
    let mut digests = Vec::new();
    for (_, gz) in layers {
        let (digest, size) = registry.push_blob(repo, gz).await;
        descriptors.push(format!(
            r#"{{"mediaType":"{}","size":{size},"digest":"{digest}"}}"#,
            flavour.layer
        ));
        digests.push(digest);
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":{config_size},"digest":"{config_digest}"}},"layers":[{}]}}"#,
        flavour.manifest,
        flavour.config,
        descriptors.join(",")
    );
    let tag = format!("only-{arch}");
    let digest = registry
        .push_manifest(repo, &tag, flavour.manifest, &manifest)
        .await;
    (digest, manifest.len(), digests)
}

/// Pushes a two-arch base under `tag`; returns the layer digests per arch.
async fn push_base(
    registry: &Registry,
    repo: &str,
    tag: &str,
    flavour: &Flavour,
    layers_for: impl Fn(Arch) -> Vec<(Vec<u8>, Vec<u8>)>,
) -> Vec<Vec<Digest>> {
    let mut entries = Vec::new();
    let mut layer_digests = Vec::new();
    for arch in Arch::ALL {
        let (digest, size, layers) =
            push_arch_image(registry, repo, arch, flavour, &layers_for(arch)).await;
        entries.push(format!(
            r#"{{"mediaType":"{}","size":{size},"digest":"{digest}","platform":{{"architecture":"{arch}","os":"linux"}}}}"#,
            flavour.manifest
        ));
        layer_digests.push(layers);
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        flavour.index,
        entries.join(",")
    );
    registry
        .push_manifest(repo, tag, flavour.index, &index)
        .await;
    layer_digests
}

/// `siderolabs/installer-base:v1.10.3`: one layer with the installer.
async fn push_installer_base(registry: &Registry) -> Vec<Vec<Digest>> {
    push_base(
        registry,
        "siderolabs/installer-base",
        "v1.10.3",
        &OCI,
        |arch| {
            let program = format!("#!installer {arch}\n");
            vec![layer(&[
                Entry::Dir("usr"),
                Entry::Dir("usr/bin"),
                Entry::File("usr/bin/installer", 0o755, program.as_bytes()),
                Entry::Link("usr/bin/imager", "installer"),
            ])]
        },
    )
    .await
}

/// `siderolabs/installer:v1.9.5`, Docker schema 2: the installer, then the
/// release's own boot assets.
async fn push_old_installer(registry: &Registry) -> Vec<Vec<Digest>> {
    push_base(
        registry,
        "siderolabs/installer",
        "v1.9.5",
        &DOCKER,
        |arch| {
            let program = format!("#!installer {arch}\n");
            let kernel = format!("usr/install/{arch}/vmlinuz");
            let initramfs = format!("usr/install/{arch}/initramfs.xz");
            vec![
                layer(&[
                    Entry::Dir("bin"),
                    Entry::File("bin/installer", 0o755, program.as_bytes()),
                ]),
                layer(&[
                    Entry::File(&kernel, 0o644, b"old kernel"),
                    Entry::File(&initramfs, 0o644, b"old initramfs"),
                ]),
            ]
        },
    )
    .await
}

/// Writes a boot artifact file.
fn artifact(dir: &Path, name: &str, len: usize, seed: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, noise(len, seed)).unwrap();
    path
}

/// Builds both architectures from `repository:tag`.
async fn build_both(
    puller: &Puller,
    repository: &str,
    tag: &str,
    input_for: impl Fn(Arch) -> InstallerInput,
    work: &Path,
) -> (BuiltImage, BuiltImage) {
    let mut built = Vec::new();
    for arch in Arch::ALL {
        let base = BaseImage::pull(puller, repository, tag, arch)
            .await
            .unwrap();
        built.push(build_installer_image(&base, &input_for(arch), work).unwrap());
    }
    let arm = built.pop().unwrap();
    let amd = built.pop().unwrap();
    (amd, arm)
}

fn blob(layout: &Path, digest: &Digest) -> PathBuf {
    layout.join("blobs/sha256").join(digest.hex())
}

fn oci_ref(layout: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", layout.display())
}

/// Checks the layout with skopeo: the raw index, both platforms, layer
/// counts and diff IDs (each diff ID is the gunzipped digest of its blob).
fn check_layout(layout: &Path, tag: &str, index: &BuiltIndex, images: [&BuiltImage; 2]) {
    let reference = oci_ref(layout, tag);
    assert_eq!(skopeo(&["inspect", "--raw", &reference]), index.bytes());
    let raw: serde_json::Value = serde_json::from_slice(index.bytes()).unwrap();
    let platforms: Vec<String> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}/{}", m["platform"]["os"], m["platform"]["architecture"]))
        .collect();
    assert_eq!(platforms, [r#""linux"/"amd64""#, r#""linux"/"arm64""#]);
    for (arch, image) in ["amd64", "arm64"].into_iter().zip(images) {
        let inspect = skopeo_json(&["--override-arch", arch, "inspect", &reference]);
        assert_eq!(inspect["Architecture"], arch);
        assert_eq!(inspect["Os"], "linux");
        // skopeo names the image by the digest it was asked for: the index.
        assert_eq!(inspect["Digest"], index.digest().to_string());
        let layers: Vec<String> = inspect["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = image
            .layers()
            .iter()
            .map(|l| l.descriptor.digest.to_string())
            .collect();
        assert_eq!(layers, want);
        assert_eq!(inspect["Env"][1], format!("TARGETARCH={arch}"));
        let config = skopeo_json(&["--override-arch", arch, "inspect", "--config", &reference]);
        assert_eq!(config["architecture"], arch);
        assert_eq!(config["config"]["Entrypoint"][0], "/usr/bin/installer");
        let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
        assert_eq!(diff_ids.len(), image.layers().len());
        for (diff_id, l) in diff_ids.iter().zip(image.layers()) {
            let actual = gunzipped_digest(&blob(layout, &l.descriptor.digest));
            assert_eq!(diff_id.as_str().unwrap(), actual.to_string());
            assert_eq!(l.diff_id, actual);
        }
    }
}

/// Pushes the layout's index with `skopeo copy --all` and checks that the
/// registry serves exactly our bytes.
fn copy_to_registry(registry: &Registry, layout: &Path, tag: &str, repo: &str, index: &BuiltIndex) {
    let dest = format!("docker://{}/{repo}:{tag}", registry.addr);
    skopeo(&[
        "copy",
        "--insecure-policy",
        "--all",
        "--dest-tls-verify=false",
        &oci_ref(layout, tag),
        &dest,
    ]);
    assert_eq!(
        skopeo(&["inspect", "--raw", "--tls-verify=false", &dest]),
        index.bytes()
    );
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uki_installer_layout_copy_archive_and_signature() {
    let registry = Registry::start();
    let base_layers = push_installer_base(&registry).await;
    let dir = tempfile::tempdir().unwrap();
    let p = puller(&registry, &dir.path().join("cache"));
    let version: TalosVersion = "v1.10.3".parse().unwrap();
    assert_eq!(base_repository(&version), "siderolabs/installer-base");
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let input_for = |arch: Arch| InstallerInput {
        arch,
        version: version.clone(),
        secureboot: false,
        artifacts: InstallerArtifacts::Uki {
            uki: artifact(&inputs, &format!("uki-{arch}"), 3 << 20, arch as u32 + 1),
            systemd_boot: artifact(
                &inputs,
                &format!("sd-boot-{arch}"),
                150_000,
                arch as u32 + 7,
            ),
        },
        overlay: None,
        created: None,
        compression: LayerCompression::Gzip,
    };
    let work = dir.path().join("work");
    let (amd, arm) = build_both(&p, "siderolabs/installer-base", "v1.10.3", input_for, &work).await;
    let index = build_index(&[&amd, &arm]).unwrap();

    // Reproducible: the same inputs give the same digests.
    let (amd2, arm2) =
        build_both(&p, "siderolabs/installer-base", "v1.10.3", input_for, &work).await;
    assert_eq!(
        build_index(&[&arm2, &amd2]).unwrap().digest(),
        index.digest()
    );

    for (image, base) in [&amd, &arm].into_iter().zip(&base_layers) {
        assert_eq!(image.layers().len(), 2, "base + artifacts");
        assert_eq!(image.layers()[0].descriptor.digest, base[0]);
    }

    let layout = dir.path().join("layout");
    write_oci_layout(&layout, "v1.10.3", &index, &[&amd, &arm]).unwrap();
    check_layout(&layout, "v1.10.3", &index, [&amd, &arm]);

    // The artifacts layer, exactly: sorted, no directories, mode 0, root,
    // epoch mtime.
    for (arch, image) in ["amd64", "arm64"].into_iter().zip([&amd, &arm]) {
        let listing = tar_listing(&blob(&layout, &image.layers()[1].descriptor.digest), true);
        assert_eq!(
            listing,
            [
                (
                    "----------".to_owned(),
                    "0/0".to_owned(),
                    150_000,
                    "1970-01-01 00:00".to_owned(),
                    format!("usr/install/{arch}/systemd-boot.efi")
                ),
                (
                    "----------".to_owned(),
                    "0/0".to_owned(),
                    3 << 20,
                    "1970-01-01 00:00".to_owned(),
                    format!("usr/install/{arch}/vmlinuz.efi")
                ),
            ]
        );
    }
    // The base layer still has the installer program.
    let base_listing = tar_listing(&blob(&layout, &amd.layers()[0].descriptor.digest), true);
    assert!(base_listing.iter().any(|e| e.4 == "usr/bin/installer"));

    let repo = format!("metal-installer/{SCHEMATIC}");
    copy_to_registry(&registry, &layout, "v1.10.3", &repo, &index);
    let pulled = p
        .image_for_arch(&repo, "v1.10.3", Arch::Arm64)
        .await
        .unwrap();
    assert_eq!(pulled.digest, *arm.digest());

    // The docker archive (`installer-amd64.tar`) reads back with skopeo,
    // which also checks every layer against its diff ID when copying.
    let archive = dir.path().join("installer-amd64.tar");
    let file = std::fs::File::create(&archive).unwrap();
    write_docker_archive(
        &amd,
        &[&format!(
            "{}/siderolabs/installer-base:v1.10.3",
            registry.addr
        )],
        file,
    )
    .unwrap();
    let archive_ref = format!("docker-archive:{}", archive.display());
    let inspect = skopeo_json(&["inspect", &archive_ref]);
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2);
    let names: Vec<String> = tar_listing(&archive, false)
        .into_iter()
        .map(|e| e.4)
        .collect();
    assert_eq!(
        names,
        [
            amd.config_descriptor().digest.to_string(),
            format!("{}.tar.gz", amd.layers()[0].descriptor.digest.hex()),
            format!("{}.tar.gz", amd.layers()[1].descriptor.digest.hex()),
            "manifest.json".to_owned(),
        ]
    );
    let copied = dir.path().join("from-archive");
    skopeo(&[
        "copy",
        "--insecure-policy",
        &archive_ref,
        &oci_ref(&copied, "x"),
    ]);

    // The cosign signature of the index, pushed in the publish order
    // (blobs, signature manifest), verified by the puller and by openssl.
    let key = SigningKey::generate().unwrap();
    let signed_repo = format!("{}/{repo}", registry.addr);
    let signature = signature_for_index(&key, &signed_repo, index.digest(), None).unwrap();
    for b in signature.blobs() {
        registry.push_blob(&repo, b.bytes()).await;
    }
    registry
        .push_manifest(
            &repo,
            signature.tag(),
            media_types::OCI_MANIFEST,
            std::str::from_utf8(signature.manifest().bytes()).unwrap(),
        )
        .await;
    let public = SignatureKey::from_pem(&key.public_key().to_pem()).unwrap();
    p.verify_signature(&repo, index.digest(), &public)
        .await
        .unwrap();
    let sig_dir = dir.path().join("sig");
    std::fs::create_dir_all(&sig_dir).unwrap();
    std::fs::write(sig_dir.join("payload"), signature.payload().bytes()).unwrap();
    std::fs::write(
        sig_dir.join("sig.der"),
        base64::engine::general_purpose::STANDARD
            .decode(signature.signature_base64())
            .unwrap(),
    )
    .unwrap();
    std::fs::write(sig_dir.join("pub.pem"), key.public_key().to_pem()).unwrap();
    let verified = run(
        "openssl",
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            sig_dir.join("pub.pem").to_str().unwrap(),
            "-signature",
            sig_dir.join("sig.der").to_str().unwrap(),
            sig_dir.join("payload").to_str().unwrap(),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&verified.stdout).trim(),
        "Verified OK"
    );
    let payload: serde_json::Value = serde_json::from_slice(signature.payload().bytes()).unwrap();
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        index.digest().to_string()
    );
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        signed_repo
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_1_10_installer_drops_the_old_artifacts_layer() {
    let registry = Registry::start();
    let base_layers = push_old_installer(&registry).await;
    let dir = tempfile::tempdir().unwrap();
    let p = puller(&registry, &dir.path().join("cache"));
    let version: TalosVersion = "v1.9.5".parse().unwrap();
    assert_eq!(base_repository(&version), "siderolabs/installer");
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let input_for = |arch: Arch| InstallerInput {
        arch,
        version: version.clone(),
        secureboot: false,
        artifacts: InstallerArtifacts::KernelInitramfs {
            kernel: artifact(&inputs, &format!("vmlinuz-{arch}"), 1 << 20, 3),
            initramfs: artifact(&inputs, &format!("initramfs-{arch}"), 2 << 20, 4),
        },
        overlay: None,
        created: Some("2025-06-01T12:00:00Z".to_owned()),
        compression: LayerCompression::Gzip,
    };
    let work = dir.path().join("work");
    let (amd, arm) = build_both(&p, "siderolabs/installer", "v1.9.5", input_for, &work).await;
    for (image, base) in [&amd, &arm].into_iter().zip(&base_layers) {
        assert_eq!(image.layers().len(), 2, "first base layer + artifacts");
        assert_eq!(image.layers()[0].descriptor.digest, base[0]);
        // Docker layer types become their OCI names.
        assert_eq!(
            image.layers()[0].descriptor.media_type,
            media_types::OCI_LAYER_TAR_GZIP
        );
        let digests: Vec<&Digest> = image
            .layers()
            .iter()
            .map(|l| &l.descriptor.digest)
            .collect();
        assert!(!digests.contains(&&base[1]), "old artifacts layer kept");
    }
    let index = build_index(&[&amd, &arm]).unwrap();
    let layout = dir.path().join("layout");
    write_oci_layout(&layout, "v1.9.5", &index, &[&amd, &arm]).unwrap();
    check_layout(&layout, "v1.9.5", &index, [&amd, &arm]);
    for old in &base_layers {
        assert!(!blob(&layout, &old[1]).exists());
    }
    let inspect = skopeo_json(&["inspect", &oci_ref(&layout, "v1.9.5")]);
    assert_eq!(inspect["Created"], "2025-06-01T12:00:00Z");
    for (arch, image) in ["amd64", "arm64"].into_iter().zip([&amd, &arm]) {
        let names: Vec<(String, String)> =
            tar_listing(&blob(&layout, &image.layers()[1].descriptor.digest), true)
                .into_iter()
                .map(|e| (e.0, e.4))
                .collect();
        assert_eq!(
            names,
            [
                (
                    "----------".to_owned(),
                    format!("usr/install/{arch}/initramfs.xz")
                ),
                (
                    "----------".to_owned(),
                    format!("usr/install/{arch}/vmlinuz")
                ),
            ]
        );
    }
    copy_to_registry(
        &registry,
        &layout,
        "v1.9.5",
        &format!("installer/{SCHEMATIC}"),
        &index,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlay_installer_has_a_third_layer() {
    use std::os::unix::fs::PermissionsExt as _;

    let registry = Registry::start();
    push_installer_base(&registry).await;
    let dir = tempfile::tempdir().unwrap();
    let p = puller(&registry, &dir.path().join("cache"));
    let inputs = dir.path().join("inputs");
    let overlay_root = dir.path().join("overlay");
    let boot = overlay_root.join("artifacts/arm64/firmware/boot");
    std::fs::create_dir_all(&boot).unwrap();
    std::fs::create_dir_all(overlay_root.join("installers")).unwrap();
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(boot.join("fixup.dat"), noise(4096, 9)).unwrap();
    std::fs::write(boot.join("config.txt"), b"arm_64bit=1\n").unwrap();
    std::fs::write(overlay_root.join("installers/rpi_generic"), b"#!rpi\n").unwrap();
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for d in [
        "artifacts/arm64",
        "artifacts/arm64/firmware",
        "artifacts/arm64/firmware/boot",
    ] {
        mode(&overlay_root.join(d), 0o755);
    }
    mode(&boot.join("fixup.dat"), 0o644);
    mode(&boot.join("config.txt"), 0o600);
    mode(&overlay_root.join("installers/rpi_generic"), 0o755);
    let version: TalosVersion = "v1.10.3".parse().unwrap();
    let input_for = |arch: Arch| InstallerInput {
        arch,
        version: version.clone(),
        secureboot: false,
        artifacts: InstallerArtifacts::Uki {
            uki: artifact(&inputs, &format!("uki-{arch}"), 1 << 20, 5),
            systemd_boot: artifact(&inputs, &format!("sd-boot-{arch}"), 10_000, 6),
        },
        overlay: Some(OverlayInput {
            root: overlay_root.clone(),
            installer: "rpi_generic".to_owned(),
            extra_options: b"configTxtAppend: dtoverlay=vc4-kms-v3d\n".to_vec(),
        }),
        created: None,
        compression: LayerCompression::Gzip,
    };
    let work = dir.path().join("work");
    let (amd, arm) = build_both(&p, "siderolabs/installer-base", "v1.10.3", input_for, &work).await;
    assert_eq!(amd.layers().len(), 3, "base + artifacts + overlay");
    assert_eq!(arm.layers().len(), 3, "base + artifacts + overlay");
    let index = build_index(&[&amd, &arm]).unwrap();
    let layout = dir.path().join("layout");
    write_oci_layout(&layout, "v1.10.3", &index, &[&amd, &arm]).unwrap();
    check_layout(&layout, "v1.10.3", &index, [&amd, &arm]);
    let listing: Vec<(String, String, String)> =
        tar_listing(&blob(&layout, &arm.layers()[2].descriptor.digest), true)
            .into_iter()
            .map(|e| (e.0, e.1, e.4))
            .collect();
    let row = |mode: &str, name: &str| (mode.to_owned(), "0/0".to_owned(), name.to_owned());
    assert_eq!(
        listing,
        [
            row("drwxr-xr-x", "overlay/artifacts/arm64"),
            row("drwxr-xr-x", "overlay/artifacts/arm64/firmware"),
            row("drwxr-xr-x", "overlay/artifacts/arm64/firmware/boot"),
            row(
                "-rw-------",
                "overlay/artifacts/arm64/firmware/boot/config.txt"
            ),
            row(
                "-rw-r--r--",
                "overlay/artifacts/arm64/firmware/boot/fixup.dat"
            ),
            row("-rw-r--r--", "overlay/extra-options"),
            row("-rwxr-xr-x", "overlay/installers/default"),
        ]
    );
    // The docker archive form of the arm64 overlay installer.
    let archive = dir.path().join("installer-arm64.tar");
    write_docker_archive(&arm, &[], std::fs::File::create(&archive).unwrap()).unwrap();
    let inspect = skopeo_json(&["inspect", &format!("docker-archive:{}", archive.display())]);
    assert_eq!(inspect["Architecture"], "arm64");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 3);
    copy_to_registry(
        &registry,
        &layout,
        "v1.10.3",
        &format!("metal-installer/{SCHEMATIC}"),
        &index,
    );
}
