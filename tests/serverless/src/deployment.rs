//! One serverless deployment on loopback: the synthetic release in
//! docker-registry, s3s-fs, the builder in local mode and the Worker in
//! wrangler dev, wired to each other.

use factory_test_support::{SyntheticRegistry, curl, tool};

use crate::services::{Builder, BuilderSettings, S3, keypair};
use crate::worker::{Worker, WorkerSettings};

/// The HMAC secret the Worker and the builder share.
pub const DISPATCH_SECRET: &str = "edge-e2e-dispatch-secret-0123456789abcdef";

/// Everything up; dropped in reverse order of start.
#[derive(Debug)]
pub struct Deployment {
    /// The Worker (first field: stopped first).
    pub worker: Worker,
    /// The builder.
    pub builder: Builder,
    /// The object store.
    pub s3: S3,
    /// The upstream registry.
    pub registry: SyntheticRegistry,
    /// Where every server keeps its files (last field: removed last).
    pub dir: tempfile::TempDir,
}

impl Deployment {
    /// Starts everything: the Worker trusts the builder's key when
    /// `trusted`, another key otherwise; presigned URLs live `ttl` seconds.
    /// Returns the builder's public key too.
    pub fn start(trusted: bool, ttl: u64) -> (Deployment, String) {
        tool("openssl", "openssl");
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = keypair(dir.path(), "builder");
        let (_, other) = keypair(dir.path(), "other");
        let registry = SyntheticRegistry::start();
        let s3 = S3::start(dir.path());
        let port = Worker::reserve_port();
        let builder = Builder::start(
            dir.path(),
            &BuilderSettings {
                registry: registry.addr.clone(),
                s3_endpoint: s3.endpoint.clone(),
                signing_key: key,
                dispatch_secret: DISPATCH_SECRET.into(),
                external_url: format!("http://127.0.0.1:{port}/"),
            },
        );
        let worker = Worker::start(
            dir.path(),
            port,
            &WorkerSettings {
                public_key_pem: if trusted { public.clone() } else { other },
                builder_url: builder.base.clone(),
                s3_endpoint: s3.endpoint.clone(),
                dispatch_secret: DISPATCH_SECRET.into(),
                presign_ttl: ttl,
            },
        );
        let deployment = Deployment {
            worker,
            builder,
            s3,
            registry,
            dir,
        };
        (deployment, public)
    }
}

/// `POST /schematics` with `yaml` at `base`; the ID.
pub fn create_schematic(base: &str, yaml: &str) -> String {
    let r = curl(&[
        "-X",
        "POST",
        "--data-binary",
        yaml,
        &format!("{base}/schematics"),
    ]);
    assert!(matches!(r.status, 200 | 201), "{} {}", r.status, r.text());
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    json["id"].as_str().unwrap().to_owned()
}
