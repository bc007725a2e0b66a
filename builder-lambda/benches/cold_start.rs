//! Cold start and memory of the builder in local mode, over the synthetic
//! release and s3s-fs (the same harness as the integration tests).
//!
//! Prints:
//! - spawn → first byte of a `/healthz` answer (median of 5 fresh processes);
//! - spawn → first byte of the answer to a cached asset job (record and
//!   blob already in the bucket; median of 5 fresh processes with empty
//!   cache directories);
//! - the builder's peak RSS (`VmHWM`) after a catalog refresh and one
//!   `initramfs-amd64.xz` build with an extension, in a fresh process.
//!
//! Run: `cargo bench -p builder-lambda --bench cold_start` (release), or
//! with `BUILDER_BIN=/path/to/builder-lambda` to measure another build.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use factory_core::asset_key::asset_key;
use factory_core::dispatch::{AssetJob, BUILD_PATH, BuildJob, BuildOutcome};
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::signing::SigningKey;
use factory_test_support::{SyntheticRegistry, profile};
use support::{Builder, S3, Upstream};

const SCHEMATIC: &str = "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n";

/// Sends `request` as soon as the port accepts; answers the time from
/// `start` to the first byte of the answer.
fn first_byte(port: u16, request: &[u8], start: Instant) -> Duration {
    loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream.write_all(request).unwrap();
            let mut byte = [0u8; 1];
            if stream.read(&mut byte).unwrap_or(0) == 1 {
                let at = start.elapsed();
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest);
                let text = String::from_utf8_lossy(&rest);
                assert!(text.starts_with("TTP/1.1 200"), "{text}");
                return at;
            }
        }
        std::thread::sleep(Duration::from_micros(200));
        assert!(start.elapsed() < Duration::from_secs(30), "no answer");
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::main]
async fn main() {
    let registry = SyntheticRegistry::start();
    let s3 = S3::start();

    // Peak RSS of a fresh process: refresh, then one initramfs build.
    let key = SigningKey::generate().unwrap();
    let builder = Builder::start_with_key(&s3, Upstream::Registry(&registry.addr), &key);
    let (status, json) = builder.post(&BuildJob::RefreshCatalogs).await;
    assert_eq!(status, 200, "{json}");
    let BuildOutcome::Catalogs(catalogs) = serde_json::from_value(json).unwrap() else {
        panic!("not catalogs");
    };
    let version: TalosVersion = "v1.12.4".parse().unwrap();
    let release = catalogs.releases[&version.tag()].clone();
    let schematic = Schematic::parse(SCHEMATIC.as_bytes()).unwrap();
    let job = |path: &str| {
        let p = profile(path, &schematic, &version, &release);
        AssetJob::new(
            &asset_key(&p),
            &p,
            Some(schematic.canonical_yaml()),
            release.clone(),
            false,
        )
    };
    let after_refresh = vm_hwm_kib(builder.pid());
    let started = Instant::now();
    let (status, json) = builder
        .post(&BuildJob::Asset(job("initramfs-amd64.xz")))
        .await;
    assert_eq!(status, 200, "{json}");
    let build_time = started.elapsed();
    println!(
        "peak RSS: {} KiB after the catalog refresh, {} KiB after an initramfs build ({:.2?})",
        after_refresh,
        vm_hwm_kib(builder.pid()),
        build_time
    );
    let kernel = BuildJob::Asset(job("kernel-amd64"));
    let (status, _) = builder.post(&kernel).await;
    assert_eq!(status, 200);
    drop(builder);

    let mut healthz = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let (builder, port) = Builder::launch(&s3, Upstream::Registry(&registry.addr), &key);
        healthz.push(first_byte(
            port,
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            start,
        ));
        drop(builder);

        let start = Instant::now();
        let (builder, port) = Builder::launch(&s3, Upstream::Registry(&registry.addr), &key);
        let body = serde_json::to_vec(&kernel).unwrap();
        let mut request = format!(
            "POST {BUILD_PATH} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        )
        .into_bytes();
        for (name, value) in Builder::sign_with(&builder.secret, &body, support::now()) {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(&body);
        cached.push(first_byte(port, &request, start));
        drop(builder);
    }
    println!(
        "cold start to first byte: /healthz median {:.2?} (all {:.2?}); cached asset job median {:.2?} (all {:.2?})",
        median(healthz.clone()),
        healthz,
        median(cached.clone()),
        cached
    );
}
