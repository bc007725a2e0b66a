//! Local mode (`LOCAL_HTTP=127.0.0.1:PORT`): the same handler behind a small
//! hyper 1 server, for tests and development without the Lambda runtime.
//!
//! Bodies are read up to [`MAX_DISPATCH_BODY`] + 1 bytes; anything larger
//! is answered 413 unread beyond that. Each request's work runs in a task
//! of its own, so a build outlives a client that hangs up (as on Lambda,
//! where the invocation runs to completion): its bytes and record still
//! land in the bucket for the next caller.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use factory_core::dispatch::MAX_DISPATCH_BODY;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::handler::{self, Mode, Request};
use crate::state::State;

/// Serves `state` on `addr` until the process is stopped.
pub async fn serve(state: State, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding LOCAL_HTTP {addr}"))?;
    tracing::info!(%addr, "serving locally");
    let state = Arc::new(state);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(Arc::clone(&state), request));
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}

async fn respond(
    state: Arc<State>,
    request: hyper::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_DISPATCH_BODY)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes());
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
    };
    let work = tokio::spawn(async move { handler::handle(&state, Mode::Local, request).await });
    let response = match work.await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "the handler task failed");
            let mut response = http::Response::new(Bytes::from_static(
                b"{\"kind\":\"buildFailed\",\"message\":\"internal error\"}",
            ));
            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    };
    Ok(response.map(Full::new))
}
