//! Jobs survive JSON and resolve to the edge's keys; outcomes are refused
//! unless every digest and signature checks out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;

use super::*;
use crate::asset_key::asset_key;
use crate::catalog::{ExtensionEntry, ReleaseCatalog};
use crate::frontend::{ManifestRecord, installer_request};
use crate::image_path;
use crate::profile::{ProfileContext, build_profile};
use crate::record::PublicKey;
use crate::registry::media_types::{OCI_INDEX, OCI_MANIFEST};
use crate::registry::{Descriptor, Digest, SIGNATURE_ANNOTATION, simple_signing_payload};
use crate::schematic::Schematic;
use crate::version::TalosVersion;

const SCHEMATIC: &str = "customization:\n    extraKernelArgs:\n        - console=ttyS0\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/gvisor\n";

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

fn edge_job(path: &str) -> AssetJob {
    let schematic = Schematic::parse(SCHEMATIC.as_bytes()).unwrap();
    assert_eq!(schematic.canonical_yaml(), SCHEMATIC);
    let version: TalosVersion = "v1.12.4".parse().unwrap();
    let catalog = catalog();
    let ctx = ProfileContext {
        version: &version,
        catalog: &catalog,
        secureboot_enabled: false,
    };
    let profile = build_profile(
        image_path::parse(path).unwrap(),
        &schematic,
        schematic.id().as_str(),
        &ctx,
    )
    .unwrap();
    AssetJob::new(
        &asset_key(&profile),
        &profile,
        Some(SCHEMATIC.to_owned()),
        catalog.clone(),
        false,
    )
}

fn through_json(job: &BuildJob) -> BuildJob {
    serde_json::from_str(&serde_json::to_string(job).unwrap()).unwrap()
}

#[test]
fn asset_jobs_resolve_to_the_edge_key() {
    for path in [
        "kernel-amd64",
        "cmdline-metal-amd64",
        "initramfs-amd64.xz",
        "metal-amd64.iso",
        "metal-arm64.raw.zst",
    ] {
        let job = edge_job(path);
        let BuildJob::Asset(back) = through_json(&BuildJob::Asset(job.clone())) else {
            panic!("kind changed");
        };
        let resolved = back.resolve().unwrap();
        assert_eq!(resolved.key.as_str(), job.key, "{path}");
    }
    // The kernel does not depend on the schematic, so it is not sent.
    assert_eq!(edge_job("kernel-amd64").schematic, None);
    assert!(edge_job("initramfs-amd64.xz").schematic.is_some());
    // The cmdline names no schematic ID but carries its kernel args.
    assert!(edge_job("cmdline-metal-amd64").schematic.is_some());
}

#[test]
fn asset_jobs_with_other_inputs_are_refused() {
    let mut job = edge_job("initramfs-amd64.xz");
    job.catalog.imager_digest = "sha256:other".into();
    assert!(matches!(job.resolve(), Err(JobError::KeyMismatch { .. })));
    let mut job = edge_job("initramfs-amd64.xz");
    job.schematic = Some("customization:\n  extraKernelArgs: [a]\n".into());
    assert!(matches!(
        job.resolve(),
        Err(JobError::Invalid {
            field: "schematic",
            ..
        })
    ));
    let mut job = edge_job("initramfs-amd64.xz");
    job.path = "../etc/passwd".into();
    assert!(matches!(
        job.resolve(),
        Err(JobError::Invalid { field: "path", .. })
    ));
    let mut job = edge_job("initramfs-amd64.xz");
    job.version = "1.12".into();
    assert!(matches!(
        job.resolve(),
        Err(JobError::Invalid {
            field: "version",
            ..
        })
    ));
    let unknown = r#"{"kind":"asset","key":"k","path":"p","version":"v","catalog":{},"secureboot":false,"x":1}"#;
    assert!(serde_json::from_str::<BuildJob>(unknown).is_err());
}

