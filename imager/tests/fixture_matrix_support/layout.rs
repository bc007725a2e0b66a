//! Ground truth read straight from the synthetic release's OCI layout on
//! disk, independently of the puller under test: the files of one image
//! for one architecture, flattened (later layers win).
//!
//! The fixture images use no whiteouts; meeting one fails loudly rather
//! than producing a wrong expectation.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One entry of a flattened image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEntry {
    /// A directory with its permission bits.
    Dir { mode: u32 },
    /// A regular file.
    File { mode: u32, bytes: Vec<u8> },
    /// A symbolic link.
    Symlink { target: String },
}

/// A flattened image: relative path (no leading `./` or `/`, no trailing
/// `/`) to entry. Parents that the tar does not list are not invented.
pub type SourceImage = BTreeMap<String, SourceEntry>;

/// An OCI image layout directory.
pub struct Layout {
    dir: PathBuf,
    index: serde_json::Value,
}

impl Layout {
    /// Opens the layout in `dir`.
    pub fn open(dir: &Path) -> Layout {
        let index = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap())
            .unwrap_or_else(|e| panic!("{}/index.json: {e}", dir.display()));
        Layout {
            dir: dir.to_owned(),
            index,
        }
    }

    fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").unwrap();
        let path = self.dir.join("blobs/sha256").join(hex);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn json(&self, digest: &str) -> serde_json::Value {
        serde_json::from_slice(&self.blob(digest)).unwrap()
    }

    /// The digest tagged `reference` (`siderolabs/imager:v1.12.4`).
    pub fn digest_of(&self, reference: &str) -> String {
        self.index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == reference)
            .unwrap_or_else(|| panic!("{reference} is not in the synthetic layout"))["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The flattened files of `reference` for `arch` (`amd64`, `arm64`).
    pub fn image(&self, reference: &str, arch: &str) -> SourceImage {
        let index = self.json(&self.digest_of(reference));
        let manifest = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == arch && m["platform"]["os"] == "linux")
            .unwrap_or_else(|| panic!("{reference} has no linux/{arch} manifest"));
        let manifest = self.json(manifest["digest"].as_str().unwrap());
        let mut files = SourceImage::new();
        for layer in manifest["layers"].as_array().unwrap() {
            let blob = self.blob(layer["digest"].as_str().unwrap());
            read_layer(&blob, &mut files, reference);
        }
        files
    }
}

/// Applies one (gzip or plain) tar layer over `files`.
fn read_layer(blob: &[u8], files: &mut SourceImage, reference: &str) {
    let tar: Box<dyn Read + '_> = if blob.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(blob))
    } else {
        Box::new(blob)
    };
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let raw = entry.path().unwrap().to_string_lossy().into_owned();
        let path = raw
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_owned();
        let name = path.rsplit('/').next().unwrap_or_default();
        assert!(
            !name.starts_with(".wh."),
            "{reference} uses a whiteout ({path}); teach the matrix's layout reader whiteouts"
        );
        if path.is_empty() {
            continue;
        }
        let mode = entry.header().mode().unwrap() & 0o7777;
        let kind = entry.header().entry_type();
        let node = if kind.is_dir() {
            SourceEntry::Dir { mode }
        } else if kind.is_symlink() {
            SourceEntry::Symlink {
                target: entry
                    .link_name()
                    .unwrap()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            }
        } else if kind.is_file() {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            SourceEntry::File { mode, bytes }
        } else {
            panic!("{reference}: {path} has tar type {kind:?}, which the matrix does not model");
        };
        files.insert(path, node);
    }
}

/// The bytes `path` resolves to inside `image` (following relative and
/// absolute symlinks within the image).
pub fn resolve_bytes<'a>(image: &'a SourceImage, path: &str) -> &'a [u8] {
    resolve_file(image, path).0
}

/// The bytes and mode of the file `path` resolves to inside `image`.
pub fn resolve_file<'a>(image: &'a SourceImage, path: &str) -> (&'a [u8], u32) {
    let mut current = path.to_owned();
    for _ in 0..16 {
        match image.get(&current) {
            Some(SourceEntry::File { bytes, mode }) => return (bytes, *mode),
            Some(SourceEntry::Symlink { target }) => {
                current = if let Some(abs) = target.strip_prefix('/') {
                    abs.to_owned()
                } else {
                    let parent = current.rsplit_once('/').map_or("", |(p, _)| p);
                    normalize(&format!("{parent}/{target}"))
                };
            }
            other => panic!("{path} does not resolve to a file in the source image: {other:?}"),
        }
    }
    panic!("{path}: symlink loop in the source image")
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// `path` and every ancestor of it (`a/b/c` → `a`, `a/b`, `a/b/c`).
pub fn with_ancestors(path: &str) -> impl Iterator<Item = String> + '_ {
    path.match_indices('/')
        .map(|(at, _)| path[..at].to_owned())
        .chain(std::iter::once(path.to_owned()))
}
