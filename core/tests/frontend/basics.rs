//! Router behaviour, common headers, CORS, health.

use http::{Method, StatusCode};

use crate::harness::*;

#[tokio::test]
async fn health_and_common_headers() {
    let f = frontend();
    let r = get(&f, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("server"), Some("Image Factory v0.1.0-test"));
    assert_eq!(r.header("x-request-id"), Some("req-1"));

    let r = send(
        &f,
        Method::GET,
        "/healthz",
        &[("x-request-id", "abc-123")],
        b"",
    )
    .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123"));

    let r = send(&f, Method::HEAD, "/healthz", &[], b"").await;
    assert_eq!(r.status, StatusCode::OK);

    assert_eq!(get(&f, "/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn not_ready_is_503_with_reason() {
    let f = frontend();
    let platform_ready = {
        let mut p = factory_core::frontend::memory::MemoryPlatform::new(vec![]);
        p.readiness = Some("upstream registry unreachable".into());
        p
    };
    let f = factory_core::frontend::Frontend::new(platform_ready, f.config().clone()).unwrap();
    let r = get(&f, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.text(), "not ready: upstream registry unreachable\n");
}

#[tokio::test]
async fn unknown_paths_are_go_404s() {
    let f = frontend();
    for path in ["/nope", "/image/a/b", "/schematics/a/b", "/v1/"] {
        let r = get(&f, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.text(), "404 page not found\n", "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
}

#[tokio::test]
async fn trailing_slash_redirects_like_httprouter() {
    let f = frontend();
    let r = get(&f, "/versions/?broken=true").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/versions?broken=true"));
    let r = send(&f, Method::POST, "/schematics/", &[], b"{}").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.header("location"), Some("/schematics"));
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let f = frontend();
    let r = send(&f, Method::DELETE, "/versions", &[], b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.text(), "Method Not Allowed\n");
    assert_eq!(r.header("allow"), Some("GET, OPTIONS"));

    let r = send(
        &f,
        Method::HEAD,
        &format!("/pxe/{EMPTY_ID}/v1.10.2/metal-amd64"),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    let r = send(&f, Method::GET, "/schematics", &[], b"").await;
    assert_eq!(r.header("allow"), Some("OPTIONS, POST"));

    let r = send(&f, Method::OPTIONS, "/healthz", &[], b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let f = frontend();
    let id = create(&f, "{}").await;
    let uri = format!("/image/{id}/v1.10.2/metal-amd64.raw.xz");
    let r = send(
        &f,
        Method::OPTIONS,
        &uri,
        &[
            ("origin", "https://wizard.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "cache-control"),
        ],
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-methods"), Some("GET"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("cache-control")
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    for method in [Method::GET, Method::HEAD] {
        let r = send(
            &f,
            method.clone(),
            &uri,
            &[("origin", "https://wizard.example")],
            b"",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{method}");
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("Content-Disposition, Content-Length, Content-Type")
        );
    }
}

#[tokio::test]
async fn static_pages() {
    let f = frontend();
    let r = get(&f, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Image Factory"));
    let r = get(&f, "/llms.txt").await;
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(r.text().contains("POST /schematics"));
}

#[tokio::test]
async fn keys() {
    let f = frontend();
    let r = get(&f, "/oci/cosign/signing-key.pub").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/x-pem-file"));
    assert!(r.text().starts_with("-----BEGIN PUBLIC KEY-----"));
    let r = get(&f, "/secureboot/signing-cert.pem").await;
    assert_eq!(r.header("content-type"), Some("application/x-pem-file"));
    assert!(r.text().starts_with("-----BEGIN CERTIFICATE-----"));

    let f = frontend_with(Setup {
        secureboot: false,
        ..Setup::default()
    });
    let r = get(&f, "/secureboot/signing-cert.pem").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "secure boot is disabled\n");
}
