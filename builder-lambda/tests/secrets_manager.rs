//! Secrets from Secrets Manager at cold start, against moto's server (PyPI
//! `moto[server]`, which speaks the real JSON 1.1 protocol): the builder
//! reads its signing key and dispatch secret by ID, then accepts a job
//! signed with that secret; a missing secret stops it at start naming the
//! variable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use factory_core::dispatch::auth::DispatchSecret;
use factory_imager::signing::SigningKey;
use support::{Builder, S3, builder_command, free_port, now};

const DISPATCH: &str = "dispatch-secret-from-secrets-manager-0123456789";

fn moto_server() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("moto_server is missing: install it with `pip install \"moto[server]\"`")
        })
}

struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = free_port();
        let mut child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(child.try_wait().unwrap().is_none(), "moto_server exited");
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn create_secret(&self, name: &str, value: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "secretsmanager.CreateSecret")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(serde_json::json!({"Name": name, "SecretString": value}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_read_by_id_at_start() {
    let moto = Moto::start();
    let s3 = S3::start();
    let key = SigningKey::generate().unwrap();
    moto.create_secret("factory/signing-key", &key.to_pkcs8_pem().unwrap())
        .await;
    moto.create_secret("factory/dispatch", DISPATCH).await;

    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    // The direct values are replaced by secret IDs.
    let mut command = builder_command(&s3, "127.0.0.1:1", &key, &cache.path().join("c"));
    command
        .env_remove("IF_SIGNING_KEY")
        .env_remove("IF_DISPATCH_SECRET")
        .env("IF_SIGNING_KEY_SECRET_ID", "factory/signing-key")
        .env("IF_DISPATCH_SECRET_ID", "factory/dispatch")
        .env("IF_SECRETS_ENDPOINT", &moto.endpoint)
        .env("LOCAL_HTTP", format!("127.0.0.1:{port}"));
    let log = cache.path().join("log");
    let mut child = command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            panic!("{}", std::fs::read_to_string(&log).unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // A job signed with the secret from Secrets Manager passes
    // authentication (and is then refused for its made-up key).
    let body = serde_json::to_vec(&serde_json::json!({
        "kind": "asset",
        "key": "0".repeat(64),
        "path": "kernel-amd64",
        "version": "v1.12.4",
        "catalog": {"extensions": [], "overlays": [], "imagerDigest": "sha256:i", "installerBaseDigest": "sha256:b"},
        "secureboot": false
    }))
    .unwrap();
    let secret = DispatchSecret::new(DISPATCH.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().post(format!("http://127.0.0.1:{port}/build"));
    for (name, value) in Builder::sign_with(&secret, &body, now()) {
        request = request.header(name, value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 409, "{}", response.text().await.unwrap());

    // A secret that does not exist: the binary stops, naming the variable.
    let out = builder_command(&s3, "127.0.0.1:1", &key, &cache.path().join("c"))
        .env_remove("IF_DISPATCH_SECRET")
        .env("IF_DISPATCH_SECRET_ID", "factory/missing")
        .env("IF_SECRETS_ENDPOINT", &moto.endpoint)
        .env("LOCAL_HTTP", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("IF_DISPATCH_SECRET_ID"), "{stderr}");
    assert!(stderr.contains("factory/missing"), "{stderr}");
}
