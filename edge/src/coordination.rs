//! What the Worker and its `BuildCoordinator` Durable Object say to each
//! other, and how a builder answer is judged.
//!
//! The Worker posts a `BuildJob` to the object named after the job's key
//! ([`crate::keys`]); the object runs at most one builder call at a time for
//! that name, judges the answer with [`judge`] (every check of
//! `factory_core::dispatch::outcome`, with the configured public key), stores
//! what passed, and answers every waiting request with a [`Settled`] value or
//! a [`Failure`]. A refused builder answer is a [`FailureClass::Refused`],
//! which the Worker turns into `502 Bad Gateway` with the reason.

use factory_core::asset_key::AssetKey;
use factory_core::dispatch::{
    BuildJob, BuildOutcome, CatalogsRefreshed, DispatchFailure, FailureKind, OutcomeError,
    VerifiedInstaller, WireManifest,
};
use factory_core::frontend::PlatformError;
use factory_core::record::{AssetStatement, PublicKey};
use serde::{Deserialize, Serialize};

use crate::stored::StoredAsset;

/// A settled job, as the Durable Object answers it (200, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Settled {
    /// The stored asset.
    Asset(StoredAsset),
    /// The installer index, published.
    Installer {
        /// The index manifest.
        index: WireManifest,
    },
    /// Catalogs were refreshed and stored.
    Catalogs {
        /// How many versions upstream has.
        versions: usize,
    },
}

/// Why a job did not settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailureClass {
    /// The builder or storage is unreachable or overloaded (503).
    Unavailable,
    /// The build ran and failed; the message is for the client (500).
    BuildFailed,
    /// The builder's answer failed verification (502).
    Refused,
    /// Anything else (500, logged).
    Internal,
}

/// A job that did not settle (the Durable Object's non-200 JSON body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[error("{message}")]
pub struct Failure {
    /// The class.
    pub class: FailureClass,
    /// The reason.
    pub message: String,
}

impl Failure {
    /// A failure of `class`.
    pub fn new(class: FailureClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
        }
    }

    /// The status the Durable Object answers with.
    pub fn status(&self) -> u16 {
        match self.class {
            FailureClass::Unavailable => 503,
            FailureClass::BuildFailed | FailureClass::Internal => 500,
            FailureClass::Refused => 502,
        }
    }

    /// The frontend's view of it (a refusal is re-labelled 502 by the Worker).
    pub fn to_platform_error(&self) -> PlatformError {
        match self.class {
            FailureClass::Unavailable => PlatformError::Unavailable(self.message.clone()),
            FailureClass::BuildFailed => PlatformError::BuildFailed(self.message.clone()),
            FailureClass::Refused | FailureClass::Internal => {
                PlatformError::Internal(self.message.clone())
            }
        }
    }
}

/// How long a coordinator answers a failed build again without asking the
/// builder (the standalone's `--failure-ttl` default).
pub const BUILD_FAILURE_MEMORY_MS: u64 = 60_000;

/// A failure the coordinator repeats, until it expires, instead of calling
/// the builder again.
///
/// Only [`FailureClass::BuildFailed`] is remembered: the build ran with
/// these inputs and failed, and it fails the same way when asked again, so
/// retrying on every request (a client's retry loop, a boot storm of PXE
/// clients) would only keep the builder busy with hopeless builds. An
/// unavailable builder or store, a refused answer or an internal error say
/// nothing about the next attempt and are retried at once. Kept in the
/// object's memory only: an evicted object forgets, which errs on the side
/// of trying again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedFailure {
    failure: Failure,
    until_ms: u64,
}

impl RememberedFailure {
    /// `failure`, met at `now_ms`, if it is worth remembering.
    pub fn of(failure: &Failure, now_ms: u64) -> Option<RememberedFailure> {
        (failure.class == FailureClass::BuildFailed).then(|| RememberedFailure {
            failure: failure.clone(),
            until_ms: now_ms.saturating_add(BUILD_FAILURE_MEMORY_MS),
        })
    }

