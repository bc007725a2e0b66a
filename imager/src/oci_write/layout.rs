//! Writing an OCI image layout directory: `oci-layout`, `index.json` and
//! `blobs/sha256/<hex>`.
//!
//! This is the offline form of a multi-arch image (what `skopeo copy
//! oci:<dir>:<tag> docker://...` pushes, and how a publisher can hand images
//! to any OCI tool). Blobs are content-addressed, so one already present with
//! the right size is kept; new ones are written to a temporary name and
//! renamed, layers streamed from their files with `std::fs::copy` (never
//! read into memory). `index.json` is written last and names the index
//! with the `org.opencontainers.image.ref.name` annotation, so a layout is
//! only usable once everything it points at is in place. Writing into an
//! existing layout replaces its `index.json` (one tag per layout).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use factory_core::registry::media_types::OCI_INDEX;
use factory_core::registry::{Descriptor, Digest, is_valid_tag};
use serde::Serialize;

use super::error::{OciWriteError, echo};
use super::image::{BuiltImage, BuiltIndex};

/// The annotation that names an image in `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayoutIndex<'a> {
    schema_version: u8,
    media_type: &'static str,
    manifests: [&'a Descriptor; 1],
}

/// Writes `index` and `images` (every image the index lists, and no other)
/// into the OCI layout at `dir` (created if needed), the index tagged `tag`.
pub fn write_oci_layout(
    dir: &Path,
    tag: &str,
    index: &BuiltIndex,
    images: &[&BuiltImage],
) -> Result<(), OciWriteError> {
    if !is_valid_tag(tag) {
        return Err(OciWriteError::InvalidTag {
            tag: echo(tag),
            reason: "not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        });
    }
    let listed: Vec<&Digest> = index.manifests().iter().map(|m| &m.digest).collect();
    let given: Vec<&Digest> = images.iter().map(|i| i.digest()).collect();
    if listed.len() != given.len() || !listed.iter().all(|d| given.contains(d)) {
        return Err(OciWriteError::InvalidIndex(
            "the images given are not exactly those the index lists",
        ));
    }
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(OciWriteError::io("creating", &blobs))?;
    write_atomically(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    for image in images {
        for layer in image.layers() {
            copy_blob(&blobs, &layer.descriptor, &layer.path)?;
        }
        write_blob(&blobs, &image.config_descriptor().digest, image.config())?;
        write_blob(&blobs, image.digest(), image.manifest())?;
    }
    write_blob(&blobs, index.digest(), index.bytes())?;
    let mut entry = index.descriptor();
    entry.annotations = BTreeMap::from([(REF_NAME_ANNOTATION.to_owned(), tag.to_owned())]);
    let top = serde_json::to_vec(&LayoutIndex {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests: [&entry],
    })
    .map_err(|source| OciWriteError::Json {
        what: "index.json",
        source,
    })?;
    write_atomically(&dir.join("index.json"), &top)
}

fn blob_path(blobs: &Path, digest: &Digest) -> PathBuf {
    blobs.join(digest.hex())
}

fn present(path: &Path, size: u64) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == size)
}

fn write_blob(blobs: &Path, digest: &Digest, bytes: &[u8]) -> Result<(), OciWriteError> {
    let path = blob_path(blobs, digest);
    if present(&path, bytes.len() as u64) {
        return Ok(());
    }
    write_atomically(&path, bytes)
}

/// Copies a layer file into the layout, checking its size on both sides.
fn copy_blob(blobs: &Path, descriptor: &Descriptor, source: &Path) -> Result<(), OciWriteError> {
    let path = blob_path(blobs, &descriptor.digest);
    if present(&path, descriptor.size) {
        return Ok(());
    }
    let size_error = |actual| OciWriteError::BlobSize {
        digest: descriptor.digest.clone(),
        path: source.to_owned(),
        expected: descriptor.size,
        actual,
    };
    let actual = std::fs::metadata(source)
        .map_err(OciWriteError::io("reading metadata of", source))?
        .len();
    if actual != descriptor.size {
        return Err(size_error(actual));
    }
    let tmp = temporary(&path);
    let copied = std::fs::copy(source, &tmp).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        OciWriteError::io("copying into", &tmp)(e)
    })?;
    if copied != descriptor.size {
        let _ = std::fs::remove_file(&tmp);
        return Err(size_error(copied));
    }
    std::fs::rename(&tmp, &path).map_err(OciWriteError::io("renaming into", &path))
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OciWriteError> {
    let tmp = temporary(path);
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        OciWriteError::io("writing", &tmp)(e)
    })?;
    std::fs::rename(&tmp, path).map_err(OciWriteError::io("renaming into", path))
}

