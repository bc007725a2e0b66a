//! The Lambda adapter: Function URL events through `lambda_http`, into the
//! same handler as local mode.
//!
//! The Function URL (with `AuthType=AWS_IAM`) has already checked the
//! caller's SigV4 signature; the handler checks the dispatch HMAC itself.
//! Lambda limits synchronous payloads to 6 MB, below
//! [`MAX_DISPATCH_BODY`](factory_core::dispatch::MAX_DISPATCH_BODY), so the
//! handler's own size check only matters locally.

use std::sync::Arc;

use bytes::Bytes;
use lambda_http::{Body, Error, service_fn};

use crate::handler::{self, Mode, Request};
use crate::state::State;

/// Runs the Lambda runtime loop with `state`.
pub async fn run(state: State) -> anyhow::Result<()> {
    let state = Arc::new(state);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let state = Arc::clone(&state);
        async move { respond(&state, event).await }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))
}

async fn respond(
    state: &Arc<State>,
    event: lambda_http::Request,
) -> Result<http::Response<Body>, Error> {
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body: Some(body),
    };
    let response = handler::handle(state, Mode::Lambda, request).await;
    Ok(response.map(|b| Body::Text(String::from_utf8_lossy(&b).into_owned())))
}
