//! System extension images: a root with exactly `manifest.yaml` and
//! `rootfs/`, one layer, a manifest per architecture under one index.
//!
//! Firmware, microcode and module paths follow the Talos version the image
//! was built for (`/usr/lib/...` from 1.10), exactly like the real images,
//! which is why the firmware images have one tag per era. Only the
//! kernel-module image differs between architectures (module directory and
//! ELF machine); the others share one layer. Every binary is a small marked
//! stand-in.

use factory_core::arch::Arch;
use factory_core::quirks::Quirks;
use factory_core::registry::Descriptor;
use factory_core::version::TalosVersion;

use crate::elf_module::{ModuleSpec, kernel_module};
use crate::error::Result;
use crate::fixtures::{ExtensionFixture, ExtensionKind, arm64_kernel_release};
use crate::oci::image::{RuntimeConfig, write_multi_arch};
use crate::oci::layer::{Layer, write_layer};
use crate::oci::layout::Layout;
use crate::tree::Tree;

/// The extension's `manifest.yaml`; every scalar that YAML could read as a
/// number is quoted, so `20250311` stays a string.
pub(crate) fn manifest_yaml(fixture: &ExtensionFixture) -> String {
    format!(
        "version: v1alpha1\n\
         metadata:\n\
         \x20 name: {name}\n\
         \x20 version: \"{tag}\"\n\
         \x20 author: {author}\n\
         \x20 description: |\n\
         \x20   {description}\n\
         \x20 compatibility:\n\
         \x20   talos:\n\
         \x20     version: \"{range}\"\n",
        name = fixture.name(),
        tag = fixture.tag,
        author = fixture.author,
        description = fixture.description,
        range = fixture.compatibility,
    )
}

fn service_yaml(name: &str) -> String {
    format!(
        "name: {name}\n\
         container:\n\
         \x20 entrypoint: /usr/bin/qemu-ga\n\
         \x20 args:\n\
         \x20   - --path=/dev/virtio-ports/org.qemu.guest_agent.0\n\
         \x20 mounts:\n\
         \x20   - source: /dev\n\
         \x20     destination: /dev\n\
         \x20     type: bind\n\
         \x20     options: [rbind, rshared, rw]\n\
         depends:\n\
         \x20 - path: /dev/virtio-ports/org.qemu.guest_agent.0\n\
         restart: always\n"
    )
}

fn stand_in(what: &str, size: usize) -> Vec<u8> {
    let note = format!("SYNTHETIC {what} stand-in (image-factory test fixture)\n");
    note.bytes().cycle().take(size.max(note.len())).collect()
}

/// The root tree of `fixture` for `arch`, built for Talos `version`.
pub(crate) fn extension_tree(
    fixture: &ExtensionFixture,
    version: &TalosVersion,
    arch: Arch,
    kernel_release: &str,
) -> Result<Tree> {
    let quirks = Quirks::new(version);
    let firmware = format!("rootfs{}", quirks.firmware_path());
    let mut tree = Tree::new();
    tree.bytes("manifest.yaml", 0o644, manifest_yaml(fixture))?;
    tree.dir("rootfs", 0o755)?;
    let name = fixture.name();
    match fixture.kind {
        ExtensionKind::Service => {
            tree.bytes(
                &format!("rootfs/usr/local/etc/containers/{name}.yaml"),
                0o644,
                service_yaml(name),
            )?;
            tree.bytes(
                &format!("rootfs/usr/local/lib/containers/{name}/usr/bin/qemu-ga"),
                0o755,
                "#!/bin/sh\n# SYNTHETIC qemu-ga stand-in (image-factory test fixture)\nexec sleep infinity\n",
            )?;
        }
        ExtensionKind::Microcode => {
            for (file, size) in [
                ("microcode_amd.bin", 12_684),
                ("microcode_amd_fam17h.bin", 6_476),
                ("microcode_amd_fam19h.bin", 16_876),
            ] {
                // Starts with text, not AMD's container magic, so the
                // kernel's early loader rejects it harmlessly.
                tree.bytes(
                    &format!("{firmware}/amd-ucode/{file}"),
                    0o644,
                    stand_in(&format!("AMD microcode {file}"), size),
                )?;
            }
            tree.bytes(
                &format!("{firmware}/LICENSE.amd-ucode"),
                0o644,
                stand_in("AMD microcode license", 400),
            )?;
        }
        ExtensionKind::Firmware => {
            let ddp = format!("{firmware}/intel/ice/ddp");
            tree.bytes(
                &format!("{ddp}/ice-1.3.36.0.pkg"),
                0o644,
                stand_in("Intel ice DDP package", 32_768),
            )?;
            tree.symlink(&format!("{ddp}/ice.pkg"), "ice-1.3.36.0.pkg")?;
            tree.bytes(
                &format!("{firmware}/LICENSE.ice"),
                0o644,
                stand_in("Intel ice license", 400),
            )?;
        }
        ExtensionKind::KernelModule => {
            let extras = format!(
                "rootfs{}/{kernel_release}/extras",
                quirks.kernel_modules_path()
            );
            let gasket = kernel_module(&ModuleSpec {
                arch,
                name: "gasket",
                kernel_release,
                exports: &["gasket_register_device", "gasket_unregister_device"],
                imports: &[],
                depends: &[],
            });
            let apex = kernel_module(&ModuleSpec {
                arch,
                name: "apex",
                kernel_release,
                exports: &[],
                imports: &["gasket_register_device", "gasket_unregister_device"],
                depends: &["gasket"],
            });
            tree.bytes(&format!("{extras}/gasket.ko"), 0o644, gasket)?;
            tree.bytes(&format!("{extras}/apex.ko"), 0o644, apex)?;
        }
    }
    Ok(tree)
}

