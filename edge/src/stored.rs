//! The forms the Worker writes to KV and reads back.
//!
//! KV is written only by this Worker and its Durable Object, and only with
//! answers that passed `factory_core::dispatch` verification, so reads trust
//! it and skip the ECDSA check (a cached request must stay well under a
//! millisecond of CPU). The signed record is kept next to the values read from
//! it so that an operator can re-verify any entry with openssl. Manifests are
//! stored in their wire form and re-hashed on every read (SHA-256 of a few
//! KiB is cheap), so a damaged entry is a miss, never wrong bytes.

use factory_core::asset_key::AssetKey;
use factory_core::dispatch::VerifiedInstaller;
use factory_core::dispatch::WireManifest;
use factory_core::frontend::AssetRecord;
use factory_core::record::AssetStatement;
use serde::{Deserialize, Serialize};

use crate::keys;

/// A verified asset as stored under [`keys::asset`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredAsset {
    /// The builder's signed record (`SignedRecord::to_json`).
    pub record: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex sha256 (also the object key's hex).
    pub sha256: String,
    /// Lowercase hex sha512.
    pub sha512: String,
}

impl StoredAsset {
    /// The stored form of a verified statement and its record.
    pub fn new(statement: &AssetStatement, record: String) -> StoredAsset {
        StoredAsset {
            record,
            size: statement.size,
            sha256: statement.sha256.clone(),
            sha512: statement.sha512.clone(),
        }
    }

    /// The frontend's record for `key`.
    pub fn to_record(&self, key: &AssetKey) -> AssetRecord {
        AssetRecord {
            key: key.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
        }
    }
}

/// The KV writes that publish a verified installer, in the only order that
/// never exposes a dangling reference: blob presence, image manifests, the
/// index, the signature manifest and its tag, the referrer, and the version
/// tag last (until it exists the index is a miss and is published again).
pub fn installer_writes(installer: &VerifiedInstaller) -> Vec<(String, String)> {
    let repo = installer.repository.as_str();
    let manifest = |m| {
        let wire = WireManifest::from_record(m);
        (
            keys::manifest(repo, &wire.digest),
            serde_json::to_string(&wire).unwrap_or_default(),
        )
    };
    let mut writes: Vec<(String, String)> = installer
        .blobs
        .iter()
        .map(|b| (keys::blob(repo, &b.digest), b.size.to_string()))
        .collect();
    writes.extend(installer.manifests.iter().map(manifest));
    writes.push(manifest(&installer.index));
    writes.push(manifest(&installer.signature));
    writes.push((
        keys::tag(repo, &installer.signature_tag),
        installer.signature.digest.to_string(),
    ));
    writes.push((
        keys::referrers(repo, &installer.index.digest),
        serde_json::to_string(&[&installer.referrer]).unwrap_or_default(),
    ));
    writes.push((
        keys::tag(repo, &installer.tag),
        installer.index.digest.to_string(),
    ));
    writes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use bytes::Bytes;
    use factory_core::dispatch::WireBlob;
    use factory_core::frontend::ManifestRecord;
    use factory_core::registry::{Descriptor, Digest};

    use super::*;

    fn record(bytes: &'static [u8]) -> ManifestRecord {
        ManifestRecord {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: Digest::sha256_of(bytes),
            bytes: Bytes::from_static(bytes),
        }
    }

    #[test]
    fn installer_writes_end_with_the_version_tag() {
        let index = record(b"{\"index\":1}");
        let signature = record(b"{\"sig\":1}");
        let installer = VerifiedInstaller {
            repository: "installer/abc".into(),
            tag: "v1.12.4".into(),
            index: index.clone(),
            manifests: vec![record(b"{\"amd64\":1}")],
            signature: signature.clone(),
            signature_tag: "sha256-x.sig".into(),
            referrer: Descriptor::of("application/vnd.oci.image.manifest.v1+json", b"{\"sig\":1}"),
            blobs: vec![WireBlob {
                digest: Digest::sha256_of(b"layer"),
                size: 5,
            }],
        };
        let writes = installer_writes(&installer);
        assert_eq!(writes.len(), 7);
        assert_eq!(
            writes[0],
            (
                keys::blob("installer/abc", &Digest::sha256_of(b"layer")),
                "5".into()
            )
        );
        assert_eq!(writes[2].0, keys::manifest("installer/abc", &index.digest));
        let stored: WireManifest = serde_json::from_str(&writes[2].1).unwrap();
        assert_eq!(stored.to_record().unwrap(), index);
        assert_eq!(
            writes[4],
            (
                keys::tag("installer/abc", "sha256-x.sig"),
                signature.digest.to_string()
            )
        );
        let referrers: Vec<Descriptor> = serde_json::from_str(&writes[5].1).unwrap();
        assert_eq!(referrers, vec![installer.referrer.clone()]);
        assert_eq!(
            writes.last().unwrap(),
            &(
                keys::tag("installer/abc", "v1.12.4"),
                index.digest.to_string()
            )
        );
    }

    #[test]
    fn stored_assets_round_trip() {
        let stored = StoredAsset {
            record: "{}".into(),
            size: 3,
            sha256: "a".repeat(64),
            sha512: "b".repeat(128),
        };
        let text = serde_json::to_string(&stored).unwrap();
        assert_eq!(serde_json::from_str::<StoredAsset>(&text).unwrap(), stored);
        let key: AssetKey = "c".repeat(64).parse().unwrap();
        assert_eq!(stored.to_record(&key).size, 3);
    }
}
