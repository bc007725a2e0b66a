//! The one place where failures become HTTP statuses and public messages.
//!
//! Domain modules return typed errors and know nothing of HTTP. Here each is
//! given its status and the exact text upstream answers with (plain text plus
//! a newline, as Go's `http.Error`), or, on the registry, OCI error JSON. The
//! internal detail of a 500 is never sent to the client; it is attached to
//! the response as [`InternalError`] for the adapter to log.

use http::StatusCode;

use crate::registry::{OciError, OciErrorCode, error_body};
use crate::version::TalosVersion;

use super::platform::PlatformError;
use super::response::{self, Response};

/// Attached to responses whose cause the client does not see (5xx), so the
/// adapter can log it without the conversion having side effects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalError(pub String);

/// A failure on its way to becoming a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// Set on registry routes: the OCI error code to report.
    pub(crate) oci_code: Option<OciErrorCode>,
    /// Logged, never shown.
    pub(crate) internal: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            oci_code: None,
            internal: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// Upstream's text for an unknown schematic on asset, PXE and registry routes.
    pub(crate) fn schematic_not_found(id: &str) -> Self {
        ApiError::not_found(format!("schematic ID {id:?} not found"))
    }

    /// Upstream's text for a well-formed version that is not served.
    pub(crate) fn version_not_available(version: &TalosVersion) -> Self {
        ApiError::not_found(format!("version {} is not available", version.without_v()))
    }

    /// Marks the error as a registry error with an OCI code.
    pub(crate) fn oci(mut self, code: OciErrorCode) -> Self {
        self.oci_code = Some(code);
        self
    }

    /// Plain-text rendering (`http.Error` style).
    pub(crate) fn into_text_response<O>(self) -> Response<O> {
        let mut response = response::text(self.status, &self.message);
        if let Some(detail) = self.internal {
            response.extensions_mut().insert(InternalError(detail));
        }
        response
    }

    /// OCI error JSON rendering (registry routes). The status is ours, not
    /// the code's default, so that e.g. a build failure stays a 500.
    pub(crate) fn into_oci_response<O>(self) -> Response<O> {
        let code = self.oci_code.unwrap_or(match self.status {
            StatusCode::NOT_FOUND => OciErrorCode::NameUnknown,
            StatusCode::BAD_REQUEST => OciErrorCode::NameInvalid,
            StatusCode::UNAUTHORIZED => OciErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => OciErrorCode::Denied,
            StatusCode::TOO_MANY_REQUESTS => OciErrorCode::TooManyRequests,
            _ => OciErrorCode::Unsupported,
        });
        let body = error_body(&[OciError {
            code,
            message: self.message,
            detail: None,
        }]);
        let mut response = response::with_body(self.status, response::APPLICATION_JSON, body);
        if let Some(detail) = self.internal {
            response.extensions_mut().insert(InternalError(detail));
        }
        response
    }
}

impl From<PlatformError> for ApiError {
    fn from(err: PlatformError) -> Self {
        match err {
            PlatformError::Unavailable(reason) => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: format!("service unavailable: {reason}"),
                oci_code: None,
                internal: Some(reason),
            },
            PlatformError::BuildFailed(reason) => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("build failed: {reason}"),
                oci_code: None,
                internal: Some(reason),
            },
            PlatformError::Internal(detail) => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "internal server error".to_owned(),
                oci_code: None,
                internal: Some(detail),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_logged_not_shown() {
        let api: ApiError = PlatformError::Internal("disk on fire".into()).into();
        let response = api.into_text_response::<()>();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.body().as_bytes().unwrap(),
            b"internal server error\n"
        );
        assert_eq!(
            response.extensions().get::<InternalError>(),
            Some(&InternalError("disk on fire".into()))
        );
    }

    #[test]
    fn registry_errors_are_oci_json() {
        let response = ApiError::schematic_not_found("abc").into_oci_response::<()>();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = std::str::from_utf8(response.body().as_bytes().unwrap()).unwrap();
        assert!(body.contains("\"code\":\"NAME_UNKNOWN\""), "{body}");
        assert!(
            body.contains("schematic ID \\\"abc\\\" not found"),
            "{body}"
        );
    }
}