    /// The failure, if it has not expired at `now_ms`.
    pub fn at(&self, now_ms: u64) -> Option<&Failure> {
        (now_ms < self.until_ms).then_some(&self.failure)
    }
}

/// A builder answer that passed every check, ready to store.
#[derive(Debug, Clone)]
pub enum Verified {
    /// An asset: its statement and the signed record it came in.
    Asset(AssetStatement, String),
    /// An installer index and everything it references.
    Installer(Box<VerifiedInstaller>),
    /// Fresh catalogs.
    Catalogs(CatalogsRefreshed),
}

/// Judges the builder's answer (`status`, `body`) to `job`.
pub fn judge(
    job: &BuildJob,
    status: u16,
    body: &[u8],
    public: &PublicKey,
) -> Result<Verified, Failure> {
    if status != 200 {
        return Err(builder_failure(status, body));
    }
    let refused = |e: OutcomeError| {
        Failure::new(
            FailureClass::Refused,
            format!("builder answer refused: {e}"),
        )
    };
    let outcome = BuildOutcome::from_json(body).map_err(refused)?;
    let wrong_kind = |actual: &BuildOutcome| {
        refused(OutcomeError::WrongKind {
            expected: job.kind(),
            actual: actual.kind(),
        })
    };
    match (job, &outcome) {
        (BuildJob::Asset(asked), BuildOutcome::Asset(built)) => {
            let key: AssetKey = asked
                .key
                .parse()
                .map_err(|e| Failure::new(FailureClass::Internal, format!("job key: {e}")))?;
            let statement = built.verify(public, &key).map_err(refused)?;
            Ok(Verified::Asset(statement, built.record.clone()))
        }
        (BuildJob::Installer(asked), BuildOutcome::Installer(built)) => {
            let repository = asked
                .repository()
                .map_err(|e| Failure::new(FailureClass::Internal, format!("job: {e}")))?;
            let verified = built
                .verify(public, &repository, &asked.version)
                .map_err(refused)?;
            Ok(Verified::Installer(Box::new(verified)))
        }
        (BuildJob::RefreshCatalogs, BuildOutcome::Catalogs(catalogs)) => {
            Ok(Verified::Catalogs(catalogs.clone()))
        }
        (_, other) => Err(wrong_kind(other)),
    }
}

/// A non-200 builder answer, classified by its `DispatchFailure` body.
fn builder_failure(status: u16, body: &[u8]) -> Failure {
    match serde_json::from_slice::<DispatchFailure>(body) {
        Ok(failure) => {
            let class = match failure.kind {
                FailureKind::BuildFailed => FailureClass::BuildFailed,
                FailureKind::Unavailable => FailureClass::Unavailable,
                // Unauthorized, a bad job, a key mismatch: the edge and the
                // builder disagree (secret, code or catalogs); logged, 500.
                _ => FailureClass::Internal,
            };
            let message = match class {
                FailureClass::BuildFailed => failure.message,
                _ => format!("builder answered {status}: {}", failure.message),
            };
            Failure::new(class, message)
        }
        Err(_) => {
            let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
            let class = if matches!(status, 429 | 502 | 503 | 504) {
                FailureClass::Unavailable
            } else {
                FailureClass::Internal
            };
            Failure::new(class, format!("builder answered {status}: {text}"))
        }
    }
}

