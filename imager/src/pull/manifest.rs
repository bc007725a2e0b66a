//! The parts of OCI and Docker manifests the builders read.
//!
//! Only what is needed is decoded (media types, digests, sizes, platforms,
//! annotations); unknown fields are ignored, as the distribution spec asks,
//! and the raw bytes are kept because they are what digests and signatures
//! are computed over.

use bytes::Bytes;
use factory_core::registry::{Descriptor, Digest, media_types};
use serde::Deserialize;

use super::error::PullError;

/// A manifest or index exactly as the registry sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    /// Its media type (from the document, or inferred from its shape).
    pub media_type: String,
    /// The sha256 of `bytes`.
    pub digest: Digest,
    /// The bytes.
    pub bytes: Bytes,
}

/// A decoded manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// A single-platform image.
    Image(Box<ImageManifest>),
    /// A multi-platform index.
    Index(Index),
}

/// A single-platform image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    /// The manifest's digest.
    pub digest: Digest,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, bottom first.
    pub layers: Vec<Descriptor>,
}

/// A multi-platform index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index's digest.
    pub digest: Digest,
    /// Its entries.
    pub manifests: Vec<Descriptor>,
}

impl Index {
    /// The entry for `os`/`architecture`, if any.
    pub fn for_platform(&self, os: &str, architecture: &str) -> Option<&Descriptor> {
        self.manifests.iter().find(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.os == os && p.architecture == architecture)
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    schema_version: Option<u32>,
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    manifests: Option<Vec<Descriptor>>,
}

impl RawManifest {
    /// Wraps fetched bytes whose digest has been checked.
    pub(crate) fn parse(bytes: Bytes, digest: Digest) -> Result<Self, PullError> {
        let doc = decode(&bytes, &digest)?;
        let media_type = match doc.media_type {
            Some(t) => t,
            None if doc.manifests.is_some() => media_types::OCI_INDEX.to_owned(),
            None => media_types::OCI_MANIFEST.to_owned(),
        };
        Ok(RawManifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// Decodes the manifest.
    pub fn parsed(&self) -> Result<Manifest, PullError> {
        let doc = decode(&self.bytes, &self.digest)?;
        let invalid = |reason: &str| PullError::InvalidManifest {
            digest: self.digest.clone(),
            reason: reason.to_owned(),
        };
        if doc.schema_version != Some(2) {
            return Err(invalid("schemaVersion is not 2"));
        }
        match (doc.manifests, doc.config) {
            (Some(manifests), None) => Ok(Manifest::Index(Index {
                digest: self.digest.clone(),
                manifests,
            })),
            (None, Some(config)) => Ok(Manifest::Image(Box::new(ImageManifest {
                digest: self.digest.clone(),
                config,
                layers: doc.layers,
            }))),
            _ => Err(invalid("neither an image manifest nor an index")),
        }
    }
}

fn decode(bytes: &[u8], digest: &Digest) -> Result<Document, PullError> {
    serde_json::from_slice(bytes).map_err(|e| PullError::InvalidManifest {
        digest: digest.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawManifest {
        let bytes = Bytes::copy_from_slice(json.as_bytes());
        let digest = Digest::sha256_of(&bytes);
        RawManifest::parse(bytes, digest).unwrap()
    }

    #[test]
    fn picks_the_platform_entry() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let index = raw(&format!(
            r#"{{"schemaVersion":2,"manifests":[
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
            d('a'),
            d('b')
        ));
        assert_eq!(index.media_type, media_types::OCI_INDEX);
        let Manifest::Index(index) = index.parsed().unwrap() else {
            panic!("not an index")
        };
        assert_eq!(
            index
                .for_platform("linux", "arm64")
                .unwrap()
                .digest
                .to_string(),
            d('b')
        );
        assert!(index.for_platform("linux", "riscv64").is_none());
    }

    #[test]
    fn rejects_garbage() {
        let bytes = Bytes::from_static(b"{\"schemaVersion\":1}");
        let m = RawManifest::parse(bytes.clone(), Digest::sha256_of(&bytes)).unwrap();
        assert!(matches!(m.parsed(), Err(PullError::InvalidManifest { .. })));
        let bytes = Bytes::from_static(b"not json");
        assert!(RawManifest::parse(bytes.clone(), Digest::sha256_of(&bytes)).is_err());
    }
}
