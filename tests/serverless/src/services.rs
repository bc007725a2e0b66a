//! The four servers of the serverless end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use factory_test_support::{run, tool, workspace};

use crate::curl::curl;
use crate::process::{Spawned, free_port};

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

/// The Worker's settings (vars and secrets).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `COSIGN_PUBLIC_KEY`.
    pub public_key_pem: String,
    /// `BUILDER_URL`.
    pub builder_url: String,
    /// `S3_ENDPOINT`.
    pub s3_endpoint: String,
    /// `DISPATCH_SECRET`.
    pub dispatch_secret: String,
    /// `PRESIGN_TTL_SECONDS`.
    pub presign_ttl: u64,
}

/// The Worker in workerd via `wrangler dev`.
#[derive(Debug)]
pub struct Worker {
    process: Spawned,
    /// `http://127.0.0.1:<port>`: the external host.
    pub base: String,
    /// `http://localhost:<port>`: the PXE host (same Worker, another host).
    pub pxe_base: String,
}

impl Worker {
    /// The port the Worker will listen on, to put into URLs before start.
    pub fn reserve_port() -> u16 {
        free_port()
    }

    /// Starts the Worker on `port` with `settings`, state under `dir`.
    pub fn start(dir: &Path, port: u16, settings: &WorkerSettings) -> Worker {
        let edge = workspace().join("edge");
        let bundle = edge.join("build/index.js");
        assert!(
            bundle.is_file(),
            "the Worker bundle is missing: run edge/build.sh first"
        );
        let wrangler = edge.join("node_modules/.bin/wrangler");
        assert!(
            wrangler.is_file(),
            "wrangler is missing: run `npm ci` in edge/ (wrangler@4.86.0)"
        );
        let base = format!("http://127.0.0.1:{port}");
        let pxe_base = format!("http://localhost:{port}");
        let home = dir.join(format!("worker-{port}"));
        std::fs::create_dir_all(&home).unwrap();
        let pem = settings.public_key_pem.replace('\n', "\\n");
        let config = format!(
            r#"name = "image-factory-test"
main = "{bundle}"
compatibility_date = "2025-09-01"

[vars]
EXTERNAL_URL = "{base}/"
PXE_URL = "{pxe_base}/"
S3_ENDPOINT = "{s3}"
S3_BUCKET = "{bucket}"
S3_REGION = "us-east-1"
PRESIGN_TTL_SECONDS = "{ttl}"
BUILDER_URL = "{builder}"
BUILDER_REGION = "us-east-1"
COSIGN_PUBLIC_KEY = "{pem}"

[[kv_namespaces]]
binding = "SCHEMATICS"
id = "test-schematics"

[[kv_namespaces]]
binding = "RECORDS"
id = "test-records"

[[kv_namespaces]]
binding = "CATALOGS"
id = "test-catalogs"

[[durable_objects.bindings]]
name = "BUILDS"
class_name = "BuildCoordinator"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["BuildCoordinator"]

[triggers]
crons = ["*/30 * * * *"]
"#,
            bundle = bundle.display(),
            s3 = settings.s3_endpoint,
            bucket = BUCKET,
            ttl = settings.presign_ttl,
            builder = settings.builder_url,
        );
        std::fs::write(home.join("wrangler.toml"), config).unwrap();
        std::fs::write(
            home.join(".dev.vars"),
            format!(
                "DISPATCH_SECRET={}\nAWS_ACCESS_KEY_ID={ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY={SECRET_KEY}\n",
                settings.dispatch_secret
            ),
        )
        .unwrap();
        Worker::launch(&wrangler, &home, port, base, pxe_base)
    }

    /// A minimal JavaScript Worker answering every GET from the Cache API
    /// (storing a 3-byte answer on a miss): the floor that wrangler dev and
    /// the Cache API simulation cost per request, to compare CPU figures.
    pub fn start_floor(dir: &Path) -> Worker {
        let port = free_port();
        let home = dir.join(format!("floor-{port}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("index.js"),
            "export default { async fetch(req, env, ctx) {\n  const hit = await caches.default.match(req.url);\n  if (hit) return hit;\n  const r = new Response('ok\\n', { headers: { 'cache-control': 'public, max-age=3600' } });\n  ctx.waitUntil(caches.default.put(req.url, r.clone()));\n  return r;\n} };\n",
        )
        .unwrap();
        std::fs::write(
            home.join("wrangler.toml"),
            "name = \"floor\"\nmain = \"index.js\"\ncompatibility_date = \"2025-09-01\"\n",
        )
        .unwrap();
        let wrangler = workspace().join("edge/node_modules/.bin/wrangler");
        let base = format!("http://127.0.0.1:{port}");
        let pxe_base = base.clone();
        Worker::launch(&wrangler, &home, port, base, pxe_base)
    }

    fn launch(wrangler: &Path, home: &Path, port: u16, base: String, pxe_base: String) -> Worker {
        let mut cmd = Command::new(wrangler);
        cmd.current_dir(home)
            .args(["dev", "--config", "wrangler.toml", "--ip", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--inspector-port", &free_port().to_string()])
            .args(["--persist-to", "state", "--test-scheduled"])
            .arg("--show-interactive-dev-session=false")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_LOG_PATH", home.join("logs"))
            .env("CI", "true")
            .env("NO_COLOR", "1");
        let mut process = Spawned::start("wrangler dev", cmd, &home.join("wrangler.log"));
        let base_probe = base.clone();
        // Any answer means workerd serves (a misconfigured Worker answers 503).
        let health = format!("{base_probe}/healthz");
        process.wait_until(Duration::from_secs(120), || curl(&[&health]).status != 0);
        Worker {
            process,
            base,
            pxe_base,
        }
    }

    /// `<base><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The wrangler PID (workerd runs below it).
    pub fn pid(&self) -> u32 {
        self.process.pid()
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