#[cfg(test)]
mod tests {
    use factory_core::arch::Arch;
    use factory_core::registry::ImagePlatform;

    use super::*;
    use crate::oci_write::{ImageConfig, LayerCompression, LayerWriter};

    fn image(work: &Path, arch: Arch) -> BuiltImage {
        let mut layer = LayerWriter::create(work, LayerCompression::Gzip).unwrap();
        layer
            .append_bytes("etc/arch", 0o644, arch.as_str().as_bytes())
            .unwrap();
        BuiltImage::assemble(
            &ImageConfig {
                platform: ImagePlatform::linux(arch),
                created: None,
                runtime: serde_json::Map::new(),
            },
            vec![layer.finish().unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn writes_every_blob_and_the_tagged_index() {
        let work = tempfile::tempdir().unwrap();
        let (amd, arm) = (
            image(work.path(), Arch::Amd64),
            image(work.path(), Arch::Arm64),
        );
        let index = BuiltIndex::of(&[&amd, &arm]).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("layout");
        write_oci_layout(&dir, "v1.10.3", &index, &[&amd, &arm]).unwrap();
        // Twice is fine: present blobs are kept.
        write_oci_layout(&dir, "v1.10.3", &index, &[&amd, &arm]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("oci-layout")).unwrap(),
            r#"{"imageLayoutVersion":"1.0.0"}"#
        );
        let top: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        assert_eq!(top["manifests"][0]["digest"], index.digest().to_string());
        assert_eq!(
            top["manifests"][0]["annotations"][REF_NAME_ANNOTATION],
            "v1.10.3"
        );
        let blobs = dir.join("blobs/sha256");
        let mut names: Vec<String> = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        // index + 2 × (manifest, config, layer)
        assert_eq!(names.len(), 7);
        for name in names {
            let bytes = std::fs::read(blobs.join(&name)).unwrap();
            assert_eq!(Digest::sha256_of(&bytes).hex(), name);
        }
    }

    #[test]
    fn refuses_mismatched_images_and_bad_tags() {
        let work = tempfile::tempdir().unwrap();
        let (amd, arm) = (
            image(work.path(), Arch::Amd64),
            image(work.path(), Arch::Arm64),
        );
        let index = BuiltIndex::of(&[&amd, &arm]).unwrap();
        let dir = work.path().join("layout");
        assert!(matches!(
            write_oci_layout(&dir, "v1", &index, &[&amd]),
            Err(OciWriteError::InvalidIndex(_))
        ));
        assert!(matches!(
            write_oci_layout(&dir, "bad tag", &index, &[&amd, &arm]),
            Err(OciWriteError::InvalidTag { .. })
        ));
    }

    #[test]
    fn refuses_a_layer_file_of_the_wrong_size() {
        let work = tempfile::tempdir().unwrap();
        let amd = image(work.path(), Arch::Amd64);
        std::fs::write(&amd.layers()[0].path, b"truncated").unwrap();
        let index = BuiltIndex::of(&[&amd]).unwrap();
        let err = write_oci_layout(&work.path().join("l"), "t", &index, &[&amd]).unwrap_err();
        assert!(
            matches!(err, OciWriteError::BlobSize { actual: 9, .. }),
            "{err}"
        );
    }
}
