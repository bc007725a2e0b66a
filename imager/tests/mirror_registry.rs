//! The air-gapped round trip: the synthetic release's OCI layout (as carried
//! into the site) mirrored with `mirror_release` into another real
//! `docker-registry` under a namespace, then a plain `Puller::new` over that
//! registry: catalogs resolve, builds of kernel and initramfs with
//! extensions are byte-identical to builds from the original registry, and a
//! re-run pushes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod mirror_support;

use common::Registry;
use factory_core::arch::Arch;
use factory_core::version::TalosVersion;
use factory_imager::catalog;
use factory_imager::mirror::{MirrorTarget, mirror_release};
use factory_imager::pull::{Puller, SignatureKey};
use factory_test_support::registry_puller;
use mirror_support::{Upstream, build_boot_assets};

const NAMESPACE: &str = "mirror/talos";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_mirrored_into_a_registry_builds_like_the_original() {
    let upstream = Upstream::start();
    let target = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let source = Puller::from_layout(&upstream.layout, dir.path().join("cache-layout")).unwrap();
    let versions: Vec<TalosVersion> = vec!["v1.12.4".parse().unwrap(), "v1.9.6".parse().unwrap()];
    let to_registry = || MirrorTarget::Registry {
        host: target.addr.clone(),
        namespace: NAMESPACE.to_owned(),
        insecure: true,
    };

    let report = mirror_release(&source, &versions, to_registry(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.versions, 2);
    assert!(report.blobs_copied > 0, "{report:?}");

    let original = upstream.puller(&dir.path().join("cache-original"));
    let mirror = registry_puller(&target.addr, NAMESPACE, &dir.path().join("cache-mirror"));

    // The namespace is where the repositories went.
    assert_eq!(
        mirror.repository_path("siderolabs/imager"),
        "mirror/talos/siderolabs/imager"
    );
    let mut tags = mirror.tags("siderolabs/imager").await.unwrap();
    tags.retain(|t| !t.ends_with(".sig"));
    tags.sort();
    assert_eq!(tags, ["v1.12.4", "v1.9.6"]);

    let key = SignatureKey::from_pem(
        &std::fs::read_to_string(upstream.layout.join("cosign.pub")).unwrap(),
    )
    .unwrap();
    for version in &versions {
        let mut want = catalog::release(&original, version).await.unwrap();
        for e in &mut want.extensions {
            e.reference = e.reference.replace(&upstream.addr, &target.addr);
        }
        for o in &mut want.overlays {
            o.reference = o.reference.replace(&upstream.addr, &target.addr);
        }
        let got = catalog::release(&mirror, version).await.unwrap();
        assert_eq!(got, want, "{version}");
        // Pinned references resolve by digest and by their catalog tag.
        for e in &got.extensions {
            mirror
                .image_for_arch(&e.name, &e.digest, Arch::Amd64)
                .await
                .unwrap();
            let tag = e.reference.rsplit_once(':').unwrap().1;
            assert_eq!(
                mirror
                    .manifest(&e.name, tag)
                    .await
                    .unwrap()
                    .digest
                    .to_string(),
                e.digest
            );
            mirror
                .verify_signature(&e.name, &e.digest.parse().unwrap(), &key)
                .await
                .unwrap();
        }
        for o in &got.overlays {
            mirror
                .image_for_arch(&o.image, &o.digest, Arch::Arm64)
                .await
                .unwrap();
        }
    }

    let version = "v1.12.4";
    let from_original =
        build_boot_assets(&original, version, &dir.path().join("work-original")).await;
    let from_mirror = build_boot_assets(&mirror, version, &dir.path().join("work-mirror")).await;
    for ((name, a), (_, b)) in from_original.iter().zip(&from_mirror) {
        assert!(
            a == b,
            "{version} {name} differs between the original and the mirror"
        );
    }

    let again = mirror_release(&source, &versions, to_registry(), |_| {})
        .await
        .unwrap();
    assert!(!again.copied_anything(), "{again:?}");
    assert_eq!(again.blobs_copied, 0);
}