/// Writes and tags the extension image `fixture`, built for `version`;
/// `kernel_release` is the amd64 release (arm64's is derived from it).
pub(crate) fn write_extension(
    layout: &mut Layout,
    fixture: &ExtensionFixture,
    version: &TalosVersion,
    kernel_release: &str,
) -> Result<Descriptor> {
    let reference = fixture.reference();
    let mut layers: Vec<(Arch, Layer)> = Vec::new();
    if fixture.kind == ExtensionKind::KernelModule {
        for arch in Arch::ALL {
            let release = match arch {
                Arch::Amd64 => kernel_release.to_owned(),
                Arch::Arm64 => arm64_kernel_release(kernel_release),
            };
            let tree = extension_tree(fixture, version, arch, &release)?;
            layers.push((
                arch,
                write_layer(layout, &tree, &format!("{reference} {arch}"))?,
            ));
        }
    } else {
        let tree = extension_tree(fixture, version, Arch::Amd64, kernel_release)?;
        let layer = write_layer(layout, &tree, &reference)?;
        layers = Arch::ALL.iter().map(|a| (*a, layer.clone())).collect();
    }
    write_multi_arch(
        layout,
        &reference,
        |_| RuntimeConfig::default(),
        |arch| {
            layers
                .iter()
                .filter(|(a, _)| *a == arch)
                .map(|(_, layer)| layer)
                .collect()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::extensions;

    #[test]
    fn manifest_quotes_version_and_range() {
        let fixtures = extensions(&"v1.12.4".parse().unwrap());
        let yaml = manifest_yaml(&fixtures[0]);
        assert!(yaml.starts_with("version: v1alpha1\nmetadata:\n  name: amd-ucode\n"));
        assert!(yaml.contains("  version: \"20250311\"\n"));
        assert!(yaml.contains("      version: \">= v1.10.0\"\n"));
    }

    #[test]
    fn paths_follow_the_version() {
        let old: TalosVersion = "v1.9.6".parse().unwrap();
        let new: TalosVersion = "v1.12.4".parse().unwrap();
        let microcode = &extensions(&old)[0];
        let tree = extension_tree(microcode, &old, Arch::Amd64, "k").unwrap();
        assert!(
            tree.get("rootfs/lib/firmware/amd-ucode/microcode_amd.bin")
                .is_some()
        );
        let kmod = &extensions(&new)[1];
        let tree = extension_tree(kmod, &new, Arch::Arm64, "k-arm64").unwrap();
        assert!(
            tree.get("rootfs/usr/lib/modules/k-arm64/extras/apex.ko")
                .is_some()
        );
        let top: Vec<_> = tree
            .iter()
            .map(|(p, _)| p)
            .filter(|p| !p.contains('/'))
            .collect();
        assert_eq!(top, ["manifest.yaml", "rootfs"]);
    }
}
