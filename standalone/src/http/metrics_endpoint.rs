//! The Prometheus endpoint, on its own listener (`--metrics-listen`) so
//! that metrics are never exposed on the public address by accident.
//!
//! `GET /metrics` answers the OpenMetrics text of [`Metrics::encode`];
//! anything else is 404.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body_util::Full;
use image_factory::metrics::Metrics;

/// The OpenMetrics content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers one request on the metrics listener.
pub(crate) async fn metrics_request<B>(
    metrics: Arc<Metrics>,
    request: http::Request<B>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let found = request.uri().path() == "/metrics"
        && matches!(*request.method(), Method::GET | Method::HEAD);
    let (status, content_type, body) = if found {
        (StatusCode::OK, OPENMETRICS, metrics.encode())
    } else {
        (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        )
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    Ok(response)
}
