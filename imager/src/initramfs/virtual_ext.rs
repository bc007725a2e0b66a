//! Virtual extensions: tarballs with the extension layout that the factory
//! and the imager synthesise instead of pulling.
//!
//! - The **schematic** extension (image-factory `schematicExtension`): name
//!   `schematic`, version = the schematic ID, author `Image Factory
//!   (<external URL>)`, upstream's description wording (sic: "…built with
//!   schematic."), compatibility `>= 1.0.0`, `extraInfo` = the canonical
//!   schematic YAML from Talos 1.7 (absent before), and one empty marker
//!   file `rootfs/usr/local/share/schematic/<id>`.
//! - The **embedded machine configuration** extension (Talos `embed.go`):
//!   name `embedded-config`, version = hex SHA-256 of the configuration,
//!   author `Imager`, the configuration at
//!   `rootfs/usr/local/etc/talos/config.yaml` with mode 0400 and the SELinux
//!   label `system_u:object_r:system_state_t:s0` as a PAX xattr record
//!   (which the squashfs writer cannot carry yet, see [`super::squashfs`]).
//!
//! Both go through the same flattening and loading as pulled extensions
//! ([`load_virtual_extension`]), so they obey the same rules. Their
//! `manifest.yaml` bytes never reach the initramfs (only the decoded
//! metadata does, via `extensions.yaml`), so it is written with the same
//! `factory_core::goyaml` encoder settings as `extensions.yaml` rather than
//! byte-for-byte `yaml.Marshal`.

use std::io;
use std::path::Path;

use factory_core::goyaml::{EncodeOptions, Node, encode};
use factory_core::quirks::Quirks;
use factory_core::schematic::Schematic;
use factory_core::version::TalosVersion;
use sha2::{Digest, Sha256};

use crate::extension::{Extension, FlattenError, Limits, LoadError, Metadata, flatten_layers};

use super::extensions_yaml::metadata_node;

/// Name of the schematic extension.
pub const SCHEMATIC_EXTENSION_NAME: &str = "schematic";
/// Name of the embedded configuration extension.
pub const EMBEDDED_CONFIG_EXTENSION_NAME: &str = "embedded-config";
/// The product name upstream puts in the schematic extension's author.
pub const IMAGE_FACTORY_NAME: &str = "Image Factory";
/// Compatibility range of both virtual extensions.
pub const VIRTUAL_COMPATIBILITY: &str = ">= 1.0.0";
/// SELinux label of the embedded configuration file.
pub const STATE_SELINUX_LABEL: &str = "system_u:object_r:system_state_t:s0";

