//! `/image/...`: errors, cmdlines, stored assets, Range/ETag, checksums, redirects.

use http::{Method, StatusCode};
use sha2::{Digest, Sha256, Sha512};

use crate::harness::*;

const BASE_1_5: &str = "talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512";

#[tokio::test]
async fn upstream_error_cases() {
    let f = frontend();
    let r = get(&f, "/image/aaaaaaaaaaaa/v1.5.0/metal-amd64.iso").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "schematic ID \"aaaaaaaaaaaa\" not found\n");

    let id = create(&f, "{}").await;
    let r = get(&f, &format!("/image/{id}/v1.5.0/metal-amd64.ssd")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "error parsing profile from path: invalid profile path: \"metal-amd64.ssd\"\n"
    );

    let r = get(&f, &format!("/image/{id}/v1.10.0/metal-amd64.iso")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "version 1.10.0 is not available\n");

    let r = get(&f, &format!("/image/{id}/v1.5/metal-amd64.iso")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "upstream answers 500; we answer 400"
    );

    let r = get(&f, &format!("/image/{id}/v1.10.2/kernel-foo")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "error parsing profile from path: invalid architecture: \"foo\"\n"
    );

    let r = get(&f, &format!("/image/{id}/v1.10.2/amazon-amd64.raw.xz")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("aws"),
        "lists valid platforms: {}",
        r.text()
    );
}

#[tokio::test]
async fn cmdlines_match_upstream_for_every_version() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let tail_110 = "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on";
    let cases = [
        ("v1.5.1", BASE_1_5.to_owned()),
        (
            "v1.8.2",
            format!("{tail_110} ima_template=ima-ng ima_appraise=fix ima_hash=sha512"),
        ),
        (
            "v1.9.4",
            format!("{tail_110} ima_template=ima-ng ima_appraise=fix ima_hash=sha512"),
        ),
        (
            "v1.10.2",
            format!("{tail_110} ima_template=ima-ng ima_appraise=fix ima_hash=sha512 selinux=1"),
        ),
        ("v1.11.0", format!("{tail_110} selinux=1")),
        (
            "v1.12.0",
            format!("{tail_110} selinux=1 module.sig_enforce=1"),
        ),
        (
            "v1.13.0",
            format!("{tail_110} selinux=1 module.sig_enforce=1 proc_mem.force_override=never"),
        ),
    ];
    for (version, expected) in cases {
        let r = get(&f, &format!("/image/{id}/{version}/cmdline-metal-amd64")).await;
        assert_eq!(r.status, StatusCode::OK, "{version}");
        assert_eq!(r.text(), expected, "{version}");
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
    let r = get(&f, &format!("/image/{id}/v1.5.1/cmdline-aws-arm64")).await;
    assert_eq!(
        r.text(),
        "talos.platform=aws console=tty1 console=ttyS0 net.ifnames=0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512"
    );
    assert_eq!(f.platform().builds(), 0, "cmdlines are computed, not built");
}

#[tokio::test]
async fn cmdlines_carry_schematic_args_and_meta() {
    let f = frontend();
    let extra = create(
        &f,
        "customization:\n  extraKernelArgs: [nolapic, nomodeset]\n",
    )
    .await;
    let r = get(&f, &format!("/image/{extra}/v1.5.1/cmdline-metal-amd64")).await;
    assert_eq!(r.text(), format!("{BASE_1_5} nolapic nomodeset"));
    let meta = create(
        &f,
        "customization:\n  meta:\n    - key: 0xa\n      value: '{\"externalIPs\":[\"1.2.3.4\"]}'\n",
    )
    .await;
    let r = get(&f, &format!("/image/{meta}/v1.5.1/cmdline-metal-amd64")).await;
    assert_eq!(
        r.text(),
        format!(
            "{BASE_1_5} talos.environment=INSTALLER_META_BASE64=MHhhPXsiZXh0ZXJuYWxJUHMiOlsiMS4yLjMuNCJdfQ=="
        )
    );
}