/// The Durable Object name, expected repository or key, of a job.
pub fn coordinator_name(job: &BuildJob) -> Result<String, Failure> {
    match job {
        BuildJob::Asset(asset) => {
            let key: AssetKey = asset
                .key
                .parse()
                .map_err(|e| Failure::new(FailureClass::Internal, format!("job key: {e}")))?;
            Ok(crate::keys::asset_coordinator(&key))
        }
        BuildJob::Installer(installer) => {
            let repository = installer
                .repository()
                .map_err(|e| Failure::new(FailureClass::Internal, format!("job: {e}")))?;
            Ok(crate::keys::installer_coordinator(
                &repository,
                &installer.version,
            ))
        }
        BuildJob::RefreshCatalogs => Ok(crate::keys::CATALOG_COORDINATOR.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use factory_core::catalog::ReleaseCatalog;
    use factory_core::dispatch::AssetJob;

    use super::*;

    fn public() -> PublicKey {
        PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEz4kS0pCdgXtEzQ3BKNdKDeJGq2LC\nYQsCQRCnVpYKCpgujVRNvdv8BHlq0PPGskuL8wytRjszNleWWUI5Bi+mMQ==\n-----END PUBLIC KEY-----\n").unwrap()
    }

    fn asset_job() -> BuildJob {
        BuildJob::Asset(AssetJob {
            key: "a".repeat(64),
            path: "kernel-amd64".into(),
            version: "v1.12.4".into(),
            schematic: None,
            catalog: ReleaseCatalog::default(),
            secureboot: false,
        })
    }

    #[test]
    fn builder_failures_are_classified() {
        let body = br#"{"kind":"buildFailed","message":"no such extension"}"#;
        let f = judge(&asset_job(), 500, body, &public()).unwrap_err();
        assert_eq!(
            f,
            Failure::new(FailureClass::BuildFailed, "no such extension")
        );
        let f = judge(&asset_job(), 503, b"<html>", &public()).unwrap_err();
        assert_eq!(f.class, FailureClass::Unavailable);
        let f = judge(
            &asset_job(),
            401,
            br#"{"kind":"unauthorized","message":"bad request signature"}"#,
            &public(),
        )
        .unwrap_err();
        assert_eq!(f.class, FailureClass::Internal);
        assert!(f.message.contains("bad request signature"));
    }

    #[test]
    fn only_failed_builds_are_remembered_and_only_for_a_while() {
        let failed = Failure::new(FailureClass::BuildFailed, "digest mismatch");
        let remembered = RememberedFailure::of(&failed, 1_000).unwrap();
        assert_eq!(remembered.at(1_000), Some(&failed));
        assert_eq!(
            remembered.at(1_000 + BUILD_FAILURE_MEMORY_MS - 1),
            Some(&failed)
        );
        assert_eq!(remembered.at(1_000 + BUILD_FAILURE_MEMORY_MS), None);
        for class in [
            FailureClass::Unavailable,
            FailureClass::Refused,
            FailureClass::Internal,
        ] {
            assert_eq!(
                RememberedFailure::of(&Failure::new(class, "x"), 1_000),
                None
            );
        }
    }

    #[test]
    fn unverifiable_answers_are_refused() {
        let forged = serde_json::json!({"kind": "asset", "record": "{\"statement\":\"e30=\",\"signature\":\"MEUC\",\"keyId\":\"00\"}"});
        let f = judge(&asset_job(), 200, forged.to_string().as_bytes(), &public()).unwrap_err();
        assert_eq!(f.class, FailureClass::Refused);
        assert_eq!(f.status(), 502);
        let wrong = br#"{"kind":"catalogs","versions":[],"releases":{}}"#;
        let f = judge(&asset_job(), 200, wrong, &public()).unwrap_err();
        assert_eq!(f.class, FailureClass::Refused);
        assert!(
            f.message.contains("catalogs outcome to a asset job"),
            "{}",
            f.message
        );
        let f = judge(&asset_job(), 200, b"not json", &public()).unwrap_err();
        assert_eq!(f.class, FailureClass::Refused);
    }

    #[test]
    fn catalog_answers_pass_and_names_follow_keys() {
        let ok = br#"{"kind":"catalogs","versions":["v1.12.4"],"releases":{}}"#;
        assert!(matches!(
            judge(&BuildJob::RefreshCatalogs, 200, ok, &public()).unwrap(),
            Verified::Catalogs(_)
        ));
        assert_eq!(
            coordinator_name(&asset_job()).unwrap(),
            format!("asset:{}", "a".repeat(64))
        );
        assert_eq!(
            coordinator_name(&BuildJob::RefreshCatalogs).unwrap(),
            "catalogs"
        );
    }
}
