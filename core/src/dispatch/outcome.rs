//! What a builder answers, and how the edge checks it before storing it.
//!
//! Nothing in an answer is trusted: an asset record must verify with the
//! public key and name the key that was asked for; every manifest must hash
//! to its digest; the installer index must carry a cosign signature, made by
//! the same key, of exactly that index. Only a [`VerifiedInstaller`] or a
//! verified [`AssetStatement`] is fit to store.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::asset_key::AssetKey;
use crate::catalog::ReleaseCatalog;
use crate::frontend::ManifestRecord;
use crate::record::{AssetStatement, PublicKey, SignedRecord};
use crate::registry::media_types::{OCI_CONFIG, OCI_MANIFEST};
use crate::registry::{Descriptor, Digest, SIGNATURE_ANNOTATION, cosign_signature_tag};

use super::error::OutcomeError;

/// A builder's successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BuildOutcome {
    /// An asset is in the object store.
    Asset(AssetBuilt),
    /// An installer index and everything it references are in the object store.
    Installer(Box<InstallerBuilt>),
    /// Fresh catalogs.
    Catalogs(CatalogsRefreshed),
}

impl BuildOutcome {
    /// A short name for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            BuildOutcome::Asset(_) => "asset",
            BuildOutcome::Installer(_) => "installer",
            BuildOutcome::Catalogs(_) => "catalogs",
        }
    }

    /// Parses an answer body.
    pub fn from_json(body: &[u8]) -> Result<BuildOutcome, OutcomeError> {
        serde_json::from_slice(body).map_err(|e| OutcomeError::Malformed(e.to_string()))
    }
}

/// One built asset: its signed record (the bytes are at
/// [`super::object_key`] of its sha256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetBuilt {
    /// The signed record, as [`SignedRecord::to_json`] writes it.
    pub record: String,
}

impl AssetBuilt {
    /// The record's statement, if it verifies with `public` and names `expected`.
    pub fn verify(
        &self,
        public: &PublicKey,
        expected: &AssetKey,
    ) -> Result<AssetStatement, OutcomeError> {
        let statement = SignedRecord::from_json(self.record.as_bytes())
            .and_then(|record| record.verify(public))
            .map_err(|e| OutcomeError::Record(e.to_string()))?;
        if statement.key != *expected {
            return Err(OutcomeError::Record(format!(
                "it names key {}, {} was asked for",
                statement.key, expected
            )));
        }
        Ok(statement)
    }
}

/// A manifest carried inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WireManifest {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its exact bytes, base64 (standard alphabet, padded).
    pub bytes: String,
}

impl WireManifest {
    /// The wire form of a stored manifest.
    pub fn from_record(record: &ManifestRecord) -> WireManifest {
        WireManifest {
            media_type: record.media_type.clone(),
            digest: record.digest.clone(),
            bytes: BASE64.encode(&record.bytes),
        }
    }

    /// The manifest, if its bytes hash to its digest.
    pub fn to_record(&self) -> Result<ManifestRecord, OutcomeError> {
        let bytes = BASE64
            .decode(&self.bytes)
            .map_err(|e| OutcomeError::Malformed(format!("manifest {}: {e}", self.digest)))?;
        if !self.digest.matches(&bytes) {
            return Err(OutcomeError::Manifest(format!(
                "the bytes of {} hash to {}",
                self.digest,
                Digest::sha256_of(&bytes)
            )));
        }
        Ok(ManifestRecord {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            bytes: Bytes::from(bytes),
        })
    }
}

/// A blob the builder put in the object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WireBlob {
    /// Its digest (the object key is [`super::object_key`] of its hex).
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A built and signed installer index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallerBuilt {
    /// `<image>/<schematic id>`.
    pub repository: String,
    /// The version tag (`v1.12.4`).
    pub tag: String,
    /// The multi-architecture index.
    pub index: WireManifest,
    /// The per-architecture image manifests.
    pub manifests: Vec<WireManifest>,
    /// The cosign signature manifest of the index.
    pub signature: WireManifest,
    /// The simple-signing payload the signature signs (base64); also a blob.
    pub signature_payload: String,
    /// Every blob the manifests reference (layers, configs, the signature's
    /// config and payload).
    pub blobs: Vec<WireBlob>,
}

/// An installer answer that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInstaller {
    /// `<image>/<schematic id>`.
    pub repository: String,
    /// The version tag.
    pub tag: String,
    /// The index.
    pub index: ManifestRecord,
    /// The image manifests.
    pub manifests: Vec<ManifestRecord>,
    /// The signature manifest.
    pub signature: ManifestRecord,
    /// The tag the signature is found under (`sha256-<hex>.sig`).
    pub signature_tag: String,
    /// The referrer entry naming the signature under the index's digest.
    pub referrer: Descriptor,
    /// The blobs, to record as present in the repository.
    pub blobs: Vec<WireBlob>,
}

