//! Record round trips, every tampering we can think of, and garbage input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::frontend::AssetRecord;

const KEY: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/// An uncompressed P-256 SPKI made by openssl, the same key compressed, and
/// `openssl ec -pubout -outform DER | sha256sum` of it.
const OPENSSL_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5eMvQKnlKFNSWXV4rk80UBopfn22
L3BOZG7zpvSzAd7GY9cW23DfmM6jZxiYGiLvGLacpxxx6NeLu4x8dFstCQ==
-----END PUBLIC KEY-----
";
const OPENSSL_PUB_COMPRESSED: &str = "-----BEGIN PUBLIC KEY-----
MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgAD5eMvQKnlKFNSWXV4rk80UBopfn22
L3BOZG7zpvSzAd4=
-----END PUBLIC KEY-----";
const OPENSSL_PUB_ID: &str = "b3495cdd8da365464ee1eef3f7df5982aa04f64f1b93eb4cb0531d00dbf2b03d";
/// `openssl ecparam -name secp384r1 -genkey -noout | openssl ec -pubout`.
const P384_PUB: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE3LXZvFr6+22PiMvX6T1u+p0XE6/25q3J
pj12/fSJLawHEE3n2EOYYcSX/lo9vN8u6RUibUaDWO4/NS2nfwtXH9HxS39lb3xO
QyoigLhBruJd3Ve9XZmlFTvR/T7TBy6q
-----END PUBLIC KEY-----";
/// `openssl genpkey -algorithm ed25519 | openssl pkey -pubout`.
const ED25519_PUB: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAakCkadlafPv55OFw6xNuAj0jJ0dtD1rFrDDkcJ7WJmE=
-----END PUBLIC KEY-----";

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

fn public_key(key: &SigningKey) -> PublicKey {
    let der = key.verifying_key().to_public_key_der().unwrap();
    PublicKey::from_spki_der(der.as_bytes()).unwrap()
}

fn statement() -> AssetStatement {
    AssetStatement {
        key: KEY.parse().unwrap(),
        size: 123_456_789,
        sha256: hex::encode(Sha256::digest(b"asset")),
        sha512: hex::encode(sha2::Sha512::digest(b"asset")),
        media_type: "application/x-iso9660-image".into(),
        file_name: "metal-amd64.iso".into(),
        built_at: 1_767_225_600,
    }
}

/// Signs arbitrary bytes as a builder would sign a statement.
fn sign_bytes(key: &SigningKey, bytes: &[u8]) -> SignedRecord {
    let signature: Signature = key.sign(bytes);
    SignedRecord {
        statement_bytes: bytes.to_vec(),
        signature: signature.to_der().as_bytes().to_vec(),
        key_id: public_key(key).key_id().clone(),
    }
}

fn signed(key: &SigningKey) -> SignedRecord {
    sign_bytes(key, &statement().canonical_bytes().unwrap())
}

