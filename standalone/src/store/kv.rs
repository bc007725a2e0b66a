//! Reads and writes of each table, one small method per question.
//!
//! Each write is its own transaction, committed durably before returning.

use factory_core::frontend::ManifestRecord;
use factory_core::registry::{Descriptor, Digest};
use redb::{ReadableDatabase as _, ReadableTable as _, TableDefinition};

use super::Store;
use super::error::StoreError;
use super::tables::{
    CATALOGS, MANIFESTS, RECORDS, REFERRERS, SCHEMATICS, TAGS, manifest_key, tag_key,
};

/// The most referrers kept per subject (an installer index has one
/// signature; more means something is re-publishing in a loop).
pub const MAX_REFERRERS: usize = 64;

impl Store {
    pub(super) fn create_tables(&self) -> Result<(), StoreError> {
        let txn = self
            .db
            .begin_write()
            .map_err(StoreError::db("starting the table creation"))?;
        {
            txn.open_table(SCHEMATICS)
                .map_err(StoreError::db("creating table schematics"))?;
            txn.open_table(RECORDS)
                .map_err(StoreError::db("creating table asset_records"))?;
            txn.open_table(MANIFESTS)
                .map_err(StoreError::db("creating table manifests"))?;
            txn.open_table(TAGS)
                .map_err(StoreError::db("creating table tags"))?;
            txn.open_table(REFERRERS)
                .map_err(StoreError::db("creating table referrers"))?;
            txn.open_table(CATALOGS)
                .map_err(StoreError::db("creating table catalogs"))?;
        }
        txn.commit()
            .map_err(StoreError::db("committing the table creation"))
    }

