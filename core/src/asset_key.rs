//! Content addresses for builds: the key an asset is cached and deduplicated under.
//!
//! Upstream keys its cache by the sha256 of the YAML of Talos's imager profile
//! plus a growing list of errata strings (`internal/profile/hash.go`), which
//! ties the key to a Go YAML encoder and to local file paths. We key by the
//! sha256 of our own canonical encoding of the [`BuildProfile`]:
//!
//! ```text
//! factory-asset-key/v1\n
//! <field>=<byte length>:<value>\n      (one line per field, fixed order)
//! ```
//!
//! Values are length-prefixed, so no value can be confused with the next
//! field whatever bytes it holds; lists are preceded by their length; absent
//! values are written as the field name alone (`field!\n`), distinct from an
//! empty value. Every upstream input the build reads is represented by its
//! immutable digest, and [`BUILDER_ERRATUM`] is the builder's own version.
//!
//! The profile is hashed *after* normalisation by kind: fields that cannot
//! change an output's bytes are left out (a kernel has no platform, schematic
//! or SecureBoot certificates; a cmdline no extensions). Together with
//! [`build_profile`](crate::profile::build_profile) leaving the schematic ID
//! out of kernel and cmdline profiles, this makes the kernel shared by all
//! schematics and a cmdline shared by all schematics with the same kernel
//! args and META, as upstream.
//!
//! What invalidates what:
//!
//! | Change                                   | Assets whose key changes                                   |
//! |------------------------------------------|------------------------------------------------------------|
//! | [`BUILDER_ERRATUM`] bump                 | every asset                                                |
//! | encoding version (`v1` header)           | every asset                                                |
//! | new `imager` digest for a version        | every asset of that version                                |
//! | new installer base digest                | installers of that version                                 |
//! | new digest of an extension               | assets (except kernel, cmdline) of schematics using it     |
//! | new digest of an overlay                 | assets (except kernel, cmdline) of schematics using it     |
//! | another schematic (ID)                   | all its assets except kernel and cmdline                   |
//! | other kernel args / META                 | the kinds that carry them (see `build_profile` rule 6)     |
//! | bootloader, sector size, enroll keys     | ISO and disk images (sector size: disk images only)        |
//! | platform, arch, SecureBoot, format       | that output only (platform is ignored for kernel/initramfs)|
//!
//! The schematic ID covers everything only it determines (overlay options,
//! embedded configuration, the canonical YAML inside the schematic extension),
//! so those are not encoded separately.

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::image_path::OutputKind;
use crate::profile::BuildProfile;

/// The builder's own version: bump it when a builder fix changes the bytes
/// produced for unchanged inputs, to invalidate every cached asset.
pub const BUILDER_ERRATUM: u32 = 1;

const HEADER: &str = "factory-asset-key/v1\n";

/// A build's content address: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetKey(String);

/// A string that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid asset key {0:?}: expected 64 lowercase hex digits")]
pub struct InvalidAssetKey(pub String);

impl AssetKey {
    /// The key as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AssetKey {
    type Err = InvalidAssetKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(AssetKey(s.to_owned()))
        } else {
            Err(InvalidAssetKey(s.to_owned()))
        }
    }
}

/// The content address of the asset `profile` describes.
pub fn asset_key(profile: &BuildProfile) -> AssetKey {
    AssetKey(hex::encode(Sha256::digest(
        canonical_encoding(profile).as_bytes(),
    )))
}

