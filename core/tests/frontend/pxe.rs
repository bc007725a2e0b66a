//! `/pxe/...`: iPXE scripts, byte for byte.

use http::StatusCode;

use crate::harness::*;

const CMDLINE_1_13: &str = "talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 module.sig_enforce=1 proc_mem.force_override=never";

#[tokio::test]
async fn standard_script() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let r = get(&f, &format!("/pxe/{id}/v1.13.0/metal-amd64")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let expected = format!(
        "#!ipxe\n\nimgfree\nkernel http://localhost:8080/image/{id}/v1.13.0/kernel-amd64 {CMDLINE_1_13}\ninitrd http://localhost:8080/image/{id}/v1.13.0/initramfs-amd64.xz\nboot\n"
    );
    assert_eq!(r.text(), expected);

    let r = get(&f, &format!("/pxe/{id}/1.13.0/metal-x86_64")).await;
    assert_eq!(
        r.text(),
        expected,
        "x86_64 and a version without v give the same script"
    );
}

#[tokio::test]
async fn secureboot_and_other_platforms() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let r = get(&f, &format!("/pxe/{id}/v1.13.0/metal-amd64-secureboot")).await;
    assert_eq!(
        r.text(),
        format!(
            "#!ipxe\n\nimgfree\nkernel http://localhost:8080/image/{id}/v1.13.0/metal-amd64-secureboot-uki.efi {CMDLINE_1_13} lockdown=confidentiality\nboot\n"
        )
    );
    let r = get(&f, &format!("/pxe/{id}/v1.13.0/equinixMetal-amd64")).await;
    assert!(
        r.text().contains(
            "kernel-amd64 talos.platform=equinixMetal console=ttyS1,115200n8 init_on_alloc=1"
        ),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn pxe_errors() {
    let f = frontend();
    let r = get(&f, &format!("/pxe/{}/v1.13.0/metal-amd64", "b".repeat(64))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let id = create(&f, "{}").await;
    let r = get(&f, &format!("/pxe/{id}/v1.13.0/metal-sparc")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = get(&f, &format!("/pxe/{id}/v9.9.9/metal-amd64")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "version 9.9.9 is not available\n");
}
