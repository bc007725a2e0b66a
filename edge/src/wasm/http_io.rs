//! Converting between the Workers `Request`/`Response` and core's `http` types.
//!
//! Request bodies are read up to `MAX_REQUEST_BODY + 1` bytes and no further
//! (the frontend answers 413 past the limit). Response bodies the frontend
//! made are copied out; an [`EdgeObject`] is fetched from the object store
//! and that response's body stream becomes ours, untouched by WASM, with the
//! frontend's headers (status, length, range, disposition) kept.

use bytes::Bytes;
use factory_core::frontend::{
    Body, InternalError, MAX_REQUEST_BODY, Request as CoreRequest, Response as CoreResponse,
};
use futures::StreamExt as _;
use worker::{Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody, console_error};

use super::platform::EdgeObject;

/// The request as the frontend takes it.
pub(crate) async fn to_core(req: &mut Request) -> worker::Result<CoreRequest> {
    let url = req.url()?;
    let mut builder = http::Request::builder()
        .method(req.method().as_ref())
        .uri(url.as_str());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = if matches!(req.method(), Method::Post | Method::Put | Method::Patch) {
        read_bounded(req).await?
    } else {
        Bytes::new()
    };
    builder
        .body(body)
        .map_err(|e| worker::Error::RustError(format!("request: {e}")))
}

async fn read_bounded(req: &mut Request) -> worker::Result<Bytes> {
    let limit = MAX_REQUEST_BODY + 1;
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = limit.saturating_sub(body.len());
        body.extend(chunk.iter().take(room));
        if body.len() >= limit {
            break;
        }
    }
    Ok(Bytes::from(body))
}

/// The frontend's response as the Worker answers it.
pub(crate) async fn from_core(response: CoreResponse<EdgeObject>) -> worker::Result<Response> {
    if let Some(InternalError(detail)) = response.extensions().get::<InternalError>() {
        console_error!(
            "{} answered with internal error: {detail}",
            response.status()
        );
    }
    let (parts, body) = response.into_parts();
    let headers = Headers::new();
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    let body = match body {
        Body::Empty => ResponseBody::Empty,
        Body::Bytes(bytes) => ResponseBody::Body(bytes.to_vec()),
        Body::Object(object) => match pass_through(&object).await {
            Ok(body) => body,
            Err(reason) => {
                console_error!("object store: {reason}");
                return text(502, &format!("bad gateway: {reason}"));
            }
        },
    };
    Ok(Response::builder()
        .with_status(parts.status.as_u16())
        .with_headers(headers)
        .body(body))
}

/// Fetches `object` and returns its body stream (never read here).
async fn pass_through(object: &EdgeObject) -> Result<ResponseBody, String> {
    let headers = Headers::new();
    if let Some(range) = object.range {
        headers
            .set("range", &format!("bytes={}-{}", range.start, range.end))
            .map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init(&object.url, &init).map_err(|e| e.to_string())?;
    let response = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status_code();
    let expected = if object.range.is_some() { 206 } else { 200 };
    if status != expected {
        return Err(format!(
            "the object store answered {status}, expected {expected}"
        ));
    }
    let (_, body) = response.into_parts();
    Ok(body)
}

/// A plain-text answer the frontend did not make (configuration, gateway).
pub(crate) fn text(status: u16, message: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set("x-content-type-options", "nosniff")?;
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(format!("{message}\n").into_bytes()))
}