#[test]
fn canonical_statement_bytes_are_exact() {
    let bytes = statement().canonical_bytes().unwrap();
    let want = format!(
        concat!(
            r#"{{"type":"image-factory/asset-statement/v1","key":"{}","size":123456789,"#,
            r#""sha256":"{}","sha512":"{}","mediaType":"application/x-iso9660-image","#,
            r#""fileName":"metal-amd64.iso","builtAt":1767225600}}"#
        ),
        KEY,
        hex::encode(Sha256::digest(b"asset")),
        hex::encode(sha2::Sha512::digest(b"asset")),
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    assert_eq!(
        AssetStatement::from_canonical_bytes(&bytes).unwrap(),
        statement()
    );
}

#[test]
fn round_trip_through_json() {
    let key = signing_key(7);
    let record = signed(&key);
    let json = record.to_json();
    assert!(json.starts_with(r#"{"statement":""#), "{json}");
    let parsed = SignedRecord::from_json(json.as_bytes()).unwrap();
    assert_eq!(parsed, record);
    assert_eq!(parsed.verify(&public_key(&key)).unwrap(), statement());
    // The envelope's member order and spacing are not signed.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let reordered = format!(
        "{{ \"keyId\" : {}, \"signature\": {},\n\"statement\": {} }}",
        value["keyId"], value["signature"], value["statement"]
    );
    let parsed = SignedRecord::from_json(reordered.as_bytes()).unwrap();
    assert_eq!(parsed.verify(&public_key(&key)).unwrap(), statement());
}

#[test]
fn converts_to_the_frontend_record() {
    let want = AssetRecord {
        key: KEY.parse().unwrap(),
        size: 123_456_789,
        sha256: statement().sha256,
        sha512: statement().sha512,
    };
    assert_eq!(statement().asset_record(), want);
    assert_eq!(AssetRecord::from(statement()), want);
}

#[test]
fn tampered_statement_is_refused() {
    let key = signing_key(7);
    let record = signed(&key);
    for i in [
        0,
        20,
        record.statement_bytes.len() / 2,
        record.statement_bytes.len() - 1,
    ] {
        let mut tampered = record.clone();
        tampered.statement_bytes[i] ^= 0x01;
        let err = tampered.verify(&public_key(&key)).unwrap_err();
        assert!(
            matches!(err, RecordError::Signature(SignatureError::Mismatch)),
            "{i}: {err}"
        );
    }
    // A larger size, written canonically, under the old signature.
    let mut bigger = statement();
    bigger.size += 1;
    let mut tampered = record.clone();
    tampered.statement_bytes = bigger.canonical_bytes().unwrap();
    assert!(matches!(
        tampered.verify(&public_key(&key)),
        Err(RecordError::Signature(SignatureError::Mismatch))
    ));
}

#[test]
fn tampered_signature_is_refused() {
    let key = signing_key(7);
    let record = signed(&key);
    let mut flipped = record.clone();
    let last = flipped.signature.len() - 1;
    flipped.signature[last] ^= 0x01;
    assert!(matches!(
        flipped.verify(&public_key(&key)),
        Err(RecordError::Signature(SignatureError::Mismatch))
    ));
    for garbage in [
        vec![],
        vec![0x30, 0x00],
        b"not a signature".to_vec(),
        vec![0u8; 64],
    ] {
        let mut bad = record.clone();
        bad.signature = garbage;
        assert!(matches!(
            bad.verify(&public_key(&key)),
            Err(RecordError::Signature(SignatureError::Malformed(_)))
        ));
    }
}

#[test]
fn tampered_key_id_is_refused() {
    let key = signing_key(7);
    let mut record = signed(&key);
    record.key_id = "0".repeat(64).parse().unwrap();
    let err = record.verify(&public_key(&key)).unwrap_err();
    assert!(matches!(err, RecordError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains(&"0".repeat(64)), "{err}");
}

#[test]
fn another_key_is_refused() {
    let record = signed(&signing_key(7));
    let other = public_key(&signing_key(8));
    assert!(matches!(
        record.verify(&other),
        Err(RecordError::WrongKey { .. })
    ));
    // Claiming the other key's ID does not help: the signature is checked.
    let mut forged = record;
    forged.key_id = other.key_id().clone();
    assert!(matches!(
        forged.verify(&other),
        Err(RecordError::Signature(SignatureError::Mismatch))
    ));
}

#[test]
fn signed_but_invalid_statements_are_refused() {
    let key = signing_key(7);
    let canonical = String::from_utf8(statement().canonical_bytes().unwrap()).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (canonical.replace(",", ", "), "not in canonical form"),
        (format!("{canonical}\n"), "not in canonical form"),
        (
            canonical.replace("\"size\":123456789", "\"size\":1.23456789e8"),
            "parsing statement JSON",
        ),
        (
            canonical.replace("metal-amd64.iso", "metal\\u002damd64.iso"),
            "not in canonical form",
        ),
        (
            canonical.replace("asset-statement/v1", "asset-statement/v2"),
            "is not \"image-factory/asset-statement/v1\"",
        ),
        (
            canonical.replace(",\"builtAt\":1767225600", ""),
            "missing field `builtAt`",
        ),
        (
            canonical.replace("}", ",\"extra\":1}"),
            "unknown field `extra`",
        ),
        (canonical.replace(KEY, &KEY.to_uppercase()), "statement key"),
        (
            canonical.replace("metal-amd64.iso", "../metal-amd64.iso"),
            "character '/' is not allowed",
        ),
        (canonical.replace("metal-amd64.iso", ""), "fileName: empty"),
        (
            canonical.replace("123456789", "9007199254740992"),
            "above 2^53-1",
        ),
        (
            {
                let mut s = statement();
                s.sha256.truncate(63);
                canonical.replace(&statement().sha256, &s.sha256)
            },
            "sha256: expected 64 lowercase hex digits",
        ),
        (
            format!("{canonical}{}", " ".repeat(1024)),
            "not in canonical form",
        ),
        ("[]".into(), "parsing statement JSON"),
        (String::new(), "parsing statement JSON"),
    ];
    for (text, want) in cases {
        let record = sign_bytes(&key, text.as_bytes());
        let err = record.verify(&public_key(&key)).unwrap_err();
        assert!(matches!(err, RecordError::Statement(_)), "{text}: {err}");
        assert!(
            err.to_string().contains(want),
            "{text}: got {err}, want {want:?}"
        );
    }
}

#[test]
fn invalid_statements_cannot_be_encoded() {
    let mut s = statement();
    s.media_type = "text/plain; charset=\"utf-8\"".into();
    assert!(matches!(
        s.canonical_bytes(),
        Err(StatementError::ForbiddenCharacter { character: '"', .. })
    ));
    let mut s = statement();
    s.file_name = "é.iso".into();
    assert!(matches!(
        s.canonical_bytes(),
        Err(StatementError::ForbiddenCharacter {
            character: 'é', ..
        })
    ));
    let mut s = statement();
    s.file_name = "x".repeat(MAX_TEXT_LEN + 1);
    assert!(matches!(
        s.canonical_bytes(),
        Err(StatementError::TextTooLong { .. })
    ));
    let mut s = statement();
    s.built_at = MAX_SAFE_INTEGER + 1;
    assert!(matches!(
        s.canonical_bytes(),
        Err(StatementError::NumberTooLarge {
            field: "builtAt",
            ..
        })
    ));
    let mut s = statement();
    s.sha512 = s.sha512.to_uppercase();
    assert!(matches!(
        s.canonical_bytes(),
        Err(StatementError::NotHex {
            field: "sha512",
            ..
        })
    ));
    // The largest valid statement stays under the parse limit.
    let mut s = statement();
    s.media_type = "m".repeat(MAX_TEXT_LEN);
    s.file_name = "f".repeat(MAX_TEXT_LEN);
    s.size = MAX_SAFE_INTEGER;
    s.built_at = MAX_SAFE_INTEGER;
    let bytes = s.canonical_bytes().unwrap();
    assert_eq!(AssetStatement::from_canonical_bytes(&bytes).unwrap(), s);
    let record = sign_bytes(&signing_key(1), &bytes);
    assert!(record.to_json().len() < MAX_RECORD_LEN);
}

#[test]
fn garbage_envelopes_are_refused() {
    let good = signed(&signing_key(7)).to_json();
    let value: serde_json::Value = serde_json::from_str(&good).unwrap();
    let with = |field: &str, text: &str| {
        let mut v = value.clone();
        v[field] = serde_json::Value::String(text.into());
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "parsing record envelope"),
        ("null".into(), "parsing record envelope"),
        ("{}".into(), "missing field"),
        (good.replace("}", ",\"x\":1}"), "unknown field `x`"),
        (
            good.replace("\"keyId\"", "\"keyid\""),
            "unknown field `keyid`",
        ),
        (
            with("statement", "not base64!"),
            "decoding record statement base64",
        ),
        (with("signature", "AAA"), "decoding record signature base64"),
        (with("keyId", "abc"), "record keyId: invalid key ID"),
        (
            with("keyId", &"A".repeat(64)),
            "record keyId: invalid key ID",
        ),
        (
            good.replace("\"keyId\":\"", "\"keyId\":1,\"k\":\""),
            "parsing record envelope",
        ),
        (
            format!("{good}{}", " ".repeat(MAX_RECORD_LEN)),
            "more than 4096",
        ),
    ];
    for (json, want) in cases {
        let err = SignedRecord::from_json(json.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{json}: got {err}, want {want:?}"
        );
    }
    // Non-UTF-8 bytes are just invalid JSON.
    assert!(SignedRecord::from_json(&[0xff, 0xfe, b'{']).is_err());
}

#[test]
fn public_keys_from_openssl_pem() {
    let key = PublicKey::from_pem(OPENSSL_PUB).unwrap();
    assert_eq!(key.key_id().as_str(), OPENSSL_PUB_ID);
    assert_eq!(
        hex::encode(Sha256::digest(key.to_spki_der())),
        OPENSSL_PUB_ID
    );
    assert_eq!(key.to_pem(), OPENSSL_PUB);
    // The compressed spelling of the same key is the same key, with the same ID.
    let compressed = PublicKey::from_pem(OPENSSL_PUB_COMPRESSED).unwrap();
    assert_eq!(compressed, key);
    assert_eq!(compressed.to_pem(), OPENSSL_PUB);
    // CRLF line ends and surrounding blank lines are fine.
    let crlf = format!("\r\n{}\r\n", OPENSSL_PUB.replace('\n', "\r\n"));
    assert_eq!(PublicKey::from_pem(&crlf).unwrap(), key);
    // Our own keys round-trip through PEM.
    let ours = public_key(&signing_key(3));
    assert_eq!(PublicKey::from_pem(&ours.to_pem()).unwrap(), ours);
    assert!(format!("{ours:?}").contains(ours.key_id().as_str()));
}

#[test]
fn other_public_keys_are_refused_clearly() {
    let cases: Vec<(String, &str)> = vec![
        (P384_PUB.into(), "curve 1.3.132.0.34 is not P-256"),
        (
            ED25519_PUB.into(),
            "algorithm 1.3.101.112 is not id-ecPublicKey",
        ),
        (
            OPENSSL_PUB.replace("PUBLIC KEY", "PRIVATE KEY"),
            "PEM block is \"PRIVATE KEY\"",
        ),
        (
            format!("{OPENSSL_PUB}{OPENSSL_PUB}"),
            "reading public key PEM",
        ),
        ("garbage".into(), "reading public key PEM"),
        (String::new(), "reading public key PEM"),
        (
            OPENSSL_PUB.replace("MFkw", "MFkx"),
            "decoding SubjectPublicKeyInfo",
        ),
        (" ".repeat(MAX_PUBLIC_KEY_PEM_LEN + 1), "more than 4096"),
    ];
    for (pem, want) in cases {
        let err = PublicKey::from_pem(&pem).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{pem}: got {err}, want {want:?}"
        );
    }
    // A point that is not on the curve.
    let mut der = public_key(&signing_key(3)).to_spki_der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert!(matches!(
        PublicKey::from_spki_der(&der),
        Err(PublicKeyError::InvalidPoint(_))
    ));
}