/// The canonical, versioned encoding that [`asset_key`] hashes.
fn canonical_encoding(profile: &BuildProfile) -> String {
    let mut enc = Encoder(String::from(HEADER));
    let output = &profile.output;
    let kind = output.kind;
    // Kernel and initramfs are built for metal whatever the path said.
    let platform_matters = !matches!(kind, OutputKind::Kernel | OutputKind::Initramfs);
    // Only signed boot media carry the enrolled certificates.
    let certs_matter = output.secureboot && !matches!(kind, OutputKind::Cmdline);

    enc.field("erratum", &BUILDER_ERRATUM.to_string());
    enc.field("kind", kind.as_str());
    enc.optional(
        "platform",
        platform_matters.then(|| output.platform.as_str()),
    );
    enc.field("arch", output.arch.as_str());
    enc.flag("secureboot", output.secureboot);
    enc.field("out_format", output.out_format.as_str());
    match &output.disk {
        Some(disk) => {
            enc.field("disk.format", disk.format.as_str());
            enc.field("disk.format_options", &disk.format_options);
            enc.field("disk.base_size_bytes", &disk.base_size_bytes.to_string());
            enc.optional(
                "disk.sector_size",
                disk.sector_size.map(|s| s.to_string()).as_deref(),
            );
        }
        None => enc.absent("disk"),
    }
    enc.field("version", &profile.version.tag());
    enc.optional("schematic_id", profile.schematic_id.as_deref());
    enc.list(
        "extra_kernel_args",
        &profile.extra_kernel_args,
        |enc, arg| enc.field("arg", arg),
    );
    enc.list("meta", &profile.meta, |enc, m| {
        enc.field("meta.key", &m.key.to_string());
        enc.field("meta.value", &m.value);
    });
    enc.optional("bootloader", profile.bootloader.map(|b| b.as_str()));
    enc.optional("enroll_keys", profile.enroll_keys.map(|k| k.as_str()));
    enc.flag(
        "include_well_known_certs",
        certs_matter && profile.include_well_known_certs,
    );
    enc.optional("embedded_config", profile.embedded_config.as_deref());
    enc.list("extensions", &profile.extensions, |enc, e| {
        enc.field("extension.name", &e.name);
        enc.field("extension.ref", &e.reference);
        enc.field("extension.digest", &e.digest);
    });
    match &profile.overlay {
        Some(overlay) => {
            enc.field("overlay.name", &overlay.entry.name);
            enc.field("overlay.image", &overlay.entry.image);
            enc.field("overlay.ref", &overlay.entry.reference);
            enc.field("overlay.digest", &overlay.entry.digest);
        }
        None => enc.absent("overlay"),
    }
    enc.field("imager_digest", &profile.imager_digest);
    enc.optional(
        "installer_base_digest",
        profile.installer_base_digest.as_deref(),
    );
    enc.0
}

/// Appends `name=<len>:<value>\n` lines.
struct Encoder(String);

impl Encoder {
    fn field(&mut self, name: &str, value: &str) {
        // Writing into a String cannot fail.
        let _ = writeln!(self.0, "{name}={}:{value}", value.len());
    }

    fn absent(&mut self, name: &str) {
        let _ = writeln!(self.0, "{name}!");
    }

