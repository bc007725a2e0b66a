//! The air-gapped workflow with the real binary: `image-factory mirror`
//! copies a synthetic release into an OCI layout and into a second
//! registry; builds from either give the bytes a build from the original
//! registry gives, and a factory serving from the mirror registry works.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_support;

use std::path::Path;

use serve_support::{Factory, SCHEMATIC, Upstream, VERSION, cli};

fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn build(dir: &Path, asset: &str, upstream: &[&str], external_url: &str) -> Vec<u8> {
    let schematic = dir.join("schematic.yaml");
    std::fs::write(&schematic, SCHEMATIC).unwrap();
    let out = dir.join(format!("{asset}-{}", upstream.join("-").replace('/', "_")));
    let mut args = vec![
        "build",
        schematic.to_str().unwrap(),
        VERSION,
        asset,
        "-o",
        out.to_str().unwrap(),
        "--external-url",
        external_url,
    ];
    args.extend_from_slice(upstream);
    ok(&cli(&args, b""));
    std::fs::read(&out).unwrap()
}

#[test]
fn mirror_to_layout_and_registry_then_build_and_serve() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let source = ["--upstream-registry", &upstream.addr, "--upstream-insecure"];

    // Into a layout; a second run copies nothing.
    let mut args = vec!["mirror", VERSION, "--to", layout.to_str().unwrap()];
    args.extend_from_slice(&source);
    let first = ok(&cli(&args, b""));
    assert!(first.contains("mirrored 1 release(s)"), "{first}");
    let again = ok(&cli(&args, b""));
    assert!(again.contains(" 0 blobs copied (0 bytes)"), "{again}");

    // A build from the layout equals a build from the registry.
    let url = "http://127.0.0.1:8080/";
    let from_registry = build(dir.path(), "initramfs-amd64.xz", &source, url);
    let from_layout = build(
        dir.path(),
        "initramfs-amd64.xz",
        &["--upstream-layout", layout.to_str().unwrap()],
        url,
    );
    assert!(from_registry == from_layout, "layout build differs");

    // Into a second registry under a namespace, then serve from it alone.
    let mirror = Upstream::start_empty();
    let target = format!("{}/mirror", mirror.addr);
    let mut args = vec!["mirror", VERSION, "--to", &target, "--to-insecure"];
    args.extend_from_slice(&source);
    ok(&cli(&args, b""));
    upstream.stop();

    let factory = Factory::start_with(
        &mirror.addr,
        &dir.path().join("data"),
        &["--upstream-namespace", "mirror"],
    );
    let id = factory.create_schematic(SCHEMATIC);
    let served =
        serve_support::curl(&[&factory.url(&format!("/image/{id}/{VERSION}/initramfs-amd64.xz"))]);
    assert_eq!(served.status, 200, "{}", served.text());
    let expected = build(
        dir.path(),
        "initramfs-amd64.xz",
        &["--upstream-layout", layout.to_str().unwrap()],
        &format!("{}/", factory.base),
    );
    assert!(
        served.body == expected,
        "served bytes differ from the layout build"
    );
}
