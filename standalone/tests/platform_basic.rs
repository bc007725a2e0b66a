//! The platform against the synthetic release: open, catalogs, schematics,
//! a built and delivered asset (full and ranged), durability across reopen,
//! and an upstream that goes away (cached assets keep working, uncached ones
//! are `Unavailable` with the reason).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use factory_core::arch::Arch;
use factory_core::frontend::{
    ByteRange, Delivery, DeliveryRequest, InstallerArch, InstallerRequest, Platform, PlatformError,
    Readiness,
};
use factory_core::record::PublicKey;
use factory_core::registry::Reference;
use factory_core::schematic::SchematicId;
use sha2::{Digest as _, Sha256};

use common::{SyntheticRegistry, builds, open, profile, read_slice, settings, stored_schematic};

/// The platform's futures must be `Send` for the tokio server.
fn assert_send<T: Send>(_: &T) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_builds_persists_and_survives_upstream_loss() {
    let upstream = SyntheticRegistry::start();
    let data = tempfile::tempdir().unwrap();
    let settings = settings(&upstream, data.path());
    let (platform, metrics) = open(&settings).await;

    // Before the first refresh: not ready, no versions.
    assert!(matches!(platform.readiness().await, Readiness::NotReady(_)));
    platform.refresh_catalogs().await.unwrap();
    assert_eq!(platform.readiness().await, Readiness::Ready);
    let versions: Vec<String> = platform
        .versions()
        .await
        .unwrap()
        .iter()
        .map(|v| v.tag())
        .collect();
    assert!(versions.contains(&"v1.12.4".to_owned()), "{versions:?}");
    assert!(versions.contains(&"v1.7.7".to_owned()), "{versions:?}");

    // Schematics.
    let schematic = stored_schematic(&platform).await;
    let id = schematic.id();
    assert_eq!(
        platform.get_schematic(&id).await.unwrap(),
        Some(schematic.canonical_yaml())
    );
    let unknown: SchematicId = "0".repeat(64).parse().unwrap();
    assert_eq!(platform.get_schematic(&unknown).await.unwrap(), None);

    // Build and deliver a kernel; a second call is a cache hit.
    let (key, prof) = profile(&platform, "kernel-amd64", &schematic, "v1.12.4").await;
    let future = platform.asset(&key, &prof);
    assert_send(&future);
    let record = future.await.unwrap();
    assert_eq!(builds(&metrics, "kernel", "ok"), 1);
    assert_eq!(platform.asset(&key, &prof).await.unwrap(), record);
    assert_eq!(builds(&metrics, "kernel", "ok"), 1);
    assert_eq!(metrics.cache_hits.get(), 1);
    let request = DeliveryRequest {
        filename: "kernel-amd64",
        content_type: "application/octet-stream",
        range: None,
        allow_redirect: true,
    };
    let Delivery::Stream(full) = platform.deliver(&record, request).await.unwrap() else {
        panic!("the standalone platform never redirects");
    };
    let bytes = read_slice(&full);
    assert_eq!(bytes.len() as u64, record.size);
    assert_eq!(hex::encode(Sha256::digest(&bytes)), record.sha256);
    let ranged = DeliveryRequest {
        range: Some(ByteRange { start: 10, end: 99 }),
        ..request
    };
    let Delivery::Stream(part) = platform.deliver(&record, ranged).await.unwrap() else {
        panic!("redirect");
    };
    assert_eq!(read_slice(&part), bytes[10..100]);

    // The cmdline carries the schematic's argument.
    let (ckey, cprof) = profile(&platform, "cmdline-metal-amd64", &schematic, "v1.12.4").await;
    let crecord = platform.asset(&ckey, &cprof).await.unwrap();
    let Delivery::Stream(c) = platform.deliver(&crecord, request).await.unwrap() else {
        panic!("redirect");
    };
    let cmdline = String::from_utf8(read_slice(&c)).unwrap();
    assert!(cmdline.contains("talos.dashboard.disabled=1"), "{cmdline}");

    // The cosign key parses and matches the records' key.
    let pem = platform.cosign_public_key_pem().unwrap();
    assert_eq!(
        PublicKey::from_pem(&pem).unwrap().key_id(),
        platform.public_key().key_id()
    );
    assert!(
        platform
            .talosctl_binaries(&"v1.12.4".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert_ne!(platform.new_request_id(), platform.new_request_id());

    // The installer index is built, published and tagged; its signature
    // is tagged and named as a referrer.
    let mut arches = Vec::new();
    for arch in [Arch::Amd64, Arch::Arm64] {
        let path = format!("installer-{}.tar", arch.as_str());
        let (key, profile) = profile(&platform, &path, &schematic, "v1.12.4").await;
        arches.push(InstallerArch { arch, profile, key });
    }
    let request = InstallerRequest {
        image: "installer".parse().unwrap(),
        schematic_id: id.clone(),
        version: "v1.12.4".parse().unwrap(),
        arches,
    };
    let index = platform.installer_index(&request).await.unwrap();
    let repository = format!("installer/{id}");
    let tag = Reference::Tag("v1.12.4".into());
    assert_eq!(
        platform.manifest(&repository, &tag).await.unwrap(),
        Some(index.clone())
    );
    let referrers = platform
        .referrers(&repository, &index.digest)
        .await
        .unwrap();
    assert_eq!(referrers.len(), 1, "{referrers:?}");
    let sig_tag = Reference::Tag(format!("sha256-{}.sig", index.digest.hex()));
    assert!(
        platform
            .manifest(&repository, &sig_tag)
            .await
            .unwrap()
            .is_some()
    );
    // A second request is answered from the store.
    assert_eq!(platform.installer_index(&request).await.unwrap(), index);

    // Fetch a second release's catalog while upstream is up.
    let (key_old, prof_old) = profile(&platform, "kernel-amd64", &schematic, "v1.7.7").await;

    // Reopen: schematic, catalogs and asset survive; same signing key.
    let key_id = platform.public_key().key_id().clone();
    drop(platform);
    let (platform, metrics) = open(&settings).await;
    assert_eq!(platform.public_key().key_id(), &key_id);
    assert_eq!(
        platform.get_schematic(&id).await.unwrap(),
        Some(schematic.canonical_yaml())
    );
    assert!(platform.versions().await.unwrap().len() >= 2);

    // Upstream gone: refresh fails and readiness says why, but versions,
    // release catalogs and built assets are still served.
    upstream.stop();
    assert!(platform.refresh_catalogs().await.is_err());
    let Readiness::NotReady(reason) = platform.readiness().await else {
        panic!("ready without upstream");
    };
    assert!(reason.contains("upstream"), "{reason}");
    assert!(platform.versions().await.unwrap().len() >= 2);
    assert_eq!(platform.asset(&key, &prof).await.unwrap(), record);
    assert_eq!(builds(&metrics, "kernel", "ok"), 0);
    // Uncached: 503 with the reason.
    match platform.asset(&key_old, &prof_old).await {
        Err(PlatformError::Unavailable(reason)) => {
            assert!(reason.contains("upstream"), "{reason}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Schematics still work.
    let other =
        factory_core::schematic::Schematic::parse(b"customization:\n  extraKernelArgs: [x=1]\n")
            .unwrap();
    platform
        .put_schematic(&other.id(), &other.canonical_yaml())
        .await
        .unwrap();
    assert!(platform.get_schematic(&other.id()).await.unwrap().is_some());
}
