//! The real `image-factory` binary against the synthetic release in a real
//! registry, driven with curl: schematics, versions, catalogs, PXE, boot
//! assets (full, Range, HEAD, ETag), metrics, and the one-shot CLI giving
//! the same IDs and bytes as the server; and bad input (see
//! `serve_bad_input`): the exact 4xx and upstream text, nothing stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_bad_input;
mod serve_support;

use serve_support::{Factory, SCHEMATIC, Upstream, VERSION, cli, curl};

#[test]
fn api_end_to_end() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let factory = Factory::start(&upstream.addr, &dir.path().join("data"));

    // Schematics: the server's ID is the CLI's, and it comes back canonical.
    let id = factory.create_schematic(SCHEMATIC);
    let out = cli(&["schematic", "id", "-"], SCHEMATIC.as_bytes());
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), id);
    let got = curl(&[&factory.url(&format!("/schematics/{id}"))]);
    assert_eq!(got.status, 200);
    assert!(
        got.text().contains("siderolabs/qemu-guest-agent"),
        "{}",
        got.text()
    );
    // Posting it again is the same ID.
    assert_eq!(factory.create_schematic(SCHEMATIC), id);

    // The CLI reports the factory's 400 text for a bad schematic.
    let bad = cli(&["schematic", "id", "-"], b"customisation: {}\n");
    assert!(!bad.status.success());
    let posted = curl(&[
        "--data-binary",
        "customisation: {}\n",
        &factory.url("/schematics"),
    ]);
    assert_eq!(posted.status, 400);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains(posted.text().trim()),
        "cli: {} / server: {}",
        String::from_utf8_lossy(&bad.stderr),
        posted.text()
    );

    // Versions and catalogs from the synthetic release.
    let versions = curl(&[&factory.url("/versions")]);
    assert_eq!(versions.status, 200, "{}", versions.text());
    let list: Vec<String> = serde_json::from_slice(&versions.body).unwrap();
    assert!(list.contains(&VERSION.to_owned()), "{list:?}");
    let ext = curl(&[&factory.url(&format!("/version/{VERSION}/extensions/official"))]);
    assert_eq!(ext.status, 200);
    assert!(
        ext.text().contains("siderolabs/qemu-guest-agent"),
        "{}",
        ext.text()
    );
    let overlays = curl(&[&factory.url(&format!("/version/{VERSION}/overlays/official"))]);
    assert_eq!(overlays.status, 200);
    assert!(
        overlays.text().contains("rpi_generic"),
        "{}",
        overlays.text()
    );

    // PXE script points at our own kernel and initramfs.
    let pxe = curl(&[&factory.url(&format!("/pxe/{id}/{VERSION}/metal-amd64"))]);
    assert_eq!(pxe.status, 200, "{}", pxe.text());
    assert!(pxe.text().starts_with("#!ipxe"), "{}", pxe.text());
    assert!(
        pxe.text().contains(&format!(
            "{}/image/{id}/{VERSION}/kernel-amd64",
            factory.base
        )),
        "{}",
        pxe.text()
    );

    // cmdline is computed, not built.
    let cmdline = curl(&[&factory.url(&format!("/image/{id}/{VERSION}/cmdline-metal-amd64"))]);
    assert_eq!(cmdline.status, 200);
    assert!(
        cmdline.text().contains("console=ttyS0"),
        "{}",
        cmdline.text()
    );

    // Kernel and initramfs: full bodies equal a one-shot CLI build.
    let schematic_file = dir.path().join("schematic.yaml");
    std::fs::write(&schematic_file, SCHEMATIC).unwrap();
    for asset in ["kernel-amd64", "initramfs-amd64.xz"] {
        let url = factory.url(&format!("/image/{id}/{VERSION}/{asset}"));
        let full = curl(&[&url]);
        assert_eq!(full.status, 200, "{asset}: {}", full.text());
        assert!(
            full.body.len() > 1000,
            "{asset} is {} bytes",
            full.body.len()
        );
        assert_eq!(
            full.header("content-length").unwrap(),
            full.body.len().to_string()
        );

        let built = dir.path().join(asset);
        let out = cli(
            &[
                "build",
                schematic_file.to_str().unwrap(),
                VERSION,
                asset,
                "-o",
                built.to_str().unwrap(),
                "--upstream-registry",
                &upstream.addr,
                "--upstream-insecure",
                "--cache-dir",
                dir.path().join("cli-cache").to_str().unwrap(),
                "--external-url",
                &format!("{}/", factory.base),
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            std::fs::read(&built).unwrap() == full.body,
            "{asset}: the server's bytes differ from `image-factory build`"
        );

        // Range.
        let part = curl(&["-r", "100-1123", &url]);
        assert_eq!(part.status, 206);
        assert_eq!(part.body, full.body[100..1124]);
        assert_eq!(
            part.header("content-range").unwrap(),
            format!("bytes 100-1123/{}", full.body.len())
        );
        let tail = curl(&["-r", "-10", &url]);
        assert_eq!(tail.status, 206);
        assert_eq!(tail.body, full.body[full.body.len() - 10..]);

        // HEAD: same length, no body.
        let head = curl(&["-I", &url]);
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length").unwrap(),
            full.body.len().to_string()
        );
        // (curl -I writes the head, not a body, to its output file.)
        assert!(head.text().starts_with("HTTP/1.1 200"), "{}", head.text());

        // ETag / If-None-Match.
        let etag = full.header("etag").unwrap().to_owned();
        let again = curl(&["-H", &format!("If-None-Match: {etag}"), &url]);
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }

    // Metrics on the second listener.
    assert!(factory.metric_sum("image_factory_builds_total") >= 2.0);
    assert!(
        factory.metric("image_factory_http_requests_total{method=\"GET\",status=\"206\"}") >= 4.0
    );
    assert!(factory.metric("image_factory_http_response_bytes_total") > 0.0);
    assert!(curl(&[&factory.url("/metrics")]).status == 404);
    let headers = curl(&[&factory.url("/healthz")]);
    assert!(
        headers
            .header("server")
            .unwrap()
            .starts_with("Image Factory")
    );
    assert!(headers.header("x-request-id").is_some());
}
