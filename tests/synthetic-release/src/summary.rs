//! `synthetic-release.json`: what a generated layout holds and which inputs
//! it was generated from.
//!
//! The generator writes it next to `index.json` and reads it back to decide
//! whether a layout is current (same fingerprint) and whether a directory is
//! one of its own (so that it may be replaced). Tests read it to learn digests
//! without parsing the layout. OCI tools ignore the extra file.

use std::fs;
use std::path::Path;

use factory_core::registry::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// File name of the summary inside the layout directory.
pub const SUMMARY_FILE: &str = "synthetic-release.json";

/// One tagged image of the layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaggedImage {
    /// `siderolabs/imager:v1.12.4`: repository and tag, as pushed.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Digest of the image index.
    pub digest: Digest,
    /// Media type of the tagged manifest (an OCI image index).
    pub media_type: String,
}

/// The contents of a generated layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Hash of the generator's output format and every input; equal
    /// fingerprints mean equal layouts.
    pub fingerprint: String,
    /// Release of the amd64 kernel (`6.1.0-56-amd64`).
    pub kernel_release: String,
    /// The Talos versions generated, oldest first.
    pub versions: Vec<String>,
    /// Every tagged image, sorted by reference.
    pub images: Vec<TaggedImage>,
}

impl Summary {
    /// Reads the summary of the layout in `layout_dir`.
    pub fn load(layout_dir: &Path) -> Result<Summary> {
        let path = layout_dir.join(SUMMARY_FILE);
        let bytes = fs::read(&path).ctx(|| format!("reading {}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            context: format!("decoding {}", path.display()),
            source,
        })
    }

    /// Writes the summary into `layout_dir`.
    pub(crate) fn store(&self, layout_dir: &Path) -> Result<()> {
        let path = layout_dir.join(SUMMARY_FILE);
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|source| Error::Json {
            context: format!("encoding {}", path.display()),
            source,
        })?;
        bytes.push(b'\n');
        fs::write(&path, bytes).ctx(|| format!("writing {}", path.display()))
    }

    /// The digest tagged as `reference`, if any.
    pub fn digest_of(&self, reference: &str) -> Option<&Digest> {
        self.images
            .iter()
            .find(|image| image.reference == reference)
            .map(|image| &image.digest)
    }
}
