//! The binary in Lambda mode (no `LOCAL_HTTP`): `lambda_runtime` polls a
//! Lambda Runtime API, here served on loopback by a minimal emulator of its
//! two routes (`GET .../invocation/next`, `POST .../invocation/<id>/response`)
//! that hands out Function URL events (payload format 2.0) and collects the
//! answers. Proves the adapter passes path, headers and body to the same
//! handler: a signed job is accepted (and refused for its key, 409), an
//! unsigned one gets 401, an unknown path 404.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use factory_core::dispatch::BUILD_PATH;
use factory_imager::signing::SigningKey;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use support::{Builder, S3, builder_command, free_port, now};
use tokio::sync::mpsc;

/// A Function URL event for `method path` with `headers` and `body`.
fn event(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("content-type".into(), "application/json".into());
    map.insert("host".into(), "abc.lambda-url.us-east-1.on.aws".into());
    for (name, value) in headers {
        map.insert((*name).to_owned(), value.clone().into());
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "edge"
            },
            "requestId": "req",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:05:00:00 +0000",
            "timeEpoch": 1_700_000_000_000u64
        },
        "body": String::from_utf8(body.to_vec()).unwrap(),
        "isBase64Encoded": false
    })
}

type Events = Arc<Mutex<VecDeque<(String, serde_json::Value)>>>;

/// Serves the Runtime API on `port`: events from `events`, answers into
/// `answers` as (request id, response JSON).
async fn runtime_api(
    port: u16,
    events: Events,
    answers: mpsc::UnboundedSender<(String, serde_json::Value)>,
) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let (events, answers) = (events.clone(), answers.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (events, answers) = (events.clone(), answers.clone());
                async move {
                    let path = request.uri().path().to_owned();
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    let mut response = http::Response::new(Full::new(Bytes::new()));
                    if path == "/2018-06-01/runtime/invocation/next" {
                        let next = loop {
                            if let Some(next) = events.lock().unwrap().pop_front() {
                                break next;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        };
                        let (id, event) = next;
                        let headers = response.headers_mut();
                        headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
                        headers.insert(
                            "lambda-runtime-deadline-ms",
                            ((now() + 600) * 1000).to_string().parse().unwrap(),
                        );
                        headers.insert(
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:builder"
                                .parse()
                                .unwrap(),
                        );
                        *response.body_mut() = Full::new(Bytes::from(event.to_string()));
                    } else if let Some(id) = path
                        .strip_prefix("/2018-06-01/runtime/invocation/")
                        .and_then(|rest| rest.strip_suffix("/response"))
                    {
                        answers
                            .send((id.to_owned(), serde_json::from_slice(&body).unwrap()))
                            .unwrap();
                        *response.status_mut() = http::StatusCode::ACCEPTED;
                    } else {
                        panic!(
                            "unexpected runtime API call {path}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_events_reach_the_handler() {
    let s3 = S3::start();
    let port = free_port();
    let events: Events = Arc::default();
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    tokio::spawn(runtime_api(port, events.clone(), answers_tx));

    let key = SigningKey::generate().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let log = cache.path().join("builder.log");
    let secret =
        factory_core::dispatch::auth::DispatchSecret::new(support::SECRET.as_bytes()).unwrap();
    // A job that parses and is accepted, then fails its key check: an
    // asset job whose key is not what its inputs give.
    let job = serde_json::json!({
        "kind": "asset",
        "key": "0".repeat(64),
        "path": "kernel-amd64",
        "version": "v1.12.4",
        "catalog": {"extensions": [], "overlays": [], "imagerDigest": "sha256:i", "installerBaseDigest": "sha256:b"},
        "secureboot": false
    });
    let body = serde_json::to_vec(&job).unwrap();
    let signed = Builder::sign_with(&secret, &body, now());
    {
        let mut queue = events.lock().unwrap();
        queue.push_back(("signed".into(), event("POST", BUILD_PATH, &signed, &body)));
        queue.push_back(("unsigned".into(), event("POST", BUILD_PATH, &[], &body)));
        queue.push_back(("elsewhere".into(), event("GET", "/healthz", &[], b"")));
    }

    let mut child = builder_command(&s3, "127.0.0.1:1", &key, &cache.path().join("cache"))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "builder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();

    let mut got = std::collections::BTreeMap::new();
    for _ in 0..3 {
        let answer = tokio::time::timeout(Duration::from_secs(30), answers.recv()).await;
        let Ok(Some((id, response))) = answer else {
            let _ = child.kill();
            panic!(
                "no answer: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        got.insert(id, response);
    }
    let _ = child.kill();
    let _ = child.wait();

    let body_of = |id: &str| -> serde_json::Value {
        serde_json::from_str(got[id]["body"].as_str().unwrap()).unwrap()
    };
    assert_eq!(got["signed"]["statusCode"], 409, "{:?}", got["signed"]);
    assert_eq!(body_of("signed")["kind"], "keyMismatch");
    assert_eq!(got["unsigned"]["statusCode"], 401, "{:?}", got["unsigned"]);
    assert_eq!(body_of("unsigned")["kind"], "unauthorized");
    // Local-only routes do not exist on Lambda.
    assert_eq!(
        got["elsewhere"]["statusCode"], 404,
        "{:?}",
        got["elsewhere"]
    );
}
