//! A frontend over a `MemoryPlatform` with a small synthetic catalog, and a
//! helper to send requests and read responses.

use bytes::Bytes;
use factory_core::catalog::{ExtensionEntry, OverlayEntry, ReleaseCatalog};
use factory_core::frontend::memory::MemoryPlatform;
use factory_core::frontend::{Body, CorsPolicy, Frontend, FrontendConfig};
use factory_core::version::TalosVersion;
use http::{HeaderMap, Method, StatusCode};

pub const EMPTY_ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
pub const EXTERNAL: &str = "http://127.0.0.1:8080/";
pub const PXE: &str = "http://localhost:8080/";

pub const VERSIONS: [&str; 8] = [
    "v1.5.1", "v1.7.0", "v1.8.2", "v1.9.4", "v1.10.2", "v1.11.0", "v1.12.0", "v1.13.0",
];

fn extension(name: &str, tag: &str) -> ExtensionEntry {
    ExtensionEntry {
        name: format!("siderolabs/{name}"),
        reference: format!("ghcr.io/siderolabs/{name}:{tag}"),
        digest: format!("sha256:{:064x}", name.len()),
        author: "Sidero Labs".into(),
        description: format!("{name} <test> & more"),
    }
}

pub fn catalog(version: &TalosVersion) -> ReleaseCatalog {
    let gasket = if version.core_at_least(1, 7, 0) {
        "gasket-driver"
    } else {
        "gasket"
    };
    let overlays = if version.core_at_least(1, 7, 0) {
        vec![OverlayEntry {
            name: "rpi_generic".into(),
            image: "siderolabs/sbc-raspberrypi".into(),
            reference: "ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0".into(),
            digest: format!("sha256:{:064x}", 7),
        }]
    } else {
        Vec::new()
    };
    ReleaseCatalog {
        extensions: vec![
            extension("amd-ucode", "20230804"),
            extension("gvisor", "20231214.0"),
            extension(gasket, "1"),
        ],
        overlays,
        imager_digest: format!("sha256:{:064x}", version.minor()),
        installer_base_digest: format!("sha256:{:064x}", 1000 + version.minor()),
    }
}

fn releases() -> Vec<(TalosVersion, ReleaseCatalog)> {
    VERSIONS
        .iter()
        .map(|v| {
            let v: TalosVersion = v.parse().unwrap();
            let c = catalog(&v);
            (v, c)
        })
        .collect()
}

pub struct Setup {
    pub redirect_base: Option<String>,
    pub failing_builds: Option<String>,
    pub secureboot: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            redirect_base: None,
            failing_builds: None,
            secureboot: true,
        }
    }
}

pub fn frontend_with(setup: Setup) -> Frontend<MemoryPlatform> {
    let releases = releases();
    let mut platform = MemoryPlatform::new(releases).with_broken(vec!["1.13.1".parse().unwrap()]);
    platform.redirect_base = setup.redirect_base;
    platform.failing_builds = setup.failing_builds;
    platform.cosign_public_key =
        Some("-----BEGIN PUBLIC KEY-----\ncosign\n-----END PUBLIC KEY-----\n".into());
    platform.secureboot_cert =
        Some("-----BEGIN CERTIFICATE-----\nsb\n-----END CERTIFICATE-----\n".into());
    Frontend::new(
        platform,
        FrontendConfig {
            external_url: EXTERNAL.into(),
            pxe_url: Some(PXE.into()),
            server_version: "v0.1.0-test".into(),
            cors: CorsPolicy::default(),
            secureboot_enabled: setup.secureboot,
        },
    )
    .unwrap()
}

pub fn frontend_with_talosctl(names: &[&str]) -> Frontend<MemoryPlatform> {
    let f = frontend();
    let config = f.config().clone();
    let releases = releases();
    let mut platform = MemoryPlatform::new(releases);
    platform.talosctl = names.iter().map(|n| n.to_string()).collect();
    Frontend::new(platform, config).unwrap()
}

pub fn frontend() -> Frontend<MemoryPlatform> {
    frontend_with(Setup::default())
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

pub async fn send(
    f: &Frontend<MemoryPlatform>,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut builder = http::Request::builder().method(method).uri(uri);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        builder = builder.header("host", "127.0.0.1:8080");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Bytes::copy_from_slice(body)).unwrap();
    let response = f.handle(request).await;
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Bytes(b) => b,
        Body::Object(b) => b,
    };
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub async fn get(f: &Frontend<MemoryPlatform>, uri: &str) -> Reply {
    send(f, Method::GET, uri, &[], b"").await
}

/// Creates a schematic and returns its ID.
pub async fn create(f: &Frontend<MemoryPlatform>, yaml: &str) -> String {
    let r = send(f, Method::POST, "/schematics", &[], yaml.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}
