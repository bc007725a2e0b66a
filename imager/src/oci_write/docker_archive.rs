//! Writing an image as a docker archive (`docker load` / `skopeo
//! docker-archive:` format), the `installer-<arch>.tar` download.
//!
//! The layout is go-containerregistry's `tarball.Write`, which upstream's
//! imager uses: the config blob as an entry named by its digest
//! (`sha256:<hex>`), each distinct layer blob as `<hex>.tar.gz` (`.tar` for
//! uncompressed and `.tar.zst` for zstd layers) exactly as stored, then
//! `manifest.json`: `[{"Config":...,"RepoTags":[...],"Layers":[...]}]`, with
//! `RepoTags` `null` when no tag is given (as for an image referenced by
//! digest). Entries are mode 0644 with the deterministic headers of
//! [`tar_entry`](super::tar_entry); layers are streamed from their files.
//!
//! Limits: at most [`MAX_REPO_TAGS`] tags of at most [`MAX_REPO_TAG_LEN`]
//! bytes each.

use std::io::Write;

use factory_core::registry::media_types::{OCI_LAYER_TAR, OCI_LAYER_TAR_ZSTD};
use serde::Serialize;

use super::error::{OciWriteError, echo};
use super::image::BuiltImage;
use super::tar_entry;

/// The most tags one archive names its image by.
pub const MAX_REPO_TAGS: usize = 16;
/// The longest tag (`registry/repository:tag`) accepted, in bytes.
pub const MAX_REPO_TAG_LEN: usize = 512;

/// Docker's name for an uncompressed layer.
const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest<'a> {
    config: String,
    repo_tags: Option<&'a [&'a str]>,
    layers: Vec<String>,
}

/// Writes `image` to `out` as a docker archive naming it `repo_tags`
/// (`ghcr.io/siderolabs/installer-base:v1.10.3`; may be empty), and returns
/// `out`.
pub fn write_docker_archive<W: Write>(
    image: &BuiltImage,
    repo_tags: &[&str],
    out: W,
) -> Result<W, OciWriteError> {
    check_repo_tags(repo_tags)?;
    let mut tar = tar::Builder::new(out);
    let config_name = image.config_descriptor().digest.to_string();
    tar_entry::append_bytes(&mut tar, &config_name, 0o644, image.config())?;
    let mut names = Vec::with_capacity(image.layers().len());
    let mut written = Vec::new();
    for layer in image.layers() {
        let name = format!(
            "{}{}",
            layer.descriptor.digest.hex(),
            extension(&layer.descriptor.media_type)
        );
        if !written.contains(&name) {
            let actual = std::fs::metadata(&layer.path)
                .map_err(OciWriteError::io("reading metadata of", &layer.path))?
                .len();
            if actual != layer.descriptor.size {
                return Err(OciWriteError::BlobSize {
                    digest: layer.descriptor.digest.clone(),
                    path: layer.path.clone(),
                    expected: layer.descriptor.size,
                    actual,
                });
            }
            tar_entry::append_file(&mut tar, &name, 0o644, &layer.path)?;
            written.push(name.clone());
        }
        names.push(name);
    }
    let manifest = serde_json::to_vec(&[ArchiveManifest {
        config: config_name,
        repo_tags: (!repo_tags.is_empty()).then_some(repo_tags),
        layers: names,
    }])
    .map_err(|source| OciWriteError::Json {
        what: "manifest.json",
        source,
    })?;
    tar_entry::append_bytes(&mut tar, "manifest.json", 0o644, &manifest)?;
    tar.into_inner().map_err(|source| OciWriteError::Finish {
        what: "docker archive",
        source,
    })
}

/// The file extension go-containerregistry gives a layer of `media_type`.
fn extension(media_type: &str) -> &'static str {
    match media_type {
        OCI_LAYER_TAR_ZSTD => ".tar.zst",
        OCI_LAYER_TAR | DOCKER_LAYER_TAR => ".tar",
        _ => ".tar.gz",
    }
}

fn check_repo_tags(repo_tags: &[&str]) -> Result<(), OciWriteError> {
    if repo_tags.len() > MAX_REPO_TAGS {
        return Err(OciWriteError::InvalidTag {
            tag: echo(&repo_tags.join(",")),
            reason: "more than 16 tags",
        });
    }
    for tag in repo_tags {
        let fail = |reason| OciWriteError::InvalidTag {
            tag: echo(tag),
            reason,
        };
        if tag.is_empty() || tag.len() > MAX_REPO_TAG_LEN {
            return Err(fail("must be 1 to 512 bytes"));
        }
        if tag
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(fail("has whitespace or control characters"));
        }
        let last = tag.rsplit('/').next().unwrap_or(tag);
        if !last.contains(':') || tag.contains('@') {
            return Err(fail("must be <repository>:<tag>"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use factory_core::arch::Arch;
    use factory_core::registry::ImagePlatform;

    use super::*;
    use crate::oci_write::{ImageConfig, LayerCompression, LayerWriter};

    fn image(work: &std::path::Path) -> BuiltImage {
        let mut a = LayerWriter::create(work, LayerCompression::Gzip).unwrap();
        a.append_bytes("a", 0o644, b"a").unwrap();
        let mut b = LayerWriter::create(work, LayerCompression::None).unwrap();
        b.append_bytes("b", 0o644, b"b").unwrap();
        let (a, b) = (a.finish().unwrap(), b.finish().unwrap());
        BuiltImage::assemble(
            &ImageConfig {
                platform: ImagePlatform::linux(Arch::Amd64),
                created: None,
                runtime: serde_json::Map::new(),
            },
            vec![a.clone(), b, a],
        )
        .unwrap()
    }

    fn listing(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        tar::Archive::new(bytes)
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                assert_eq!(e.header().mode().unwrap(), 0o644);
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), data)
            })
            .collect()
    }

    #[test]
    fn lays_out_like_go_containerregistry() {
        let work = tempfile::tempdir().unwrap();
        let img = image(work.path());
        let out =
            write_docker_archive(&img, &["example.com/installer:v1.10.3"], Vec::new()).unwrap();
        let entries = listing(&out);
        let layers = img.layers();
        let gz = format!("{}.tar.gz", layers[0].descriptor.digest.hex());
        let plain = format!("{}.tar", layers[1].descriptor.digest.hex());
        let config = img.config_descriptor().digest.to_string();
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        // The repeated layer is stored once.
        assert_eq!(names, [config.as_str(), &gz, &plain, "manifest.json"]);
        assert_eq!(entries[0].1, img.config());
        assert_eq!(entries[1].1, std::fs::read(&layers[0].path).unwrap());
        assert_eq!(
            String::from_utf8(entries[3].1.clone()).unwrap(),
            format!(
                r#"[{{"Config":"{config}","RepoTags":["example.com/installer:v1.10.3"],"Layers":["{gz}","{plain}","{gz}"]}}]"#
            )
        );
    }

    #[test]
    fn untagged_archives_say_null() {
        let work = tempfile::tempdir().unwrap();
        let out = write_docker_archive(&image(work.path()), &[], Vec::new()).unwrap();
        let manifest = listing(&out).pop().unwrap().1;
        assert!(
            String::from_utf8(manifest)
                .unwrap()
                .contains(r#""RepoTags":null"#)
        );
    }

    #[test]
    fn refuses_bad_tags() {
        let work = tempfile::tempdir().unwrap();
        let img = image(work.path());
        for bad in ["", "no-tag", "a b:c", "repo@sha256:00", "host:5000/repo"] {
            assert!(
                matches!(
                    write_docker_archive(&img, &[bad], Vec::new()),
                    Err(OciWriteError::InvalidTag { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
