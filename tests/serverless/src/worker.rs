//! The Worker in workerd through `wrangler dev`, as a deployment runs it
//! locally: generated `wrangler.toml` and `.dev.vars` in a directory of its
//! own, state persisted under it (so [`crate::Direct`] can serve the same
//! KV, cache and Durable Object storage afterwards).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use factory_test_support::{curl, free_port, workspace};

use crate::process::Spawned;
use crate::services::{ACCESS_KEY, BUCKET, SECRET_KEY};

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

/// The KV namespaces: binding and the (local) namespace ID.
pub const KV_NAMESPACES: [(&str, &str); 3] = [
    ("SCHEMATICS", "test-schematics"),
    ("RECORDS", "test-records"),
    ("CATALOGS", "test-catalogs"),
];

/// The Worker in workerd via `wrangler dev`.
#[derive(Debug)]
pub struct Worker {
    process: Spawned,
    home: PathBuf,
    bindings: Vec<(String, String)>,
    /// `http://127.0.0.1:<port>`: the external host.
    pub base: String,
    /// `http://localhost:<port>`: the PXE host (same Worker, another host).
    pub pxe_base: String,
}

/// The bundle `edge/build.sh` writes.
pub(crate) fn bundle_dir() -> PathBuf {
    let build = workspace().join("edge/build");
    assert!(
        build.join("index.js").is_file(),
        "the Worker bundle is missing: run edge/build.sh first"
    );
    build
}

/// `edge/node_modules/<path>`, which `npm ci` in `edge/` provides.
pub(crate) fn node_module(path: &str) -> PathBuf {
    let module = workspace().join("edge/node_modules").join(path);
    assert!(
        module.exists(),
        "{} is missing: run `npm ci` in edge/ (wrangler@4.86.0)",
        module.display()
    );
    module
}

impl Worker {
    /// The port the Worker will listen on, to put into URLs before start.
    pub fn reserve_port() -> u16 {
        free_port()
    }

    /// Starts the Worker on `port` with `settings`, state under `dir`.
    pub fn start(dir: &Path, port: u16, settings: &WorkerSettings) -> Worker {
        let bundle = bundle_dir().join("index.js");
        let base = format!("http://127.0.0.1:{port}");
        let pxe_base = format!("http://localhost:{port}");
        let home = dir.join(format!("worker-{port}"));
        std::fs::create_dir_all(&home).unwrap();
        let vars = [
            ("EXTERNAL_URL", format!("{base}/")),
            ("PXE_URL", format!("{pxe_base}/")),
            ("S3_ENDPOINT", settings.s3_endpoint.clone()),
            ("S3_BUCKET", BUCKET.to_owned()),
            ("S3_REGION", "us-east-1".to_owned()),
            ("PRESIGN_TTL_SECONDS", settings.presign_ttl.to_string()),
            ("BUILDER_URL", settings.builder_url.clone()),
            ("BUILDER_REGION", "us-east-1".to_owned()),
            ("COSIGN_PUBLIC_KEY", settings.public_key_pem.clone()),
        ];
        let secrets = [
            ("DISPATCH_SECRET", settings.dispatch_secret.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
        ];
        let mut config = format!(
            "name = \"image-factory-test\"\nmain = \"{}\"\ncompatibility_date = \"2025-09-01\"\n\n[vars]\n",
            bundle.display()
        );
        for (name, value) in &vars {
            // A TOML basic string: JSON escaping is valid TOML escaping here.
            config.push_str(&format!("{name} = {}\n", serde_json::json!(value)));
        }
        for (binding, id) in KV_NAMESPACES {
            config.push_str(&format!(
                "\n[[kv_namespaces]]\nbinding = \"{binding}\"\nid = \"{id}\"\n"
            ));
        }
        config.push_str(
            r#"
[[durable_objects.bindings]]
name = "BUILDS"
class_name = "BuildCoordinator"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["BuildCoordinator"]

[triggers]
crons = ["*/30 * * * *"]
"#,
        );
        std::fs::write(home.join("wrangler.toml"), config).unwrap();
        let dev_vars: String = secrets
            .iter()
            .map(|(name, value)| format!("{name}={value}\n"))
            .collect();
        std::fs::write(home.join(".dev.vars"), dev_vars).unwrap();
        let bindings = vars
            .into_iter()
            .chain(secrets)
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        Worker::launch(home, port, base, pxe_base, bindings)
    }

    /// A minimal JavaScript Worker answering every GET from the Cache API
    /// (storing a 3-byte answer on a miss): the floor that wrangler dev and
    /// the Cache API simulation cost per request, to compare CPU figures.
    pub fn start_floor(dir: &Path) -> Worker {
        let port = free_port();
        let home = dir.join(format!("floor-{port}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("index.js"), crate::direct::CACHE_HIT_WORKER).unwrap();
        std::fs::write(
            home.join("wrangler.toml"),
            "name = \"floor\"\nmain = \"index.js\"\ncompatibility_date = \"2025-09-01\"\n",
        )
        .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let pxe_base = base.clone();
        Worker::launch(home, port, base, pxe_base, Vec::new())
    }

    fn launch(
        home: PathBuf,
        port: u16,
        base: String,
        pxe_base: String,
        bindings: Vec<(String, String)>,
    ) -> Worker {
        let mut cmd = Command::new(node_module(".bin/wrangler"));
        cmd.current_dir(&home)
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
        // Any answer means workerd serves (a misconfigured Worker answers 503).
        let health = format!("{base}/healthz");
        process.wait_until(Duration::from_secs(120), || curl(&[&health]).status != 0);
        Worker {
            process,
            home,
            bindings,
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

    /// Its vars and secrets, as bindings.
    pub fn bindings(&self) -> &[(String, String)] {
        &self.bindings
    }

    /// Stops wrangler dev and returns the persisted state root (the
    /// directory Miniflare calls `defaultPersistRoot`).
    pub fn stop(mut self) -> PathBuf {
        self.process.stop();
        self.home.join("state/v3")
    }
}
