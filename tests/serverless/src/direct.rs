//! Workers in plain workerd with nothing in front of them
//! (`workerd/direct.mjs`): each on a socket of its own, no wrangler dev
//! proxy, no Miniflare entry worker, no request logging. What this process
//! spends per request is the runtime's HTTP handling plus the isolate's
//! work, which is as close as a local run gets to what Cloudflare bills as a
//! Worker's CPU time (workerd reports 0 for it outside Cloudflare).
//!
//! Three Workers share the process and the storage of a stopped
//! [`crate::Worker`]: ours, a JavaScript Worker answering from the Cache API,
//! and a JavaScript Worker answering a constant.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use factory_test_support::{curl, free_port, workspace};

use crate::process::Spawned;
use crate::worker::{KV_NAMESPACES, bundle_dir, node_module};

/// A Worker answering every GET from the Cache API (storing a 3-byte
/// answer on a miss).
pub const CACHE_HIT_WORKER: &str = "export default { async fetch(req, env, ctx) {\n  const hit = await caches.default.match(req.url);\n  if (hit) return hit;\n  const r = new Response('ok\\n', { headers: { 'cache-control': 'public, max-age=3600' } });\n  ctx.waitUntil(caches.default.put(req.url, r.clone()));\n  return r;\n} };\n";

/// A Worker answering a constant: the runtime's own cost per request.
pub const CONSTANT_WORKER: &str = "export default { fetch() { return new Response('ok\\n'); } };\n";

/// The three Workers in one plain workerd process.
#[derive(Debug)]
pub struct Direct {
    process: Spawned,
    /// Our Worker: `http://127.0.0.1:<port>`.
    pub ours: String,
    /// The Cache API JavaScript Worker.
    pub cache_hit: String,
    /// The constant JavaScript Worker.
    pub constant: String,
}

impl Direct {
    /// Serves our bundle with `bindings` over the state under `persist_root`
    /// (see [`crate::Worker::stop`]), plus the two JavaScript Workers; files
    /// under `dir`.
    pub fn start(dir: &Path, persist_root: &Path, bindings: &[(String, String)]) -> Direct {
        let home = dir.join(format!("direct-{}", free_port()));
        std::fs::create_dir_all(&home).unwrap();
        let script = |name: &str, text: &str| -> PathBuf {
            let path = home.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cache_hit = script("cache-hit.mjs", CACHE_HIT_WORKER);
        let constant = script("constant.mjs", CONSTANT_WORKER);
        let bundle = bundle_dir();
        let ports = [free_port(), free_port(), free_port()];
        let bindings: serde_json::Map<String, serde_json::Value> = bindings
            .iter()
            .map(|(name, value)| (name.clone(), value.clone().into()))
            .collect();
        let kv: serde_json::Map<String, serde_json::Value> = KV_NAMESPACES
            .iter()
            .map(|(binding, id)| ((*binding).to_owned(), (*id).into()))
            .collect();
        let js = |path: &Path| serde_json::json!([{ "type": "ESModule", "path": path }]);
        let settings = serde_json::json!({
            "miniflare": node_module("miniflare/dist/src/index.js"),
            "persistRoot": persist_root,
            "workers": [
                {
                    // The name wrangler dev gave it: the same Durable Object storage.
                    "name": "image-factory-test",
                    "port": ports[0],
                    "modulesRoot": bundle,
                    "modules": [
                        { "type": "ESModule", "path": bundle.join("index.js") },
                        { "type": "CompiledWasm", "path": bundle.join("index_bg.wasm") },
                    ],
                    "bindings": bindings,
                    "kvNamespaces": kv,
                    "durableObjects": {
                        "BUILDS": { "className": "BuildCoordinator", "useSQLite": true }
                    },
                },
                { "name": "cache-hit", "port": ports[1], "modulesRoot": home, "modules": js(&cache_hit) },
                { "name": "constant", "port": ports[2], "modulesRoot": home, "modules": js(&constant) },
            ],
        });
        let settings_path = home.join("settings.json");
        std::fs::write(&settings_path, settings.to_string()).unwrap();
        let mut cmd = Command::new("node");
        cmd.arg(workspace().join("tests/serverless/workerd/direct.mjs"))
            .arg(&settings_path)
            .current_dir(&home);
        let mut process = Spawned::start("workerd (direct)", cmd, &home.join("direct.log"));
        let urls = ports.map(|port| format!("http://127.0.0.1:{port}"));
        let probes = urls.clone();
        process.wait_until(Duration::from_secs(60), || {
            probes
                .iter()
                .all(|url| curl(&[&format!("{url}/healthz")]).status != 0)
        });
        let [ours, cache_hit, constant] = urls;
        Direct {
            process,
            ours,
            cache_hit,
            constant,
        }
    }

    /// The node PID (workerd runs below it).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}
