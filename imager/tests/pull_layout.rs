//! `Puller::from_layout` over the synthetic release's own multi-repository
//! OCI layout, compared with a `Puller::new` over the same release served by
//! Debian's `docker-registry`: same tags, manifests, blobs and catalogs, and
//! every piece of a tampered layout refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod mirror_support;

use std::path::Path;

use factory_core::arch::Arch;
use factory_core::catalog::VersionPolicy;
use factory_imager::catalog;
use factory_imager::pull::{LAYOUT_REGISTRY, Manifest, PullError, Puller, SignatureKey};
use factory_test_support::synthetic_layout;
use mirror_support::{Upstream, release_as_mirrored};

const REPOSITORIES: [&str; 6] = [
    "siderolabs/imager",
    "siderolabs/installer-base",
    "siderolabs/installer",
    "siderolabs/extensions",
    "siderolabs/overlays",
    "siderolabs/amd-ucode",
];

/// Copies a layout directory (to tamper with it).
fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layout_serves_what_the_registry_serves() {
    let upstream = Upstream::start();
    let caches = tempfile::tempdir().unwrap();
    let remote = upstream.puller(&caches.path().join("registry"));
    let offline = Puller::from_layout(&upstream.layout, caches.path().join("layout")).unwrap();
    assert_eq!(offline.registry(), LAYOUT_REGISTRY);
    assert_eq!(offline.layout_dir(), Some(upstream.layout.as_path()));
    assert_eq!(
        offline.repository_path("siderolabs/imager"),
        "siderolabs/imager"
    );

    for repository in REPOSITORIES {
        let mut want = remote.tags(repository).await.unwrap();
        want.sort();
        let got = offline.tags(repository).await.unwrap();
        assert_eq!(got, want, "tags of {repository}");
        for tag in &got {
            let a = remote.manifest(repository, tag).await.unwrap();
            let b = offline.manifest(repository, tag).await.unwrap();
            assert_eq!(a, b, "{repository}:{tag}");
            let by_digest = offline
                .manifest(repository, &b.digest.to_string())
                .await
                .unwrap();
            assert_eq!(by_digest, b);
            if matches!(b.parsed().unwrap(), Manifest::Index(_)) {
                let a = remote
                    .image_for_arch(repository, tag, Arch::Amd64)
                    .await
                    .unwrap();
                let b = offline
                    .image_for_arch(repository, tag, Arch::Amd64)
                    .await
                    .unwrap();
                assert_eq!(a, b);
                for blob in std::iter::once(&b.config).chain(&b.layers) {
                    let from_registry =
                        std::fs::read(remote.blob(repository, blob).await.unwrap()).unwrap();
                    let from_layout =
                        std::fs::read(offline.blob(repository, blob).await.unwrap()).unwrap();
                    assert_eq!(
                        from_layout, from_registry,
                        "{repository} blob {}",
                        blob.digest
                    );
                }
            }
        }
    }
    assert!(offline.tags("siderolabs/nothing").await.unwrap().is_empty());

    // Catalog functions work unchanged; only the registry host differs.
    let policy = VersionPolicy::default();
    let versions = catalog::versions(&offline, &policy).await.unwrap();
    assert_eq!(versions, catalog::versions(&remote, &policy).await.unwrap());
    assert_eq!(versions.len(), 7);
    for version in &versions {
        let want = release_as_mirrored(&remote, version, &upstream.addr).await;
        assert_eq!(
            catalog::release(&offline, version).await.unwrap(),
            want,
            "{version}"
        );
    }

    // The release's cosign signatures verify from the layout too.
    let key = SignatureKey::from_pem(
        &std::fs::read_to_string(upstream.layout.join("cosign.pub")).unwrap(),
    )
    .unwrap();
    let imager = offline
        .manifest("siderolabs/imager", "v1.12.4")
        .await
        .unwrap();
    offline
        .verify_signature("siderolabs/imager", &imager.digest, &key)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_layout_is_refused() {
    let pristine = synthetic_layout();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    copy_dir(&pristine, &layout);
    let cache = dir.path().join("cache");
    let puller = Puller::from_layout(&layout, &cache).unwrap();

    // A layer with one byte flipped (same size): refused, and not cached.
    let image = puller
        .image_for_arch("siderolabs/amd-ucode", "20250311", Arch::Amd64)
        .await
        .unwrap();
    let layer = image.layers.last().unwrap();
    let path = layout.join("blobs/sha256").join(layer.digest.hex());
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = puller
        .blob("siderolabs/amd-ucode", layer)
        .await
        .unwrap_err();
    assert!(matches!(err, PullError::DigestMismatch { .. }), "{err}");
    assert!(!puller.cache().path_of(&layer.digest).exists());
    assert_eq!(puller.cache().downloads(), 0);

    // A tampered manifest (by tag and by digest) is refused.
    let index = puller
        .manifest("siderolabs/imager", "v1.9.6")
        .await
        .unwrap();
    let path = layout.join("blobs/sha256").join(index.digest.hex());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("amd64", "arm64", 1)).unwrap();
    for reference in ["v1.9.6".to_owned(), index.digest.to_string()] {
        let err = puller
            .manifest("siderolabs/imager", &reference)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PullError::DigestMismatch { .. }),
            "{reference}: {err}"
        );
    }

    // Missing content is named.
    let err = puller
        .manifest("siderolabs/imager", "v9.9.9")
        .await
        .unwrap_err();
    assert!(matches!(err, PullError::NotInLayout { .. }), "{err}");
    assert!(
        err.to_string().contains("siderolabs/imager:v9.9.9"),
        "{err}"
    );
    std::fs::remove_file(layout.join("blobs/sha256").join(image.config.digest.hex())).unwrap();
    let err = puller
        .blob("siderolabs/amd-ucode", &image.config)
        .await
        .unwrap_err();
    assert!(matches!(err, PullError::NotInLayout { .. }), "{err}");

    // Not a layout at all.
    let err = Puller::from_layout(dir.path(), &cache).unwrap_err();
    assert!(matches!(err, PullError::InvalidLayout { .. }), "{err}");
}
