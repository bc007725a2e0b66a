//! Asset jobs: find a verified record in the bucket, or build, upload the
//! bytes, and write the signed record last.
//!
//! The record is written after its blob, so a builder that dies in between
//! leaves an unnamed blob, never a record naming missing bytes. A stored
//! record is trusted only if it verifies with our public key, names the
//! asked key, and its blob exists with the stated size; otherwise it is
//! rebuilt and overwritten.

use factory_core::asset_key::AssetKey;
use factory_core::dispatch::job::ResolvedAsset;
use factory_core::dispatch::{AssetBuilt, AssetJob, object_key};
use factory_core::mime;
use factory_core::record::{AssetStatement, SignedRecord};
use factory_imager::build::{BuildContext, build};
use factory_imager::signing::sign_record;

use super::{JobFailure, now_unix};
use crate::counters::Kind;
use crate::state::State;

/// The bucket key of an asset's record.
pub fn record_key(key: &AssetKey) -> String {
    format!("records/asset/{}.json", key.as_str())
}

/// Runs `job`.
pub async fn run(state: &State, job: &AssetJob) -> Result<AssetBuilt, JobFailure> {
    let resolved = job.resolve()?;
    let flight = format!("asset/{}", resolved.key.as_str());
    state
        .flights
        .run(&flight, async {
            if let Some(found) = lookup(state, &resolved.key).await? {
                return Ok(found);
            }
            state
                .in_build_slot(resolved.key.as_str(), build_and_upload(state, &resolved))
                .await
        })
        .await
}

/// The stored record of `key`, if it is good.
async fn lookup(state: &State, key: &AssetKey) -> Result<Option<AssetBuilt>, JobFailure> {
    let Some(bytes) = state.bucket.get_record(&record_key(key)).await? else {
        return Ok(None);
    };
    let statement = match SignedRecord::from_json(&bytes).and_then(|r| r.verify(&state.public)) {
        Ok(statement) if statement.key == *key => statement,
        Ok(statement) => {
            tracing::warn!(%key, named = %statement.key, "stored record names another key; rebuilding");
            return Ok(None);
        }
        Err(error) => {
            tracing::warn!(%key, %error, "stored record does not verify; rebuilding");
            return Ok(None);
        }
    };
    let blob = state.bucket.size(&object_key(&statement.sha256)).await?;
    if blob != Some(statement.size) {
        tracing::warn!(%key, ?blob, expected = statement.size, "stored blob missing or wrong size; rebuilding");
        return Ok(None);
    }
    let record = String::from_utf8(bytes.to_vec())
        .map_err(|e| JobFailure::Failed(format!("stored record of {key} is not UTF-8: {e}")))?;
    Ok(Some(AssetBuilt { record }))
}

async fn build_and_upload(
    state: &State,
    resolved: &ResolvedAsset,
) -> Result<AssetBuilt, JobFailure> {
    let key = &resolved.key;
    let scratch = tempfile::Builder::new()
        .prefix("asset-")
        .tempdir_in(&state.work_root)
        .map_err(|e| JobFailure::Failed(format!("creating build scratch: {e}")))?;
    let out = scratch.path().join("artifact");
    let ctx = BuildContext {
        puller: &state.puller,
        external_url: &state.external_url,
        work_root: &state.work_root,
    };
    state.counters.builds.add(Kind::Asset);
    let started = std::time::Instant::now();
    let artifact = build(&ctx, &resolved.profile, &resolved.schematic, &out).await?;
    let built_in = started.elapsed();
    let uploaded = state
        .bucket
        .upload_file(&object_key(&artifact.sha256), &artifact.path, artifact.size)
        .await?;
    let file_name = resolved.profile.output.file_name();
    let statement = AssetStatement {
        key: key.clone(),
        size: artifact.size,
        sha256: artifact.sha256.clone(),
        sha512: artifact.sha512.clone(),
        media_type: mime::content_type(&file_name).to_owned(),
        file_name,
        built_at: now_unix(),
    };
    let record = sign_record(&state.key, &statement)
        .map_err(|e| JobFailure::Failed(format!("signing the record of {key}: {e}")))?
        .to_json();
    state
        .bucket
        .put_bytes(&record_key(key), bytes::Bytes::from(record.clone()))
        .await?;
    tracing::info!(
        %key,
        size = artifact.size,
        sha256 = %artifact.sha256,
        uploaded,
        build_ms = built_in.as_millis() as u64,
        "asset built"
    );
    Ok(AssetBuilt { record })
}
