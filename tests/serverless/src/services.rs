//! The four servers of the serverless end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use factory_test_support::{curl, free_port, run, tool, workspace};

use crate::process::Spawned;

/// The access key s3s-fs accepts (and the Worker and builder sign with).
pub const ACCESS_KEY: &str = "AKIAEDGETEST";
/// Its secret.
pub const SECRET_KEY: &str = "edge-test-secret-key";
/// The bucket.
pub const BUCKET: &str = "artifacts";

/// The test binary's target directory (`<target>/debug/deps/<test>`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .ancestors()
        .nth(3)
        .unwrap()
        .to_owned()
}

/// Builds (if needed) a workspace binary and returns its path. Cargo has
/// released its lock by the time tests run, so this nested build works.
pub fn cargo_binary(package: &str, bin: &str) -> PathBuf {
    let target = target_dir();
    run(Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .env("CARGO_TARGET_DIR", &target));
    target.join("debug").join(bin)
}

/// A P-256 key pair made with openssl: (private PEM path, public PEM text).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    tool("openssl", "openssl");
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    run(Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
        ])
        .arg(&key));
    run(Command::new("openssl")
        .args(["ec", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public));
    let pem = std::fs::read_to_string(&public).unwrap();
    (key, pem)
}

/// `s3s-fs` with the bucket [`BUCKET`].
#[derive(Debug)]
pub struct S3 {
    _process: Spawned,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The root directory (objects are files under `<root>/<bucket>/`).
    pub root: PathBuf,
}

impl S3 {
    /// Starts s3s-fs under `dir`.
    pub fn start(dir: &Path) -> S3 {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let binary = [home.join(".cargo/bin/s3s-fs")]
            .into_iter()
            .find(|p| p.is_file())
            .or_else(|| which("s3s-fs"))
            .unwrap_or_else(|| {
                panic!("s3s-fs is missing: cargo install s3s-fs --version 0.14.1 --features binary")
            });
        let root = dir.join("s3");
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = free_port();
        let mut cmd = Command::new(binary);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&root);
        let mut process = Spawned::start("s3s-fs", cmd, &dir.join("s3s-fs.log"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let probe = endpoint.clone();
        process.wait_until(Duration::from_secs(30), || curl(&[&probe]).status != 0);
        S3 {
            _process: process,
            endpoint,
            root,
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// What a builder is started with.
#[derive(Debug, Clone)]
pub struct BuilderSettings {
    /// The upstream registry (`127.0.0.1:<port>`).
    pub registry: String,
    /// The object store endpoint.
    pub s3_endpoint: String,
    /// The signing key file (PEM).
    pub signing_key: PathBuf,
    /// The dispatch secret.
    pub dispatch_secret: String,
    /// The factory's public URL.
    pub external_url: String,
}

/// `builder-lambda` in local mode.
#[derive(Debug)]
pub struct Builder {
    process: Spawned,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Builder {
    /// Starts the builder under `dir`.
    pub fn start(dir: &Path, settings: &BuilderSettings) -> Builder {
        // BUILDER_LAMBDA_BIN: a builder built elsewhere (else the workspace's).
        let binary = std::env::var_os("BUILDER_LAMBDA_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| cargo_binary("builder-lambda", "builder-lambda"));
        let port = free_port();
        let key = std::fs::read_to_string(&settings.signing_key).unwrap();
        let mut cmd = Command::new(binary);
        cmd.env("LOCAL_HTTP", format!("127.0.0.1:{port}"))
            .env("IF_BUCKET", BUCKET)
            .env("IF_S3_REGION", "us-east-1")
            .env("IF_S3_ENDPOINT", &settings.s3_endpoint)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("IF_SIGNING_KEY", key)
            .env("IF_DISPATCH_SECRET", &settings.dispatch_secret)
            .env("IF_UPSTREAM_REGISTRY", &settings.registry)
            .env("IF_UPSTREAM_INSECURE", "true")
            .env("IF_EXTERNAL_URL", &settings.external_url)
            .env("IF_CACHE_DIR", dir.join(format!("builder-cache-{port}")))
            .env("IF_LOG", "info");
        let mut process = Spawned::start(
            "builder-lambda",
            cmd,
            &dir.join(format!("builder-{port}.log")),
        );
        let base = format!("http://127.0.0.1:{port}");
        let health = format!("{base}/healthz");
        process.wait_until(Duration::from_secs(60), || curl(&[&health]).status == 200);
        Builder { process, base }
    }

    /// Accepted jobs of `kind` so far (`GET /local/invocations`).
    pub fn invocations(&self, kind: &str) -> u64 {
        let answer = curl(&[&format!("{}/local/invocations", self.base)]);
        assert_eq!(answer.status, 200, "{}", answer.text());
        let counts: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        counts[kind].as_u64().unwrap_or(0)
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}

/// `image-factory serve`, the reference.
#[derive(Debug)]
pub struct Standalone {
    _process: Spawned,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Standalone {
    /// Starts the standalone factory over `registry`, data under `dir`,
    /// naming `external_url` (in schematic extensions: give it the Worker's
    /// URL and the bytes of both deployments are comparable).
    pub fn start(dir: &Path, registry: &str, external_url: &str) -> Standalone {
        let binary = cargo_binary("image-factory", "image-factory");
        let port = free_port();
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{}", free_port())])
            .arg("--data-dir")
            .arg(dir.join("standalone-data"))
            .args(["--upstream-registry", registry, "--upstream-insecure"])
            .args(["--external-url", external_url])
            .env("IF_LOG", "info");
        let mut process = Spawned::start("image-factory", cmd, &dir.join("standalone.log"));
        let base = format!("http://127.0.0.1:{port}");
        let health = format!("{base}/healthz");
        process.wait_until(Duration::from_secs(60), || curl(&[&health]).status == 200);
        Standalone {
            _process: process,
            base,
        }
    }

    /// `<base><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
