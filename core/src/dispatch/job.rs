//! What an edge asks a builder to do.
//!
//! Jobs carry inputs, never a profile: the builder re-derives the profile with
//! this crate ([`AssetJob::resolve`], [`InstallerJob::resolve`]) and checks it
//! arrives at the key the edge sent.

use serde::{Deserialize, Serialize};

use crate::asset_key::{AssetKey, asset_key};
use crate::catalog::ReleaseCatalog;
use crate::frontend::{InstallerRequest, installer_request};
use crate::image_path::{self, OutputKind};
use crate::profile::{BuildProfile, ProfileContext, build_profile};
use crate::registry::InstallerImage;
use crate::schematic::{Schematic, SchematicId};
use crate::version::TalosVersion;

use super::error::JobError;

/// The canonical YAML of the empty schematic, used for outputs whose profile
/// names no schematic (kernel, cmdline).
const EMPTY_SCHEMATIC: &str = "customization: {}\n";

/// One request to a builder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BuildJob {
    /// Build (or find) one boot asset.
    Asset(AssetJob),
    /// Build (or find) and sign the installer index of one schematic and version.
    Installer(InstallerJob),
    /// Read the versions and release catalogs from upstream.
    RefreshCatalogs,
}

impl BuildJob {
    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            BuildJob::Asset(_) => "asset",
            BuildJob::Installer(_) => "installer",
            BuildJob::RefreshCatalogs => "refreshCatalogs",
        }
    }
}

/// Build one boot asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetJob {
    /// The key the edge computed.
    pub key: String,
    /// The canonical output path (`metal-amd64.iso`, `kernel-amd64`).
    pub path: String,
    /// The Talos version (`v1.12.4`).
    pub version: String,
    /// The schematic's canonical YAML; absent for the kernel (the one
    /// output that reads nothing from the schematic), in which case the
    /// empty schematic is used. A `cmdline-*` profile names no schematic ID
    /// but carries the schematic's kernel args and META, so it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schematic: Option<String>,
    /// The release catalog the edge resolved the profile against.
    pub catalog: ReleaseCatalog,
    /// Whether the edge resolved with SecureBoot enabled.
    pub secureboot: bool,
}

/// A resolved asset job: what to build, and from which schematic.
#[derive(Debug, Clone)]
pub struct ResolvedAsset {
    /// The (checked) key.
    pub key: AssetKey,
    /// The profile to build.
    pub profile: BuildProfile,
    /// The schematic the profile came from.
    pub schematic: Schematic,
}

impl AssetJob {
    /// The job for `profile` (whose key is `key`), resolved against `catalog`;
    /// `schematic_yaml` is the canonical YAML of the request's schematic.
    pub fn new(
        key: &AssetKey,
        profile: &BuildProfile,
        schematic_yaml: Option<String>,
        catalog: ReleaseCatalog,
        secureboot: bool,
    ) -> AssetJob {
        AssetJob {
            key: key.as_str().to_owned(),
            path: profile.output.file_name(),
            version: profile.version.tag(),
            schematic: schematic_yaml.filter(|_| profile.output.kind != OutputKind::Kernel),
            catalog,
            secureboot,
        }
    }

    /// Re-derives the profile and checks its key.
    pub fn resolve(&self) -> Result<ResolvedAsset, JobError> {
        let yaml = self.schematic.as_deref().unwrap_or(EMPTY_SCHEMATIC);
        let (schematic, id) = parse_schematic(yaml)?;
        let version = parse_version(&self.version)?;
        let output = image_path::parse(&self.path).map_err(|e| JobError::Invalid {
            field: "path",
            reason: e.to_string(),
        })?;
        let ctx = ProfileContext {
            version: &version,
            catalog: &self.catalog,
            secureboot_enabled: self.secureboot,
        };
        let profile = build_profile(output, &schematic, id.as_str(), &ctx)
            .map_err(|e| JobError::Profile(e.to_string()))?;
        let key = asset_key(&profile);
        check_key(&self.key, &key)?;
        Ok(ResolvedAsset {
            key,
            profile,
            schematic,
        })
    }
}

