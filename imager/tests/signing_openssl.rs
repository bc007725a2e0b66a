//! Signing checked against the real openssl CLI (Debian package `openssl`):
//! keys openssl makes load, and what we sign openssl verifies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use factory_core::record::{AssetStatement, PublicKey, RecordError, SignedRecord};
use factory_core::registry::Digest;
use factory_imager::signing::{CosignSignature, KeyError, SigningKey, sign_record};

const SCHEMATIC: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/// Runs openssl in `dir`; a missing binary fails the test with the package name.
fn openssl(dir: &Path, args: &[&str]) -> Output {
    match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("openssl not found: install the Debian package `openssl` ({e})")
        }
        Err(e) => panic!("running openssl {args:?}: {e}"),
    }
}

/// Runs openssl and requires success.
fn openssl_ok(dir: &Path, args: &[&str]) -> Output {
    let output = openssl(dir, args);
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The three spellings of a P-256 key openssl writes, by file name.
fn openssl_p256_keys(dir: &Path) -> Vec<&'static str> {
    openssl_ok(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "params.pem",
        ],
    );
    openssl_ok(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "sec1.pem",
        ],
    );
    openssl_ok(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "pkcs8.pem",
        ],
    );
    // The test is only worth something if openssl wrote what we think it did.
    assert!(read(dir, "params.pem").starts_with("-----BEGIN EC PARAMETERS-----"));
    assert!(read(dir, "sec1.pem").starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert!(read(dir, "pkcs8.pem").starts_with("-----BEGIN PRIVATE KEY-----"));
    vec!["params.pem", "sec1.pem", "pkcs8.pem"]
}

/// openssl's view of a private key file's public half: PEM, and SHA-256 of its DER.
fn openssl_public(dir: &Path, key_file: &str) -> (String, String) {
    let pem = openssl_ok(dir, &["pkey", "-in", key_file, "-pubout"]).stdout;
    let der_out = format!("{key_file}.pub.der");
    openssl_ok(
        dir,
        &[
            "pkey", "-in", key_file, "-pubout", "-outform", "DER", "-out", &der_out,
        ],
    );
    let hash = openssl_ok(dir, &["dgst", "-sha256", "-r", &der_out]).stdout;
    let hash = String::from_utf8(hash).unwrap();
    (
        String::from_utf8(pem).unwrap(),
        hash.split_whitespace().next().unwrap().to_owned(),
    )
}

