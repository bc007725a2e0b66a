//! Reading versions and release catalogs from catalog images in a real
//! `docker-registry` on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Registry, gzip, tar_of};
use factory_core::catalog::VersionPolicy;

use factory_core::version::TalosVersion;
use factory_imager::catalog;
use factory_imager::pull::{Puller, PullerConfig};

const IMAGE_DIGESTS: &str = "ghcr.io/siderolabs/amd-ucode:20240115@sha256:1111111111111111111111111111111111111111111111111111111111111111\nghcr.io/siderolabs/gasket-driver:1.0@sha256:2222222222222222222222222222222222222222222222222222222222222222\n";
const DESCRIPTIONS: &str = "ghcr.io/siderolabs/amd-ucode:20240115@sha256:1111111111111111111111111111111111111111111111111111111111111111:\n  author: Sidero Labs\n  description: |\n    [core] AMD CPU microcode\n";
const OVERLAYS: &str = "overlays:\n  - name: rpi_generic\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n    digest: sha256:3333333333333333333333333333333333333333333333333333333333333333\n";

async fn push_release(registry: &Registry, tag: &str, unified: bool) {
    let tar = "application/vnd.oci.image.layer.v1.tar";
    let tar_gz = "application/vnd.oci.image.layer.v1.tar+gzip";
    registry
        .push_image("siderolabs/imager", tag, b"imager", "")
        .await;
    let installer = if unified {
        "siderolabs/installer-base"
    } else {
        "siderolabs/installer"
    };
    registry.push_image(installer, tag, b"installer", "").await;
    // Two layers: the second overrides the first's stale image-digests.
    let stale = tar_of(&[("image-digests", b"ghcr.io/siderolabs/old:1@sha256:00\n")]);
    let current = gzip(&tar_of(&[
        ("image-digests", IMAGE_DIGESTS.as_bytes()),
        ("descriptions.yaml", DESCRIPTIONS.as_bytes()),
    ]));
    registry
        .push_image_layers(
            "siderolabs/extensions",
            tag,
            &[(tar, &stale, ""), (tar_gz, &current, "")],
        )
        .await;
    registry
        .push_image_layers(
            "siderolabs/overlays",
            tag,
            &[(tar, &tar_of(&[("overlays.yaml", OVERLAYS.as_bytes())]), "")],
        )
        .await;
}

fn puller(registry: &Registry, cache: &std::path::Path) -> Puller {
    Puller::new(PullerConfig {
        registry: registry.addr.clone(),
        namespace: String::new(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_follow_upstream_filtering() {
    let registry = Registry::start();
    for tag in [
        "v1.1.0",
        "v1.9.4",
        "v1.10.2",
        "v1.11.0-alpha.1",
        "v1.11.0-beta.0",
        "v1.10.3-rc.0",
        "latest",
    ] {
        registry
            .push_image("siderolabs/imager", tag, tag.as_bytes(), "")
            .await;
    }
    let cache = tempfile::tempdir().unwrap();
    let p = puller(&registry, cache.path());
    let policy = VersionPolicy {
        min_version: TalosVersion::new(1, 2, 0),
        broken: vec!["1.9.4".parse().unwrap()],
    };
    let got: Vec<String> = catalog::versions(&p, &policy)
        .await
        .unwrap()
        .iter()
        .map(TalosVersion::tag)
        .collect();
    assert_eq!(got, ["v1.10.2", "v1.11.0-alpha.1", "v1.11.0-beta.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_catalog_from_catalog_images() {
    let registry = Registry::start();
    push_release(&registry, "v1.10.2", true).await;
    push_release(&registry, "v1.6.0", false).await;
    let cache = tempfile::tempdir().unwrap();
    let p = puller(&registry, cache.path());

    let release = catalog::release(&p, &"v1.10.2".parse().unwrap())
        .await
        .unwrap();
    let names: Vec<&str> = release.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["siderolabs/amd-ucode", "siderolabs/gasket-driver"]);
    let ucode = &release.extensions[0];
    assert_eq!(
        ucode.reference,
        format!("{}/siderolabs/amd-ucode:20240115", registry.addr)
    );
    assert_eq!(ucode.digest, format!("sha256:{}", "1".repeat(64)));
    assert_eq!(ucode.author, "Sidero Labs");
    assert_eq!(ucode.description, "[core] AMD CPU microcode\n");
    assert_eq!(
        release.find_extension("siderolabs/gasket").unwrap().name,
        "siderolabs/gasket-driver"
    );
    assert_eq!(release.overlays.len(), 1);
    assert_eq!(release.overlays[0].image, "siderolabs/sbc-raspberrypi");
    let imager = p.manifest("siderolabs/imager", "v1.10.2").await.unwrap();
    assert_eq!(release.imager_digest, imager.digest.to_string());
    let base = p
        .manifest("siderolabs/installer-base", "v1.10.2")
        .await
        .unwrap();
    assert_eq!(release.installer_base_digest, base.digest.to_string());

    // Before 1.7 there are no overlays (and no overlays image is read); before
    // 1.10 the base installer is `installer`.
    let old = catalog::release(&p, &"v1.6.0".parse().unwrap())
        .await
        .unwrap();
    assert!(old.overlays.is_empty());
    let installer = p.manifest("siderolabs/installer", "v1.6.0").await.unwrap();
    assert_eq!(old.installer_base_digest, installer.digest.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_files_are_named() {
    let registry = Registry::start();
    registry
        .push_image("siderolabs/imager", "v1.10.2", b"imager", "")
        .await;
    registry
        .push_image_layers(
            "siderolabs/extensions",
            "v1.10.2",
            &[(
                "application/vnd.oci.image.layer.v1.tar",
                &tar_of(&[("README", b"x")]),
                "",
            )],
        )
        .await;
    let cache = tempfile::tempdir().unwrap();
    let err = catalog::release(
        &puller(&registry, cache.path()),
        &"v1.10.2".parse().unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "siderolabs/extensions:v1.10.2 has no image-digests"
    );
}
