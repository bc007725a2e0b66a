//! `/v2/...`: ping, routing errors, installer manifests, blobs, referrers.

use std::collections::BTreeMap;

use bytes::Bytes;
use factory_core::registry::{Descriptor, Digest};
use http::{Method, StatusCode};

use crate::harness::*;

fn oci_code(r: &Reply) -> String {
    r.json()["errors"][0]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn ping() {
    let f = frontend();
    for path in ["/v2", "/v2/"] {
        let r = get(&f, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.header("docker-distribution-api-version"),
            Some("registry/2.0")
        );
    }
}

#[tokio::test]
async fn routing_errors_are_oci_json() {
    let f = frontend();
    let id = create(&f, "{}").await;
    for path in [
        "/v2/a/b/c/manifests/v1",
        "/v2/siderolabs/installer/tags/v1",
        "/v2/onlyone",
    ] {
        let r = get(&f, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(!oci_code(&r).is_empty());
    }
    let r = get(
        &f,
        &format!("/v2/metal-installer/{}/manifests/v1.10.2", "c".repeat(64)),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(oci_code(&r), "NAME_UNKNOWN");

    let r = get(&f, &format!("/v2/foo/{id}/manifests/v1.10.2")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["message"], "invalid image: foo");

    let r = get(&f, &format!("/v2/installer/{id}/manifests/v9.9.9")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(oci_code(&r), "MANIFEST_UNKNOWN");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "version 9.9.9 is not available"
    );
}

#[tokio::test]
async fn installer_manifest_by_tag_builds_once() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let uri = format!("/v2/metal-installer/{id}/manifests/v1.10.2");
    let r = get(&f, &uri).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let digest = Digest::sha256_of(&r.body).to_string();
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    let index = r.json();
    let arches: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"]);
    assert_eq!(f.platform().builds(), 1);

    let again = get(&f, &uri).await;
    assert_eq!(again.body, r.body);
    assert_eq!(f.platform().builds(), 1);

    let head = send(&f, Method::HEAD, &uri, &[], b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));

    let by_digest = get(&f, &format!("/v2/metal-installer/{id}/manifests/{digest}")).await;
    assert_eq!(by_digest.status, StatusCode::OK);
    assert_eq!(by_digest.body, r.body);

    let unknown = get(
        &f,
        &format!(
            "/v2/metal-installer/{id}/manifests/sha256:{}",
            "0".repeat(64)
        ),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(oci_code(&unknown), "MANIFEST_UNKNOWN");

    let sig = get(
        &f,
        &format!(
            "/v2/metal-installer/{id}/manifests/sha256-{}.sig",
            "0".repeat(64)
        ),
    )
    .await;
    assert_eq!(
        sig.status,
        StatusCode::NOT_FOUND,
        "signature tags are looked up, never built"
    );
    assert_eq!(f.platform().builds(), 1);
}

#[tokio::test]
async fn latest_resolves_to_newest_stable() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let latest = get(&f, &format!("/v2/installer/{id}/manifests/latest")).await;
    assert_eq!(latest.status, StatusCode::OK);
    let newest = get(&f, &format!("/v2/installer/{id}/manifests/v1.13.0")).await;
    assert_eq!(latest.body, newest.body);
}

#[tokio::test]
async fn blobs_and_referrers() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let digest = f.platform().put_blob(Bytes::from_static(b"layer bytes"));
    let r = get(&f, &format!("/v2/installer/{id}/blobs/{digest}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, Bytes::from_static(b"layer bytes"));
    assert_eq!(
        r.header("docker-content-digest"),
        Some(digest.to_string().as_str())
    );

    let missing = get(
        &f,
        &format!("/v2/installer/{id}/blobs/sha256:{}", "1".repeat(64)),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(oci_code(&missing), "BLOB_UNKNOWN");

    let subject: Digest = format!("sha256:{}", "2".repeat(64)).parse().unwrap();
    let sig = Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: Digest::sha256_of(b"sig"),
        size: 3,
        artifact_type: Some("application/vnd.dev.sigstore.bundle.v0.3+json".into()),
        annotations: BTreeMap::new(),
        platform: None,
    };
    f.platform().add_referrer(&subject, sig);
    let r = get(&f, &format!("/v2/installer/{id}/referrers/{subject}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    assert_eq!(r.json()["manifests"].as_array().unwrap().len(), 1);
    assert!(r.header("oci-filters-applied").is_none());
    let r = get(
        &f,
        &format!("/v2/installer/{id}/referrers/{subject}?artifactType=application/x-other"),
    )
    .await;
    assert_eq!(r.json()["manifests"].as_array().unwrap().len(), 0);
    assert_eq!(r.header("oci-filters-applied"), Some("artifactType"));
}

#[tokio::test]
async fn blob_redirects_are_307() {
    let f = frontend_with(Setup {
        redirect_base: Some("https://r2.example/blobs/".into()),
        ..Setup::default()
    });
    let id = create(&f, "{}").await;
    let digest = f.platform().put_blob(Bytes::from_static(b"x"));
    let r = get(&f, &format!("/v2/installer/{id}/blobs/{digest}")).await;
    assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        r.header("location"),
        Some(format!("https://r2.example/blobs/{}", digest.hex()).as_str())
    );
}