fn sha256_hex(dir: &Path, name: &str, bytes: &[u8]) -> String {
    write(dir, name, bytes);
    let out = openssl_ok(dir, &["dgst", "-sha256", "-r", name]).stdout;
    String::from_utf8(out)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn statement() -> AssetStatement {
    AssetStatement {
        key: SCHEMATIC.parse().unwrap(),
        size: 42,
        sha256: "a".repeat(64),
        sha512: "b".repeat(128),
        media_type: "application/x-xz".into(),
        file_name: "initramfs-amd64.xz".into(),
        built_at: 1_767_225_600,
    }
}

#[test]
fn keys_openssl_writes_load() {
    let dir = tempfile::tempdir().unwrap();
    for name in openssl_p256_keys(dir.path()) {
        let key =
            SigningKey::from_pem(&read(dir.path(), name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (pub_pem, key_id) = openssl_public(dir.path(), name);
        assert_eq!(
            key.public_key(),
            PublicKey::from_pem(&pub_pem).unwrap(),
            "{name}"
        );
        assert_eq!(key.public_key().to_pem(), pub_pem, "{name}");
        assert_eq!(key.key_id().as_str(), key_id, "{name}");
        assert!(!format!("{key:?}").contains("PRIVATE"), "{name}");
    }
}

#[test]
fn other_keys_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-out",
            "p384-params.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "p384.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384-pkcs8.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "secp256k1",
            "-genkey",
            "-noout",
            "-out",
            "k1.pem",
        ],
    );
    openssl_ok(
        d,
        &["genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem"],
    );
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "pkey",
            "-in",
            "rsa.pem",
            "-traditional",
            "-out",
            "rsa-traditional.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "pass:secret",
            "-out",
            "encrypted.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "plain.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "ec",
            "-in",
            "plain.pem",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "legacy-encrypted.pem",
        ],
    );
    openssl_ok(
        d,
        &["pkey", "-in", "plain.pem", "-pubout", "-out", "public.pem"],
    );

    let cases: [(&str, &str); 11] = [
        (
            "p384-params.pem",
            "curve P-384 (secp384r1) (1.3.132.0.34) is not supported",
        ),
        (
            "p384.pem",
            "curve P-384 (secp384r1) (1.3.132.0.34) is not supported",
        ),
        (
            "p384-pkcs8.pem",
            "curve P-384 (secp384r1) (1.3.132.0.34) is not supported",
        ),
        ("k1.pem", "curve secp256k1 (1.3.132.0.10) is not supported"),
        (
            "ed25519.pem",
            "key type Ed25519 (1.3.101.112) is not supported",
        ),
        (
            "rsa.pem",
            "key type RSA (1.2.840.113549.1.1.1) is not supported",
        ),
        (
            "rsa-traditional.pem",
            "key type \"RSA PRIVATE KEY\" (PEM block) is not supported",
        ),
        ("encrypted.pem", "signing key is encrypted"),
        ("legacy-encrypted.pem", "signing key is encrypted"),
        (
            "public.pem",
            "no private key in PEM (blocks found: [\"PUBLIC KEY\"])",
        ),
        ("plain.pem", ""),
    ];
    for (name, want) in cases {
        let result = SigningKey::from_pem(&read(d, name));
        if want.is_empty() {
            result.unwrap();
            continue;
        }
        let err = result.unwrap_err().to_string();
        assert!(err.contains(want), "{name}: got {err:?}, want {want:?}");
    }

    // Two keys in one file are ambiguous; a public key next to the private one is ignored.
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "plain2.pem",
        ],
    );
    let two = format!("{}{}", read(d, "plain.pem"), read(d, "plain2.pem"));
    assert!(matches!(
        SigningKey::from_pem(&two),
        Err(KeyError::MultiplePrivateKeys { count: 2 })
    ));
    let with_public = format!("{}{}", read(d, "public.pem"), read(d, "plain.pem"));
    SigningKey::from_pem(&with_public).unwrap();
    // P-256 parameters in front of a P-384 key do not make it a P-256 key.
    let p256_params = openssl_ok(d, &["ecparam", "-name", "prime256v1"]).stdout;
    let mixed = format!(
        "{}{}",
        String::from_utf8(p256_params).unwrap(),
        read(d, "p384.pem")
    );
    assert!(matches!(
        SigningKey::from_pem(&mixed),
        Err(KeyError::UnsupportedCurve { .. })
    ));
    // Garbage.
    for garbage in [
        "",
        "hello",
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n",
        "-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n",
    ] {
        assert!(SigningKey::from_pem(garbage).is_err(), "{garbage:?}");
    }
}

#[test]
fn generated_keys_round_trip_through_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    assert_ne!(key.key_id(), other.key_id());

    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    write(d, "generated.pem", pem.as_bytes());
    openssl_ok(d, &["ec", "-in", "generated.pem", "-check", "-noout"]);
    let (pub_pem, key_id) = openssl_public(d, "generated.pem");
    assert_eq!(key.public_key().to_pem(), pub_pem);
    assert_eq!(key.key_id().as_str(), key_id);
    assert_eq!(SigningKey::from_pem(&pem).unwrap().key_id(), key.key_id());

    // Raw signatures verify with openssl, and are deterministic.
    write(d, "pub.pem", key.public_key().to_pem().as_bytes());
    write(d, "message", b"hello");
    let signature = key.sign_der(b"hello").unwrap();
    assert_eq!(signature, key.sign_der(b"hello").unwrap());
    write(d, "message.sig", &signature);
    openssl_ok(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "message.sig",
            "message",
        ],
    );
}

#[test]
fn records_we_sign_verify_in_core_and_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_p256_keys(d);
    let key = SigningKey::from_pem(&read(d, "params.pem")).unwrap();
    let (pub_pem, _) = openssl_public(d, "params.pem");
    let verifier = PublicKey::from_pem(&pub_pem).unwrap();

    let record = sign_record(&key, &statement()).unwrap();
    let json = record.to_json();
    let parsed = SignedRecord::from_json(json.as_bytes()).unwrap();
    assert_eq!(parsed.verify(&verifier).unwrap(), statement());

    // The third-party recipe of the record format's docs.
    let envelope: serde_json::Value = serde_json::from_str(&json).unwrap();
    let statement_bytes = STANDARD
        .decode(envelope["statement"].as_str().unwrap())
        .unwrap();
    let signature = STANDARD
        .decode(envelope["signature"].as_str().unwrap())
        .unwrap();
    write(d, "statement.json", &statement_bytes);
    write(d, "statement.sig", &signature);
    write(d, "signing-key.pub", pub_pem.as_bytes());
    let out = openssl_ok(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "signing-key.pub",
            "-signature",
            "statement.sig",
            "statement.json",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    let (_, key_id) = openssl_public(d, "params.pem");
    assert_eq!(envelope["keyId"], key_id.as_str());

    // Another key: refused by core, and by openssl when the key ID is bypassed.
    let other_key = SigningKey::from_pem(&read(d, "pkcs8.pem")).unwrap();
    assert!(matches!(
        parsed.verify(&other_key.public_key()),
        Err(RecordError::WrongKey { .. })
    ));
    write(d, "other.pub", other_key.public_key().to_pem().as_bytes());
    let out = openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "other.pub",
            "-signature",
            "statement.sig",
            "statement.json",
        ],
    );
    assert!(!out.status.success());

    // A statement that breaks the format is not signed at all.
    let mut bad = statement();
    bad.file_name = "a/b".into();
    assert!(sign_record(&key, &bad).is_err());
}

