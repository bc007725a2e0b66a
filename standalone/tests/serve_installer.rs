//! Installer images through the real binary's registry frontend, pulled
//! with skopeo (`installer/<id>:<v>`, `metal-installer/<id>:<v>`, `latest`),
//! their cosign signature verified with openssl from what the registry
//! serves; the UKI download; and offline mode (`--upstream-layout`) giving
//! the same bytes as the registry upstream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::{Factory, SCHEMATIC, Upstream, VERSION, curl, run, tool};
use sha2::{Digest as _, Sha256};

/// `skopeo` against our plain-HTTP registry.
fn skopeo(args: &[&str]) -> String {
    run(Command::new(tool("skopeo", "skopeo"))
        .args(args)
        .arg("--src-tls-verify=false"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The index digest a tag points at, as skopeo reads it.
fn index_digest(host: &str, repository: &str, tag: &str) -> String {
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{host}/{repository}:{tag}")));
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        json["mediaType"], "application/vnd.oci.image.index.v1+json",
        "{raw}"
    );
    let arches: Vec<&str> = json["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"], "{raw}");
    format!("sha256:{}", sha256_hex(raw.as_bytes()))
}

/// Verifies the cosign signature of `digest` in `repository` with openssl,
/// from the registry's own signature manifest, payload blob and public key.
fn verify_cosign(factory: &Factory, host: &str, repository: &str, digest: &str, dir: &Path) {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let sig = curl(&[&factory.url(&format!("/v2/{repository}/manifests/sha256-{hex}.sig"))]);
    assert_eq!(sig.status, 200, "{}", sig.text());
    let manifest: serde_json::Value = serde_json::from_slice(&sig.body).unwrap();
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload = curl(&[&factory.url(&format!(
        "/v2/{repository}/blobs/{}",
        layer["digest"].as_str().unwrap()
    ))]);
    assert_eq!(payload.status, 200);
    let claims: serde_json::Value = serde_json::from_slice(&payload.body).unwrap();
    assert_eq!(
        claims["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    assert_eq!(
        claims["critical"]["identity"]["docker-reference"],
        format!("{host}/{repository}")
    );
    let signature = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let key = curl(&[&factory.url("/oci/cosign/signing-key.pub")]);
    assert_eq!(key.status, 200);
    std::fs::write(dir.join("key.pem"), &key.body).unwrap();
    std::fs::write(dir.join("payload"), &payload.body).unwrap();
    std::fs::write(dir.join("sig.der"), &signature).unwrap();
    let out = run(Command::new(tool("openssl", "openssl"))
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("key.pem"))
        .arg("-signature")
        .arg(dir.join("sig.der"))
        .arg(dir.join("payload")));
    assert!(out.contains("Verified OK"), "{out}");
    // The referrers API names the signature too.
    let referrers = curl(&[&factory.url(&format!("/v2/{repository}/referrers/{digest}"))]);
    assert_eq!(referrers.status, 200);
    assert!(
        referrers.text().contains(&sha256_hex(&sig.body)),
        "{}",
        referrers.text()
    );
}

#[test]
fn installers_pull_with_skopeo_and_verify_with_openssl() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let factory = Factory::start(&upstream.addr, &dir.path().join("data"));
    let host = factory.base.strip_prefix("http://").unwrap().to_owned();
    let id = factory.create_schematic(SCHEMATIC);

    // `talosctl upgrade --image <host>/installer/<id>:<v>` does this pull.
    let repository = format!("installer/{id}");
    let layout = dir.path().join("pulled");
    skopeo(&[
        "copy",
        "--all",
        &format!("docker://{host}/{repository}:{VERSION}"),
        &format!("oci:{}:{VERSION}", layout.display()),
    ]);
    let digest = index_digest(&host, &repository, VERSION);
    let pulled: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(pulled["manifests"][0]["digest"], digest.as_str());
    verify_cosign(&factory, &host, &repository, &digest, dir.path());
    // One build for the index; a second pull is served from storage.
    let builds = factory.metric("image_factory_builds_total{kind=\"installer\",outcome=\"ok\"}");
    assert_eq!(builds, 1.0);
    assert_eq!(index_digest(&host, &repository, VERSION), digest);
    assert_eq!(
        factory.metric("image_factory_builds_total{kind=\"installer\",outcome=\"ok\"}"),
        1.0
    );

    // The platform-named form, pulled to a directory.
    let metal = format!("metal-installer/{id}");
    skopeo(&[
        "copy",
        &format!("docker://{host}/{metal}:{VERSION}"),
        &format!("dir:{}", dir.path().join("metal").display()),
    ]);
    let metal_digest = index_digest(&host, &metal, VERSION);
    verify_cosign(&factory, &host, &metal, &metal_digest, dir.path());

    // `latest` is the newest stable version (v1.13.2 in the synthetic release).
    let latest = index_digest(&host, &repository, "latest");
    assert_eq!(latest, index_digest(&host, &repository, "v1.13.2"));

    // The UKI download is a PE with the sections the boot needs.
    let uki = curl(&[&factory.url(&format!("/image/{id}/{VERSION}/metal-amd64-uki.efi"))]);
    assert_eq!(uki.status, 200, "{}", uki.text());
    assert_eq!(&uki.body[..2], b"MZ");
    let uki_path = dir.path().join("uki.efi");
    std::fs::write(&uki_path, &uki.body).unwrap();
    let sections = run(Command::new(tool("objdump", "binutils"))
        .arg("-h")
        .arg(&uki_path));
    for name in [".osrel", ".cmdline", ".initrd", ".linux"] {
        assert!(sections.contains(name), "{name} missing:\n{sections}");
    }
}

#[test]
fn offline_layout_upstream_serves_the_same_bytes() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    // The external URL is named in the schematic extension: the same for both.
    let url = ["--external-url", "http://factory.test/"];
    let online = Factory::start_with(&upstream.addr, &dir.path().join("online"), &url);
    let offline = Factory::start_layout(&upstream.layout, &dir.path().join("offline"), &url);
    let id = online.create_schematic(SCHEMATIC);
    assert_eq!(offline.create_schematic(SCHEMATIC), id);
    let versions = curl(&[&offline.url("/versions")]);
    assert_eq!(versions.status, 200, "{}", versions.text());
    assert!(versions.text().contains(VERSION), "{}", versions.text());
    for asset in ["kernel-amd64", "initramfs-amd64.xz"] {
        let path = format!("/image/{id}/{VERSION}/{asset}");
        let a = curl(&[&online.url(&path)]);
        let b = curl(&[&offline.url(&path)]);
        assert_eq!((a.status, b.status), (200, 200), "{}", b.text());
        assert_eq!(sha256_hex(&a.body), sha256_hex(&b.body), "{asset}");
    }
}