fn installer_job() -> (InstallerJob, String) {
    let schematic = Schematic::parse(SCHEMATIC.as_bytes()).unwrap();
    let version: TalosVersion = "v1.12.4".parse().unwrap();
    let catalog = catalog();
    let ctx = ProfileContext {
        version: &version,
        catalog: &catalog,
        secureboot_enabled: false,
    };
    let image = "metal-installer".parse().unwrap();
    let request = installer_request(&image, &schematic, &schematic.id(), &ctx).unwrap();
    let job = InstallerJob::new(&request, SCHEMATIC.to_owned(), catalog.clone(), false);
    let repository = format!("metal-installer/{}", schematic.id().as_str());
    (job, repository)
}

#[test]
fn installer_jobs_resolve_to_the_edge_keys() {
    let (job, repository) = installer_job();
    let BuildJob::Installer(back) = through_json(&BuildJob::Installer(job.clone())) else {
        panic!("kind changed");
    };
    let resolved = back.resolve().unwrap();
    assert_eq!(resolved.request.arches.len(), 2);
    assert_eq!(back.repository().unwrap(), repository);
    let mut wrong = job;
    wrong.keys.swap(0, 1);
    assert!(matches!(wrong.resolve(), Err(JobError::KeyMismatch { .. })));
}

struct Signed {
    built: InstallerBuilt,
    public: PublicKey,
}

fn record(media_type: &str, bytes: &[u8]) -> ManifestRecord {
    ManifestRecord {
        media_type: media_type.into(),
        digest: Digest::sha256_of(bytes),
        bytes: bytes::Bytes::copy_from_slice(bytes),
    }
}

fn signed_installer(seed: u8) -> Signed {
    let key = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
    let der = key.verifying_key().to_public_key_der().unwrap();
    let public = PublicKey::from_spki_der(der.as_bytes()).unwrap();
    let image_json = format!(r#"{{"schemaVersion":2,"layers":[],"seed":{seed}}}"#);
    let image = record(OCI_MANIFEST, image_json.as_bytes());
    let index_json = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [Descriptor::of(OCI_MANIFEST, &image.bytes)],
    });
    let index = record(OCI_INDEX, index_json.to_string().as_bytes());
    let payload = simple_signing_payload("factory.test/metal-installer/x", &index.digest);
    let signature: Signature = key.sign(&payload);
    let sig_json = serde_json::json!({
        "schemaVersion": 2,
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "size": payload.len(),
            "digest": Digest::sha256_of(&payload),
            "annotations": {SIGNATURE_ANNOTATION: BASE64.encode(signature.to_der().as_bytes())},
        }],
    });
    let sig = record(OCI_MANIFEST, sig_json.to_string().as_bytes());
    let built = InstallerBuilt {
        repository: "metal-installer/x".into(),
        tag: "v1.12.4".into(),
        index: WireManifest::from_record(&index),
        manifests: vec![WireManifest::from_record(&image)],
        signature: WireManifest::from_record(&sig),
        signature_payload: BASE64.encode(&payload),
        blobs: vec![WireBlob {
            digest: Digest::sha256_of(&payload),
            size: payload.len() as u64,
        }],
    };
    Signed { built, public }
}

#[test]
fn a_good_installer_answer_verifies() {
    let s = signed_installer(3);
    let outcome = BuildOutcome::Installer(Box::new(s.built.clone()));
    let json = serde_json::to_vec(&outcome).unwrap();
    let BuildOutcome::Installer(back) = BuildOutcome::from_json(&json).unwrap() else {
        panic!("kind changed");
    };
    let v = back
        .verify(&s.public, "metal-installer/x", "v1.12.4")
        .unwrap();
    assert_eq!(
        v.signature_tag,
        format!("sha256-{}.sig", v.index.digest.hex())
    );
    assert_eq!(v.referrer.digest, v.signature.digest);
    assert_eq!(v.manifests.len(), 1);
}