/// The parts of a cosign signature manifest the check reads.
#[derive(Deserialize)]
struct SignatureManifest {
    layers: Vec<SignatureLayer>,
}

#[derive(Deserialize)]
struct SignatureLayer {
    digest: Digest,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The parts of a simple-signing payload the check reads.
#[derive(Deserialize)]
struct Payload {
    critical: PayloadCritical,
}

#[derive(Deserialize)]
struct PayloadCritical {
    image: PayloadImage,
}

#[derive(Deserialize)]
struct PayloadImage {
    #[serde(rename = "docker-manifest-digest")]
    digest: Digest,
}

impl InstallerBuilt {
    /// Checks digests, the index's references and the signature; the answer
    /// must be for `expected_repository` and `expected_tag`.
    pub fn verify(
        &self,
        public: &PublicKey,
        expected_repository: &str,
        expected_tag: &str,
    ) -> Result<VerifiedInstaller, OutcomeError> {
        if self.repository != expected_repository || self.tag != expected_tag {
            return Err(OutcomeError::Manifest(format!(
                "the answer is for {}:{}, {expected_repository}:{expected_tag} was asked for",
                self.repository, self.tag
            )));
        }
        let index = self.index.to_record()?;
        let manifests = self
            .manifests
            .iter()
            .map(WireManifest::to_record)
            .collect::<Result<Vec<_>, _>>()?;
        check_index_references(&index, &manifests)?;
        let signature = self.signature.to_record()?;
        self.check_signature(public, &index.digest, &signature)?;
        let referrer = Descriptor {
            artifact_type: Some(OCI_CONFIG.to_owned()),
            ..Descriptor::of(OCI_MANIFEST, &signature.bytes)
        };
        Ok(VerifiedInstaller {
            repository: self.repository.clone(),
            tag: self.tag.clone(),
            signature_tag: cosign_signature_tag(&index.digest),
            index,
            manifests,
            signature,
            referrer,
            blobs: self.blobs.clone(),
        })
    }

    fn check_signature(
        &self,
        public: &PublicKey,
        index: &Digest,
        signature: &ManifestRecord,
    ) -> Result<(), OutcomeError> {
        let refuse = |why: String| OutcomeError::Signature(why);
        let manifest: SignatureManifest = serde_json::from_slice(&signature.bytes)
            .map_err(|e| refuse(format!("signature manifest: {e}")))?;
        let [layer] = manifest.layers.as_slice() else {
            return Err(refuse("the signature manifest must have one layer".into()));
        };
        let payload = BASE64
            .decode(&self.signature_payload)
            .map_err(|e| refuse(format!("payload: {e}")))?;
        if !layer.digest.matches(&payload) {
            return Err(refuse("the payload is not the signature's layer".into()));
        }
        let parsed: Payload =
            serde_json::from_slice(&payload).map_err(|e| refuse(format!("payload: {e}")))?;
        if parsed.critical.image.digest != *index {
            return Err(refuse(format!(
                "it signs {}, not the index {index}",
                parsed.critical.image.digest
            )));
        }
        let encoded = layer
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or_else(|| refuse(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
        let der = BASE64
            .decode(encoded)
            .map_err(|e| refuse(format!("signature: {e}")))?;
        public
            .verify_der(&payload, &der)
            .map_err(|e| refuse(e.to_string()))?;
        let listed = |d: &Digest| self.blobs.iter().any(|b| b.digest == *d);
        if !listed(&layer.digest) {
            return Err(refuse("the payload blob is not listed".into()));
        }
        Ok(())
    }
}

/// The index must list exactly the image manifests that came with it.
fn check_index_references(
    index: &ManifestRecord,
    manifests: &[ManifestRecord],
) -> Result<(), OutcomeError> {
    #[derive(Deserialize)]
    struct Index {
        manifests: Vec<Descriptor>,
    }
    let parsed: Index = serde_json::from_slice(&index.bytes)
        .map_err(|e| OutcomeError::Manifest(format!("index: {e}")))?;
    let mut listed: Vec<&Digest> = parsed.manifests.iter().map(|d| &d.digest).collect();
    let mut given: Vec<&Digest> = manifests.iter().map(|m| &m.digest).collect();
    listed.sort_by_key(|d| d.to_string());
    given.sort_by_key(|d| d.to_string());
    if listed != given {
        return Err(OutcomeError::Manifest(
            "the index does not list exactly the manifests sent with it".into(),
        ));
    }
    Ok(())
}

/// Fresh catalogs from upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogsRefreshed {
    /// Every upstream version tag found, ascending (the edge applies its
    /// own version policy).
    pub versions: Vec<String>,
    /// The release catalog of each version the builder could read, by tag.
    pub releases: BTreeMap<String, ReleaseCatalog>,
}
