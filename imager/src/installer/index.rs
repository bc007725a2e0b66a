//! The multi-arch installer index.
//!
//! The factory always builds both architectures and lists them, as upstream
//! does (`mutate.AppendManifests(empty.Index, ...)` in
//! `buildInstallImage`): an OCI index with exactly `linux/amd64` then
//! `linux/arm64`, no variant. Talos pulls the entry for its own
//! architecture; anything else in the index would be a build error.

use factory_core::arch::Arch;
use factory_core::registry::ImagePlatform;

use super::error::InstallerError;
use crate::oci_write::{BuiltImage, BuiltIndex};

/// The index of an installer's `linux/amd64` and `linux/arm64` images
/// (given in any order; listed amd64 first).
pub fn build_index(images: &[&BuiltImage]) -> Result<BuiltIndex, InstallerError> {
    let find = |arch| {
        let wanted = ImagePlatform::linux(arch);
        let mut matching = images.iter().filter(|i| *i.platform() == wanted);
        match (matching.next(), matching.next()) {
            (Some(image), None) => Some(*image),
            _ => None,
        }
    };
    match (find(Arch::Amd64), find(Arch::Arm64)) {
        (Some(amd64), Some(arm64)) if images.len() == 2 => Ok(BuiltIndex::of(&[amd64, arm64])?),
        _ => Err(InstallerError::IndexPlatforms(
            images
                .iter()
                .map(|i| {
                    let p = i.platform();
                    match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci_write::{ImageConfig, LayerCompression, LayerWriter};

    fn image(work: &std::path::Path, platform: ImagePlatform) -> BuiltImage {
        let mut layer = LayerWriter::create(work, LayerCompression::None).unwrap();
        layer.append_bytes("a", 0, b"a").unwrap();
        BuiltImage::assemble(
            &ImageConfig {
                platform,
                created: None,
                runtime: serde_json::Map::new(),
            },
            vec![layer.finish().unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn exactly_amd64_then_arm64() {
        let work = tempfile::tempdir().unwrap();
        let amd = image(work.path(), ImagePlatform::linux(Arch::Amd64));
        let arm = image(work.path(), ImagePlatform::linux(Arch::Arm64));
        let index = build_index(&[&arm, &amd]).unwrap();
        let archs: Vec<&str> = index
            .manifests()
            .iter()
            .map(|m| m.platform.as_ref().unwrap().architecture.as_str())
            .collect();
        assert_eq!(archs, ["amd64", "arm64"]);
        assert_eq!(index.manifests()[0].digest, *amd.digest());

        let v8 = image(
            work.path(),
            ImagePlatform {
                variant: Some("v8".into()),
                ..ImagePlatform::linux(Arch::Arm64)
            },
        );
        for bad in [
            vec![&amd],
            vec![&amd, &amd],
            vec![&amd, &arm, &arm],
            vec![&amd, &v8],
            vec![],
        ] {
            let err = build_index(&bad).unwrap_err();
            assert!(matches!(err, InstallerError::IndexPlatforms(_)), "{err}");
        }
        assert!(
            build_index(&[&amd, &v8])
                .unwrap_err()
                .to_string()
                .ends_with("got [linux/amd64, linux/arm64/v8]")
        );
    }
}
