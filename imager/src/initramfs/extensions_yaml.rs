//! `/extensions.yaml`: the list of squashfs layers Talos's init mounts.
//!
//! The document is Talos's `extensions.Config` (`layers`, each with `image`
//! and the extension's `metadata`) in the field order and with the
//! `omitempty` rules of its Go structs (only `extraInfo` is omitted when
//! empty; an empty `compatibility.talos.version`, as in `modules.dep`, is
//! written `""`), encoded as `yaml.NewEncoder(f).Encode(cfg)` writes it
//! (width 80, so long values fold) by `factory_core::goyaml`, the same
//! go-yaml emitter that writes schematics. Init mounts the layers in this
//! order, the last one on top.

use crate::extension::Metadata;

use factory_core::goyaml::{EncodeOptions, Node, encode};

/// One entry of `extensions.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The squashfs file name at the initramfs root (`0.sqsh`).
    pub image: String,
    /// The extension's metadata.
    pub metadata: Metadata,
}

/// The bytes of `extensions.yaml` for `layers`.
pub fn render_extensions_yaml(layers: &[Layer]) -> String {
    let layers = layers
        .iter()
        .map(|layer| {
            Node::map([
                ("image", Node::str(&layer.image)),
                ("metadata", metadata_node(&layer.metadata)),
            ])
        })
        .collect();
    encode(
        &Node::map([("layers", Node::List(layers))]),
        &EncodeOptions::ENCODER,
    )
}

/// Talos's `extensions.Metadata` as go-yaml represents it: fields in
/// declaration order, `extraInfo` omitted when empty.
pub(super) fn metadata_node(m: &Metadata) -> Node {
    let mut meta = vec![
        ("name", Node::str(&m.name)),
        ("version", Node::str(&m.version)),
        ("author", Node::str(&m.author)),
        ("description", Node::str(&m.description)),
        (
            "compatibility",
            Node::map([(
                "talos",
                Node::map([("version", Node::str(&m.compatibility.talos.version))]),
            )]),
        ),
    ];
    if !m.extra_info.is_empty() {
        meta.push(("extraInfo", Node::str(&m.extra_info)));
    }
    Node::map(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omits_only_empty_extra_info() {
        let mut metadata = Metadata {
            name: "modules.dep".to_owned(),
            version: "6.12.40-talos".to_owned(),
            author: "Talos Machinery".to_owned(),
            description: "Combined modules.dep for all extensions".to_owned(),
            ..Metadata::default()
        };
        let layer = Layer {
            image: "modules.dep.sqsh".to_owned(),
            metadata: metadata.clone(),
        };
        assert_eq!(
            render_extensions_yaml(&[layer]),
            "layers:\n    - image: modules.dep.sqsh\n      metadata:\n        name: modules.dep\n        version: 6.12.40-talos\n        author: Talos Machinery\n        description: Combined modules.dep for all extensions\n        compatibility:\n            talos:\n                version: \"\"\n"
        );
        metadata.extra_info = "overlay:\n    name: rpi_generic\n".to_owned();
        let layer = Layer {
            image: "0.sqsh".to_owned(),
            metadata,
        };
        assert!(render_extensions_yaml(&[layer]).ends_with(
            "                version: \"\"\n        extraInfo: |\n            overlay:\n                name: rpi_generic\n"
        ));
    }
}
