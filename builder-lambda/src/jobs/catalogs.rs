//! Catalog refreshes (in a build slot, within the build timeout): every upstream version, and the release catalog of
//! each one upstream can describe. No version policy is applied here (the
//! edge applies its own); a release whose catalog cannot be read is left
//! out and logged, so one broken tag does not hide the others.

use std::collections::BTreeMap;

use factory_core::catalog::VersionPolicy;
use factory_core::dispatch::CatalogsRefreshed;
use factory_core::version::TalosVersion;
use factory_imager::catalog::{CatalogError, release, versions};

use super::JobFailure;
use crate::counters::Kind;
use crate::state::State;

/// Runs a refresh (one at a time per process).
pub async fn run(state: &State) -> Result<CatalogsRefreshed, JobFailure> {
    state
        .flights
        .run("refreshCatalogs", state.in_build_slot("the catalogs", async {
            state.counters.builds.add(Kind::RefreshCatalogs);
            let everything = VersionPolicy {
                min_version: TalosVersion::new(0, 0, 0),
                broken: Vec::new(),
            };
            let found = versions(&state.puller, &everything)
                .await
                .map_err(catalog_failure)?;
            let mut releases = BTreeMap::new();
            for version in &found {
                match release(&state.puller, version).await {
                    Ok(catalog) => {
                        releases.insert(version.tag(), catalog);
                    }
                    Err(error) => {
                        tracing::warn!(%version, %error, "release catalog unreadable; left out");
                    }
                }
            }
            Ok(CatalogsRefreshed {
                versions: found.iter().map(TalosVersion::tag).collect(),
                releases,
            })
        }))
        .await
}

fn catalog_failure(error: CatalogError) -> JobFailure {
    match &error {
        CatalogError::Pull(pull) if pull.is_upstream_unavailable() => {
            JobFailure::Unavailable(format!("upstream registry: {error}"))
        }
        _ => JobFailure::Failed(format!("reading the versions: {error}")),
    }
}
