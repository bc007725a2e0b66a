//! The HTTP, PXE and registry frontends, written once for every deployment.
//!
//! [`Frontend::handle`] turns an `http::Request` into an `http::Response`
//! whose body is either bytes made here or an object the adapter streams.
//! Everything a client can observe (routes, statuses, headers, bodies, the
//! exact upstream error texts) is decided in this module; the [`Platform`]
//! supplies storage, catalogs and builds. Adapters stay a few lines: convert
//! the request (reading at most [`MAX_REQUEST_BODY`] + 1 body bytes), call
//! `handle`, convert the response.

mod cors;
mod error;
mod handlers;
mod installer_request;
pub mod memory;
mod platform;
mod range;
mod response;
mod router;

use bytes::Bytes;
use http::{Method, StatusCode, header};

pub use cors::CorsPolicy;
pub use error::InternalError;
pub use installer_request::installer_request;
pub use platform::{
    AssetRecord, BlobDelivery, Delivery, DeliveryRequest, InstallerArch, InstallerRequest,
    ManifestRecord, Platform, PlatformError, Readiness,
};
pub use range::ByteRange;
pub use response::{Body, Cacheable, Response};

/// A request as adapters hand it over: the body already read (bounded).
pub type Request = http::Request<Bytes>;

/// The largest request body any route accepts (a schematic); larger bodies
/// are refused with 413 before parsing. Adapters should stop reading after
/// this many bytes plus one.
pub const MAX_REQUEST_BODY: usize = crate::schematic::MAX_SCHEMATIC_BYTES;

/// Deployment settings the frontend needs.
#[derive(Debug, Clone)]
pub struct FrontendConfig {
    /// Public base URL of the factory (`https://factory.example.com/`).
    pub external_url: String,
    /// Public base URL for iPXE (plain HTTP host); defaults to `external_url`.
    /// Requests arriving on this host are never redirected.
    pub pxe_url: Option<String>,
    /// Our release, shown in the `Server` header (`Image Factory <version>`).
    pub server_version: String,
    /// CORS policy.
    pub cors: CorsPolicy,
    /// Whether SecureBoot assets can be built (keys configured).
    pub secureboot_enabled: bool,
}

impl FrontendConfig {
    /// A factory at `external_url` with every other setting at its default:
    /// iPXE on the same host, the default CORS policy, SecureBoot off, and
    /// this crate's version in the `Server` header.
    pub fn at(external_url: impl Into<String>) -> FrontendConfig {
        FrontendConfig {
            external_url: external_url.into(),
            pxe_url: None,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            cors: CorsPolicy::default(),
            secureboot_enabled: false,
        }
    }
}

/// A configuration value the frontend cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {value:?}: must be an absolute http or https URL with a host")]
pub struct ConfigError {
    /// Which setting.
    pub field: &'static str,
    /// Its value.
    pub value: String,
}

/// The frontend over a platform.
#[derive(Debug)]
pub struct Frontend<P> {
    platform: P,
    config: FrontendConfig,
    pxe_base: String,
    pxe_authority: String,
}

impl<P: Platform> Frontend<P> {
    /// Validates the configuration and builds the frontend.
    pub fn new(platform: P, config: FrontendConfig) -> Result<Self, ConfigError> {
        let external_authority = url_authority("external URL", &config.external_url)?;
        let (pxe_base, pxe_authority) = match &config.pxe_url {
            Some(pxe) => (pxe.clone(), url_authority("PXE URL", pxe)?),
            None => (config.external_url.clone(), external_authority),
        };
        Ok(Frontend {
            platform,
            config,
            pxe_base,
            pxe_authority,
        })
    }

    /// The platform (adapters reach their own state through it).
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The configuration.
    pub fn config(&self) -> &FrontendConfig {
        &self.config
    }

    /// Answers one request. Never fails: every error is a response.
    pub async fn handle(&self, request: Request) -> Response<P::Object> {
        let request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .map(str::to_owned)
            .unwrap_or_else(|| self.platform.new_request_id());
        let mut response = match self
            .config
            .cors
            .preflight(request.method(), request.headers())
        {
            Some(preflight) => preflight,
            None => {
                let mut response = self.route(&request).await;
                self.config
                    .cors
                    .decorate(request.method(), request.headers(), &mut response);
                response
            }
        };
        let server = format!("Image Factory {}", self.config.server_version);
        response::set_header(&mut response, header::SERVER, &server);
        response::set_header(
            &mut response,
            header::HeaderName::from_static("x-request-id"),
            &request_id,
        );
        response
    }

    async fn route(&self, request: &Request) -> Response<P::Object> {
        let path = request.uri().path();
        let method = request.method();
        let Some((endpoint, methods)) = router::match_path(path) else {
            if let Some(target) = router::trailing_slash_redirect(path) {
                let status = if method == Method::GET {
                    StatusCode::MOVED_PERMANENTLY
                } else {
                    StatusCode::PERMANENT_REDIRECT
                };
                let location = match request.uri().query() {
                    Some(q) => format!("{target}?{q}"),
                    None => target,
                };
                let mut r = response::text(
                    status,
                    &format!("<a href=\"{location}\">{}</a>.", status_text(status)),
                );
                response::set_header(&mut r, header::LOCATION, &location);
                return r;
            }
            return response::text(StatusCode::NOT_FOUND, "404 page not found");
        };
        if !methods.contains(method) {
            let allow = router::allow_header(methods);
            let mut r = if method == Method::OPTIONS {
                response::empty(StatusCode::OK)
            } else {
                response::text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            };
            response::set_header(&mut r, header::ALLOW, &allow);
            return r;
        }
        self.dispatch(endpoint, request).await
    }

    /// Whether the request arrived on the PXE host (never redirected).
    fn on_pxe_host(&self, request: &Request) -> bool {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
        host.is_some_and(|h| h.eq_ignore_ascii_case(&self.pxe_authority))
    }
}

fn status_text(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("")
}

fn url_authority(field: &'static str, value: &str) -> Result<String, ConfigError> {
    let err = || ConfigError {
        field,
        value: value.to_owned(),
    };
    let uri: http::Uri = value.parse().map_err(|_| err())?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(err()),
    }
    uri.authority()
        .map(|a| a.as_str().to_owned())
        .filter(|a| !a.is_empty())
        .ok_or_else(err)
}
