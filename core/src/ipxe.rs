//! The iPXE scripts served at `/pxe/<schematic>/<version>/<platform>-<arch>[-secureboot]`.
//!
//! Upstream renders two fixed `text/template` files with the cmdline inserted
//! raw; iPXE clients and upstream's integration tests compare them byte for
//! byte, so the templates are spelled out here literally rather than built
//! line by line. Asset URLs are joined onto the configured PXE base URL the
//! way Go's `url.URL.JoinPath` does it: a path prefix is kept, duplicate
//! slashes and `.`/`..` segments are cleaned, and a query or fragment on the
//! base URL stays at the end.

use crate::arch::Arch;
use crate::platform::Platform;
use crate::url::join_url;
use crate::version::TalosVersion;

/// `Cache-Control` for unauthenticated iPXE scripts (upstream PR #578).
pub const IPXE_CACHE_CONTROL: &str = "public, max-age=3600";

/// The script that boots a kernel and initramfs pair.
pub fn render_standard(
    pxe_base: &str,
    schematic_id: &str,
    version: &TalosVersion,
    arch: Arch,
    cmdline: &str,
) -> String {
    let kernel = asset_url(pxe_base, schematic_id, version, &format!("kernel-{arch}"));
    let initramfs = asset_url(
        pxe_base,
        schematic_id,
        version,
        &format!("initramfs-{arch}.xz"),
    );
    format!("#!ipxe\n\nimgfree\nkernel {kernel} {cmdline}\ninitrd {initramfs}\nboot\n")
}

/// The script that boots a SecureBoot UKI. The cmdline is still passed,
/// because iPXE starts the UKI as a plain EFI binary.
pub fn render_secureboot(
    pxe_base: &str,
    schematic_id: &str,
    version: &TalosVersion,
    platform: Platform,
    arch: Arch,
    cmdline: &str,
) -> String {
    let uki = asset_url(
        pxe_base,
        schematic_id,
        version,
        &format!("{platform}-{arch}-secureboot-uki.efi"),
    );
    format!("#!ipxe\n\nimgfree\nkernel {uki} {cmdline}\nboot\n")
}

