//! Decoding scalars into the scalar Go types of upstream's struct
//! (`string`, `uint8`/`uint`, `bool`, the `BootloaderKind` text enum) with
//! go-yaml's conversion rules, and the `enrollKeys` check.

use super::nodes::{lossless_u64, node_tag, yaml11_bool};
use super::{Decoder, Res, ScalarValue, go_type};
use crate::schematic::error::ConstructProblem;
use crate::schematic::model::{Bootloader, EnrollKeys};
use crate::schematic::yaml::resolve::Resolved;
use crate::schematic::yaml::tree::{Kind, NodeId};

impl<'t> Decoder<'t> {
    /// Decodes into a Go `string`. `None`: left unchanged (null, merge key,
    /// or an error was recorded).
    pub(super) fn string(&mut self, id: NodeId) -> Res<Option<String>> {
        self.enter(id, |d, node| match &node.kind {
            Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => Ok(None),
                ScalarValue::Resolved(Resolved::Timestamp(_)) | ScalarValue::Unresolved => {
                    d.type_error(node, go_type::STRING, None);
                    Ok(None)
                }
                ScalarValue::Resolved(_) => Ok(Some(value.clone())),
                ScalarValue::Binary(bytes) => Ok(d.binary_text(node, bytes)),
            },
            Kind::Mapping(pairs) => {
                if d.unique_keys(pairs) {
                    d.type_error(node, go_type::STRING, None);
                }
                Ok(None)
            }
            Kind::Sequence(_) | Kind::Alias { .. } => {
                d.type_error(node, go_type::STRING, None);
                Ok(None)
            }
        })
    }

    /// Decodes into a Go unsigned integer type no larger than `max`.
    pub(super) fn unsigned(
        &mut self,
        id: NodeId,
        target: &'static str,
        max: u64,
        hint: Option<&'static str>,
    ) -> Res<Option<u64>> {
        self.enter(id, |d, node| {
            let fits = match &node.kind {
                Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                    ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => return Ok(None),
                    ScalarValue::Resolved(Resolved::Int(i)) => u64::try_from(i).ok(),
                    ScalarValue::Resolved(Resolved::Uint(u)) => Some(u),
                    ScalarValue::Resolved(Resolved::Float(f)) => lossless_u64(f),
                    _ => None,
                },
                Kind::Mapping(pairs) => {
                    if !d.unique_keys(pairs) {
                        return Ok(None);
                    }
                    None
                }
                Kind::Sequence(_) | Kind::Alias { .. } => None,
            };
            match fits.filter(|&v| v <= max) {
                Some(v) => Ok(Some(v)),
                None => {
                    d.type_error(node, target, hint);
                    Ok(None)
                }
            }
        })
    }

    /// Decodes into a Go `bool`.
    pub(super) fn boolean(&mut self, id: NodeId) -> Res<Option<bool>> {
        self.enter(id, |d, node| {
            let value = match &node.kind {
                Kind::Scalar { value, .. } => match d.scalar_value(node, value)? {
                    ScalarValue::Resolved(Resolved::Null | Resolved::Merge) => return Ok(None),
                    ScalarValue::Resolved(Resolved::Bool(b)) => Some(b),
                    // Decoding into a typed bool also accepts YAML 1.1 words.
                    ScalarValue::Resolved(Resolved::Str) => yaml11_bool(value),
                    _ => None,
                },
                Kind::Mapping(pairs) => {
                    if !d.unique_keys(pairs) {
                        return Ok(None);
                    }
                    None
                }
                Kind::Sequence(_) | Kind::Alias { .. } => None,
            };
            if value.is_none() {
                d.type_error(node, go_type::BOOL, None);
            }
            Ok(value)
        })
    }

    /// Decodes into upstream's `BootloaderKind`, a text-unmarshalled enum:
    /// any scalar's text, matched exactly or lower-cased; `none` is unset.
    pub(super) fn bootloader(&mut self, id: NodeId) -> Res<Option<Option<Bootloader>>> {
        self.enter(id, |d, node| {
            let Kind::Scalar { value, .. } = &node.kind else {
                let problem = ConstructProblem::NotText {
                    tag: node_tag(node),
                    target: go_type::BOOTLOADER,
                };
                d.error(node.mark, problem);
                return Ok(None);
            };
            let text = match d.scalar_value(node, value)? {
                ScalarValue::Resolved(Resolved::Null) => return Ok(None),
                ScalarValue::Binary(bytes) => match d.binary_text(node, bytes) {
                    Some(text) => text,
                    None => return Ok(None),
                },
                _ => value.clone(),
            };
            let lower = text.to_lowercase();
            let kind = [text.as_str(), lower.as_str()]
                .into_iter()
                .find_map(|name| match name {
                    "none" => Some(None),
                    "dual-boot" => Some(Some(Bootloader::DualBoot)),
                    "sd-boot" => Some(Some(Bootloader::SdBoot)),
                    "grub" => Some(Some(Bootloader::Grub)),
                    _ => None,
                });
            if kind.is_none() {
                d.error(
                    node.mark,
                    ConstructProblem::InvalidBootloader { value: text },
                );
            }
            Ok(kind)
        })
    }

    /// Records the `enrollKeys` text for validation after decoding.
    pub(super) fn enroll_keys(&mut self, id: NodeId) -> Res<Option<Option<EnrollKeys>>> {
        let line = self.tree.node(id).mark.line;
        let Some(text) = self.string(id)? else {
            return Ok(None);
        };
        let mode = match text.as_str() {
            "" => None,
            "off" => Some(EnrollKeys::Off),
            "manual" => Some(EnrollKeys::Manual),
            "if-safe" => Some(EnrollKeys::IfSafe),
            "force" => Some(EnrollKeys::Force),
            _ => {
                self.invalid_enroll_keys = Some((text, line));
                return Ok(Some(None));
            }
        };
        self.invalid_enroll_keys = None;
        Ok(Some(mode))
    }
}
