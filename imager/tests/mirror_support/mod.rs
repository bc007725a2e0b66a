//! Shared by the offline and mirror tests: the synthetic release as an OCI
//! layout and served by its own `docker-registry` (`factory_test_support`'s,
//! under the names these tests use), and builds of kernel and initramfs
//! with extensions to compare across upstreams.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use factory_core::catalog::ReleaseCatalog;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use factory_imager::build::{BuildContext, build};
use factory_imager::catalog;
use factory_imager::pull::{LAYOUT_REGISTRY, Puller};
use factory_test_support::profile;

pub use factory_test_support::SyntheticRegistry as Upstream;

/// `version`'s release catalog from `remote` (the registry at `addr`) as an
/// OCI layout mirror of it must give it: the same, but for the registry
/// host of the extension and overlay references.
pub async fn release_as_mirrored(
    remote: &Puller,
    version: &TalosVersion,
    addr: &str,
) -> ReleaseCatalog {
    let mut want = catalog::release(remote, version).await.unwrap();
    for e in &mut want.extensions {
        e.reference = e.reference.replace(addr, LAYOUT_REGISTRY);
    }
    for o in &mut want.overlays {
        o.reference = o.reference.replace(addr, LAYOUT_REGISTRY);
    }
    want
}

/// Four official extensions (microcode, firmware, kernel modules, a
/// service), so the initramfs exercises every extension path.
pub const FOUR_EXTENSIONS: &[u8] = b"customization:\n  extraKernelArgs: [talos.dashboard.disabled=1]\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/amd-ucode\n      - siderolabs/intel-ice-firmware\n      - siderolabs/gasket\n      - siderolabs/qemu-guest-agent\n";

/// Builds `kernel-amd64` and `initramfs-amd64.xz` of `version` with
/// [`FOUR_EXTENSIONS`] from `puller`; returns the two files' bytes.
pub async fn build_boot_assets(
    puller: &Puller,
    version: &str,
    work: &Path,
) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(work).unwrap();
    let schematic = Schematic::parse(FOUR_EXTENSIONS).unwrap();
    let version: TalosVersion = version.parse().unwrap();
    let release = catalog::release(puller, &version).await.unwrap();
    let ctx = BuildContext {
        puller,
        external_url: "http://127.0.0.1:8080/",
        work_root: work,
    };
    let mut out = Vec::new();
    for path in ["kernel-amd64", "initramfs-amd64.xz"] {
        let profile = profile(path, &schematic, &version, &release);
        let dest = work.join(format!("{version}-{path}"));
        let built = build(&ctx, &profile, &schematic, &dest).await.unwrap();
        out.push((path.to_owned(), std::fs::read(&built.path).unwrap()));
    }
    out
}
