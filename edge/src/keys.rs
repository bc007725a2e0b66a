//! Names of everything the Worker keeps in KV and in Durable Objects.
//!
//! One function per kind of entry, so the Worker, its Durable Object and the
//! operator's tooling agree on the layout. Every key is ASCII and far below
//! KV's 512-byte limit: repositories are `<image>/<64 hex>` and digests are
//! at most `sha512:` plus 128 hex digits.

use factory_core::asset_key::AssetKey;
use factory_core::registry::Digest;
use factory_core::schematic::SchematicId;

/// `SCHEMATICS`: the canonical YAML of a schematic, by ID.
pub fn schematic(id: &SchematicId) -> String {
    id.as_str().to_owned()
}

/// `RECORDS`: the verified record of a built asset ([`crate::stored::StoredAsset`]).
pub fn asset(key: &AssetKey) -> String {
    format!("asset/{key}")
}

/// `RECORDS`: a manifest of `repository` by digest ([`crate::stored::StoredManifest`]).
pub fn manifest(repository: &str, digest: &Digest) -> String {
    format!("manifest/{repository}/{digest}")
}

/// `RECORDS`: the digest a tag of `repository` points at.
pub fn tag(repository: &str, tag: &str) -> String {
    format!("tag/{repository}/{tag}")
}

/// `RECORDS`: the referrer descriptors of `subject` in `repository` (JSON array).
pub fn referrers(repository: &str, subject: &Digest) -> String {
    format!("referrers/{repository}/{subject}")
}

/// `RECORDS`: the size of a blob present in `repository` (decimal).
pub fn blob(repository: &str, digest: &Digest) -> String {
    format!("blob/{repository}/{digest}")
}

/// `CATALOGS`: every upstream version tag the builder found (JSON array);
/// the version policy is applied on read, so changing it needs no refresh.
pub const CATALOG_TAGS: &str = "tags";

/// `CATALOGS`: the release catalog of one version tag.
pub fn release(tag: &str) -> String {
    format!("release/{tag}")
}

/// The Durable Object (by name) that coordinates the build of one asset.
pub fn asset_coordinator(key: &AssetKey) -> String {
    format!("asset:{key}")
}

/// The Durable Object (by name) that coordinates one installer index.
pub fn installer_coordinator(repository: &str, tag: &str) -> String {
    format!("installer:{repository}:{tag}")
}

/// The Durable Object (by name) that coordinates catalog refreshes.
pub const CATALOG_COORDINATOR: &str = "catalogs";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_prefixed_and_short() {
        let digest = Digest::sha256_of(b"x");
        let repo = format!("metal-installer-secureboot/{}", "a".repeat(64));
        assert_eq!(
            manifest("installer/abc", &digest),
            format!("manifest/installer/abc/{digest}")
        );
        assert_eq!(tag("installer/abc", "v1.12.4"), "tag/installer/abc/v1.12.4");
        assert_eq!(blob("r", &digest), format!("blob/r/{digest}"));
        assert_eq!(release("v1.12.4"), "release/v1.12.4");
        assert!(referrers(&repo, &Digest::sha512_of(b"x")).len() < 512);
        assert_eq!(
            installer_coordinator("installer/abc", "v1.12.4"),
            "installer:installer/abc:v1.12.4"
        );
    }
}
