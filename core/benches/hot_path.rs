//! Criterion benchmarks of the requests the edge answers without a build:
//! schematic create (parse + canonicalise + ID), path parsing, cmdline
//! assembly, iPXE rendering, and a whole PXE request through the frontend.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use factory_core::arch::Arch;
use factory_core::catalog::ReleaseCatalog;
use factory_core::cmdline::{self, CmdlineSpec};
use factory_core::frontend::memory::MemoryPlatform;
use factory_core::frontend::{CorsPolicy, Frontend, FrontendConfig};
use factory_core::image_path;
use factory_core::ipxe;
use factory_core::platform::Platform;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;

const SIX_EXTENSIONS: &str = r#"customization:
  extraKernelArgs:
    - console=ttyS0,115200
    - net.ifnames=0
  systemExtensions:
    officialExtensions:
      - siderolabs/nvidia-container-toolkit
      - siderolabs/nvidia-open-gpu-kernel-modules
      - siderolabs/nonfree-kmod-nvidia
      - siderolabs/nvidia-fabricmanager
      - siderolabs/i915-ucode
      - siderolabs/amdgpu-firmware
"#;

fn schematic(c: &mut Criterion) {
    c.bench_function("schematic parse+canonical+id (6 extensions)", |b| {
        b.iter(|| {
            let s = Schematic::parse(black_box(SIX_EXTENSIONS.as_bytes())).unwrap();
            black_box(s.id())
        })
    });
}

fn paths(c: &mut Criterion) {
    c.bench_function(
        "image path parse (aws-amd64-secureboot.qcow2.tar.gz)",
        |b| b.iter(|| image_path::parse(black_box("aws-amd64-secureboot.qcow2.tar.gz")).unwrap()),
    );
}

fn cmdline_and_ipxe(c: &mut Criterion) {
    let version: TalosVersion = "v1.13.0".parse().unwrap();
    let extra = vec![
        "nolapic".to_owned(),
        "-console".to_owned(),
        "console=ttyS1".to_owned(),
    ];
    let spec = CmdlineSpec {
        platform: Platform::Metal,
        arch: Arch::Amd64,
        version: &version,
        secureboot: false,
        iso: false,
        overlay_kernel_args: &[],
        meta: &[],
        extra_kernel_args: &extra,
    };
    c.bench_function("cmdline build (metal amd64 v1.13, 3 extra args)", |b| {
        b.iter(|| black_box(cmdline::build(black_box(&spec)).to_string()))
    });
    let line = cmdline::build(&spec).to_string();
    let id = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
    c.bench_function("ipxe render (standard)", |b| {
        b.iter(|| {
            ipxe::render_standard(
                black_box("https://pxe.example/"),
                id,
                &version,
                Arch::Amd64,
                &line,
            )
        })
    });
}

fn pxe_request(c: &mut Criterion) {
    let version: TalosVersion = "v1.13.0".parse().unwrap();
    let platform = MemoryPlatform::new(vec![(version, ReleaseCatalog::default())]);
    let frontend = Frontend::new(
        platform,
        FrontendConfig {
            external_url: "https://factory.example/".into(),
            pxe_url: Some("http://pxe.example/".into()),
            server_version: "bench".into(),
            cors: CorsPolicy::default(),
            secureboot_enabled: false,
        },
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = Bytes::from_static(b"customization:\n  extraKernelArgs: [nolapic]\n");
    let create = http::Request::post("/schematics").body(body).unwrap();
    let response = runtime.block_on(frontend.handle(create));
    let id: serde_json::Value =
        serde_json::from_slice(response.body().as_bytes().unwrap()).unwrap();
    let uri = format!("/pxe/{}/v1.13.0/metal-amd64", id["id"].as_str().unwrap());
    c.bench_function("frontend GET /pxe (in-memory platform)", |b| {
        b.iter(|| {
            let request = http::Request::get(uri.as_str()).body(Bytes::new()).unwrap();
            black_box(runtime.block_on(frontend.handle(request)))
        })
    });
}

criterion_group!(benches, schematic, paths, cmdline_and_ipxe, pxe_request);
criterion_main!(benches);
