//! The integration harness of the builder: `s3s-fs` (a SigV4-enforcing
//! S3 server) on a free loopback port, the real `builder-lambda` binary in
//! local mode, and a client that signs jobs as the edge does. Every process
//! is stopped by its PID on drop, also when a test fails halfway.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use factory_core::dispatch::auth::{
    DispatchSecret, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use factory_core::dispatch::{BUILD_PATH, BuildJob};
use factory_core::record::PublicKey;
use factory_imager::signing::SigningKey;
use object_store::ObjectStoreExt as _;
use sha2::{Digest as _, Sha256};

pub const ACCESS_KEY: &str = "AKIATESTBUILDER";
pub const SECRET_KEY: &str = "SECRETTESTBUILDER0123456789";
pub const BUCKET: &str = "factory";
pub const SECRET: &str = "builder-test-dispatch-secret-0123456789";
pub const EXTERNAL_URL: &str = "http://127.0.0.1:8080/";

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{what} exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port} within 30 s");
}

/// `s3s-fs` serving `root` (one directory per bucket) with SigV4 enforced.
pub struct S3 {
    child: Child,
    pub endpoint: String,
    pub root: tempfile::TempDir,
}

impl S3 {
    pub fn start() -> S3 {
        let binary = s3s_fs();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = free_port();
        let log = root.path().join("s3s-fs.log");
        let mut child = Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, &log, "s3s-fs");
        S3 {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root,
        }
    }

    /// An S3 client of the bucket (`object_store`, SigV4).
    pub fn client(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .unwrap()
    }

    /// The object at `key`, fetched through the S3 API.
    pub async fn get(&self, key: &str) -> Option<Bytes> {
        match self
            .client()
            .get(&object_store::path::Path::from(key))
            .await
        {
            Ok(result) => Some(result.bytes().await.unwrap()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("GET {key}: {e}"),
        }
    }

    /// Writes `bytes` at `key` through the S3 API.
    pub async fn put(&self, key: &str, bytes: &'static [u8]) {
        self.client()
            .put(
                &object_store::path::Path::from(key),
                object_store::PutPayload::from_static(bytes),
            )
            .await
            .unwrap();
    }

    /// The size of the object at `key`, through the S3 API.
    pub async fn size(&self, key: &str) -> Option<u64> {
        match self
            .client()
            .head(&object_store::path::Path::from(key))
            .await
        {
            Ok(meta) => Some(meta.size),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("HEAD {key}: {e}"),
        }
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `s3s-fs`, installed with cargo (it is not a Debian package).
pub fn s3s_fs() -> PathBuf {
    let mut dirs: Vec<PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("s3s-fs"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "s3s-fs is missing: install it with \
                 `cargo install s3s-fs --version 0.14.1 --features binary`"
            )
        })
}

/// The real builder binary in local mode.
pub struct Builder {
    child: Child,
    pub url: String,
    pub public: PublicKey,
    pub secret: DispatchSecret,
    pub cache: tempfile::TempDir,
    log: PathBuf,
    client: reqwest::Client,
}

/// Where the builder's upstream is.
pub enum Upstream<'a> {
    /// A plain-HTTP registry at this address.
    Registry(&'a str),
    /// Nothing listens there.
    Unreachable,
}

impl Builder {
    /// A builder with a new signing key, listening.
    pub fn start(s3: &S3, upstream: Upstream<'_>) -> Builder {
        Builder::start_with_key(s3, upstream, &SigningKey::generate().unwrap())
    }

    /// A builder signing with `key`, listening.
    pub fn start_with_key(s3: &S3, upstream: Upstream<'_>, key: &SigningKey) -> Builder {
        Builder::start_with_env(s3, upstream, key, &[])
    }

    /// A builder signing with `key`, with `extra` settings, listening.
    pub fn start_with_env(
        s3: &S3,
        upstream: Upstream<'_>,
        key: &SigningKey,
        extra: &[(&str, &str)],
    ) -> Builder {
        let (mut builder, port) = Builder::launch_with_env(s3, upstream, key, extra);
        wait_for_port(port, &mut builder.child, &builder.log, "builder-lambda");
        builder
    }

