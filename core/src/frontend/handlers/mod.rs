//! Request handlers, one file per group of routes, and the lookups they share.

mod health;
mod image;
mod meta;
mod pxe;
mod registry;
mod schematics;
mod talosctl;

use http::StatusCode;

use crate::catalog::ReleaseCatalog;
use crate::image_path::{self, ImagePath};
use crate::profile::{BuildProfile, ProfileContext, build_profile};
use crate::schematic::{Schematic, SchematicId};
use crate::version::TalosVersion;

use super::error::ApiError;
use super::router::Endpoint;
use super::{Frontend, Platform, Request, Response};

impl<P: Platform> Frontend<P> {
    pub(super) async fn dispatch(
        &self,
        endpoint: Endpoint,
        request: &Request,
    ) -> Response<P::Object> {
        let result = match endpoint {
            Endpoint::Root => Ok(self.root()),
            Endpoint::Healthz => Ok(self.healthz()),
            Endpoint::Readyz => Ok(self.readyz().await),
            Endpoint::LlmsTxt => Ok(self.llms_txt()),
            Endpoint::SchematicCreate => self.create_schematic(request).await,
            Endpoint::SchematicGet { id } => self.get_schematic(&id).await,
            Endpoint::Versions => self.versions(request).await,
            Endpoint::Extensions { version } => self.extensions(&version).await,
            Endpoint::Overlays { version } => self.overlays(&version).await,
            Endpoint::CosignPublicKey => self.cosign_public_key(),
            Endpoint::SecureBootCert => self.secureboot_cert(),
            Endpoint::Image {
                schematic,
                version,
                path,
            } => self.image(request, &schematic, &version, &path).await,
            Endpoint::Pxe {
                schematic,
                version,
                path,
            } => self.pxe(&schematic, &version, &path).await,
            Endpoint::TalosctlList { version } => self.talosctl_list(&version).await,
            Endpoint::Talosctl { version, path } => self.talosctl(request, &version, &path).await,
            Endpoint::Registry { rest } => return self.registry(request, &rest).await,
        };
        let response = result.unwrap_or_else(ApiError::into_text_response);
        if request.method() == http::Method::HEAD {
            super::response::without_body(response)
        } else {
            response
        }
    }

    /// Loads a schematic by the ID in a path. Malformed IDs are reported as
    /// unknown, as upstream does.
    pub(super) async fn load_schematic(
        &self,
        id: &str,
    ) -> Result<(SchematicId, Schematic), ApiError> {
        let parsed: SchematicId = id.parse().map_err(|_| ApiError::schematic_not_found(id))?;
        let yaml = self
            .platform
            .get_schematic(&parsed)
            .await?
            .ok_or_else(|| ApiError::schematic_not_found(id))?;
        let schematic = Schematic::parse(yaml.as_bytes()).map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal server error".into(),
            oci_code: None,
            internal: Some(format!("stored schematic {id} does not parse: {e}")),
        })?;
        Ok((parsed, schematic))
    }

    /// Parses a version from a path (400 if malformed) and checks that it is
    /// served (404 with upstream's text if not).
    pub(super) async fn available_version(&self, raw: &str) -> Result<TalosVersion, ApiError> {
        self.ensure_available(parse_version(raw)?).await
    }

    /// Checks that a version is served (404 with upstream's text if not).
    pub(super) async fn ensure_available(
        &self,
        version: TalosVersion,
    ) -> Result<TalosVersion, ApiError> {
        let versions = self.platform.versions().await?;
        if versions.contains(&version) {
            Ok(version)
        } else {
            Err(ApiError::version_not_available(&version))
        }
    }

    /// Resolves the parameters of `/image` and `/pxe` into a build profile,
    /// checking in upstream's order: schematic (404), version syntax (400),
    /// path (400), version availability (404), schematic rules (400).
    pub(super) async fn resolve_profile(
        &self,
        schematic_id: &str,
        raw_version: &str,
        path: &str,
    ) -> Result<(SchematicId, BuildProfile), ApiError> {
        let (id, schematic) = self.load_schematic(schematic_id).await?;
        let version = parse_version(raw_version)?;
        let output = image_path::parse(path)
            .map_err(|e| ApiError::bad_request(format!("error parsing profile from path: {e}")))?;
        let version = self.ensure_available(version).await?;
        let release = self.release(&version).await?;
        let profile = self.profile_in(&release, output, &schematic, &id, &version)?;
        Ok((id, profile))
    }

    /// Applies a schematic to an output for a version whose catalog is known.
    pub(super) fn profile_in(
        &self,
        release: &ReleaseCatalog,
        output: ImagePath,
        schematic: &Schematic,
        id: &SchematicId,
        version: &TalosVersion,
    ) -> Result<BuildProfile, ApiError> {
        let context = ProfileContext {
            version,
            catalog: release,
            secureboot_enabled: self.config.secureboot_enabled,
        };
        build_profile(output, schematic, id.as_str(), &context).map_err(enhance_error)
    }

    /// The catalog of an available version.
    pub(super) async fn release(&self, version: &TalosVersion) -> Result<ReleaseCatalog, ApiError> {
        Ok(self.platform.release(version).await?)
    }
}

/// Parses a version from a path: 400 with a clear message if malformed
/// (upstream answers 500).
pub(super) fn parse_version(raw: &str) -> Result<TalosVersion, ApiError> {
    raw.parse()
        .map_err(|e: crate::version::InvalidVersion| ApiError::bad_request(e.to_string()))
}

/// A schematic/version combination the profile rules refuse, worded as upstream.
pub(super) fn enhance_error(err: crate::profile::ProfileError) -> ApiError {
    ApiError::bad_request(format!("error enhancing profile from schematic: {err}"))
}

/// The value of a query parameter, percent-decoded.
pub(super) fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
