//! The puller against Debian's real `docker-registry` on 127.0.0.1: tags,
//! manifests by tag and digest, per-arch selection, a shared cache with one
//! download per blob under concurrency, refusal of tampered blobs, and cosign
//! signature verification with a public key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use common::Registry;
use factory_core::arch::Arch;
use factory_core::registry::{Digest, cosign_signature_tag, media_types, simple_signing_payload};
use factory_imager::pull::{Manifest, PullError, Puller, PullerConfig, SignatureKey};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;

fn puller(registry: &Registry, cache: &Path) -> Puller {
    Puller::new(PullerConfig {
        registry: registry.addr.clone(),
        namespace: String::new(),
        insecure: true,
        cache_dir: cache.to_owned(),
    })
    .unwrap()
}

/// Pushes `siderolabs/imager` as a two-arch index tagged `tag`.
async fn push_multi_arch(registry: &Registry, tag: &str) -> (Digest, Digest, Digest) {
    let (amd, _) = registry
        .push_image("siderolabs/imager", "amd64-only", b"amd64 layer", "")
        .await;
    let (arm, _) = registry
        .push_image("siderolabs/imager", "arm64-only", b"arm64 layer", "")
        .await;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{idx}","manifests":[{{"mediaType":"{m}","digest":"{amd}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},{{"mediaType":"{m}","digest":"{arm}","size":1,"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
        idx = media_types::OCI_INDEX,
        m = media_types::OCI_MANIFEST
    );
    let index_digest = registry
        .push_manifest("siderolabs/imager", tag, media_types::OCI_INDEX, &index)
        .await;
    (index_digest, amd, arm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_manifests_and_arch_selection() {
    let registry = Registry::start();
    let cache = tempfile::tempdir().unwrap();
    let (index, amd, arm) = push_multi_arch(&registry, "v1.10.2").await;
    let p = puller(&registry, cache.path());

    let mut tags = p.tags("siderolabs/imager").await.unwrap();
    tags.sort();
    assert_eq!(tags, ["amd64-only", "arm64-only", "v1.10.2"]);

    let top = p.manifest("siderolabs/imager", "v1.10.2").await.unwrap();
    assert_eq!(top.digest, index);
    assert_eq!(top.media_type, media_types::OCI_INDEX);
    assert!(matches!(top.parsed().unwrap(), Manifest::Index(_)));
    assert_eq!(
        p.manifest("siderolabs/imager", &index.to_string())
            .await
            .unwrap()
            .bytes,
        top.bytes
    );

    assert_eq!(
        p.image_for_arch("siderolabs/imager", "v1.10.2", Arch::Amd64)
            .await
            .unwrap()
            .digest,
        amd
    );
    assert_eq!(
        p.image_for_arch("siderolabs/imager", "v1.10.2", Arch::Arm64)
            .await
            .unwrap()
            .digest,
        arm
    );

    let missing = p.manifest("siderolabs/imager", "v9.9.9").await.unwrap_err();
    assert!(matches!(missing, PullError::Registry { .. }), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_prefixes_every_repository() {
    let registry = Registry::start();
    let cache = tempfile::tempdir().unwrap();
    registry
        .push_image("mirror/siderolabs/extensions", "v1.10.2", b"catalog", "")
        .await;
    let p = Puller::new(PullerConfig {
        registry: registry.addr.clone(),
        namespace: "/mirror/".into(),
        insecure: true,
        cache_dir: cache.path().to_owned(),
    })
    .unwrap();
    assert_eq!(
        p.repository_path("siderolabs/extensions"),
        "mirror/siderolabs/extensions"
    );
    assert_eq!(p.tags("siderolabs/extensions").await.unwrap(), ["v1.10.2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pulls_share_one_download() {
    let registry = Registry::start();
    let cache = tempfile::tempdir().unwrap();
    let layer = vec![7u8; 3 * 1024 * 1024];
    let (manifest, layer_digest) = registry
        .push_image("siderolabs/gvisor", "v1", &layer, "")
        .await;
    let p = Arc::new(puller(&registry, cache.path()));
    let image = p
        .image_for_arch("siderolabs/gvisor", &manifest.to_string(), Arch::Amd64)
        .await
        .unwrap();
    let descriptor = image.layers[0].clone();
    assert_eq!(descriptor.digest, layer_digest);

    let mut tasks = Vec::new();
    for _ in 0..10 {
        let p = p.clone();
        let d = descriptor.clone();
        tasks.push(tokio::spawn(async move {
            p.blob("siderolabs/gvisor", &d).await.unwrap()
        }));
    }
    let mut paths = Vec::new();
    for t in tasks {
        paths.push(t.await.unwrap());
    }
    assert!(paths.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(std::fs::read(&paths[0]).unwrap(), layer);
    assert_eq!(
        p.cache().downloads(),
        1,
        "ten concurrent requests, one download"
    );

    // A second puller on the same directory (another build, another process) reuses it.
    let again = puller(&registry, cache.path());
    again.blob("siderolabs/gvisor", &descriptor).await.unwrap();
    assert_eq!(again.cache().downloads(), 0);
    assert!(
        std::fs::read_dir(cache.path().join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "no temp files left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_blobs_are_refused() {
    let registry = Registry::start();
    let cache = tempfile::tempdir().unwrap();
    let (manifest, layer_digest) = registry
        .push_image("siderolabs/amd-ucode", "v1", b"genuine microcode", "")
        .await;
    std::fs::write(registry.blob_file(&layer_digest), b"evil microcode!!!").unwrap();
    let p = puller(&registry, cache.path());
    let image = p
        .image_for_arch("siderolabs/amd-ucode", &manifest.to_string(), Arch::Amd64)
        .await
        .unwrap();
    let err = p
        .blob("siderolabs/amd-ucode", &image.layers[0])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PullError::Registry { .. } | PullError::DigestMismatch { .. }
        ),
        "tampered blob must not verify: {err}"
    );
    assert!(
        !err.is_upstream_unavailable(),
        "a tampered blob is a failed build, not an outage: {err}"
    );
    assert!(
        !p.cache().path_of(&layer_digest).exists(),
        "nothing unverified enters the cache"
    );
    assert!(
        std::fs::read_dir(cache.path().join("tmp"))
            .unwrap()
            .next()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosign_signatures_verify_with_the_key() {
    let registry = Registry::start();
    let cache = tempfile::tempdir().unwrap();
    let (index, _, _) = push_multi_arch(&registry, "v1.11.0").await;

    let key = SigningKey::from_bytes(&[42u8; 32].into()).unwrap();
    let payload = simple_signing_payload(&format!("{}/siderolabs/imager", registry.addr), &index);
    let signature: Signature = key.sign(&payload);
    let b64 = base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
    let (payload_digest, payload_size) = registry.push_blob("siderolabs/imager", &payload).await;
    let (config_digest, config_size) = registry.push_blob("siderolabs/imager", b"{}").await;
    let sig_manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{config_size}}},"layers":[{{"mediaType":"{}","digest":"{payload_digest}","size":{payload_size},"annotations":{{"dev.cosignproject.cosign/signature":"{b64}"}}}}]}}"#,
        media_types::OCI_MANIFEST,
        media_types::COSIGN_SIMPLE_SIGNING
    );
    registry
        .push_manifest(
            "siderolabs/imager",
            &cosign_signature_tag(&index),
            media_types::OCI_MANIFEST,
            &sig_manifest,
        )
        .await;

    let p = puller(&registry, cache.path());
    let pem = key
        .verifying_key()
        .to_public_key_pem(Default::default())
        .unwrap();
    let good = SignatureKey::from_pem(&pem).unwrap();
    p.verify_signature("siderolabs/imager", &index, &good)
        .await
        .unwrap();

    let other = SigningKey::from_bytes(&[43u8; 32].into()).unwrap();
    let bad = SignatureKey::from_pem(
        &other
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap(),
    )
    .unwrap();
    let err = p
        .verify_signature("siderolabs/imager", &index, &bad)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");

    // A signature for one digest does not vouch for another.
    let (other_digest, _) = registry
        .push_image("siderolabs/imager", "unsigned", b"x", "")
        .await;
    let err = p
        .verify_signature("siderolabs/imager", &other_digest, &good)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no signature manifest"), "{err}");
}