/// Build and sign one installer index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallerJob {
    /// The image name (`installer`, `metal-installer-secureboot`, ...).
    pub image: String,
    /// The schematic's canonical YAML.
    pub schematic: String,
    /// The Talos version (`v1.12.4`).
    pub version: String,
    /// The release catalog the edge resolved against.
    pub catalog: ReleaseCatalog,
    /// Whether the edge resolved with SecureBoot enabled.
    pub secureboot: bool,
    /// The per-architecture keys the edge computed, amd64 first.
    pub keys: Vec<String>,
}

/// A resolved installer job.
#[derive(Debug, Clone)]
pub struct ResolvedInstaller {
    /// The request, as the edge's frontend made it.
    pub request: InstallerRequest,
    /// The schematic.
    pub schematic: Schematic,
}

impl InstallerJob {
    /// The job for `request`, whose schematic's canonical YAML is
    /// `schematic_yaml`, resolved against `catalog`.
    pub fn new(
        request: &InstallerRequest,
        schematic_yaml: String,
        catalog: ReleaseCatalog,
        secureboot: bool,
    ) -> InstallerJob {
        InstallerJob {
            image: request.image.name(),
            schematic: schematic_yaml,
            version: request.version.tag(),
            catalog,
            secureboot,
            keys: request
                .arches
                .iter()
                .map(|a| a.key.as_str().to_owned())
                .collect(),
        }
    }

    /// The repository the index is published under (`<image>/<schematic id>`).
    pub fn repository(&self) -> Result<String, JobError> {
        let (_, id) = parse_schematic(&self.schematic)?;
        Ok(format!("{}/{}", self.image, id.as_str()))
    }

    /// Re-derives the request and checks every key.
    pub fn resolve(&self) -> Result<ResolvedInstaller, JobError> {
        let (schematic, id) = parse_schematic(&self.schematic)?;
        let version = parse_version(&self.version)?;
        let image: InstallerImage = self.image.parse().map_err(|e| JobError::Invalid {
            field: "image",
            reason: format!("{e}"),
        })?;
        let ctx = ProfileContext {
            version: &version,
            catalog: &self.catalog,
            secureboot_enabled: self.secureboot,
        };
        let request = installer_request(&image, &schematic, &id, &ctx)
            .map_err(|e| JobError::Profile(e.to_string()))?;
        if request.arches.len() != self.keys.len() {
            return Err(JobError::KeyMismatch {
                expected: self.keys.join(","),
                actual: keys_of(&request),
            });
        }
        for (arch, expected) in request.arches.iter().zip(&self.keys) {
            check_key(expected, &arch.key).map_err(|_| JobError::KeyMismatch {
                expected: self.keys.join(","),
                actual: keys_of(&request),
            })?;
        }
        Ok(ResolvedInstaller { request, schematic })
    }
}

fn keys_of(request: &InstallerRequest) -> String {
    request
        .arches
        .iter()
        .map(|a| a.key.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn check_key(expected: &str, actual: &AssetKey) -> Result<(), JobError> {
    if expected == actual.as_str() {
        Ok(())
    } else {
        Err(JobError::KeyMismatch {
            expected: expected.to_owned(),
            actual: actual.as_str().to_owned(),
        })
    }
}

/// Parses canonical YAML and checks it *is* canonical, so the ID the
/// builder names (in the schematic extension, in repositories) is the one the
/// edge stored it under.
fn parse_schematic(yaml: &str) -> Result<(Schematic, SchematicId), JobError> {
    let schematic = Schematic::parse(yaml.as_bytes()).map_err(|e| JobError::Invalid {
        field: "schematic",
        reason: e.to_string(),
    })?;
    if schematic.canonical_yaml() != yaml {
        return Err(JobError::Invalid {
            field: "schematic",
            reason: "not in canonical form".into(),
        });
    }
    let id = schematic.id();
    Ok((schematic, id))
}

fn parse_version(raw: &str) -> Result<TalosVersion, JobError> {
    raw.parse().map_err(|e| JobError::Invalid {
        field: "version",
        reason: format!("{e}"),
    })
}
