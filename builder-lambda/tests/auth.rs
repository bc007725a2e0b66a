//! The builder refuses what the edge did not sign: unsigned, wrongly
//! signed, stale and replayed requests get 401 and are never counted as
//! jobs; malformed, oversize and key-mismatched jobs get 4xx. Upstream is
//! unreachable here on purpose: nothing in this file may build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use factory_core::asset_key::asset_key;
use factory_core::catalog::{ExtensionEntry, ReleaseCatalog};
use factory_core::dispatch::auth::DispatchSecret;
use factory_core::dispatch::{AssetJob, BuildJob, MAX_DISPATCH_BODY};
use factory_core::image_path;
use factory_core::profile::{ProfileContext, build_profile};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use support::{Builder, S3, Upstream, now};

fn catalog() -> ReleaseCatalog {
    ReleaseCatalog {
        extensions: vec![ExtensionEntry {
            name: "siderolabs/gvisor".into(),
            reference: "ghcr.io/siderolabs/gvisor:1.0".into(),
            digest: "sha256:gvisor".into(),
            author: "Sidero Labs".into(),
            description: "gVisor".into(),
        }],
        overlays: vec![],
        imager_digest: "sha256:imager".into(),
        installer_base_digest: "sha256:base".into(),
    }
}

fn asset_job() -> AssetJob {
    let schematic = Schematic::parse(
        b"customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/gvisor]\n",
    )
    .unwrap();
    let version: TalosVersion = "v1.12.4".parse().unwrap();
    let catalog = catalog();
    let ctx = ProfileContext {
        version: &version,
        catalog: &catalog,
        secureboot_enabled: false,
    };
    let profile = build_profile(
        image_path::parse("initramfs-amd64.xz").unwrap(),
        &schematic,
        schematic.id().as_str(),
        &ctx,
    )
    .unwrap();
    AssetJob::new(
        &asset_key(&profile),
        &profile,
        Some(schematic.canonical_yaml()),
        catalog,
        false,
    )
}

/// A job that passes authentication and parsing but fails its key check,
/// so it is counted and builds nothing.
fn mismatched() -> BuildJob {
    let mut job = asset_job();
    job.catalog.imager_digest = "sha256:other".into();
    BuildJob::Asset(job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_and_bad_jobs_are_refused() {
    let s3 = S3::start();
    let builder = Builder::start(&s3, Upstream::Unreachable);
    let body = serde_json::to_vec(&mismatched()).unwrap();

    // Unsigned.
    let (status, json) = builder.post_raw(body.clone(), &[]).await;
    assert_eq!(status, 401, "{json}");
    assert_eq!(json["kind"], "unauthorized");

    // Signed with another secret.
    let other = DispatchSecret::new(&[9u8; 32]).unwrap();
    let (status, _) = builder
        .post_raw(body.clone(), &Builder::sign_with(&other, &body, now()))
        .await;
    assert_eq!(status, 401);

    // Signed for another body.
    let headers = Builder::sign_with(&builder.secret, b"{}", now());
    let (status, _) = builder.post_raw(body.clone(), &headers).await;
    assert_eq!(status, 401);

    // Stale (and from the future).
    for at in [now() - 1000, now() + 1000] {
        let headers = Builder::sign_with(&builder.secret, &body, at);
        let (status, json) = builder.post_raw(body.clone(), &headers).await;
        assert_eq!(status, 401, "{json}");
        assert!(
            json["message"].as_str().unwrap().contains("s from now"),
            "{json}"
        );
    }

    // Nothing so far was a job.
    let counts = builder.get_json("/local/invocations").await;
    assert_eq!(
        counts,
        serde_json::json!({"asset":0,"installer":0,"refreshCatalogs":0})
    );

    // Accepted once (then refused for its key: 409), replayed: 401.
    let headers = Builder::sign_with(&builder.secret, &body, now());
    let (status, json) = builder.post_raw(body.clone(), &headers).await;
    assert_eq!(status, 409, "{json}");
    assert_eq!(json["kind"], "keyMismatch");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("asset key mismatch"),
        "{json}"
    );
    let (status, json) = builder.post_raw(body.clone(), &headers).await;
    assert_eq!(status, 401, "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("replayed"),
        "{json}"
    );

    // Malformed JSON, signed: 400, not counted.
    let bad = b"{\"kind\":\"asset\",".to_vec();
    let headers = Builder::sign_with(&builder.secret, &bad, now());
    let (status, json) = builder.post_raw(bad, &headers).await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["kind"], "badJob");

    // An invalid field, signed: 400 naming it.
    let mut job = asset_job();
    job.version = "1.12".into();
    let (status, json) = builder.post(&BuildJob::Asset(job)).await;
    assert_eq!(status, 400, "{json}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("invalid version"),
        "{json}"
    );

    // Oversize: refused before anything else.
    let huge = vec![b' '; MAX_DISPATCH_BODY + 1];
    let headers = Builder::sign_with(&builder.secret, &huge, now());
    let (status, _) = builder.post_raw(huge, &headers).await;
    assert_eq!(status, 413);

    let counts = builder.get_json("/local/invocations").await;
    assert_eq!(
        counts,
        serde_json::json!({"asset":2,"installer":0,"refreshCatalogs":0})
    );
    let builds = builder.get_json("/local/builds").await;
    assert_eq!(
        builds,
        serde_json::json!({"asset":0,"installer":0,"refreshCatalogs":0})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_unavailable() {
    let s3 = S3::start();
    let builder = Builder::start(&s3, Upstream::Unreachable);
    let (status, json) = builder.post(&BuildJob::RefreshCatalogs).await;
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["kind"], "unavailable");
    let (status, json) = builder.post(&BuildJob::Asset(asset_job())).await;
    assert_eq!(status, 503, "{json}\n{}", builder.log());
}
