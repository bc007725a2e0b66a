//! `mirror_release` from the synthetic release in a real `docker-registry`
//! into an OCI layout, then `Puller::from_layout` over that layout: same
//! tags, manifests and blobs as the registry, byte-identical builds of
//! kernel and initramfs with extensions, a re-run that copies nothing, and
//! an interrupted mirror completed by the next run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod mirror_support;

use std::collections::BTreeSet;
use std::path::Path;

use factory_core::arch::Arch;
use factory_core::version::TalosVersion;
use factory_imager::catalog;
use factory_imager::mirror::{
    MirrorEvent, MirrorReport, MirrorTarget, TALOSCTL_REPOSITORY, mirror_release,
};
use factory_imager::pull::{Manifest, Puller, SignatureKey};
use mirror_support::{Upstream, build_boot_assets, release_as_mirrored};

/// Runs skopeo, which must be installed.
fn skopeo(args: &[String]) -> String {
    let out = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is missing: install the Debian package skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The tags of `repository` in `puller` that are not cosign signatures, in
/// the order it lists them.
async fn release_tags(puller: &Puller, repository: &str) -> Vec<String> {
    let mut tags = puller.tags(repository).await.unwrap();
    tags.retain(|t| !t.ends_with(".sig"));
    tags
}

/// Mirrors `versions` from `remote` into the layout `layout` again, not
/// watching progress.
async fn mirror_quietly(remote: &Puller, versions: &[TalosVersion], layout: &Path) -> MirrorReport {
    mirror_release(
        remote,
        versions,
        MirrorTarget::Layout(layout.to_owned()),
        |_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirrored_layout_serves_and_builds_like_the_registry() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let remote = upstream.puller(&dir.path().join("cache-registry"));
    let layout = dir.path().join("mirror");
    let versions: Vec<TalosVersion> = vec!["v1.12.4".parse().unwrap(), "v1.9.6".parse().unwrap()];

    let mut events = Vec::new();
    let started = std::time::Instant::now();
    let report = mirror_release(
        &remote,
        &versions,
        MirrorTarget::Layout(layout.clone()),
        |e| events.push(e),
    )
    .await
    .unwrap();
    eprintln!(
        "mirrored 2 releases into a layout in {:?}: {report:?}",
        started.elapsed()
    );
    assert_eq!(report.versions, 2);
    assert!(
        report.blobs_copied > 0 && report.manifests_copied > 0,
        "{report:?}"
    );
    assert_eq!(
        report.signatures, report.images,
        "every synthetic image is signed"
    );
    let copied: u64 = events
        .iter()
        .filter_map(|e| match e {
            MirrorEvent::Blob {
                size, copied: true, ..
            } => Some(*size),
            _ => None,
        })
        .sum();
    assert_eq!(copied, report.bytes_copied);
    assert!(matches!(&events[0], MirrorEvent::Version { version, .. } if *version == versions[0]));
    // The synthetic release has no talosctl binaries: left out of 1.12.4
    // (not asked for before 1.11).
    let skipped: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|e| match e {
            MirrorEvent::Skipped {
                repository,
                reference,
                ..
            } => Some((repository.as_str(), reference.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [(TALOSCTL_REPOSITORY, "v1.12.4")]);

    let offline = Puller::from_layout(&layout, dir.path().join("cache-layout")).unwrap();

    // Release images: exactly the mirrored versions (and their signatures).
    let releases: BTreeSet<String> = release_tags(&offline, "siderolabs/imager")
        .await
        .into_iter()
        .collect();
    assert_eq!(Vec::from_iter(releases), ["v1.12.4", "v1.9.6"]);
    assert_eq!(
        release_tags(&offline, "siderolabs/installer-base").await,
        ["v1.12.4"]
    );
    assert_eq!(
        release_tags(&offline, "siderolabs/installer").await,
        ["v1.9.6"]
    );

    // Every mirrored tag names the registry's bytes, with every platform
    // and blob present.
    let repositories = [
        "siderolabs/imager",
        "siderolabs/installer-base",
        "siderolabs/installer",
        "siderolabs/extensions",
        "siderolabs/overlays",
        "siderolabs/amd-ucode",
        "siderolabs/intel-ice-firmware",
        "siderolabs/gasket-driver",
        "siderolabs/qemu-guest-agent",
        "siderolabs/sbc-raspberrypi",
    ];
    for repository in repositories {
        let tags = offline.tags(repository).await.unwrap();
        assert!(!tags.is_empty(), "{repository} was not mirrored");
        for tag in tags {
            let mirrored = offline.manifest(repository, &tag).await.unwrap();
            assert_eq!(
                mirrored,
                remote.manifest(repository, &tag).await.unwrap(),
                "{repository}:{tag}"
            );
            let images = match mirrored.parsed().unwrap() {
                Manifest::Image(image) => vec![*image],
                Manifest::Index(index) => {
                    let mut images = Vec::new();
                    for entry in &index.manifests {
                        match offline
                            .manifest(repository, &entry.digest.to_string())
                            .await
                            .unwrap()
                            .parsed()
                            .unwrap()
                        {
                            Manifest::Image(image) => images.push(*image),
                            Manifest::Index(_) => panic!("nested index"),
                        }
                    }
                    images
                }
            };
            for image in images {
                for blob in std::iter::once(&image.config).chain(&image.layers) {
                    let a = std::fs::read(offline.blob(repository, blob).await.unwrap()).unwrap();
                    let b = std::fs::read(remote.blob(repository, blob).await.unwrap()).unwrap();
                    assert_eq!(a, b, "{repository} blob {}", blob.digest);
                }
            }
        }
    }

    // skopeo reads the mirror as an OCI layout, by `<repository>:<tag>`,
    // and copies every platform of an image out of it (checking digests).
    let imager = offline
        .manifest("siderolabs/imager", "v1.12.4")
        .await
        .unwrap();
    let raw = skopeo(&[
        "inspect".into(),
        "--raw".into(),
        format!("oci:{}:siderolabs/imager:v1.12.4", layout.display()),
    ]);
    assert_eq!(raw.as_bytes(), &imager.bytes[..]);
    skopeo(&[
        "copy".into(),
        "-q".into(),
        "--all".into(),
        "--preserve-digests".into(),
        format!("oci:{}:siderolabs/qemu-guest-agent:9.2.0", layout.display()),
        format!("oci:{}:copy", dir.path().join("skopeo-out").display()),
    ]);

    // Catalogs resolve from the mirror (only the host differs) and so do
    // the pinned extension images; signatures verify.
    let key = SignatureKey::from_pem(
        &std::fs::read_to_string(upstream.layout.join("cosign.pub")).unwrap(),
    )
    .unwrap();
    for version in &versions {
        let want = release_as_mirrored(&remote, version, &upstream.addr).await;
        let got = catalog::release(&offline, version).await.unwrap();
        assert_eq!(got, want, "{version}");
        for e in &got.extensions {
            let image = offline
                .image_for_arch(&e.name, &e.digest, Arch::Amd64)
                .await
                .unwrap();
            assert!(!image.layers.is_empty(), "{}", e.name);
            offline
                .verify_signature(&e.name, &e.digest.parse().unwrap(), &key)
                .await
                .unwrap();
        }
    }

    // Builds from the mirror are byte-identical to builds from the registry.
    for version in ["v1.12.4", "v1.9.6"] {
        let from_registry =
            build_boot_assets(&remote, version, &dir.path().join("work-registry")).await;
        let from_layout =
            build_boot_assets(&offline, version, &dir.path().join("work-layout")).await;
        for ((name, a), (_, b)) in from_registry.iter().zip(&from_layout) {
            assert!(
                a == b,
                "{version} {name} differs between registry and layout"
            );
        }
    }

    // A second run copies nothing.
    let started = std::time::Instant::now();
    let again = mirror_quietly(&remote, &versions, &layout).await;
    eprintln!("second run in {:?}", started.elapsed());
    assert!(!again.copied_anything(), "{again:?}");
    assert_eq!(again.blobs_copied, 0);
    assert_eq!(
        again.tags_unchanged,
        report.tags_written + report.tags_unchanged
    );

    // An interrupted run (the imager index, its amd64 manifest and a layer
    // missing) is completed by the next one, which copies just those.
    let index = remote
        .manifest("siderolabs/imager", "v1.12.4")
        .await
        .unwrap();
    let amd64 = remote
        .image_for_arch("siderolabs/imager", "v1.12.4", Arch::Amd64)
        .await
        .unwrap();
    let layer = amd64.layers.last().unwrap();
    for digest in [&index.digest, &amd64.digest, &layer.digest] {
        std::fs::remove_file(layout.join("blobs/sha256").join(digest.hex())).unwrap();
    }
    let partial = layout.join("blobs/sha256/.partial-1-1");
    std::fs::write(&partial, b"half a blob").unwrap();
    let resumed = mirror_quietly(&remote, &versions, &layout).await;
    assert_eq!(
        (resumed.manifests_copied, resumed.blobs_copied),
        (2, 1),
        "{resumed:?}"
    );
    assert_eq!(resumed.tags_written, 0);
    assert!(
        !partial.exists(),
        "leftovers of the interrupted run are removed"
    );
    let again = Puller::from_layout(&layout, dir.path().join("cache-resumed")).unwrap();
    let image = again
        .image_for_arch("siderolabs/imager", "v1.12.4", Arch::Amd64)
        .await
        .unwrap();
    again
        .blob("siderolabs/imager", image.layers.last().unwrap())
        .await
        .unwrap();
}
