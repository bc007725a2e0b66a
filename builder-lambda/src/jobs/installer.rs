//! Installer jobs: build both architectures' images, their index and its
//! cosign signature, upload every blob, and answer the manifests inline.
//!
//! The answer is kept in the bucket (`records/installer/<repository>/<tag>.json`)
//! after the blobs, and reused only if it still passes the edge's own check
//! ([`InstallerBuilt::verify`] with our public key) and every blob it lists
//! is present with its size. The build is reproducible, so a rebuild after
//! a lost answer gives the same digests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use factory_core::dispatch::job::ResolvedInstaller;
use factory_core::dispatch::{InstallerBuilt, InstallerJob, WireBlob, WireManifest, object_key};
use factory_core::frontend::ManifestRecord;
use factory_imager::build::{
    BuildContext, ManifestRole, PublishManifest, build_installer_index, installer_reference,
};

use super::JobFailure;
use crate::counters::Kind;
use crate::state::State;

/// The bucket key of the stored answer for `repository:tag`.
pub fn record_key(repository: &str, tag: &str) -> String {
    format!("records/installer/{repository}/{tag}.json")
}

/// Runs `job`.
pub async fn run(state: &State, job: &InstallerJob) -> Result<InstallerBuilt, JobFailure> {
    let resolved = job.resolve()?;
    let request = &resolved.request;
    let repository = request.repository();
    let tag = request.version.tag();
    let flight = format!("installer/{repository}:{tag}");
    state
        .flights
        .run(&flight, async {
            if let Some(found) = lookup(state, &repository, &tag).await? {
                return Ok(found);
            }
            state
                .in_build_slot(
                    &flight,
                    build_and_upload(state, &resolved, &repository, &tag),
                )
                .await
        })
        .await
}

async fn lookup(
    state: &State,
    repository: &str,
    tag: &str,
) -> Result<Option<InstallerBuilt>, JobFailure> {
    let Some(bytes) = state
        .bucket
        .get_record(&record_key(repository, tag))
        .await?
    else {
        return Ok(None);
    };
    let answer: InstallerBuilt = match serde_json::from_slice(&bytes) {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(repository, tag, %error, "stored installer answer is malformed; rebuilding");
            return Ok(None);
        }
    };
    if let Err(error) = answer.verify(&state.public, repository, tag) {
        tracing::warn!(repository, tag, %error, "stored installer answer does not verify; rebuilding");
        return Ok(None);
    }
    for blob in &answer.blobs {
        if state.bucket.size(&object_key(blob.digest.hex())).await? != Some(blob.size) {
            tracing::warn!(repository, tag, digest = %blob.digest, "installer blob missing; rebuilding");
            return Ok(None);
        }
    }
    Ok(Some(answer))
}

async fn build_and_upload(
    state: &State,
    resolved: &ResolvedInstaller,
    repository: &str,
    tag: &str,
) -> Result<InstallerBuilt, JobFailure> {
    let profiles: Vec<_> = resolved
        .request
        .arches
        .iter()
        .map(|a| a.profile.clone())
        .collect();
    let reference = installer_reference(&state.external_url, repository);
    let ctx = BuildContext {
        puller: &state.puller,
        external_url: &state.external_url,
        work_root: &state.work_root,
    };
    state.counters.builds.add(Kind::Installer);
    let built =
        build_installer_index(&ctx, &profiles, &resolved.schematic, &state.key, &reference).await?;
    let mut uploaded = 0usize;
    for blob in built.blobs() {
        let key = object_key(blob.descriptor.digest.hex());
        if state
            .bucket
            .upload_file(&key, &blob.path, blob.descriptor.size)
            .await?
        {
            uploaded += 1;
        }
    }
    let wire = |m: &PublishManifest<'_>| {
        WireManifest::from_record(&ManifestRecord {
            media_type: m.media_type.to_owned(),
            digest: m.digest.clone(),
            bytes: bytes::Bytes::copy_from_slice(m.bytes),
        })
    };
    let manifests = built.manifests();
    let pick = |role: ManifestRole| {
        manifests
            .iter()
            .find(|m| m.role == role)
            .map(wire)
            .ok_or_else(|| {
                JobFailure::Failed(format!("the installer build has no {role:?} manifest"))
            })
    };
    let answer = InstallerBuilt {
        repository: repository.to_owned(),
        tag: tag.to_owned(),
        index: pick(ManifestRole::Index)?,
        manifests: manifests
            .iter()
            .filter(|m| matches!(m.role, ManifestRole::Image(_)))
            .map(wire)
            .collect(),
        signature: pick(ManifestRole::Signature)?,
        signature_payload: BASE64.encode(built.signature().payload().bytes()),
        blobs: built
            .blobs()
            .iter()
            .map(|b| WireBlob {
                digest: b.descriptor.digest.clone(),
                size: b.descriptor.size,
            })
            .collect(),
    };
    // The edge will refuse anything that fails its check: fail here, with
    // the reason, instead.
    answer
        .verify(&state.public, repository, tag)
        .map_err(|e| JobFailure::Failed(format!("the built installer fails verification: {e}")))?;
    let json = serde_json::to_vec(&answer)
        .map_err(|e| JobFailure::Failed(format!("encoding the installer answer: {e}")))?;
    state
        .bucket
        .put_bytes(&record_key(repository, tag), bytes::Bytes::from(json))
        .await?;
    tracing::info!(repository, tag, index = %answer.index.digest, blobs = answer.blobs.len(), uploaded, "installer built");
    Ok(answer)
}
