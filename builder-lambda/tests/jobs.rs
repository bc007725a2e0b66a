//! Real jobs over the synthetic Talos release: a catalog refresh, asset
//! jobs built from its catalog (verified records, bytes in s3s-fs with
//! their digest and size, repeated jobs answered without rebuilding, ten
//! concurrent identical jobs built once) and an installer job whose answer
//! passes the edge's check with every blob in the bucket. A damaged stored
//! record is rebuilt, never answered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use factory_core::asset_key::{AssetKey, asset_key};
use factory_core::catalog::ReleaseCatalog;
use factory_core::dispatch::{
    AssetBuilt, AssetJob, BuildJob, BuildOutcome, CatalogsRefreshed, InstallerJob, object_key,
};
use factory_core::frontend::installer_request;
use factory_core::profile::ProfileContext;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_test_support::{SyntheticRegistry, profile};
use support::{Builder, S3, Upstream, sha256_hex};

const VERSION: &str = "v1.12.4";
const SCHEMATIC: &str = "customization:\n  extraKernelArgs:\n    - console=ttyS0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n";

fn schematic() -> Schematic {
    Schematic::parse(SCHEMATIC.as_bytes()).unwrap()
}

async fn refresh(builder: &Builder) -> CatalogsRefreshed {
    let (status, json) = builder.post(&BuildJob::RefreshCatalogs).await;
    assert_eq!(status, 200, "{json}\n{}", builder.log());
    match serde_json::from_value(json).unwrap() {
        BuildOutcome::Catalogs(catalogs) => catalogs,
        other => panic!("answered {}", other.kind()),
    }
}

fn asset_job(path: &str, release: &ReleaseCatalog) -> (AssetJob, AssetKey) {
    let version: TalosVersion = VERSION.parse().unwrap();
    let schematic = schematic();
    let profile = profile(path, &schematic, &version, release);
    let key = asset_key(&profile);
    let job = AssetJob::new(
        &key,
        &profile,
        Some(schematic.canonical_yaml()),
        release.clone(),
        false,
    );
    (job, key)
}

