//! `mirror_release` on a tiny hand-made release in a real `docker-registry`
//! whose images share blobs across repositories: a registry target mounts
//! what it already holds instead of uploading it again, a missing release is
//! an error naming it, and both targets serve the catalog afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Registry, tar_of};
use factory_core::version::TalosVersion;
use factory_imager::catalog;
use factory_imager::mirror::{
    MirrorError, MirrorEvent, MirrorTarget, TALOSCTL_REPOSITORY, mirror_release,
};
use factory_imager::pull::{Puller, PullerConfig};

const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// A layer every image of the release shares (a tar: catalog images are
/// read as tar layers).
fn shared() -> Vec<u8> {
    tar_of(&[("shared", b"a layer every image of this release shares")])
}

fn puller(addr: &str, cache: &std::path::Path) -> Puller {
    Puller::new(PullerConfig {
        registry: addr.to_owned(),
        namespace: String::new(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}

/// Pushes release `tag` (installer-base, so from 1.10) with one extension
/// and one overlay; every image carries the [`shared`] layer.
async fn push_release(registry: &Registry, tag: &str) {
    let shared = shared();
    let (extension, _) = registry
        .push_image_layers(
            "siderolabs/amd-ucode",
            "20240115",
            &[(TAR, &shared, ""), (TAR, b"ucode", "")],
        )
        .await;
    let (overlay, _) = registry
        .push_image_layers(
            "siderolabs/sbc-rpi",
            "v0.1.0",
            &[(TAR, &shared, ""), (TAR, b"rpi", "")],
        )
        .await;
    for repository in ["siderolabs/imager", "siderolabs/installer-base"] {
        registry
            .push_image_layers(
                repository,
                tag,
                &[(TAR, &shared, ""), (TAR, repository.as_bytes(), "")],
            )
            .await;
    }
    let digests = format!("ghcr.io/siderolabs/amd-ucode:20240115@{extension}\n");
    let extensions = tar_of(&[("image-digests", digests.as_bytes())]);
    registry
        .push_image_layers(
            "siderolabs/extensions",
            tag,
            &[(TAR, &shared, ""), (TAR, &extensions, "")],
        )
        .await;
    let overlays = format!(
        "overlays:\n  - name: rpi\n    image: ghcr.io/siderolabs/sbc-rpi:v0.1.0\n    digest: {overlay}\n"
    );
    let overlays = tar_of(&[("overlays.yaml", overlays.as_bytes())]);
    registry
        .push_image_layers(
            "siderolabs/overlays",
            tag,
            &[(TAR, &shared, ""), (TAR, &overlays, "")],
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_blobs_are_mounted_and_missing_releases_named() {
    let source = Registry::start();
    let target = Registry::start();
    push_release(&source, "v1.10.0").await;
    let dir = tempfile::tempdir().unwrap();
    let from = puller(&source.addr, &dir.path().join("cache-source"));
    let version: TalosVersion = "v1.10.0".parse().unwrap();
    let to_registry = || MirrorTarget::Registry {
        host: target.addr.clone(),
        namespace: String::new(),
        insecure: true,
    };

    let report = mirror_release(&from, std::slice::from_ref(&version), to_registry(), |_| {})
        .await
        .unwrap();
    // Six images: imager, installer-base, extensions, overlays, one extension, one overlay.
    assert_eq!(report.images, 6, "{report:?}");
    assert_eq!(report.signatures, 0);
    // Each image has a config and two layers; the config and the shared
    // layer are uploaded once and mounted into the five other repositories.
    assert_eq!(report.blobs_copied, 18, "{report:?}");
    assert_eq!(report.blobs_mounted, 10, "{report:?}");
    assert_eq!(report.tags_written, 6);

    let mirror = puller(&target.addr, &dir.path().join("cache-target"));
    let mut want = catalog::release(&from, &version).await.unwrap();
    want.extensions[0].reference = want.extensions[0]
        .reference
        .replace(&source.addr, &target.addr);
    want.overlays[0].reference = want.overlays[0]
        .reference
        .replace(&source.addr, &target.addr);
    assert_eq!(catalog::release(&mirror, &version).await.unwrap(), want);

    let again = mirror_release(&from, std::slice::from_ref(&version), to_registry(), |_| {})
        .await
        .unwrap();
    assert!(!again.copied_anything(), "{again:?}");

    // From 1.11 the talosctl binaries come along when the source has them.
    push_release(&source, "v1.11.0").await;
    let (talosctl, _) = source
        .push_image_layers(TALOSCTL_REPOSITORY, "v1.11.0", &[(TAR, b"talosctl", "")])
        .await;
    let v111: TalosVersion = "v1.11.0".parse().unwrap();
    let mut events = Vec::new();
    mirror_release(&from, std::slice::from_ref(&v111), to_registry(), |e| {
        events.push(e)
    })
    .await
    .unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, MirrorEvent::Skipped { .. }))
    );
    assert_eq!(
        mirror
            .manifest(TALOSCTL_REPOSITORY, "v1.11.0")
            .await
            .unwrap()
            .digest,
        talosctl
    );

    // The same release into a layout (nothing mounted there).
    let layout = dir.path().join("layout");
    let report = mirror_release(
        &from,
        std::slice::from_ref(&version),
        MirrorTarget::Layout(layout.clone()),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.blobs_copied, report.blobs_mounted),
        (8, 0),
        "{report:?}"
    );
    let offline = Puller::from_layout(&layout, dir.path().join("cache-layout")).unwrap();
    assert_eq!(
        catalog::release(&offline, &version)
            .await
            .unwrap()
            .extensions
            .len(),
        1
    );

    // A release the source does not have is an error naming it, and the
    // layout is left as it was.
    let missing: TalosVersion = "v1.12.0".parse().unwrap();
    let err = mirror_release(
        &from,
        &[missing],
        MirrorTarget::Layout(layout.clone()),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, MirrorError::Catalog { .. }), "{err}");
    assert!(err.to_string().contains("v1.12.0"), "{err}");
    let offline = Puller::from_layout(&layout, dir.path().join("cache-layout")).unwrap();
    assert_eq!(
        offline.tags("siderolabs/imager").await.unwrap(),
        ["v1.10.0"]
    );
}
