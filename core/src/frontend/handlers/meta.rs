//! Catalog routes: versions, official extensions and overlays, and the
//! public keys clients verify our signatures with.

use http::StatusCode;

use crate::quirks::Quirks;

use super::super::error::ApiError;
use super::super::response::{self, Response};
use super::super::{Frontend, Platform, Request};
use super::query_param;

impl<P: Platform> Frontend<P> {
    pub(super) async fn versions(
        &self,
        request: &Request,
    ) -> Result<Response<P::Object>, ApiError> {
        let versions = if query_param(request, "broken").as_deref() == Some("true") {
            self.platform.broken_versions().await?
        } else {
            self.platform.versions().await?
        };
        let tags: Vec<String> = versions.iter().map(|v| v.tag()).collect();
        Ok(response::go_json(StatusCode::OK, &tags))
    }

    pub(super) async fn extensions(
        &self,
        raw_version: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let version = self.available_version(raw_version).await?;
        let release = self.release(&version).await?;
        Ok(response::go_json(StatusCode::OK, &release.extensions))
    }

    pub(super) async fn overlays(
        &self,
        raw_version: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let version = self.available_version(raw_version).await?;
        if !Quirks::new(&version).supports_overlay() {
            return Ok(response::go_json(StatusCode::OK, &Vec::<String>::new()));
        }
        let release = self.release(&version).await?;
        Ok(response::go_json(StatusCode::OK, &release.overlays))
    }

    pub(super) fn cosign_public_key(&self) -> Result<Response<P::Object>, ApiError> {
        let pem = self
            .platform
            .cosign_public_key_pem()
            .ok_or_else(|| ApiError::not_found("no signing key is configured"))?;
        Ok(response::with_body(
            StatusCode::OK,
            "application/x-pem-file",
            pem,
        ))
    }

    pub(super) fn secureboot_cert(&self) -> Result<Response<P::Object>, ApiError> {
        // Upstream answers 500 here when SecureBoot is off; a 404 says what is wrong.
        let pem = self
            .platform
            .secureboot_cert_pem()
            .filter(|_| self.config.secureboot_enabled)
            .ok_or_else(|| ApiError::not_found("secure boot is disabled"))?;
        Ok(response::with_body(
            StatusCode::OK,
            "application/x-pem-file",
            pem,
        ))
    }
}
