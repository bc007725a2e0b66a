//! The one handler both adapters call: authenticate, parse, run, answer.
//!
//! Order matters for what a bad request can cost: the body size is checked
//! first (the adapters read at most [`MAX_DISPATCH_BODY`] + 1 bytes), then
//! the HMAC headers (an unauthenticated request never reaches the JSON
//! parser, is never counted and never builds), then the job is parsed and
//! counted, then run. Every answer is JSON: a [`BuildOutcome`] (200) or a
//! [`DispatchFailure`] with its status.

use std::sync::Arc;

use bytes::Bytes;
use factory_core::dispatch::auth::{
    AuthError, AuthHeaders, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use factory_core::dispatch::{
    BUILD_PATH, BuildJob, BuildOutcome, DispatchFailure, FailureKind, MAX_DISPATCH_BODY,
};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::counters::Kind;
use crate::jobs::{self, JobFailure, now_unix};
use crate::state::State;

/// The routes only local mode serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On Lambda: only `POST /build`.
    Lambda,
    /// Local: also `/healthz`, `/local/invocations`, `/local/builds`.
    Local,
}

/// A request as the adapters hand it over.
#[derive(Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, without query.
    pub path: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body; `None` when it was larger than [`MAX_DISPATCH_BODY`].
    pub body: Option<Bytes>,
}

/// Answers `request`.
pub async fn handle(state: &Arc<State>, mode: Mode, request: Request) -> Response<Bytes> {
    match (request.method.clone(), request.path.as_str(), mode) {
        (Method::POST, BUILD_PATH, _) => build(state, request).await,
        (_, BUILD_PATH, _) => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            FailureKind::BadJob,
            "use POST",
        ),
        (Method::GET, "/healthz", Mode::Local) => json(StatusCode::OK, "{\"ok\":true}".into()),
        (Method::GET, "/local/invocations", Mode::Local) => {
            json(StatusCode::OK, state.counters.invocations.to_json())
        }
        (Method::GET, "/local/builds", Mode::Local) => {
            json(StatusCode::OK, state.counters.builds.to_json())
        }
        _ => failure(StatusCode::NOT_FOUND, FailureKind::BadJob, "no such route"),
    }
}

async fn build(state: &Arc<State>, request: Request) -> Response<Bytes> {
    let Some(body) = request.body.filter(|b| b.len() <= MAX_DISPATCH_BODY) else {
        return failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            FailureKind::BadJob,
            &format!("the body is larger than {MAX_DISPATCH_BODY} bytes"),
        );
    };
    if let Err(refusal) = authenticate(state, &request.headers, &body) {
        tracing::warn!(reason = %refusal.message, "refused a request");
        return failure(refusal.status, refusal.kind, &refusal.message);
    }
    let job: BuildJob = match serde_json::from_slice(&body) {
        Ok(job) => job,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                FailureKind::BadJob,
                &format!("malformed job: {e}"),
            );
        }
    };
    let result = match &job {
        BuildJob::Asset(job) => {
            state.counters.invocations.add(Kind::Asset);
            jobs::asset::run(state, job).await.map(BuildOutcome::Asset)
        }
        BuildJob::Installer(job) => {
            state.counters.invocations.add(Kind::Installer);
            jobs::installer::run(state, job)
                .await
                .map(|b| BuildOutcome::Installer(Box::new(b)))
        }
        BuildJob::RefreshCatalogs => {
            state.counters.invocations.add(Kind::RefreshCatalogs);
            jobs::catalogs::run(state).await.map(BuildOutcome::Catalogs)
        }
    };
    match result.and_then(|outcome| encode(&outcome)) {
        Ok(body) => json(StatusCode::OK, body),
        Err(error) => {
            let wire = error.to_dispatch();
            tracing::warn!(kind = job.kind(), %error, "job failed");
            let status =
                StatusCode::from_u16(wire.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json(status, failure_json(&wire))
        }
    }
}

/// An outcome as JSON, refused if the edge could not read it.
fn encode(outcome: &BuildOutcome) -> Result<String, JobFailure> {
    let body = serde_json::to_string(outcome)
        .map_err(|e| JobFailure::Failed(format!("encoding the answer: {e}")))?;
    if body.len() > MAX_DISPATCH_BODY {
        return Err(JobFailure::Failed(format!(
            "the {} answer is {} bytes, more than the {MAX_DISPATCH_BODY} the edge reads",
            outcome.kind(),
            body.len()
        )));
    }
    Ok(body)
}

/// Why a request was refused before it was read as a job.
struct Refusal {
    status: StatusCode,
    kind: FailureKind,
    message: String,
}

fn authenticate(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    let unauthorized = |message: String| Refusal {
        status: StatusCode::UNAUTHORIZED,
        kind: FailureKind::Unauthorized,
        message,
    };
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| unauthorized(format!("missing or malformed {name} header")))
    };
    let auth = AuthHeaders {
        timestamp: header(TIMESTAMP_HEADER)?,
        nonce: header(NONCE_HEADER)?,
        signature: header(SIGNATURE_HEADER)?,
    };
    let mut replay = state.replay.lock().unwrap_or_else(|p| p.into_inner());
    match state
        .secret
        .verify("POST", BUILD_PATH, body, &auth, now_unix(), &mut replay)
    {
        Ok(()) => Ok(()),
        // A full replay memory is our limit, not the caller's fault.
        Err(e @ AuthError::Overloaded) => Err(Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: FailureKind::Unavailable,
            message: e.to_string(),
        }),
        Err(e) => Err(unauthorized(e.to_string())),
    }
}

fn failure(status: StatusCode, kind: FailureKind, message: &str) -> Response<Bytes> {
    json(
        status,
        failure_json(&DispatchFailure {
            kind,
            message: message.to_owned(),
        }),
    )
}

fn failure_json(failure: &DispatchFailure) -> String {
    serde_json::to_string(failure).unwrap_or_else(|_| "{}".to_owned())
}

fn json(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
