//! Damage on disk and failing builds: a blob changed in place, a truncated
//! or missing blob, and records that are forged or signed by another key are
//! all detected, counted and rebuilt; a failed build is reported with its
//! reason, remembered for the failure TTL, then retried.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use factory_core::frontend::{Delivery, DeliveryRequest, Platform, PlatformError};
use factory_core::record::{AssetStatement, SignedRecord};
use factory_imager::signing::{SigningKey, sign_record};
use image_factory::store::Store;
use sha2::{Digest as _, Sha256};

use common::{SyntheticRegistry, builds, open, profile, read_slice, settings, stored_schematic};

fn blob_path(data: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    data.join("blobs/sha256").join(sha256)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_blobs_and_records_are_rebuilt_and_failures_expire() {
    let upstream = SyntheticRegistry::start();
    let data = tempfile::tempdir().unwrap();
    let mut settings = settings(&upstream, data.path());
    settings.failure_ttl = Duration::from_secs(1);
    let (platform, metrics) = open(&settings).await;
    let schematic = stored_schematic(&platform).await;
    let (key, prof) = profile(&platform, "kernel-amd64", &schematic, "v1.12.4").await;
    let record = platform.asset(&key, &prof).await.unwrap();
    let path = blob_path(data.path(), &record.sha256);

    // 1. Same size, one byte changed: the digest check catches it.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 0xff;
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(platform.asset(&key, &prof).await.unwrap(), record);
    assert_eq!(metrics.corrupt_records.get(), 1);
    assert_eq!(builds(&metrics, "kernel", "ok"), 2);
    let request = DeliveryRequest {
        filename: "kernel-amd64",
        content_type: "application/octet-stream",
        range: None,
        allow_redirect: false,
    };
    let Delivery::Stream(slice) = platform.deliver(&record, request).await.unwrap() else {
        panic!("redirect");
    };
    assert_eq!(
        hex::encode(Sha256::digest(read_slice(&slice))),
        record.sha256
    );

    // 2. Truncated, then 3. missing.
    std::fs::write(&path, &bytes[..10]).unwrap();
    assert_eq!(platform.asset(&key, &prof).await.unwrap(), record);
    assert_eq!(metrics.corrupt_records.get(), 2);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(platform.asset(&key, &prof).await.unwrap(), record);
    assert_eq!(metrics.corrupt_records.get(), 3);
    assert_eq!(builds(&metrics, "kernel", "ok"), 4);

    // 4. Records tampered with while the factory is stopped.
    drop(platform);
    let other = SigningKey::generate().unwrap();
    let forge = |envelope: &[u8]| -> Vec<Vec<u8>> {
        let original = SignedRecord::from_json(envelope).unwrap();
        let mut statement =
            AssetStatement::from_canonical_bytes(&original.statement_bytes).unwrap();
        statement.built_at += 1;
        // Signed by another key; and our key ID over another key's signature.
        let foreign = sign_record(&other, &statement).unwrap();
        let forged = SignedRecord {
            key_id: original.key_id.clone(),
            ..foreign.clone()
        };
        vec![
            foreign.to_json().into_bytes(),
            forged.to_json().into_bytes(),
            b"{not json".to_vec(),
        ]
    };
    let envelope = Store::open(data.path())
        .unwrap()
        .get_record(key.as_str())
        .unwrap()
        .unwrap();
    for (round, bad) in forge(&envelope).into_iter().enumerate() {
        Store::open(data.path())
            .unwrap()
            .put_record(key.as_str(), &bad)
            .unwrap();
        let (platform, metrics) = open(&settings).await;
        assert_eq!(
            platform.asset(&key, &prof).await.unwrap(),
            record,
            "round {round}"
        );
        assert_eq!(metrics.corrupt_records.get(), 1, "round {round}");
        assert_eq!(builds(&metrics, "kernel", "ok"), 1, "round {round}");
    }

    // 5. A build that fails: reported with the reason, remembered, retried.
    let (platform, metrics) = open(&settings).await;
    let (ukey, uprof) = profile(&platform, "metal-amd64.iso", &schematic, "v1.12.4").await;
    let first = platform.asset(&ukey, &uprof).await;
    let Err(PlatformError::BuildFailed(reason)) = &first else {
        panic!("expected BuildFailed, got {first:?}");
    };
    assert!(reason.contains("ISO"), "{reason}");
    assert_eq!(platform.asset(&ukey, &uprof).await, first);
    assert_eq!(builds(&metrics, "iso", "failed"), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(platform.asset(&ukey, &uprof).await, first);
    assert_eq!(builds(&metrics, "iso", "failed"), 2);
}