/// Why a virtual extension could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum VirtualExtensionError {
    /// Writing the tarball failed.
    #[error("writing virtual extension tarball: {0}")]
    Tar(#[from] io::Error),
    /// Flattening it failed.
    #[error("flattening virtual extension: {0}")]
    Flatten(#[from] FlattenError),
    /// Loading it failed.
    #[error("loading virtual extension: {0}")]
    Load(#[from] LoadError),
}

/// The schematic extension's metadata for `schematic` built for `talos`,
/// served at `external_url` (as configured, e.g. `https://factory.example/`).
pub fn schematic_metadata(
    schematic: &Schematic,
    talos: &TalosVersion,
    external_url: &str,
) -> Metadata {
    let mut metadata = Metadata {
        name: SCHEMATIC_EXTENSION_NAME.to_owned(),
        version: schematic.id().as_str().to_owned(),
        author: format!("{IMAGE_FACTORY_NAME} ({external_url})"),
        description: format!(
            "Virtual extension which specifies the schematic of the image built with {SCHEMATIC_EXTENSION_NAME}."
        ),
        ..Metadata::default()
    };
    metadata.compatibility.talos.version = VIRTUAL_COMPATIBILITY.to_owned();
    if Quirks::new(talos).schematic_extension_has_extra_info() {
        metadata.extra_info = schematic.canonical_yaml();
    }
    metadata
}

/// The schematic extension as a tarball.
pub fn schematic_extension_tar(
    schematic: &Schematic,
    talos: &TalosVersion,
    external_url: &str,
) -> io::Result<Vec<u8>> {
    let metadata = schematic_metadata(schematic, talos, external_url);
    let id = metadata.version.clone();
    let mut tar = TarWriter::new();
    tar.file(
        "manifest.yaml",
        0o644,
        manifest_yaml(&metadata).as_bytes(),
        None,
    )?;
    for dir in [
        "rootfs/",
        "rootfs/usr/",
        "rootfs/usr/local/",
        "rootfs/usr/local/share/",
        "rootfs/usr/local/share/schematic/",
    ] {
        tar.dir(dir, 0o755)?;
    }
    tar.file(
        &format!("rootfs/usr/local/share/schematic/{id}"),
        0o644,
        b"",
        None,
    )?;
    tar.finish()
}

/// The embedded machine configuration extension as a tarball.
pub fn embedded_config_extension_tar(config: &[u8]) -> io::Result<Vec<u8>> {
    let mut metadata = Metadata {
        name: EMBEDDED_CONFIG_EXTENSION_NAME.to_owned(),
        version: hex(&Sha256::digest(config)),
        author: "Imager".to_owned(),
        description: "Virtual extension which embeds the machine configuration.".to_owned(),
        ..Metadata::default()
    };
    metadata.compatibility.talos.version = VIRTUAL_COMPATIBILITY.to_owned();
    let mut tar = TarWriter::new();
    tar.file(
        "manifest.yaml",
        0o644,
        manifest_yaml(&metadata).as_bytes(),
        None,
    )?;
    for dir in [
        "rootfs/usr",
        "rootfs/usr/local",
        "rootfs/usr/local/etc",
        "rootfs/usr/local/etc/talos",
    ] {
        tar.dir(dir, 0o755)?;
    }
    tar.file(
        "rootfs/usr/local/etc/talos/config.yaml",
        0o400,
        config,
        Some(STATE_SELINUX_LABEL),
    )?;
    tar.finish()
}

/// Flattens and loads a virtual extension tarball, its blobs under
/// `blob_dir`.
pub fn load_virtual_extension(
    tarball: &[u8],
    blob_dir: &Path,
    limits: &Limits,
) -> Result<Extension, VirtualExtensionError> {
    let tree = flatten_layers([tarball], blob_dir, limits)?;
    Ok(Extension::load(tree, limits)?)
}

fn manifest_yaml(m: &Metadata) -> String {
    let manifest = Node::map([
        ("version", Node::str(crate::extension::MANIFEST_VERSION)),
        ("metadata", metadata_node(m)),
    ]);
    encode(&manifest, &EncodeOptions::ENCODER)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One PAX record: `"<len> <key>=<value>\n"`, where `<len>` counts the
/// whole record including its own digits.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}").into_bytes()
}

/// A small in-memory tar writer (virtual extensions are a few KiB, at most
/// the size of a schematic or a machine configuration).
struct TarWriter {
    builder: tar::Builder<Vec<u8>>,
}

impl TarWriter {
    fn new() -> Self {
        TarWriter {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        h.set_mtime(0);
        self.builder.append_data(&mut h, name, io::empty())
    }

    fn file(
        &mut self,
        name: &str,
        mode: u32,
        data: &[u8],
        selinux: Option<&str>,
    ) -> io::Result<()> {
        if let Some(label) = selinux {
            let record = pax_record("SCHILY.xattr.security.selinux", label);
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_mode(0o644);
            h.set_size(record.len() as u64);
            h.set_mtime(0);
            self.builder
                .append_data(&mut h, "PaxHeaders/config.yaml", record.as_slice())?;
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        self.builder.append_data(&mut h, name, data)
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        self.builder.into_inner()
    }
}
