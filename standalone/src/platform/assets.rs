//! Finding a stored asset (verified) and building a missing one.
//!
//! A lookup trusts nothing it reads: the record must verify with our public
//! key and name the asked key, and its blob must exist with the stated size
//! and (once per process and file) digest. Anything else is a miss that is
//! logged, counted in `corrupt_records`, and cleaned up (record deleted,
//! damaged blob removed) so the rebuild starts from a clean slate.
//!
//! A build publishes bytes first (blob renamed into place) and the signed
//! record last; a crash in between leaves an unnamed blob, never a record
//! pointing at missing or partial bytes.

use std::path::PathBuf;
use std::sync::Arc;

use factory_core::asset_key::AssetKey;
use factory_core::frontend::{AssetRecord, PlatformError};
use factory_core::profile::BuildProfile;
use factory_core::record::SignedRecord;
use factory_core::schematic::Schematic;
use factory_imager::build::{BuildContext, build};
use factory_imager::signing::sign_record;

use super::Inner;
use super::error::{build_error, join_error, store_error};
use crate::builds::Outcome;
use crate::catalogs::now_unix;
use crate::store::BlobCheck;

/// What a lookup found.
enum Lookup {
    Hit(AssetRecord),
    Miss,
}

impl Inner {
    /// The verified stored record of `key`, if there is a good one.
    async fn lookup(self: &Arc<Self>, key: &AssetKey) -> Result<Lookup, PlatformError> {
        let inner = Arc::clone(self);
        let key = key.clone();
        tokio::task::spawn_blocking(move || inner.lookup_blocking(&key))
            .await
            .map_err(join_error)?
    }

    fn lookup_blocking(&self, key: &AssetKey) -> Result<Lookup, PlatformError> {
        let Some(envelope) = self.store.get_record(key.as_str()).map_err(store_error)? else {
            return Ok(Lookup::Miss);
        };
        let statement = match SignedRecord::from_json(&envelope)
            .and_then(|record| record.verify(&self.public))
        {
            Ok(statement) if statement.key == *key => statement,
            Ok(statement) => {
                return self.corrupt(
                    key,
                    None,
                    &format!("the record names key {}", statement.key),
                );
            }
            Err(error) => return self.corrupt(key, None, &error.to_string()),
        };
        let blobs = self.store.blobs();
        match blobs
            .open_verified(&statement.sha256, statement.size)
            .map_err(store_error)?
        {
            BlobCheck::Ok(_) => Ok(Lookup::Hit(statement.asset_record())),
            BlobCheck::Missing => self.corrupt(key, None, "its blob is missing"),
            BlobCheck::WrongSize { actual } => self.corrupt(
                key,
                Some(&statement.sha256),
                &format!(
                    "its blob is {actual} bytes, the record says {}",
                    statement.size
                ),
            ),
            BlobCheck::WrongDigest { actual } => self.corrupt(
                key,
                Some(&statement.sha256),
                &format!("its blob hashes to {actual}"),
            ),
        }
    }

    /// Logs, counts and cleans up a bad record (and its damaged blob).
    fn corrupt(
        &self,
        key: &AssetKey,
        damaged_blob: Option<&str>,
        why: &str,
    ) -> Result<Lookup, PlatformError> {
        tracing::warn!(%key, reason = why, "stored asset failed verification; rebuilding");
        self.metrics.corrupt_records.inc();
        self.store
            .delete_record(key.as_str())
            .map_err(store_error)?;
        if let Some(hex) = damaged_blob {
            self.store.blobs().remove(hex).map_err(store_error)?;
        }
        Ok(Lookup::Miss)
    }

    /// The asset for `key`: stored and verified, or built once for all
    /// concurrent callers.
    pub(super) async fn asset(
        self: &Arc<Self>,
        key: &AssetKey,
        profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError> {
        if let Lookup::Hit(record) = self.lookup(key).await? {
            self.metrics.cache_hits.inc();
            return Ok(record);
        }
        self.metrics.cache_misses.inc();
        let inner = Arc::clone(self);
        let (job_key, profile) = (key.clone(), profile.clone());
        self.assets
            .run(key, profile.output.kind.as_str(), move || async move {
                // A build of this key may have finished since our lookup.
                if let Lookup::Hit(record) = inner.lookup(&job_key).await? {
                    return Ok(Outcome::Found(record));
                }
                inner.build(&job_key, &profile).await.map(Outcome::Built)
            })
            .await
    }

    /// Builds, publishes the bytes, then signs and stores the record.
    async fn build(
        self: &Arc<Self>,
        key: &AssetKey,
        profile: &BuildProfile,
    ) -> Result<AssetRecord, PlatformError> {
        let schematic = self.schematic_for(profile).await?;
        let temp = self.store.blobs().temp_path();
        let result = self.build_into(key, profile, &schematic, &temp).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    async fn build_into(
        self: &Arc<Self>,
        key: &AssetKey,
        profile: &BuildProfile,
        schematic: &Schematic,
        temp: &std::path::Path,
    ) -> Result<AssetRecord, PlatformError> {
        let ctx = BuildContext {
            puller: &self.puller,
            external_url: &self.settings.external_url,
            work_root: &self.work_root,
        };
        let artifact = build(&ctx, profile, schematic, temp)
            .await
            .map_err(build_error)?;
        let statement = artifact.statement(key, profile, now_unix());
        let envelope = sign_record(&self.key, &statement)
            .map_err(|e| PlatformError::Internal(format!("signing the record of {key}: {e}")))?
            .to_json();
        let inner = Arc::clone(self);
        let (temp, key_text) = (PathBuf::from(temp), key.as_str().to_owned());
        tokio::task::spawn_blocking(move || {
            inner.store.blobs().commit_file(&temp, &statement.sha256)?;
            inner.store.put_record(&key_text, envelope.as_bytes())
        })
        .await
        .map_err(join_error)?
        .map_err(store_error)?;
        tracing::info!(%key, size = artifact.size, sha256 = %artifact.sha256, "built");
        Ok(AssetRecord {
            key: key.clone(),
            size: artifact.size,
            sha256: artifact.sha256,
            sha512: artifact.sha512,
        })
    }

    /// The schematic a profile was made from (the empty one for kinds that
    /// carry none).
    pub(super) async fn schematic_for(
        self: &Arc<Self>,
        profile: &BuildProfile,
    ) -> Result<Schematic, PlatformError> {
        let yaml = match &profile.schematic_id {
            None => "customization: {}\n".to_owned(),
            Some(id) => {
                let inner = Arc::clone(self);
                let id_text = id.clone();
                tokio::task::spawn_blocking(move || inner.store.get_schematic(&id_text))
                    .await
                    .map_err(join_error)?
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        PlatformError::BuildFailed(format!("schematic {id} is not stored"))
                    })?
            }
        };
        Schematic::parse(yaml.as_bytes()).map_err(|e| {
            PlatformError::Internal(format!("the stored schematic does not parse: {e}"))
        })
    }
}
