//! `/v2/...`: the OCI distribution frontend for installer images.
//!
//! Manifests by version tag are built on demand (both architectures, signed)
//! and answered directly with the index bytes, saving upstream's extra
//! redirect round trip; manifests by digest, signature tags, blobs and
//! referrers come from storage and never trigger a build. Errors are OCI
//! error JSON. As upstream, an unknown schematic is reported before an
//! invalid image name.

use http::{Method, StatusCode, header};

use crate::catalog::latest_stable;
use crate::profile::ProfileContext;
use crate::registry::{
    self, InstallerImage, ManifestTag, OciErrorCode, Reference, RegistryRoute, Resource,
    media_types,
};
use crate::schematic::SchematicId;
use crate::version::TalosVersion;

use super::super::error::ApiError;
use super::super::installer_request::installer_request;
use super::super::platform::{BlobDelivery, InstallerRequest, ManifestRecord};
use super::super::response::{self, Body, Cacheable, Response};
use super::super::{Frontend, Platform, Request};
use super::image::redirect;
use super::{enhance_error, query_param};

const API_VERSION_HEADER: &str = "docker-distribution-api-version";

impl<P: Platform> Frontend<P> {
    pub(super) async fn registry(&self, request: &Request, rest: &str) -> Response<P::Object> {
        let mut response = match self.registry_inner(request, rest).await {
            Ok(r) => r,
            Err(e) => e.into_oci_response(),
        };
        response::set_header(
            &mut response,
            header::HeaderName::from_static(API_VERSION_HEADER),
            "registry/2.0",
        );
        if request.method() == Method::HEAD {
            response::without_body(response)
        } else {
            response
        }
    }

    async fn registry_inner(
        &self,
        request: &Request,
        rest: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let route = registry::route(rest).map_err(|e| {
            let oci = e.to_oci_error();
            let status = StatusCode::from_u16(oci.status()).unwrap_or(StatusCode::NOT_FOUND);
            ApiError::new(status, oci.message).oci(oci.code)
        })?;
        match route {
            RegistryRoute::Ping => Ok(response::with_body(
                StatusCode::OK,
                response::APPLICATION_JSON,
                "{}",
            )),
            RegistryRoute::SourceProxy { repository, .. } => Err(ApiError::not_found(format!(
                "repository siderolabs/{repository} is not proxied by this factory"
            ))
            .oci(OciErrorCode::NameUnknown)),
            RegistryRoute::Installer {
                image,
                schematic,
                resource,
            } => {
                let (id, schematic_doc) = self
                    .load_schematic(&schematic)
                    .await
                    .map_err(|e| e.oci(OciErrorCode::NameUnknown))?;
                let image: InstallerImage =
                    image.parse().map_err(|e: registry::InvalidImage| {
                        ApiError::bad_request(e.to_string()).oci(OciErrorCode::NameInvalid)
                    })?;
                let repository = image.repository(&id);
                match resource {
                    Resource::Manifest(Reference::Tag(tag)) => {
                        self.manifest_by_tag(&image, &id, &schematic_doc, &repository, &tag)
                            .await
                    }
                    Resource::Manifest(reference @ Reference::Digest(_)) => {
                        let record = self.platform.manifest(&repository, &reference).await?;
                        let record = record.ok_or_else(|| {
                            ApiError::not_found("manifest unknown")
                                .oci(OciErrorCode::ManifestUnknown)
                        })?;
                        // Content-addressed: a manifest by digest never changes.
                        let mut r = manifest_response(record);
                        response::mark_cacheable(&mut r, Cacheable::Immutable);
                        Ok(r)
                    }
                    Resource::Blob(digest) => match self.platform.blob(&repository, &digest).await?
                    {
                        Some(BlobDelivery::Redirect(url)) => {
                            Ok(redirect(StatusCode::TEMPORARY_REDIRECT, &url))
                        }
                        Some(BlobDelivery::Stream { object, size }) => {
                            let mut r = http::Response::new(Body::Object(object));
                            response::set_header(
                                &mut r,
                                header::CONTENT_TYPE,
                                "application/octet-stream",
                            );
                            response::set_header(&mut r, header::CONTENT_LENGTH, &size.to_string());
                            response::set_header(
                                &mut r,
                                header::HeaderName::from_static("docker-content-digest"),
                                &digest.to_string(),
                            );
                            Ok(r)
                        }
                        None => Err(ApiError::not_found("blob unknown to registry")
                            .oci(OciErrorCode::BlobUnknown)),
                    },
                    Resource::Referrers(digest) => {
                        let descriptors = self.platform.referrers(&repository, &digest).await?;
                        let filter = query_param(request, "artifactType");
                        let (body, filtered) =
                            registry::referrers_index(&descriptors, filter.as_deref());
                        let mut r =
                            response::with_body(StatusCode::OK, media_types::OCI_INDEX, body);
                        if filtered {
                            response::set_header(
                                &mut r,
                                header::HeaderName::from_static("oci-filters-applied"),
                                "artifactType",
                            );
                        }
                        Ok(r)
                    }
                    Resource::TagsList => Err(ApiError::not_found(
                        "tag listing is not supported for installer images",
                    )
                    .oci(OciErrorCode::Unsupported)),
                }
            }
        }
    }

    async fn manifest_by_tag(
        &self,
        image: &InstallerImage,
        id: &SchematicId,
        schematic: &crate::schematic::Schematic,
        repository: &str,
        tag: &str,
    ) -> Result<Response<P::Object>, ApiError> {
        let version = match registry::classify_tag(tag) {
            ManifestTag::Other(other) => {
                let record = self
                    .platform
                    .manifest(repository, &Reference::Tag(other))
                    .await?;
                let record = record.ok_or_else(|| {
                    ApiError::not_found("manifest unknown").oci(OciErrorCode::ManifestUnknown)
                })?;
                return Ok(manifest_response(record));
            }
            ManifestTag::Latest => {
                let versions = self.platform.versions().await?;
                latest_stable(&versions).cloned().ok_or_else(|| {
                    ApiError::not_found("no stable version is available")
                        .oci(OciErrorCode::ManifestUnknown)
                })?
            }
            // `latest` comes from the versions list itself; a named version must be in it.
            ManifestTag::Version(version) => self
                .ensure_available(version)
                .await
                .map_err(|e| e.oci(OciErrorCode::ManifestUnknown))?,
            ManifestTag::InvalidVersion(e) => {
                return Err(ApiError::not_found(e.to_string()).oci(OciErrorCode::ManifestUnknown));
            }
        };
        let request = self
            .installer_request(image, id, schematic, version)
            .await?;
        Ok(manifest_response(
            self.platform.installer_index(&request).await?,
        ))
    }

    async fn installer_request(
        &self,
        image: &InstallerImage,
        id: &SchematicId,
        schematic: &crate::schematic::Schematic,
        version: TalosVersion,
    ) -> Result<InstallerRequest, ApiError> {
        let release = self.release(&version).await?;
        let context = ProfileContext {
            version: &version,
            catalog: &release,
            secureboot_enabled: self.config.secureboot_enabled,
        };
        installer_request(image, schematic, id, &context)
            .map_err(|e| enhance_error(e).oci(OciErrorCode::ManifestInvalid))
    }
}

fn manifest_response<O>(record: ManifestRecord) -> Response<O> {
    let mut r = response::with_body(StatusCode::OK, &record.media_type, record.bytes);
    response::set_header(
        &mut r,
        header::HeaderName::from_static("docker-content-digest"),
        &record.digest.to_string(),
    );
    response::set_header(&mut r, header::ETAG, &format!("\"{}\"", record.digest));
    r
}