/// `<pxe_base>/image/<schematic_id>/<vX.Y.Z>/<file_name>`, joined like Go's
/// `url.URL.JoinPath`.
pub fn asset_url(
    pxe_base: &str,
    schematic_id: &str,
    version: &TalosVersion,
    file_name: &str,
) -> String {
    join_url(
        pxe_base,
        &["image", schematic_id, &version.tag(), file_name],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cmdline::{CmdlineSpec, build};

    const EMPTY_ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
    const BASE: &str = "https://pxe.factory.test";

    fn cmdline(platform: Platform, arch: Arch, version: &TalosVersion, secureboot: bool) -> String {
        build(&CmdlineSpec {
            platform,
            arch,
            version,
            secureboot,
            iso: false,
            overlay_kernel_args: &[],
            meta: &[],
            extra_kernel_args: &[],
        })
        .to_string()
    }

    /// The four scripts of upstream's TestPXEFrontend, for both versions it
    /// runs, written out in full.
    #[test]
    fn upstream_pxe_frontend_scripts() {
        let cases: [(&str, &str, &str, &str, &str); 2] = [
            (
                "v1.5.0",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.5.0/kernel-amd64 talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512\ninitrd https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.5.0/initramfs-amd64.xz\nboot\n",
                "x86_64",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.5.0/kernel-amd64 talos.platform=equinixMetal console=ttyS1,115200n8 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512\ninitrd https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.5.0/initramfs-amd64.xz\nboot\n",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.5.0/metal-amd64-secureboot-uki.efi talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512 lockdown=confidentiality\nboot\n",
            ),
            (
                "v1.11.0",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.0/kernel-amd64 talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1\ninitrd https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.0/initramfs-amd64.xz\nboot\n",
                "x86_64",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.0/kernel-amd64 talos.platform=equinixMetal console=ttyS1,115200n8 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1\ninitrd https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.0/initramfs-amd64.xz\nboot\n",
                "#!ipxe\n\nimgfree\nkernel https://pxe.factory.test/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.0/metal-amd64-secureboot-uki.efi talos.platform=metal console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on selinux=1 lockdown=confidentiality\nboot\n",
            ),
        ];
        for (tag, metal_want, alias, equinix_want, secureboot_want) in cases {
            let v: TalosVersion = tag.parse().unwrap();

            let metal = render_standard(
                BASE,
                EMPTY_ID,
                &v,
                Arch::Amd64,
                &cmdline(Platform::Metal, Arch::Amd64, &v, false),
            );
            assert_eq!(metal, metal_want, "metal-amd64 {tag}");

            // `metal-x86_64` normalises to amd64 and must give the same bytes.
            let arch: Arch = alias.parse().unwrap();
            let via_alias = render_standard(
                BASE,
                EMPTY_ID,
                &v,
                arch,
                &cmdline(Platform::Metal, arch, &v, false),
            );
            assert_eq!(via_alias, metal_want, "metal-x86_64 {tag}");

            let equinix = render_standard(
                BASE,
                EMPTY_ID,
                &v,
                Arch::Amd64,
                &cmdline(Platform::EquinixMetal, Arch::Amd64, &v, false),
            );
            assert_eq!(equinix, equinix_want, "equinixMetal-amd64 {tag}");

            let secureboot = render_secureboot(
                BASE,
                EMPTY_ID,
                &v,
                Platform::Metal,
                Arch::Amd64,
                &cmdline(Platform::Metal, Arch::Amd64, &v, true),
            );
            assert_eq!(secureboot, secureboot_want, "metal-amd64-secureboot {tag}");
        }
    }

    #[test]
    fn templates_are_byte_exact() {
        let v = TalosVersion::new(1, 13, 0);
        assert_eq!(
            render_standard("http://h", "id", &v, Arch::Arm64, "a b"),
            "#!ipxe\n\nimgfree\nkernel http://h/image/id/v1.13.0/kernel-arm64 a b\ninitrd http://h/image/id/v1.13.0/initramfs-arm64.xz\nboot\n"
        );
        assert_eq!(
            render_secureboot("http://h", "id", &v, Platform::Nocloud, Arch::Arm64, "a b"),
            "#!ipxe\n\nimgfree\nkernel http://h/image/id/v1.13.0/nocloud-arm64-secureboot-uki.efi a b\nboot\n"
        );
        // Pre-release tags keep their suffix and the `v` prefix.
        let rc: TalosVersion = "1.14.0-rc.1".parse().unwrap();
        assert_eq!(
            asset_url("http://h", "id", &rc, "kernel-amd64"),
            "http://h/image/id/v1.14.0-rc.1/kernel-amd64"
        );
    }

    #[test]
    fn base_urls_join_like_go() {
        let v = TalosVersion::new(1, 11, 0);
        for (base, want) in [
            (
                "https://pxe.test",
                "https://pxe.test/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/",
                "https://pxe.test/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/prefix",
                "https://pxe.test/prefix/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/prefix/",
                "https://pxe.test/prefix/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test//a//b//",
                "https://pxe.test/a/b/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/a/./b/../c",
                "https://pxe.test/a/c/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/../..",
                "https://pxe.test/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://user:pa%40ss@pxe.test:8443/p/",
                "https://user:pa%40ss@pxe.test:8443/p/image/id/v1.11.0/kernel-amd64",
            ),
            (
                "https://pxe.test/p?x=1#f",
                "https://pxe.test/p/image/id/v1.11.0/kernel-amd64?x=1#f",
            ),
            (
                "https://pxe.test?x=/y",
                "https://pxe.test/image/id/v1.11.0/kernel-amd64?x=/y",
            ),
        ] {
            assert_eq!(asset_url(base, "id", &v, "kernel-amd64"), want, "{base}");
        }
    }

    #[test]
    fn trailing_slash_of_the_last_element_is_kept() {
        assert_eq!(join_url("https://h/p", &["a", "b/"]), "https://h/p/a/b/");
        assert_eq!(join_url("https://h/p/", &["a", "b"]), "https://h/p/a/b");
    }
}
