//! The key-value store's tables and how their keys are spelled.
//!
//! Keys are plain strings so the database can be inspected with any redb
//! tool; composite keys join their parts with a separator that cannot occur
//! in the first part (`@` and `:` never appear in a repository name).

use redb::TableDefinition;

/// Schematic ID → canonical YAML.
pub(crate) const SCHEMATICS: TableDefinition<&str, &str> = TableDefinition::new("schematics");
/// Asset key → signed record envelope JSON.
pub(crate) const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("asset_records");
/// `<repository>@<digest>` → (media type, manifest bytes).
pub(crate) const MANIFESTS: TableDefinition<&str, (&str, &[u8])> =
    TableDefinition::new("manifests");
/// `<repository>:<tag>` → manifest digest.
pub(crate) const TAGS: TableDefinition<&str, &str> = TableDefinition::new("tags");
/// `<repository>@<subject digest>` → JSON array of referrer descriptors.
pub(crate) const REFERRERS: TableDefinition<&str, &[u8]> = TableDefinition::new("referrers");
/// Catalog name (`versions`, `release/<v>`) → JSON with its fetch time.
pub(crate) const CATALOGS: TableDefinition<&str, &[u8]> = TableDefinition::new("catalogs");

/// The key of a manifest by digest.
pub(crate) fn manifest_key(repository: &str, digest: &str) -> String {
    format!("{repository}@{digest}")
}

/// The key of a tag.
pub(crate) fn tag_key(repository: &str, tag: &str) -> String {
    format!("{repository}:{tag}")
}
