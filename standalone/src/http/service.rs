//! One request, end to end: read it (bounded), answer it from the
//! [`ResponseCache`] or let the frontend answer (offering the answer to the
//! cache), record metrics, log, and convert the answer into a hyper
//! response.
//!
//! Nothing here decides a status or a header: the frontend did (a cache hit
//! replays what it decided, with a fresh request ID). The only response made
//! here is the 400 for a request body that could not be read (the client
//! broke the connection mid-body), which never reaches the frontend.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use factory_core::frontend::{Body, Frontend, InternalError, Request, Response};
use http::StatusCode;
use image_factory::metrics::{Metrics, RequestLabels};

use super::body::ResponseBody;
use super::cache::ResponseCache;
use super::object::StreamObject;
use super::request::read_bounded;
use super::served::ServedPlatform;

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct AppState<P> {
    /// The frontend over the platform.
    pub(crate) frontend: Arc<Frontend<P>>,
    /// Process metrics.
    pub(crate) metrics: Arc<Metrics>,
    /// Answers the frontend marked cacheable.
    pub(crate) cache: ResponseCache,
}

/// Answers one hyper request. Never fails: every problem is a response.
pub(crate) async fn serve_request<P, B>(
    state: Arc<AppState<P>>,
    request: http::Request<B>,
) -> Result<http::Response<ResponseBody>, Infallible>
where
    P: ServedPlatform,
    P::Object: StreamObject,
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let started = Instant::now();
    let method = request.method().clone();
    // For the log lines only: a reference-counted copy, not a new string.
    let uri = request.uri().clone();
    let sent = state.metrics.bytes_sent.clone();
    let response = match read_bounded(request).await {
        Ok(request) => {
            let response = respond(&state, request).await;
            let (parts, body) = response.into_parts();
            let body = match body {
                Body::Empty => ResponseBody::empty(sent),
                Body::Bytes(bytes) => ResponseBody::full(bytes, sent),
                Body::Object(object) => object.into_body(sent),
            };
            http::Response::from_parts(parts, body)
        }
        Err(e) => {
            let message = format!("reading request body: {e}\n");
            let mut r = http::Response::new(ResponseBody::full(Bytes::from(message), sent));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
    };
    let status = response.status();
    let seconds = started.elapsed().as_secs_f64();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.as_str().to_owned(),
            status: status.as_u16(),
        })
        .inc();
    state.metrics.request_seconds.observe(seconds);
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A 5xx whose cause the client does not see is logged with the cause;
    // everything else (503s with their reason in the body included: the
    // catalog task already logs an unreachable upstream) is debug-level.
    match response.extensions().get::<InternalError>() {
        Some(InternalError(detail)) if status.is_server_error() => {
            tracing::warn!(%method, path = uri.path(), status = status.as_u16(), seconds, request_id, detail, "request failed");
        }
        _ => {
            tracing::debug!(%method, path = uri.path(), status = status.as_u16(), seconds, request_id, "request");
        }
    }
    Ok(response)
}

/// The frontend's answer to `request`, from the cache when it holds one.
async fn respond<P>(state: &Arc<AppState<P>>, request: Request) -> Response<P::Object>
where
    P: ServedPlatform,
    P::Object: StreamObject,
{
    let Some(key) = state.cache.key_of(&request) else {
        return P::respond(Arc::clone(&state.frontend), request).await;
    };
    if let Some(hit) = state.cache.get(&key) {
        state.metrics.response_cache_hits.inc();
        return hit.replay(&state.frontend.platform().new_request_id());
    }
    state.metrics.response_cache_misses.inc();
    let generation = state.cache.generation();
    let response = P::respond(Arc::clone(&state.frontend), request).await;
    state.cache.offer(key, generation, &response);
    response
}

#[cfg(test)]
mod tests {
    use super::super::cache::CacheLimits;
    use super::*;
    use factory_core::frontend::FrontendConfig;
    use factory_core::frontend::memory::MemoryPlatform;
    use http_body_util::{BodyExt, Full};

    fn state() -> Arc<AppState<MemoryPlatform>> {
        let frontend = Frontend::new(
            MemoryPlatform::new(Vec::new()),
            FrontendConfig::at("http://127.0.0.1:8080/"),
        )
        .unwrap();
        Arc::new(AppState {
            frontend: Arc::new(frontend),
            metrics: Arc::new(Metrics::new()),
            cache: ResponseCache::new(CacheLimits::default()),
        })
    }

    async fn call(
        state: &Arc<AppState<MemoryPlatform>>,
        method: &str,
        uri: &str,
        body: &'static [u8],
    ) -> (StatusCode, http::HeaderMap, Bytes) {
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(Bytes::from_static(body)))
            .unwrap();
        let response = serve_request(Arc::clone(state), request).await.unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    #[tokio::test]
    async fn schematic_round_trip_with_core_headers_and_metrics() {
        let s = state();
        let (status, headers, body) = call(&s, "POST", "/schematics", b"customization: {}\n").await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(
            headers["server"]
                .to_str()
                .unwrap()
                .starts_with("Image Factory")
        );
        assert!(headers.contains_key("x-request-id"));
        assert!(
            std::str::from_utf8(&body)
                .unwrap()
                .contains("376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba")
        );
        let (status, _, body) = call(
            &s,
            "GET",
            "/schematics/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba",
            b"",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"customization: {}\n");
        let (status, _, _) = call(&s, "POST", "/schematics", b"customization: {}\n").await;
        assert_eq!(status, StatusCode::CREATED);
        let text = s.metrics.encode();
        assert!(
            text.contains("image_factory_http_requests_total{method=\"POST\",status=\"201\"} 2"),
            "{text}"
        );
        // The second POST was a replay; the first and the GET were looked
        // up and missed (a schematic's GET is never stored).
        assert!(
            text.contains("image_factory_response_cache_misses_total 2\n"),
            "{text}"
        );
        assert!(
            text.contains("image_factory_response_cache_hits_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("image_factory_http_response_bytes_total"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn oversized_body_is_413_from_core() {
        let s = state();
        static BIG: [u8; 2 * 1024 * 1024] = [b'a'; 2 * 1024 * 1024];
        let (status, _, _) = call(&s, "POST", "/schematics", &BIG).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
