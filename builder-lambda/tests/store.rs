//! The bucket client against s3s-fs (SigV4 enforced): a file above the
//! multipart threshold goes up in parts and comes back byte for byte; an
//! upload of a key that already holds that size is skipped; records
//! round-trip; a missing key is `None`, not an error.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use builder_lambda::config::Config;
use builder_lambda::secrets::AwsCredentials;
use builder_lambda::store::{Bucket, MULTIPART_THRESHOLD};
use factory_core::dispatch::auth::DispatchSecret;
use factory_imager::signing::SigningKey;
use support::{ACCESS_KEY, BUCKET, S3, SECRET, SECRET_KEY, sha256_hex};

fn config(s3: &S3, secret_key: &str) -> Config {
    Config {
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        s3_endpoint: Some(s3.endpoint.clone()),
        credentials: AwsCredentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: secret_key.into(),
            session_token: None,
        },
        signing_key: SigningKey::generate().unwrap(),
        dispatch_secret: DispatchSecret::new(SECRET.as_bytes()).unwrap(),
        upstream_registry: "127.0.0.1:1".into(),
        upstream_namespace: String::new(),
        upstream_insecure: true,
        external_url: "http://127.0.0.1:8080/".into(),
        cache_dir: std::env::temp_dir(),
        cache_max_bytes: 1 << 30,
        local_http: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_and_skips() {
    let s3 = S3::start();
    let bucket = Bucket::open(&config(&s3, SECRET_KEY)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    // Not a multiple of the part size, and different in every part.
    let size = 2 * MULTIPART_THRESHOLD + 12_345;
    let bytes: Vec<u8> = (0..size)
        .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let key = format!("blobs/sha256/{}", sha256_hex(&bytes));

    assert!(bucket.upload_file(&key, &path, size).await.unwrap());
    let back = s3.get(&key).await.expect("uploaded");
    assert_eq!(back.len() as u64, size);
    assert_eq!(sha256_hex(&back), sha256_hex(&bytes));
    assert!(
        !bucket.upload_file(&key, &path, size).await.unwrap(),
        "skipped"
    );

    assert_eq!(bucket.get_record("records/none.json").await.unwrap(), None);
    assert_eq!(bucket.size("records/none.json").await.unwrap(), None);
    bucket
        .put_bytes("records/r.json", bytes::Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        bucket
            .get_record("records/r.json")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"{}"[..])
    );

    // Wrong credentials are refused by the server, as an error naming the key.
    let wrong = Bucket::open(&config(&s3, "not-the-secret")).unwrap();
    let error = wrong.size("records/r.json").await.unwrap_err().to_string();
    assert!(error.contains("records/r.json"), "{error}");
}