/// Posts an asset job, verifies its record, and checks the bytes in the
/// bucket against it; answers the record text.
async fn build_asset(builder: &Builder, s3: &S3, job: &AssetJob, key: &AssetKey) -> String {
    let (status, json) = builder.post(&BuildJob::Asset(job.clone())).await;
    assert_eq!(status, 200, "{json}\n{}", builder.log());
    let BuildOutcome::Asset(built) = serde_json::from_value(json).unwrap() else {
        panic!("not an asset outcome");
    };
    let statement = built.verify(&builder.public, key).unwrap();
    let bytes = s3
        .get(&object_key(&statement.sha256))
        .await
        .expect("the blob is in the bucket");
    assert_eq!(bytes.len() as u64, statement.size);
    assert_eq!(sha256_hex(&bytes), statement.sha256);
    assert_eq!(statement.file_name, job.path);
    let stored = s3
        .get(&format!("records/asset/{}.json", key.as_str()))
        .await
        .expect("the record is in the bucket");
    assert_eq!(stored, built.record.as_bytes());
    built.record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_assets_and_installers() {
    let registry = SyntheticRegistry::start();
    let s3 = S3::start();
    let builder = Builder::start(&s3, Upstream::Registry(&registry.addr));

    let catalogs = refresh(&builder).await;
    assert!(
        catalogs.versions.contains(&VERSION.to_owned()),
        "{:?}",
        catalogs.versions
    );
    let release = catalogs
        .releases
        .get(VERSION)
        .expect("the release's catalog")
        .clone();
    assert!(
        release
            .extensions
            .iter()
            .any(|e| e.name == "siderolabs/qemu-guest-agent")
    );

    // Kernel and initramfs with the extension.
    let (kernel, kernel_key) = asset_job("kernel-amd64", &release);
    build_asset(&builder, &s3, &kernel, &kernel_key).await;
    let (initramfs, initramfs_key) = asset_job("initramfs-amd64.xz", &release);
    let first = build_asset(&builder, &s3, &initramfs, &initramfs_key).await;
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(builds["asset"], 2, "{builds}");

    // The same job again: the same record, no build.
    let again = build_asset(&builder, &s3, &initramfs, &initramfs_key).await;
    assert_eq!(first, again);
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(builds["asset"], 2, "{builds}");

    // Ten concurrent identical jobs of a new asset: one build.
    let (cmdline, cmdline_key) = asset_job("cmdline-metal-amd64", &release);
    let cmdline_job = BuildJob::Asset(cmdline);
    let answers = futures_util::future::join_all((0..10).map(|_| builder.post(&cmdline_job))).await;
    let mut records = Vec::new();
    for (status, json) in answers {
        assert_eq!(status, 200, "{json}");
        let BuildOutcome::Asset(built) = serde_json::from_value::<BuildOutcome>(json).unwrap()
        else {
            panic!("not an asset outcome");
        };
        AssetBuilt::verify(&built, &builder.public, &cmdline_key).unwrap();
        records.push(built.record);
    }
    records.dedup();
    assert_eq!(records.len(), 1, "every answer is the one record");
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(builds["asset"], 3, "{builds}");
    let invocations = builder.get_json("/local/invocations").await;
    assert_eq!(
        invocations,
        serde_json::json!({"asset":13,"installer":0,"refreshCatalogs":1})
    );

    // A damaged record is not trusted: rebuilt and replaced.
    let record_key = format!("records/asset/{}.json", cmdline_key.as_str());
    s3.put(
        &record_key,
        b"{\"statement\":\"e30=\",\"signature\":\"AA==\",\"keyId\":\"00\"}",
    )
    .await;
    let (status, json) = builder.post(&cmdline_job).await;
    assert_eq!(status, 200, "{json}");
    let BuildOutcome::Asset(rebuilt) = serde_json::from_value(json).unwrap() else {
        panic!("not an asset outcome");
    };
    rebuilt.verify(&builder.public, &cmdline_key).unwrap();
    assert_eq!(
        s3.get(&record_key).await.unwrap(),
        rebuilt.record.as_bytes()
    );
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(builds["asset"], 4, "{builds}");

    // The installer index of both architectures.
    let schematic = schematic();
    let version: TalosVersion = VERSION.parse().unwrap();
    let ctx = ProfileContext {
        version: &version,
        catalog: &release,
        secureboot_enabled: false,
    };
    let image = "installer".parse().unwrap();
    let request = installer_request(&image, &schematic, &schematic.id(), &ctx).unwrap();
    let job = InstallerJob::new(&request, schematic.canonical_yaml(), release.clone(), false);
    let repository = format!("installer/{}", schematic.id().as_str());
    let (status, json) = builder.post(&BuildJob::Installer(job.clone())).await;
    assert_eq!(status, 200, "{json}\n{}", builder.log());
    let BuildOutcome::Installer(built) = serde_json::from_value(json).unwrap() else {
        panic!("not an installer outcome");
    };
    let verified = built.verify(&builder.public, &repository, VERSION).unwrap();
    assert_eq!(verified.manifests.len(), 2);
    assert!(!built.blobs.is_empty());
    for blob in &built.blobs {
        assert_eq!(
            s3.size(&object_key(blob.digest.hex())).await,
            Some(blob.size),
            "blob {}",
            blob.digest
        );
    }
    // The signature's payload blob holds exactly the signed payload.
    let payload = s3
        .get(&object_key(
            factory_core::registry::Digest::sha256_of(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    &built.signature_payload,
                )
                .unwrap(),
            )
            .hex(),
        ))
        .await
        .expect("the payload blob");
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        claims["critical"]["identity"]["docker-reference"],
        format!("127.0.0.1:8080/{repository}")
    );

    // Asked again: the stored answer, no build.
    let (status, json) = builder.post(&BuildJob::Installer(job)).await;
    assert_eq!(status, 200, "{json}");
    let BuildOutcome::Installer(again) = serde_json::from_value(json).unwrap() else {
        panic!("not an installer outcome");
    };
    assert_eq!(again, built);
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(builds["installer"], 1, "{builds}");
}

/// With a cache limit of zero, every build after the first starts from an
/// emptied blob cache, and still succeeds (blobs are fetched again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cache_is_emptied_and_builds_still_succeed() {
    let registry = SyntheticRegistry::start();
    let s3 = S3::start();
    let key = factory_imager::signing::SigningKey::generate().unwrap();
    let builder = Builder::start_with_env(
        &s3,
        Upstream::Registry(&registry.addr),
        &key,
        &[("IF_CACHE_MAX_BYTES", "0")],
    );
    let release = refresh(&builder).await.releases[VERSION].clone();
    let (kernel, kernel_key) = asset_job("kernel-amd64", &release);
    build_asset(&builder, &s3, &kernel, &kernel_key).await;
    let (initramfs, initramfs_key) = asset_job("initramfs-amd64.xz", &release);
    build_asset(&builder, &s3, &initramfs, &initramfs_key).await;
    let log = builder.log();
    assert!(log.contains("emptied the upstream blob cache"), "{log}");
}
