//! Upstream's Go structs, field by field: names, Go type names for error
//! messages, and which decoder each field uses.

use super::{Decoder, Res, go_type};
use crate::schematic::model::{
    Customization, DiskImage, MetaValue, Overlay, Schematic, SecureBoot, SystemExtensions,
};
use crate::schematic::yaml::tree::NodeId;

/// A struct of upstream's schematic package, decoded field by field.
pub(super) trait GoStruct {
    /// Upstream's Go type name, as printed in error messages.
    const TYPE_NAME: &'static str;
    /// YAML field names, in declaration order.
    const FIELDS: &'static [&'static str];
    /// Decodes `value` into field number `field`.
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()>;
}

impl GoStruct for Schematic {
    const TYPE_NAME: &'static str = "schematic.Schematic";
    const FIELDS: &'static [&'static str] = &["owner", "overlay", "customization"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.owner, d.string(value)?),
            1 => {
                d.structure(value, &mut self.overlay)?;
            }
            _ => {
                d.structure(value, &mut self.customization)?;
            }
        }
        Ok(())
    }
}

impl GoStruct for Overlay {
    const TYPE_NAME: &'static str = "schematic.Overlay";
    const FIELDS: &'static [&'static str] = &["image", "name", "options"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.image, d.string(value)?),
            1 => set_some(&mut self.name, d.string(value)?),
            _ => set_some(&mut self.options, d.options(value)?),
        }
        Ok(())
    }
}

impl GoStruct for Customization {
    const TYPE_NAME: &'static str = "schematic.Customization";
    const FIELDS: &'static [&'static str] = &[
        "embeddedMachineConfiguration",
        "extraKernelArgs",
        "meta",
        "systemExtensions",
        "bootloader",
        "secureboot",
        "diskImage",
    ];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.embedded_machine_configuration, d.string(value)?),
            1 => set_some(&mut self.extra_kernel_args, d.strings(value)?),
            2 => set_some(&mut self.meta, d.metas(value)?),
            3 => {
                d.structure(value, &mut self.system_extensions)?;
            }
            4 => set_some(&mut self.bootloader, d.bootloader(value)?),
            5 => {
                d.structure(value, &mut self.secureboot)?;
            }
            _ => {
                d.structure(value, &mut self.disk_image)?;
            }
        }
        Ok(())
    }
}

impl GoStruct for MetaValue {
    const TYPE_NAME: &'static str = "schematic.MetaValue";
    const FIELDS: &'static [&'static str] = &["key", "value"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => {
                let key = d.unsigned(
                    value,
                    go_type::UINT8,
                    u64::from(u8::MAX),
                    Some("meta key must be 0-255"),
                )?;
                if let Some(key) = key.and_then(|k| u8::try_from(k).ok()) {
                    self.key = key;
                }
            }
            _ => set_some(&mut self.value, d.string(value)?),
        }
        Ok(())
    }
}

impl GoStruct for SystemExtensions {
    const TYPE_NAME: &'static str = "schematic.SystemExtensions";
    const FIELDS: &'static [&'static str] = &["officialExtensions"];
    fn set(&mut self, d: &mut Decoder<'_>, _field: usize, value: NodeId) -> Res<()> {
        set_some(&mut self.official_extensions, d.strings(value)?);
        Ok(())
    }
}

impl GoStruct for SecureBoot {
    const TYPE_NAME: &'static str = "schematic.SecureBootCustomization";
    const FIELDS: &'static [&'static str] = &["enrollKeys", "includeWellKnownCertificates"];
    fn set(&mut self, d: &mut Decoder<'_>, field: usize, value: NodeId) -> Res<()> {
        match field {
            0 => set_some(&mut self.enroll_keys, d.enroll_keys(value)?),
            _ => set_some(&mut self.include_well_known_certificates, d.boolean(value)?),
        }
        Ok(())
    }
}

impl GoStruct for DiskImage {
    const TYPE_NAME: &'static str = "schematic.DiskImageCustomization";
    const FIELDS: &'static [&'static str] = &["sectorSize"];
    fn set(&mut self, d: &mut Decoder<'_>, _field: usize, value: NodeId) -> Res<()> {
        set_some(
            &mut self.sector_size,
            d.unsigned(value, go_type::UINT, u64::MAX, None)?,
        );
        Ok(())
    }
}

fn set_some<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}
