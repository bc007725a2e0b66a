//! The base installer images the factory builds installers on.
//!
//! From 1.10: `installer-base:<v>`, one layer with `/usr/bin/installer`
//! (usr-merged, `/bin` a link). Before: `installer:<v>`, whose first layer
//! holds `/bin/installer` and whose second is the artifacts layer the factory
//! must drop (upstream drops the second layer of any two-layer base); its
//! files are marked so a test can prove they did not leak into an output.
//! The installer program is a stand-in script; config `Env`, `Entrypoint`
//! and `Labels` are the ones the factory copies into what it builds.

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::registry::Descriptor;
use factory_core::version::TalosVersion;

use crate::error::Result;
use crate::fixtures::{INSTALLER_BASE_REPOSITORY, INSTALLER_REPOSITORY};
use crate::images::{VERSION_LABEL, runtime};
use crate::oci::image::write_multi_arch;
use crate::oci::layer::{Layer, write_layer};
use crate::oci::layout::Layout;
use crate::tree::Tree;

/// The marker in every file of the old artifacts layer.
pub(crate) const DROPPED_LAYER_MARKER: &str = "SYNTHETIC-DROPPED-ARTIFACTS-LAYER";

fn installer_script(version: &TalosVersion, arch: Arch) -> String {
    include_str!("../assets/installer.sh")
        .replace("@VERSION@", &version.to_string())
        .replace("@ARCH@", arch.as_str())
}

/// The repository of the base installer of `version`.
pub(crate) fn repository(version: &TalosVersion) -> &'static str {
    if Quirks::new(version).supports_unified_installer() {
        INSTALLER_BASE_REPOSITORY
    } else {
        INSTALLER_REPOSITORY
    }
}

/// Writes and tags the base installer of `version`.
pub(crate) fn write_installer(layout: &mut Layout, version: &TalosVersion) -> Result<Descriptor> {
    let unified = Quirks::new(version).supports_unified_installer();
    let mut per_arch: Vec<(Arch, Vec<Layer>)> = Vec::new();
    for arch in Arch::ALL {
        let mut base = Tree::new();
        if unified {
            base.bytes("usr/bin/installer", 0o755, installer_script(version, arch))?;
            base.symlink("usr/bin/imager", "installer")?;
            base.symlink("bin", "usr/bin")?;
        } else {
            base.bytes("bin/installer", 0o755, installer_script(version, arch))?;
            base.symlink("bin/imager", "installer")?;
        }
        base.dir("usr/share", 0o755)?;
        let mut layers = vec![write_layer(
            layout,
            &base,
            &format!("installer {version} {arch}"),
        )?];
        if !unified {
            let mut artifacts = Tree::new();
            for file in ["vmlinuz", "initramfs.xz"] {
                artifacts.bytes(
                    &format!("usr/install/{arch}/{file}"),
                    0o644,
                    format!(
                        "{DROPPED_LAYER_MARKER}: {file} of the old {version} installer; the \
                         factory drops this layer.\n"
                    ),
                )?;
            }
            layers.push(write_layer(
                layout,
                &artifacts,
                &format!("installer {version} {arch} artifacts"),
            )?);
        }
        per_arch.push((arch, layers));
    }
    let tag = version.to_string();
    write_multi_arch(
        layout,
        &format!("{}:{tag}", repository(version)),
        |arch| {
            let env = vec![
                "PATH=/usr/bin:/usr/sbin:/bin:/sbin".to_owned(),
                format!("TARGETARCH={arch}"),
                format!("VERSION={tag}"),
            ];
            runtime(&env, "/bin/installer", &[(VERSION_LABEL, &tag)])
        },
        |arch| {
            per_arch
                .iter()
                .find(|(a, _)| *a == arch)
                .map(|(_, layers)| layers.iter().collect())
                .unwrap_or_default()
        },
    )
}
