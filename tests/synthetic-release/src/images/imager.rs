//! `siderolabs/imager:<v>`: the boot assets of both architectures.
//!
//! As upstream (`INSTALLER_ARCH=all`) both platform manifests carry both
//! architectures' files under `/usr/install/<arch>/`; the factory reads the
//! linux/amd64 manifest and keeps the regular files under `usr/install/`.
//! The files are split over layers by how often they change, so the 8 MiB
//! kernel is stored once for all versions: a tools layer, one layer per
//! architecture with kernel and stubs, and one per-version layer with both
//! initramfs images (and the SBOM from 1.11).

use std::path::Path;

use factory_core::arch::Arch;
use factory_core::registry::Descriptor;
use factory_core::version::TalosVersion;

use crate::error::Result;
use crate::fixtures::IMAGER_REPOSITORY;
use crate::images::{VERSION_LABEL, runtime};
use crate::inputs::DebianInputs;
use crate::oci::image::write_multi_arch;
use crate::oci::layer::{Layer, write_layer};
use crate::oci::layout::Layout;
use crate::pe_stub::arm64_stand_in;
use crate::tree::{Source, Tree};

/// The `.sbat` of the arm64 stand-ins (systemd's two generation lines).
const SBAT: &str = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n\
                    systemd,1,The systemd Developers,systemd,252,https://systemd.io/\n";

/// Layers shared by every version's imager image.
#[derive(Debug)]
pub(crate) struct SharedImagerLayers {
    tools: Layer,
    amd64: Layer,
    arm64: Layer,
}

/// Writes the version-independent layers.
pub(crate) fn shared_layers(
    layout: &mut Layout,
    inputs: &DebianInputs,
) -> Result<SharedImagerLayers> {
    let mut tools = Tree::new();
    tools.bytes("usr/bin/imager", 0o755, include_str!("../assets/imager.sh"))?;
    let tools = write_layer(layout, &tools, "imager tools")?;

    let mut amd64 = Tree::new();
    amd64.file(
        "usr/install/amd64/vmlinuz",
        0o644,
        Source::Path(inputs.kernel.clone()),
    )?;
    amd64.file(
        "usr/install/amd64/systemd-stub.efi",
        0o644,
        Source::Path(inputs.systemd_stub.clone()),
    )?;
    amd64.file(
        "usr/install/amd64/systemd-boot.efi",
        0o644,
        Source::Path(inputs.systemd_boot.clone()),
    )?;
    let amd64 = write_layer(layout, &amd64, "imager amd64 boot files")?;

    let mut arm64 = Tree::new();
    arm64.bytes(
        "usr/install/arm64/vmlinuz",
        0o644,
        "SYNTHETIC arm64 kernel stand-in (image-factory test fixture): not a Linux kernel.\n",
    )?;
    let stub = arm64_stand_in(
        "SYNTHETIC arm64 systemd-stub stand-in; not executable",
        &[
            (
                ".sdmagic",
                b"#### LoaderInfo: systemd-stub 252 (synthetic arm64 stand-in) ####".as_slice(),
            ),
            (".sbat", SBAT.as_bytes()),
        ],
    );
    arm64.bytes("usr/install/arm64/systemd-stub.efi", 0o644, stub)?;
    let boot = arm64_stand_in(
        "SYNTHETIC arm64 systemd-boot stand-in; not executable",
        &[
            (
                ".sdmagic",
                b"#### LoaderInfo: systemd-boot 252 (synthetic arm64 stand-in) ####".as_slice(),
            ),
            (".sbat", SBAT.as_bytes()),
        ],
    );
    arm64.bytes("usr/install/arm64/systemd-boot.efi", 0o644, boot)?;
    let arm64 = write_layer(layout, &arm64, "imager arm64 stand-ins")?;
    Ok(SharedImagerLayers {
        tools,
        amd64,
        arm64,
    })
}

/// A minimal SPDX document, as `talos.spdx.json` exists from 1.11.
fn sbom(version: &TalosVersion, arch: Arch) -> String {
    format!(
        "{{\"spdxVersion\":\"SPDX-2.3\",\"dataLicense\":\"CC0-1.0\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\
         \"name\":\"talos-{version}-{arch} (synthetic)\",\
         \"documentNamespace\":\"https://example.invalid/synthetic-release/{version}/{arch}\",\
         \"creationInfo\":{{\"created\":\"{created}\",\"creators\":[\"Tool: synthetic-release\"]}},\
         \"packages\":[]}}\n",
        created = crate::CREATED
    )
}

/// Writes and tags `imager:<version>` with the given initramfs files.
pub(crate) fn write_imager(
    layout: &mut Layout,
    shared: &SharedImagerLayers,
    version: &TalosVersion,
    initramfs: &[(Arch, &Path)],
) -> Result<Descriptor> {
    let mut per_version = Tree::new();
    for (arch, path) in initramfs {
        let dir = format!("usr/install/{arch}");
        per_version.file(
            &format!("{dir}/initramfs.xz"),
            0o644,
            Source::Path(path.to_path_buf()),
        )?;
        if version.core_at_least(1, 11, 0) {
            per_version.bytes(
                &format!("{dir}/talos.spdx.json"),
                0o644,
                sbom(version, *arch),
            )?;
        }
    }
    let per_version = write_layer(layout, &per_version, &format!("imager {version} initramfs"))?;
    let tag = version.to_string();
    let env = vec![
        "PATH=/usr/bin:/usr/sbin:/bin:/sbin".to_owned(),
        format!("VERSION={tag}"),
    ];
    let config = runtime(&env, "/usr/bin/imager", &[(VERSION_LABEL, &tag)]);
    let layers = [&shared.tools, &shared.amd64, &shared.arm64, &per_version];
    write_multi_arch(
        layout,
        &format!("{IMAGER_REPOSITORY}:{tag}"),
        |_| config.clone(),
        |_| layers.to_vec(),
    )
}