    /// A builder signing with `key`, just spawned (not yet listening), and
    /// its port.
    pub fn launch(s3: &S3, upstream: Upstream<'_>, key: &SigningKey) -> (Builder, u16) {
        Builder::launch_with_env(s3, upstream, key, &[])
    }

    /// [`Builder::launch`] with `extra` settings.
    pub fn launch_with_env(
        s3: &S3,
        upstream: Upstream<'_>,
        key: &SigningKey,
        extra: &[(&str, &str)],
    ) -> (Builder, u16) {
        let cache = tempfile::tempdir().unwrap();
        let port = free_port();
        let registry = match upstream {
            Upstream::Registry(addr) => addr.to_owned(),
            Upstream::Unreachable => format!("127.0.0.1:{}", free_port()),
        };
        let log = cache.path().join("builder.log");
        let child = builder_command(s3, &registry, key, &cache.path().join("cache"))
            .env("LOCAL_HTTP", format!("127.0.0.1:{port}"))
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let builder = Builder {
            child,
            url: format!("http://127.0.0.1:{port}"),
            public: key.public_key(),
            secret: DispatchSecret::new(SECRET.as_bytes()).unwrap(),
            cache,
            log,
            client: reqwest::Client::new(),
        };
        (builder, port)
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The builder's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET `path` as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// POSTs `body` to `/build` with `headers`; answers status and JSON.
    pub async fn post_raw(
        &self,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.post(format!("{}{BUILD_PATH}", self.url));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{status} answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, json)
    }

    /// The three auth headers of `body`, signed at `now` with `secret`.
    pub fn sign_with(
        secret: &DispatchSecret,
        body: &[u8],
        now: u64,
    ) -> Vec<(&'static str, String)> {
        let h = secret
            .sign("POST", BUILD_PATH, body, now, &nonce())
            .unwrap();
        vec![
            (TIMESTAMP_HEADER, h.timestamp),
            (NONCE_HEADER, h.nonce),
            (SIGNATURE_HEADER, h.signature),
        ]
    }

    /// POSTs `job`, signed as the edge signs it.
    pub async fn post(&self, job: &BuildJob) -> (u16, serde_json::Value) {
        let body = serde_json::to_vec(job).unwrap();
        let headers = Builder::sign_with(&self.secret, &body, now());
        self.post_raw(body, &headers).await
    }
}

/// The builder binary (`BUILDER_BIN`, or this package's) with every
/// setting but the mode: its bucket in `s3`, upstream at `registry`,
/// signing with `key`, caching under `cache`; inherited `IF_*` and `AWS_*`
/// variables removed.
pub fn builder_command(s3: &S3, registry: &str, key: &SigningKey, cache: &Path) -> Command {
    let binary = std::env::var_os("BUILDER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_builder-lambda")),
        PathBuf::from,
    );
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars() {
        if name.starts_with("IF_") || name.starts_with("AWS_") || name == "LOCAL_HTTP" {
            command.env_remove(name);
        }
    }
    command
        .env("IF_BUCKET", BUCKET)
        .env("IF_S3_ENDPOINT", &s3.endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("IF_SIGNING_KEY", key.to_pkcs8_pem().unwrap().as_str())
        .env("IF_DISPATCH_SECRET", SECRET)
        .env("IF_UPSTREAM_REGISTRY", registry)
        .env("IF_UPSTREAM_INSECURE", "true")
        .env("IF_EXTERNAL_URL", EXTERNAL_URL)
        .env("IF_CACHE_DIR", cache)
        .env("IF_LOG", "info");
    command
}

impl Drop for Builder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh 64-hex-digit nonce.
pub fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = format!(
        "{}-{}-{n}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    hex::encode(Sha256::digest(seed.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