#[tokio::test]
async fn stored_assets_build_once_and_serve_with_headers() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let uri = format!("/image/{id}/v1.10.2/kernel-amd64");
    let first = get(&f, &uri).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        first.header("content-disposition"),
        Some("attachment; filename=\"kernel-amd64\"")
    );
    assert_eq!(first.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        first.header("content-length"),
        Some(first.body.len().to_string().as_str())
    );
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&first.body)));
    assert_eq!(first.header("etag"), Some(etag.as_str()));
    assert!(first.text().starts_with("fake asset "));
    assert_eq!(f.platform().builds(), 1);

    let second = get(&f, &uri).await;
    assert_eq!(second.body, first.body);
    assert_eq!(
        f.platform().builds(),
        1,
        "second download is served from storage"
    );

    // The kernel does not depend on the schematic: another schematic shares the build.
    let other = create(&f, "customization:\n  extraKernelArgs: [x]\n").await;
    let third = get(&f, &format!("/image/{other}/v1.10.2/kernel-amd64")).await;
    assert_eq!(third.body, first.body);
    assert_eq!(f.platform().builds(), 1);

    let head = send(&f, Method::HEAD, &uri, &[], b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        first.header("content-length")
    );

    let r = send(&f, Method::GET, &uri, &[("if-none-match", &etag)], b"").await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn range_requests() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let uri = format!("/image/{id}/v1.10.2/metal-amd64.iso");
    let full = get(&f, &uri).await;
    let size = full.body.len();
    assert_eq!(
        full.header("content-type"),
        Some("application/x-iso9660-image")
    );

    let r = send(&f, Method::GET, &uri, &[("range", "bytes=0-4")], b"").await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, full.body.slice(0..5));
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 0-4/{size}").as_str())
    );
    assert_eq!(r.header("content-length"), Some("5"));

    let r = send(&f, Method::GET, &uri, &[("range", "bytes=-3")], b"").await;
    assert_eq!(r.body, full.body.slice(size - 3..));

    let r = send(
        &f,
        Method::GET,
        &uri,
        &[("range", &format!("bytes={size}-"))],
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{size}").as_str())
    );

    let r = send(
        &f,
        Method::GET,
        &uri,
        &[("range", "bytes=0-4"), ("if-range", "\"stale\"")],
        b"",
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a stale If-Range gets the whole body"
    );

    // Ranges work for computed cmdlines too.
    let r = send(
        &f,
        Method::GET,
        &format!("/image/{id}/v1.10.2/cmdline-metal-amd64"),
        &[("range", "bytes=0-13")],
        b"",
    )
    .await;
    assert_eq!(r.text(), "talos.platform");
}

#[tokio::test]
async fn filename_and_checksums() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let uri = format!("/image/{id}/v1.10.2/metal-amd64.iso");
    let r = get(&f, &format!("{uri}?filename=custom-filename.iso")).await;
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"custom-filename.iso\"")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-iso9660-image"),
        "type follows the path"
    );
    let r = get(&f, &format!("{uri}?filename=..%2F..%2Fetc%2Fpasswd%22")).await;
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        !disposition.contains('/') && disposition.matches('"').count() == 2,
        "{disposition}"
    );

    let body = get(&f, &uri).await.body;
    let r = get(&f, &format!("{uri}.sha256")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.text(),
        format!("{}  metal-amd64.iso\n", hex::encode(Sha256::digest(&body)))
    );
    let r = get(&f, &format!("{uri}.sha512")).await;
    assert_eq!(
        r.text(),
        format!("{}  metal-amd64.iso\n", hex::encode(Sha512::digest(&body)))
    );
}

#[tokio::test]
async fn redirects_except_on_the_pxe_host_and_for_head() {
    let f = frontend_with(Setup {
        redirect_base: Some("https://cdn.example/assets/".into()),
        ..Setup::default()
    });
    let id = create(&f, "{}").await;
    let uri = format!("/image/{id}/v1.10.2/kernel-amd64");
    let r = get(&f, &uri).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(
        r.header("location")
            .unwrap()
            .starts_with("https://cdn.example/assets/")
    );

    let r = send(&f, Method::GET, &uri, &[("host", "localhost:8080")], b"").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "iPXE cannot follow redirects: stream on the PXE host"
    );
    assert!(r.text().starts_with("fake asset"));

    let r = send(&f, Method::HEAD, &uri, &[], b"").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn profile_errors_are_400() {
    let f = frontend_with(Setup {
        secureboot: false,
        ..Setup::default()
    });
    let id = create(&f, "{}").await;
    let r = get(
        &f,
        &format!("/image/{id}/v1.10.2/metal-amd64-secureboot.iso"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "error enhancing profile from schematic: secure boot is disabled\n"
    );

    let f = frontend();
    let foo = create(
        &f,
        "customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/foo]\n",
    )
    .await;
    let r = get(&f, &format!("/image/{foo}/v1.7.0/metal-amd64.iso")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "error enhancing profile from schematic: official extension \"siderolabs/foo\" is not available for Talos version v1.7.0\n"
    );

    let overlay = create(
        &f,
        "overlay:\n  name: rpi_generic\n  image: siderolabs/sbc-raspberrypi\n",
    )
    .await;
    let r = get(&f, &format!("/image/{overlay}/v1.5.1/metal-arm64.raw.xz")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = get(&f, &format!("/image/{overlay}/v1.7.0/metal-arm64.raw.xz")).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn build_failures_report_the_reason() {
    let f = frontend_with(Setup {
        failing_builds: Some("upstream blob digest mismatch".into()),
        ..Setup::default()
    });
    let id = create(&f, "{}").await;
    let r = get(&f, &format!("/image/{id}/v1.10.2/kernel-amd64")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "build failed: upstream blob digest mismatch\n");
}