    /// Reads one value of a table, decoded by `decode` inside the transaction.
    fn read<K, V, T>(
        &self,
        table: TableDefinition<K, V>,
        key: K::SelfType<'_>,
        what: &str,
        decode: impl FnOnce(V::SelfType<'_>) -> T,
    ) -> Result<Option<T>, StoreError>
    where
        K: redb::Key + 'static,
        V: redb::Value + 'static,
    {
        let txn = self
            .db
            .begin_read()
            .map_err(StoreError::db(format!("reading {what}")))?;
        let table = txn
            .open_table(table)
            .map_err(StoreError::db(format!("opening the table of {what}")))?;
        let guard = table
            .get(key)
            .map_err(StoreError::db(format!("reading {what}")))?;
        Ok(guard.map(|g| decode(g.value())))
    }

    /// Runs `write` on one table in a durable transaction.
    fn write<K, V>(
        &self,
        table: TableDefinition<K, V>,
        what: &str,
        write: impl FnOnce(&mut redb::Table<'_, K, V>) -> Result<(), redb::StorageError>,
    ) -> Result<(), StoreError>
    where
        K: redb::Key + 'static,
        V: redb::Value + 'static,
    {
        let txn = self
            .db
            .begin_write()
            .map_err(StoreError::db(format!("writing {what}")))?;
        {
            let mut table = txn
                .open_table(table)
                .map_err(StoreError::db(format!("opening the table of {what}")))?;
            write(&mut table).map_err(StoreError::db(format!("writing {what}")))?;
        }
        txn.commit()
            .map_err(StoreError::db(format!("committing {what}")))
    }

    /// The canonical YAML of a schematic.
    pub fn get_schematic(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.read(SCHEMATICS, id, &format!("schematic {id}"), str::to_owned)
    }

    /// Stores a schematic; durable when this returns.
    pub fn put_schematic(&self, id: &str, canonical_yaml: &str) -> Result<(), StoreError> {
        self.write(SCHEMATICS, &format!("schematic {id}"), |t| {
            t.insert(id, canonical_yaml).map(drop)
        })
    }

    /// The signed record envelope of an asset key.
    pub fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(RECORDS, key, &format!("asset record {key}"), <[u8]>::to_vec)
    }

    /// Stores a signed record envelope (after its blob is in place).
    pub fn put_record(&self, key: &str, envelope: &[u8]) -> Result<(), StoreError> {
        self.write(RECORDS, &format!("asset record {key}"), |t| {
            t.insert(key, envelope).map(drop)
        })
    }

    /// Forgets a record (one that failed verification).
    pub fn delete_record(&self, key: &str) -> Result<(), StoreError> {
        self.write(RECORDS, &format!("asset record {key}"), |t| {
            t.remove(key).map(drop)
        })
    }

    /// A manifest of `repository` by digest.
    pub fn get_manifest(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<ManifestRecord>, StoreError> {
        let key = manifest_key(repository, &digest.to_string());
        self.read(
            MANIFESTS,
            key.as_str(),
            &format!("manifest {key}"),
            |(t, b)| ManifestRecord {
                media_type: t.to_owned(),
                digest: digest.clone(),
                bytes: bytes::Bytes::copy_from_slice(b),
            },
        )
    }

    /// Stores a manifest of `repository` under its digest.
    pub fn put_manifest(
        &self,
        repository: &str,
        manifest: &ManifestRecord,
    ) -> Result<(), StoreError> {
        let key = manifest_key(repository, &manifest.digest.to_string());
        self.write(MANIFESTS, &format!("manifest {key}"), |t| {
            t.insert(
                key.as_str(),
                (manifest.media_type.as_str(), &manifest.bytes[..]),
            )
            .map(drop)
        })
    }

    /// The digest a tag of `repository` points at.
    pub fn get_tag(&self, repository: &str, tag: &str) -> Result<Option<Digest>, StoreError> {
        let key = tag_key(repository, tag);
        let text = self.read(TAGS, key.as_str(), &format!("tag {key}"), str::to_owned)?;
        text.map(|t| {
            t.parse().map_err(
                |e: factory_core::registry::DigestError| StoreError::Malformed {
                    what: format!("tag {key}"),
                    reason: e.to_string(),
                },
            )
        })
        .transpose()
    }

    /// Points a tag of `repository` at a digest.
    pub fn put_tag(&self, repository: &str, tag: &str, digest: &Digest) -> Result<(), StoreError> {
        let key = tag_key(repository, tag);
        let value = digest.to_string();
        self.write(TAGS, &format!("tag {key}"), |t| {
            t.insert(key.as_str(), value.as_str()).map(drop)
        })
    }

    /// The referrers of `subject` in `repository`.
    pub fn get_referrers(
        &self,
        repository: &str,
        subject: &Digest,
    ) -> Result<Vec<Descriptor>, StoreError> {
        let key = manifest_key(repository, &subject.to_string());
        let what = format!("referrers of {key}");
        let json = self.read(REFERRERS, key.as_str(), &what, <[u8]>::to_vec)?;
        match json {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_slice(&json).map_err(|e| StoreError::Malformed {
                what,
                reason: e.to_string(),
            }),
        }
    }

    /// Adds a referrer of `subject` (replacing one with the same digest), in
    /// one transaction. At most [`MAX_REFERRERS`] are kept; the oldest go.
    pub fn add_referrer(
        &self,
        repository: &str,
        subject: &Digest,
        referrer: &Descriptor,
    ) -> Result<(), StoreError> {
        let key = manifest_key(repository, &subject.to_string());
        let what = format!("referrers of {key}");
        let txn = self
            .db
            .begin_write()
            .map_err(StoreError::db(format!("writing {what}")))?;
        {
            let mut table = txn
                .open_table(REFERRERS)
                .map_err(StoreError::db(format!("opening the table of {what}")))?;
            let existing = table
                .get(key.as_str())
                .map_err(StoreError::db(format!("reading {what}")))?
                .map(|g| g.value().to_vec());
            let mut list: Vec<Descriptor> = match existing {
                None => Vec::new(),
                Some(json) => serde_json::from_slice(&json).map_err(|e| StoreError::Malformed {
                    what: what.clone(),
                    reason: e.to_string(),
                })?,
            };
            list.retain(|d| d.digest != referrer.digest);
            list.push(referrer.clone());
            let excess = list.len().saturating_sub(MAX_REFERRERS);
            list.drain(..excess);
            let json = serde_json::to_vec(&list).map_err(|e| StoreError::Malformed {
                what: what.clone(),
                reason: e.to_string(),
            })?;
            table
                .insert(key.as_str(), json.as_slice())
                .map_err(StoreError::db(format!("writing {what}")))?;
        }
        txn.commit()
            .map_err(StoreError::db(format!("committing {what}")))
    }

    /// A stored catalog document (`versions`, `release/<v>`).
    pub fn get_catalog(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(CATALOGS, name, &format!("catalog {name}"), <[u8]>::to_vec)
    }

    /// Stores a catalog document.
    pub fn put_catalog(&self, name: &str, json: &[u8]) -> Result<(), StoreError> {
        self.write(CATALOGS, &format!("catalog {name}"), |t| {
            t.insert(name, json).map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let digest = Digest::sha256_of(b"{}");
        {
            let store = Store::open(dir.path()).unwrap();
            store.put_schematic("abc", "customization: {}\n").unwrap();
            store.put_record("k", b"{\"x\":1}").unwrap();
            store
                .put_manifest(
                    "installer/abc",
                    &ManifestRecord {
                        media_type: "application/x".into(),
                        digest: digest.clone(),
                        bytes: bytes::Bytes::from_static(b"{}"),
                    },
                )
                .unwrap();
            store.put_tag("installer/abc", "v1.0.0", &digest).unwrap();
            let d = Descriptor::of("application/y", b"sig");
            store.add_referrer("installer/abc", &digest, &d).unwrap();
            store.add_referrer("installer/abc", &digest, &d).unwrap();
            store.put_catalog("versions", b"[]").unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.get_schematic("abc").unwrap().as_deref(),
            Some("customization: {}\n")
        );
        assert_eq!(store.get_schematic("nope").unwrap(), None);
        assert_eq!(store.get_record("k").unwrap().unwrap(), b"{\"x\":1}");
        store.delete_record("k").unwrap();
        assert_eq!(store.get_record("k").unwrap(), None);
        let m = store
            .get_manifest("installer/abc", &digest)
            .unwrap()
            .unwrap();
        assert_eq!(&m.bytes[..], b"{}");
        assert_eq!(m.media_type, "application/x");
        assert_eq!(
            store.get_tag("installer/abc", "v1.0.0").unwrap(),
            Some(digest.clone())
        );
        assert_eq!(
            store.get_referrers("installer/abc", &digest).unwrap().len(),
            1
        );
        assert_eq!(store.get_catalog("versions").unwrap().unwrap(), b"[]");
    }
}
