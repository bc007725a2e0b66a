//! The cosign signature of an installer index.
//!
//! Upstream signs every installer index it publishes with the cache signing
//! key (`KeySigner.SignImage`), and re-checks that signature before it
//! serves a cached installer. The layout is cosign's simple-signing `.sig`
//! image, built by [`CosignSignature`]; this names the one call a publisher
//! makes, in the order of upstream's `PublishInstallerIndex`: push the image
//! blobs and manifests, push the index by digest, push
//! [`CosignSignature::blobs`] then [`CosignSignature::manifest`] under
//! [`CosignSignature::tag`], verify it, and only then tag the index.

use factory_core::registry::Digest;

use crate::signing::{CosignError, CosignSignature, SigningKey};

/// Signs the installer index `index_digest` published in `repository`, the
/// full repository name with its registry host as pullers see it
/// (`factory.example.com/metal-installer/<schematic id>`). `created` is the
/// RFC 3339 time recorded in the signature's config (upstream records the
/// signing time); `None` records Go's zero time and keeps the signature
/// reproducible.
pub fn signature_for_index(
    key: &SigningKey,
    repository: &str,
    index_digest: &Digest,
    created: Option<&str>,
) -> Result<CosignSignature, CosignError> {
    CosignSignature::new(key, repository, index_digest, created)
}
