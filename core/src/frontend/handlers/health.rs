//! Liveness, readiness, and the small static pages.

use http::StatusCode;

use super::super::platform::Readiness;
use super::super::response::{self, Response};
use super::super::{Frontend, Platform};

/// A short description of the API for language-model tools, as upstream serves one.
const LLMS_TXT: &str = include_str!("llms.txt");

/// A minimal landing page until the wizard exists: where the API is.
const ROOT_HTML: &str = include_str!("root.html");

impl<P: Platform> Frontend<P> {
    pub(super) fn healthz(&self) -> Response<P::Object> {
        response::empty(StatusCode::OK)
    }

    pub(super) async fn readyz(&self) -> Response<P::Object> {
        match self.platform.readiness().await {
            Readiness::Ready => response::empty(StatusCode::OK),
            Readiness::NotReady(reason) => response::text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("not ready: {reason}"),
            ),
        }
    }

    pub(super) fn llms_txt(&self) -> Response<P::Object> {
        response::with_body(StatusCode::OK, response::TEXT_PLAIN, LLMS_TXT)
    }

    pub(super) fn root(&self) -> Response<P::Object> {
        response::with_body(StatusCode::OK, "text/html; charset=utf-8", ROOT_HTML)
    }
}