#[test]
fn tampered_installer_answers_are_refused() {
    let s = signed_installer(3);
    let other = signed_installer(4);
    // Signed by another key.
    assert!(matches!(
        other
            .built
            .verify(&s.public, "metal-installer/x", "v1.12.4"),
        Err(OutcomeError::Signature(_))
    ));
    // For another repository or tag.
    assert!(s.built.verify(&s.public, "installer/x", "v1.12.4").is_err());
    assert!(
        s.built
            .verify(&s.public, "metal-installer/x", "v1.12.5")
            .is_err()
    );
    // Manifest bytes that do not match their digest.
    let mut t = s.built.clone();
    t.manifests[0].bytes = BASE64.encode(b"{}");
    assert!(matches!(
        t.verify(&s.public, "metal-installer/x", "v1.12.4"),
        Err(OutcomeError::Manifest(_))
    ));
    // An index that lists other manifests than were sent.
    let mut t = s.built.clone();
    t.manifests.clear();
    assert!(matches!(
        t.verify(&s.public, "metal-installer/x", "v1.12.4"),
        Err(OutcomeError::Manifest(_))
    ));
    // A signature of another index.
    let mut t = s.built.clone();
    t.index = other.built.index.clone();
    t.manifests = other.built.manifests.clone();
    assert!(matches!(
        t.verify(&s.public, "metal-installer/x", "v1.12.4"),
        Err(OutcomeError::Signature(_))
    ));
    // A payload that is not the signature's layer.
    let mut t = s.built.clone();
    t.signature_payload = BASE64.encode(b"{}");
    assert!(matches!(
        t.verify(&s.public, "metal-installer/x", "v1.12.4"),
        Err(OutcomeError::Signature(_))
    ));
}

#[test]
fn asset_records_must_verify_and_name_the_key() {
    let key = SigningKey::from_bytes(&[5; 32].into()).unwrap();
    let der = key.verifying_key().to_public_key_der().unwrap();
    let public = PublicKey::from_spki_der(der.as_bytes()).unwrap();
    let job = edge_job("initramfs-amd64.xz");
    let asked: crate::asset_key::AssetKey = job.key.parse().unwrap();
    let statement = crate::record::AssetStatement {
        key: asked.clone(),
        size: 3,
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"abc")),
        sha512: hex::encode(<sha2::Sha512 as sha2::Digest>::digest(b"abc")),
        media_type: "application/x-xz".into(),
        file_name: "initramfs-amd64.xz".into(),
        built_at: 1,
    };
    let bytes = statement.canonical_bytes().unwrap();
    let signature: Signature = key.sign(&bytes);
    let record = crate::record::SignedRecord {
        statement_bytes: bytes,
        signature: signature.to_der().as_bytes().to_vec(),
        key_id: public.key_id().clone(),
    };
    let built = AssetBuilt {
        record: record.to_json(),
    };
    assert_eq!(built.verify(&public, &asked).unwrap(), statement);
    let other: crate::asset_key::AssetKey = "0".repeat(64).parse().unwrap();
    assert!(matches!(
        built.verify(&public, &other),
        Err(OutcomeError::Record(_))
    ));
    let wrong = SigningKey::from_bytes(&[6; 32].into()).unwrap();
    let der = wrong.verifying_key().to_public_key_der().unwrap();
    let wrong = PublicKey::from_spki_der(der.as_bytes()).unwrap();
    assert!(matches!(
        built.verify(&wrong, &asked),
        Err(OutcomeError::Record(_))
    ));
}

#[test]
fn job_errors_map_to_failures_with_their_status() {
    let mut job = edge_job("initramfs-amd64.xz");
    job.catalog.imager_digest = "sha256:other".into();
    let failure = DispatchFailure::from(&job.resolve().unwrap_err());
    assert_eq!(failure.kind, FailureKind::KeyMismatch);
    assert_eq!(failure.status(), 409);
    let mut job = edge_job("initramfs-amd64.xz");
    job.version = "1.12".into();
    let failure = DispatchFailure::from(&job.resolve().unwrap_err());
    assert_eq!(failure.kind, FailureKind::BadJob);
    assert_eq!(failure.status(), 400);
    let json = serde_json::to_string(&failure).unwrap();
    assert!(
        json.starts_with(r#"{"kind":"badJob","message":"invalid version"#),
        "{json}"
    );
}
