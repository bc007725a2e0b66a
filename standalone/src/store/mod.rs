//! Embedded, crash-safe storage: a redb key-value store plus a
//! content-addressed blob directory, under one data directory.
//!
//! redb commits are durable when `commit` returns (its default
//! `Durability::Immediate`), which is what makes a schematic durable before
//! `put_schematic` returns. Large bytes never go into the database: artifacts
//! and OCI blobs live in [`BlobDir`], and the database holds what names them
//! (signed records, manifests, tags). Writers publish bytes first and the
//! naming entry last, so a crash between the two leaves an unreferenced blob,
//! never a record without bytes.
//!
//! Every method is synchronous and may block on disk; async callers run them
//! on the blocking pool.

mod blobs;
mod error;
mod kv;
mod tables;

use std::path::Path;

pub use blobs::{BlobCheck, BlobDir, MAX_INLINE_BLOB, is_sha256_hex};
pub use error::StoreError;
pub use kv::MAX_REFERRERS;

/// The key-value store and the blob directory. See the module docs.
#[derive(Debug)]
pub struct Store {
    db: redb::Database,
    blobs: BlobDir,
}

impl Store {
    /// Opens (creating) `<data_dir>/db/factory.redb` and
    /// `<data_dir>/blobs/sha256`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let db_dir = data_dir.join("db");
        std::fs::create_dir_all(&db_dir).map_err(StoreError::io("creating", &db_dir))?;
        let db_path = db_dir.join("factory.redb");
        let db = redb::Database::create(&db_path)
            .map_err(StoreError::db(format!("opening {}", db_path.display())))?;
        let store = Store {
            db,
            blobs: BlobDir::open(data_dir.join("blobs").join("sha256"))?,
        };
        store.create_tables()?;
        Ok(store)
    }

    /// The blob directory.
    pub fn blobs(&self) -> &BlobDir {
        &self.blobs
    }
}