    fn optional(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.field(name, v),
            None => self.absent(name),
        }
    }

    fn flag(&mut self, name: &str, value: bool) {
        self.field(name, if value { "true" } else { "false" });
    }

    fn list<T>(&mut self, name: &str, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.field(name, &items.len().to_string());
        for item in items {
            each(self, item);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use crate::catalog::{ExtensionEntry, OverlayEntry, ReleaseCatalog};
    use crate::image_path::{DiskFormat, OutFormat, parse};
    use crate::profile::{ProfileContext, build_profile};
    use crate::schematic::{Bootloader, EnrollKeys, MetaValue, Schematic};
    use crate::version::TalosVersion;

    const ID_A: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
    const ID_B: &str = "ee5e1b1ed8b85b1bf55c5a9a05e2c11b1e1d8e0b0b02cb1e9a7a8e3c0f7d6a11";

    fn catalog() -> ReleaseCatalog {
        let ext = |name: &str, digest: &str| ExtensionEntry {
            name: name.into(),
            reference: format!("ghcr.io/{name}:v1"),
            digest: digest.into(),
            author: "Sidero Labs".into(),
            description: String::new(),
        };
        ReleaseCatalog {
            extensions: vec![
                ext("siderolabs/gvisor", "sha256:aa"),
                ext("siderolabs/amd-ucode", "sha256:bb"),
            ],
            overlays: vec![OverlayEntry {
                name: "rpi_generic".into(),
                image: "siderolabs/sbc-raspberrypi".into(),
                reference: "ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0".into(),
                digest: "sha256:cc".into(),
            }],
            imager_digest: "sha256:dd".into(),
            installer_base_digest: "sha256:ee".into(),
        }
    }

    fn profile(path: &str, schematic: &Schematic, id: &str) -> BuildProfile {
        let version: TalosVersion = "1.12.0".parse().unwrap();
        let catalog = catalog();
        let ctx = ProfileContext {
            version: &version,
            catalog: &catalog,
            secureboot_enabled: true,
        };
        build_profile(parse(path).unwrap(), schematic, id, &ctx).unwrap()
    }

    fn rich_schematic() -> Schematic {
        let mut s = Schematic::default();
        s.customization.extra_kernel_args = vec!["nolapic".into()];
        s.customization.meta = vec![MetaValue {
            key: 10,
            value: "x".into(),
        }];
        s.customization.system_extensions.official_extensions = vec!["siderolabs/gvisor".into()];
        s.customization.bootloader = Some(Bootloader::DualBoot);
        s.customization.secureboot.enroll_keys = Some(EnrollKeys::Manual);
        s.customization.secureboot.include_well_known_certificates = true;
        s.customization.disk_image.sector_size = 4096;
        s.customization.embedded_machine_configuration = "machine: {}".into();
        s.overlay.name = "rpi_generic".into();
        s
    }

    fn key(p: &BuildProfile) -> String {
        asset_key(p).to_string()
    }

    #[test]
    fn golden_key_is_stable() {
        // Frozen once from this profile. If this assertion fails, the encoding
        // changed: that invalidates EVERY cached artifact. Only update it on
        // purpose (and then consider bumping the `v1` header instead).
        let p = profile("metal-arm64-secureboot.raw.xz", &rich_schematic(), ID_A);
        assert_eq!(
            key(&p),
            "b9317bc7f952f1dbc85105397981ed81410852f0301117f6b2266a8eaeb3d25b"
        );
    }

    type Mutation = (&'static str, Box<dyn Fn(&mut BuildProfile)>);

    #[test]
    fn every_field_changes_the_key() {
        let base = profile("metal-arm64-secureboot.raw.xz", &rich_schematic(), ID_A);
        let mutations: Vec<Mutation> = vec![
            (
                "platform",
                Box::new(|p| p.output.platform = crate::platform::Platform::Aws),
            ),
            (
                "arch",
                Box::new(|p| p.output.arch = crate::arch::Arch::Amd64),
            ),
            ("secureboot", Box::new(|p| p.output.secureboot = false)),
            (
                "out_format",
                Box::new(|p| p.output.out_format = OutFormat::Zst),
            ),
            (
                "disk.format",
                Box::new(|p| p.output.disk.as_mut().unwrap().format = DiskFormat::Qcow2),
            ),
            (
                "disk.options",
                Box::new(|p| p.output.disk.as_mut().unwrap().format_options = "x".into()),
            ),
            (
                "disk.size",
                Box::new(|p| p.output.disk.as_mut().unwrap().base_size_bytes += 1),
            ),
            (
                "disk.sector",
                Box::new(|p| p.output.disk.as_mut().unwrap().sector_size = None),
            ),
            (
                "version",
                Box::new(|p| p.version = "1.12.1".parse().unwrap()),
            ),
            (
                "schematic_id",
                Box::new(|p| p.schematic_id = Some(ID_B.into())),
            ),
            ("no schematic_id", Box::new(|p| p.schematic_id = None)),
            (
                "args",
                Box::new(|p| p.extra_kernel_args.push("nomodeset".into())),
            ),
            (
                "args split",
                Box::new(|p| p.extra_kernel_args = vec!["no".into(), "lapic".into()]),
            ),
            ("meta key", Box::new(|p| p.meta[0].key = 11)),
            ("meta value", Box::new(|p| p.meta[0].value = "y".into())),
            ("bootloader", Box::new(|p| p.bootloader = None)),
            (
                "enroll_keys",
                Box::new(|p| p.enroll_keys = Some(EnrollKeys::Off)),
            ),
            ("certs", Box::new(|p| p.include_well_known_certs = false)),
            ("embedded_config", Box::new(|p| p.embedded_config = None)),
            (
                "empty embedded_config",
                Box::new(|p| p.embedded_config = Some(String::new())),
            ),
            (
                "extension digest",
                Box::new(|p| p.extensions[0].digest = "sha256:ff".into()),
            ),
            (
                "extension ref",
                Box::new(|p| p.extensions[0].reference = "ghcr.io/x:v2".into()),
            ),
            ("extension removed", Box::new(|p| p.extensions.clear())),
            (
                "overlay digest",
                Box::new(|p| p.overlay.as_mut().unwrap().entry.digest = "sha256:00".into()),
            ),
            ("overlay removed", Box::new(|p| p.overlay = None)),
            (
                "imager digest",
                Box::new(|p| p.imager_digest = "sha256:11".into()),
            ),
            (
                "installer digest",
                Box::new(|p| p.installer_base_digest = Some("sha256:ee".into())),
            ),
        ];
        let mut seen = std::collections::HashMap::from([(key(&base), "base")]);
        for (name, mutate) in &mutations {
            let mut p = base.clone();
            mutate(&mut p);
            if let Some(previous) = seen.insert(key(&p), *name) {
                panic!("{name} gives the same key as {previous}");
            }
        }
    }

    #[test]
    fn erratum_and_header_are_hashed() {
        let p = profile("kernel-amd64", &Schematic::default(), ID_A);
        let text = canonical_encoding(&p);
        assert!(
            text.starts_with("factory-asset-key/v1\nerratum=1:1\nkind=6:kernel\nplatform!\n"),
            "{text}"
        );
        assert!(
            text.ends_with("imager_digest=9:sha256:dd\ninstaller_base_digest!\n"),
            "{text}"
        );
    }

    #[test]
    fn kernel_is_shared_by_all_schematics() {
        let a = profile("kernel-amd64", &rich_schematic(), ID_A);
        let b = profile("kernel-amd64", &Schematic::default(), ID_B);
        assert_eq!(key(&a), key(&b));
        // x86_64 is the same asset
        let c = profile("kernel-x86_64", &Schematic::default(), ID_B);
        assert_eq!(key(&a), key(&c));
        assert_ne!(
            key(&a),
            key(&profile("kernel-arm64", &Schematic::default(), ID_A))
        );
    }

    #[test]
    fn cmdline_is_shared_by_schematics_with_the_same_args_and_meta() {
        let mut with_ext = rich_schematic();
        with_ext.overlay = Default::default();
        let mut other = with_ext.clone();
        other.customization.system_extensions.official_extensions =
            vec!["siderolabs/amd-ucode".into()];
        other
            .customization
            .secureboot
            .include_well_known_certificates = false;
        let a = profile("cmdline-metal-amd64-secureboot", &with_ext, ID_A);
        let b = profile("cmdline-metal-amd64-secureboot", &other, ID_B);
        assert_eq!(key(&a), key(&b));
        other
            .customization
            .extra_kernel_args
            .push("nomodeset".into());
        let c = profile("cmdline-metal-amd64-secureboot", &other, ID_B);
        assert_ne!(key(&a), key(&c));
    }

    #[test]
    fn other_assets_differ_per_schematic() {
        let mut s = rich_schematic();
        s.overlay = Default::default();
        for path in [
            "initramfs-amd64.xz",
            "metal-amd64.iso",
            "metal-amd64-uki.efi",
            "installer-amd64.tar",
            "metal-amd64.raw.zst",
        ] {
            assert_ne!(
                key(&profile(path, &s, ID_A)),
                key(&profile(path, &s, ID_B)),
                "{path}"
            );
        }
    }

    #[test]
    fn keys_parse_strictly() {
        let k = key(&profile("kernel-amd64", &Schematic::default(), ID_A));
        assert_eq!(k.parse::<AssetKey>().unwrap().as_str(), k);
        for bad in [
            "",
            "abc",
            &k.to_uppercase(),
            &format!("{k}0"),
            &k.replacen(|_| true, "g", 1),
        ] {
            let err = bad.parse::<AssetKey>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid asset key {bad:?}: expected 64 lowercase hex digits")
            );
        }
    }
}