#[test]
fn key_ids_parse_strictly() {
    assert!(OPENSSL_PUB_ID.parse::<KeyId>().is_ok());
    assert!("".parse::<KeyId>().is_err());
    assert!(OPENSSL_PUB_ID.to_uppercase().parse::<KeyId>().is_err());
    let long = "a".repeat(10_000).parse::<KeyId>().unwrap_err();
    assert!(long.0.len() <= 80);
}

#[test]
fn raw_signatures_verify_like_openssl() {
    let key = signing_key(9);
    let signature: Signature = key.sign(b"payload");
    let public = public_key(&key);
    public
        .verify_der(b"payload", signature.to_der().as_bytes())
        .unwrap();
    assert!(matches!(
        public.verify_der(b"payloae", signature.to_der().as_bytes()),
        Err(SignatureError::Mismatch)
    ));
    // Raw r||s (what JOSE uses) is not DER and is refused, not misread.
    assert!(matches!(
        public.verify_der(b"payload", &signature.to_bytes()),
        Err(SignatureError::Malformed(_))
    ));
}

proptest! {
    #[test]
    fn from_json_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedRecord::from_json(&bytes);
    }

    #[test]
    fn mutated_records_never_verify_wrongly(
        position in 0usize..2048,
        byte in any::<u8>(),
        cut in proptest::option::of(0usize..2048),
    ) {
        let key = signing_key(7);
        let mut json = signed(&key).to_json().into_bytes();
        let len = json.len();
        if let Some(slot) = json.get_mut(position % len) {
            *slot = byte;
        }
        if let Some(cut) = cut {
            json.truncate(cut % (json.len() + 1));
        }
        // Whatever the mutation, the result is an error or the true statement.
        if let Ok(record) = SignedRecord::from_json(&json)
            && let Ok(verified) = record.verify(&public_key(&key))
        {
            prop_assert_eq!(verified, statement());
        }
    }

    #[test]
    fn statement_json_never_panics(text in "\\PC{0,300}") {
        let _ = AssetStatement::from_canonical_bytes(text.as_bytes());
        let b64 = STANDARD.encode(text.as_bytes());
        let json = format!(r#"{{"statement":"{b64}","signature":"{b64}","keyId":"{}"}}"#, "0".repeat(64));
        let _ = SignedRecord::from_json(json.as_bytes());
    }
}