#[test]
fn cosign_signatures_verify_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_p256_keys(d);
    let key = SigningKey::from_pem(&read(d, "sec1.pem")).unwrap();
    let (pub_pem, _) = openssl_public(d, "sec1.pem");
    write(d, "pub.pem", pub_pem.as_bytes());
    let (other_pub, _) = openssl_public(d, "pkcs8.pem");
    write(d, "other.pub", other_pub.as_bytes());

    let repository = format!("127.0.0.1:5000/metal-installer/{SCHEMATIC}");
    let index = Digest::sha256_of(b"{\"schemaVersion\":2}");
    let created = "2026-01-01T12:00:00.500Z";
    let sig = CosignSignature::new(&key, &repository, &index, Some(created)).unwrap();

    // The payload's signature verifies with openssl, and fails with another key.
    write(d, "payload.json", sig.payload().bytes());
    write(
        d,
        "sig.der",
        &STANDARD.decode(sig.signature_base64()).unwrap(),
    );
    let out = openssl_ok(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "sig.der",
            "payload.json",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    let out = openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "other.pub",
            "-signature",
            "sig.der",
            "payload.json",
        ],
    );
    assert!(!out.status.success(), "verified with the wrong key");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verification failure"));

    // The payload names the signed image.
    let payload: serde_json::Value = serde_json::from_slice(sig.payload().bytes()).unwrap();
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        repository.as_str()
    );
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        index.to_string().as_str()
    );
    assert_eq!(
        payload["critical"]["type"],
        "cosign container image signature"
    );

    // The manifest references exactly the blobs, by their sha256 as openssl computes it.
    let manifest: serde_json::Value = serde_json::from_slice(sig.manifest().bytes()).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    let layer = &layers[0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload_hex = sha256_hex(d, "layer.blob", sig.payload().bytes());
    assert_eq!(layer["digest"], format!("sha256:{payload_hex}").as_str());
    assert_eq!(layer["size"], sig.payload().bytes().len());
    assert_eq!(
        layer["annotations"]["dev.cosignproject.cosign/signature"],
        sig.signature_base64()
    );
    let config_hex = sha256_hex(d, "config.blob", sig.config().bytes());
    assert_eq!(
        manifest["config"]["digest"],
        format!("sha256:{config_hex}").as_str()
    );
    assert_eq!(manifest["config"]["size"], sig.config().bytes().len());
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let manifest_hex = sha256_hex(d, "manifest.blob", sig.manifest().bytes());
    assert_eq!(
        sig.manifest().digest().to_string(),
        format!("sha256:{manifest_hex}")
    );

    // The config records the time given (as Go writes it) and the payload as its layer.
    let config: serde_json::Value = serde_json::from_slice(sig.config().bytes()).unwrap();
    assert_eq!(config["created"], "2026-01-01T12:00:00.5Z");
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{payload_hex}").as_str()
    );

    // The tag, and the blobs in push order.
    assert_eq!(sig.tag(), format!("sha256-{}.sig", index.hex()));
    let blobs = sig.blobs();
    assert_eq!(blobs[0].digest(), sig.config().digest());
    assert_eq!(blobs[1].digest(), sig.payload().digest());

    // Deterministic for a given time; another time changes config and manifest only.
    let again = CosignSignature::new(&key, &repository, &index, Some(created)).unwrap();
    assert_eq!(again, sig);
    let later =
        CosignSignature::new(&key, &repository, &index, Some("2026-01-02T00:00:00Z")).unwrap();
    assert_eq!(later.payload(), sig.payload());
    assert_eq!(later.signature_base64(), sig.signature_base64());
    assert_ne!(later.config().digest(), sig.config().digest());
    assert_ne!(later.manifest().digest(), sig.manifest().digest());
}
